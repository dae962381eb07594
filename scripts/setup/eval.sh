#!/usr/bin/env bash
# What the eval/report tests and scripts need beyond Rust: Debian's Chromium, to render
# report.html headless (scripts/check-report-html.sh). Idempotent.
set -euo pipefail
source "$(dirname "$0")/common.sh"
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "scripts/setup/eval.sh: chromium is missing; install Debian's chromium package as root" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
chromium --version
