//! `report.html`: one self-contained file (inline CSS and SVG, no scripts, no network)
//! that opens anywhere and can be mailed or attached to a paper's supplement.

use std::collections::HashMap;
use std::fmt::Write;

use crate::document::{Block, Report, Section, Table};

/// Renders `report` with each figure's SVG inline (`svgs` by figure name); a figure
/// without an SVG links to `plots/<name>.png` instead.
pub fn html(report: &Report, svgs: &HashMap<String, String>) -> String {
    let mut body = String::new();
    let _ = writeln!(body, "<h1>{}</h1>", escape(&report.title));
    if !report.manifest.is_empty() {
        body.push_str("<table class=\"manifest\">\n");
        for (k, v) in &report.manifest {
            let _ = writeln!(
                body,
                "<tr><th>{}</th><td>{}</td></tr>",
                escape(k),
                escape(v)
            );
        }
        body.push_str("</table>\n");
    }
    body.push_str("<nav><ul>\n");
    for s in &report.sections {
        let _ = writeln!(
            body,
            "<li><a href=\"#{}\">{}</a></li>",
            s.id,
            escape(&s.title)
        );
    }
    body.push_str("</ul></nav>\n");
    for s in &report.sections {
        section(&mut body, s, 2, svgs);
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n\
         </body>\n</html>\n",
        escape(&report.title)
    )
}

const STYLE: &str = "body{font-family:'DejaVu Sans',system-ui,sans-serif;color:#222;margin:0;\
background:#fafafa}main{max-width:1000px;margin:0 auto;padding:1.5rem 2rem;background:#fff}\
h1{font-size:1.7rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}\
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.9rem}\
th,td{border:1px solid #ddd;padding:.25rem .55rem;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}\
table.manifest th{width:12rem}caption{caption-side:top;text-align:left;font-style:italic;\
padding:.2rem 0}figure{margin:1rem 0}figure svg{max-width:100%;height:auto}\
figure img{max-width:100%}figcaption{font-style:italic;font-size:.9rem;color:#444}\
pre{background:#f5f5f5;padding:.6rem;overflow-x:auto;white-space:pre-wrap;font-size:.85rem}\
code{background:#f2f2f2;padding:0 .2rem}details{margin:.5rem 0}summary{cursor:pointer}\
nav ul{columns:2;font-size:.95rem}a.csv{font-size:.8rem;margin-left:.4rem}\n";

fn section(out: &mut String, s: &Section, level: usize, svgs: &HashMap<String, String>) {
    let level = level.min(6);
    let _ = writeln!(
        out,
        "<section id=\"{}\">\n<h{level}>{}</h{level}>",
        s.id,
        escape(&s.title)
    );
    for b in &s.blocks {
        block(out, b, svgs);
    }
    for sub in &s.subsections {
        section(out, sub, level + 1, svgs);
    }
    out.push_str("</section>\n");
}

fn block(out: &mut String, b: &Block, svgs: &HashMap<String, String>) {
    match b {
        Block::Text(text) => {
            let _ = writeln!(out, "<p>{}</p>", inline(text));
        }
        Block::List(items) => {
            out.push_str("<ul>\n");
            for item in items {
                let _ = writeln!(out, "<li>{}</li>", inline(item));
            }
            out.push_str("</ul>\n");
        }
        Block::Table(t) => table(out, t),
        Block::Figure(f) => {
            let _ = writeln!(out, "<figure id=\"fig-{}\">", f.name);
            match svgs.get(&f.name) {
                Some(svg) => out.push_str(strip_xml_declaration(svg)),
                None => {
                    let _ = write!(
                        out,
                        "<img src=\"plots/{}.png\" alt=\"{}\">",
                        f.name,
                        escape(f.chart.title())
                    );
                }
            }
            let _ = writeln!(
                out,
                "\n<figcaption>{}</figcaption>\n</figure>",
                inline(&f.caption)
            );
        }
        Block::Verbatim(text) => {
            let _ = writeln!(out, "<pre>{}</pre>", escape(text));
        }
        Block::Details { summary, blocks } => {
            let _ = writeln!(out, "<details><summary>{}</summary>", inline(summary));
            for b in blocks {
                block(out, b, svgs);
            }
            out.push_str("</details>\n");
        }
    }
}

fn table(out: &mut String, t: &Table) {
    let _ = writeln!(out, "<table id=\"table-{}\">", t.name);
    if !t.caption.is_empty() {
        let _ = writeln!(
            out,
            "<caption>{}<a class=\"csv\" href=\"tables/{}.csv\">CSV</a></caption>",
            inline(&t.caption),
            t.name
        );
    }
    out.push_str("<thead><tr>");
    for c in &t.columns {
        let _ = write!(out, "<th>{}</th>", escape(c));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for c in row {
            let class = match c {
                crate::document::Cell::Text(_) => "",
                _ => " class=\"num\"",
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(&c.display()));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

fn strip_xml_declaration(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

/// HTML-escapes text.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text, then turns `` `code` `` and `**bold**` into tags.
fn inline(text: &str) -> String {
    let escaped = escape(text);
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            for (j, piece) in part.split("**").enumerate() {
                if j % 2 == 1 {
                    let _ = write!(out, "<strong>{piece}</strong>");
                } else {
                    out.push_str(piece);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markup_is_escaped_first() {
        assert_eq!(
            inline("a `<b>` and **c & d**"),
            "a <code>&lt;b&gt;</code> and <strong>c &amp; d</strong>"
        );
    }

    #[test]
    fn figures_are_inlined_without_the_xml_declaration() {
        let mut r = Report::new("R");
        r.push(
            Section::new("s", "S").block(Block::Figure(crate::document::Figure::new(
                "f",
                "cap",
                crate::chart::Chart::Bars(crate::chart::BarChart {
                    title: "t".into(),
                    x_label: String::new(),
                    y_label: String::new(),
                    categories: vec![],
                    series: vec![],
                }),
            ))),
        );
        let svgs = HashMap::from([("f".to_string(), "<?xml version=\"1.0\"?><svg></svg>".into())]);
        let page = html(&r, &svgs);
        assert!(page.contains("<figure id=\"fig-f\">\n<svg></svg>"));
        assert!(!page.contains("<?xml"));
        assert!(!page.contains("http://") && !page.contains("https://"));
    }
}
