//! `samples.html`: one self-contained page to read samples, filtered by model,
//! benchmark, problem and verdict, each with its prompt, extracted answer, gold answer
//! and the grader's reason. The data is embedded as JSON; a few lines of plain
//! JavaScript filter it. Nothing is fetched.

use std::fmt::Write;

use serde::Serialize;

use crate::html::escape;

/// The samples a browser page shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SampleBrowser {
    pub title: String,
    /// Prompts, shared by the samples that were sent them (`BrowserSample::prompt`).
    pub prompts: Vec<String>,
    pub samples: Vec<BrowserSample>,
    /// Said at the top of the page (for example that samples were left out).
    pub note: Option<String>,
}

/// One sample as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrowserSample {
    pub model: String,
    pub benchmark: String,
    pub problem: String,
    pub index: u32,
    /// `correct`, `incorrect`, `unverifiable`, ... or `failed` / `ungraded`.
    pub verdict: String,
    pub correct: bool,
    /// The response, or the error of a failed generation.
    pub text: String,
    pub extracted: Option<String>,
    pub gold: Option<String>,
    /// Why the grader decided so (its detail), when it says.
    pub reason: Option<String>,
    pub finish_reason: Option<String>,
    /// Index into [`SampleBrowser::prompts`].
    pub prompt: Option<usize>,
}

/// Renders the page.
pub fn browser_html(browser: &SampleBrowser) -> String {
    let data = serde_json::json!({
        "prompts": browser.prompts,
        "samples": browser.samples,
    });
    // `<` is escaped so that no response can close the script element.
    let json = data.to_string().replace('<', "\\u003c");
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header><h1>{title}</h1>{note}\n<div class=\"filters\">\n\
         <label>model <select id=\"model\"><option value=\"\">all</option></select></label>\n\
         <label>benchmark <select id=\"benchmark\"><option value=\"\">all</option></select></label>\n\
         <label>verdict <select id=\"verdict\"><option value=\"\">all</option></select></label>\n\
         <label>problem <input id=\"problem\" placeholder=\"id contains…\"></label>\n\
         <label>text <input id=\"search\" placeholder=\"response contains…\"></label>\n\
         <span id=\"count\"></span>\n</div></header>\n<main id=\"list\"></main>\n\
         <script type=\"application/json\" id=\"data\">{json}</script>\n\
         <script>{SCRIPT}</script>\n</body>\n</html>\n",
        title = escape(&browser.title),
        note = browser.note.as_ref().map_or(String::new(), |n| format!(
            "<p class=\"note\">{}</p>",
            escape(n)
        )),
    );
    page
}

const STYLE: &str = "body{font-family:'DejaVu Sans',system-ui,sans-serif;margin:0;color:#222}\
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:.6rem 1.2rem;\
z-index:1}h1{font-size:1.3rem;margin:.2rem 0}.filters{display:flex;flex-wrap:wrap;gap:.8rem;\
align-items:center;font-size:.9rem}main{padding:.6rem 1.2rem}details{border:1px solid #ddd;\
border-radius:4px;margin:.4rem 0;padding:.3rem .6rem}summary{cursor:pointer}\
.ok{color:#0a7d3b;font-weight:bold}.bad{color:#b3261e;font-weight:bold}\
.other{color:#8a5a00;font-weight:bold}pre{white-space:pre-wrap;background:#f6f6f6;\
padding:.5rem;font-size:.85rem}dl{display:grid;grid-template-columns:10rem 1fr;gap:.2rem .6rem}\
dt{color:#555}dd{margin:0}.note{color:#8a5a00}#count{color:#555}";

const SCRIPT: &str = r#"
const data = JSON.parse(document.getElementById('data').textContent);
const $ = id => document.getElementById(id);
for (const key of ['model', 'benchmark', 'verdict']) {
  const values = [...new Set(data.samples.map(s => s[key]))].sort();
  for (const v of values) { const o = document.createElement('option'); o.value = v; o.textContent = v; $(key).appendChild(o); }
}
function field(dl, name, value, pre) {
  if (value === null || value === undefined || value === '') return;
  const dt = document.createElement('dt'); dt.textContent = name;
  const dd = document.createElement('dd');
  if (pre) { const p = document.createElement('pre'); p.textContent = value; dd.appendChild(p); } else { dd.textContent = value; }
  dl.appendChild(dt); dl.appendChild(dd);
}
function render() {
  const m = $('model').value, b = $('benchmark').value, v = $('verdict').value;
  const p = $('problem').value.trim(), t = $('search').value;
  const shown = data.samples.filter(s => (!m || s.model === m) && (!b || s.benchmark === b) &&
    (!v || s.verdict === v) && (!p || s.problem.includes(p)) && (!t || s.text.includes(t)));
  const list = $('list'); list.textContent = '';
  const limit = 500;
  for (const s of shown.slice(0, limit)) {
    const d = document.createElement('details');
    const sum = document.createElement('summary');
    const verdict = document.createElement('span');
    verdict.className = s.correct ? 'ok' : (s.verdict === 'incorrect' ? 'bad' : 'other');
    verdict.textContent = s.verdict;
    sum.append(verdict, ` ${s.model} · ${s.benchmark} · problem ${s.problem} · sample ${s.index}`);
    d.appendChild(sum);
    d.addEventListener('toggle', () => {
      if (!d.open || d.dataset.filled) return;
      d.dataset.filled = '1';
      const dl = document.createElement('dl');
      field(dl, 'extracted answer', s.extracted);
      field(dl, 'gold answer', s.gold);
      field(dl, 'grader says', s.reason);
      field(dl, 'finish reason', s.finish_reason);
      field(dl, 'prompt', s.prompt === null ? null : data.prompts[s.prompt], true);
      field(dl, s.verdict === 'failed' ? 'error' : 'response', s.text, true);
      d.appendChild(dl);
    });
    list.appendChild(d);
  }
  $('count').textContent = `${shown.length} of ${data.samples.length} samples` +
    (shown.length > limit ? ` (first ${limit} listed; narrow the filters)` : '');
}
for (const id of ['model', 'benchmark', 'verdict', 'problem', 'search']) $(id).addEventListener('input', render);
render();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_cannot_close_the_script_element() {
        let browser = SampleBrowser {
            title: "t".into(),
            prompts: vec!["p".into()],
            samples: vec![BrowserSample {
                model: "m".into(),
                benchmark: "b".into(),
                problem: "1".into(),
                index: 0,
                verdict: "correct".into(),
                correct: true,
                text: "</script><script>alert(1)</script>".into(),
                extracted: None,
                gold: None,
                reason: None,
                finish_reason: None,
                prompt: Some(0),
            }],
            note: None,
        };
        let page = browser_html(&browser);
        assert_eq!(
            page.matches("</script>").count(),
            2,
            "only the page's own scripts close"
        );
        assert!(page.contains("\\u003c/script>\\u003cscript>alert(1)"));
    }
}
