#!/usr/bin/env bash
# Renders a report folder's report.html and samples.html in headless Chromium with the
# network cut off, and fails unless every <img> loaded, every inline <svg> has a size,
# and the sample browser listed its samples. Writes screenshots next to the pages
# (report.png, samples.png) or to $SCREENSHOT_DIR.
#
#   scripts/check-report-html.sh target/demo/report
set -euo pipefail
report="${1:?usage: check-report-html.sh REPORT_DIR}"
report="$(cd "$report" && pwd)"
shots="${SCREENSHOT_DIR:-$report}"
command -v chromium >/dev/null || { echo "chromium is missing: run scripts/setup/eval.sh" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Flags from the machine notes: headless as root, no background connections, a fresh
# profile; every host name resolves to nothing, so a page needing the network shows it.
chrome=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
        --disable-background-networking --disable-component-update --disable-sync
        --host-resolver-rules="MAP * ~NOTFOUND" --user-data-dir="$work/profile"
        --virtual-time-budget=10000)

# The check runs inside the page once everything loaded, and writes its verdict into
# the DOM that --dump-dom prints.
probe='<script>
window.addEventListener("load", () => {
  const broken = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
  const svgs = [...document.querySelectorAll("svg")];
  const empty = svgs.filter(s => { const b = s.getBoundingClientRect(); return b.width < 10 || b.height < 10; });
  const shown = document.querySelectorAll("#list details").length;
  const result = document.createElement("pre");
  result.id = "boundary-check";
  result.textContent = `BOUNDARY-CHECK images=${document.images.length} broken=${broken.length} svgs=${svgs.length} empty_svgs=${empty.length} listed=${shown} ${broken.join(" ")}`;
  document.body.appendChild(result);
});
</script>'

status=0
for page in report.html samples.html; do
    [ -f "$report/$page" ] || { echo "missing $report/$page" >&2; status=1; continue; }
    probe_page="$report/.check-$page"
    { cat "$report/$page"; echo "$probe"; } > "$probe_page"
    line="$("${chrome[@]}" --dump-dom "file://$probe_page" 2>/dev/null | grep -o 'BOUNDARY-CHECK images=[0-9][^<]*' | sed 's/BOUNDARY-CHECK //' || true)"
    rm -f "$probe_page"
    echo "$page: ${line:-no result (the page did not load)}"
    case "$line" in
        *" broken=0 "*" empty_svgs=0 "*) ;;
        *) status=1 ;;
    esac
    if [ "$page" = report.html ] && [[ "$line" == *" svgs=0 "* ]]; then
        echo "report.html has no figures" >&2; status=1
    fi
    if [ "$page" = samples.html ] && [[ "$line" == *" listed=0"* ]]; then
        echo "samples.html listed no samples" >&2; status=1
    fi
    "${chrome[@]}" --window-size=1280,2000 --screenshot="$shots/${page%.html}.png" \
        "file://$report/$page" >/dev/null 2>&1
    echo "screenshot: $shots/${page%.html}.png"
done
exit $status
