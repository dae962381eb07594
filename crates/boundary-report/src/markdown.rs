//! `report.md`: the report as GitHub-flavoured Markdown, figures as PNG links.

use std::fmt::Write;

use crate::document::{Block, Report, Section, Table};

/// Renders `report`; figures link to `plots/<name>.png`.
pub fn markdown(report: &Report) -> String {
    let mut out = format!("# {}\n\n", report.title);
    if !report.manifest.is_empty() {
        out.push_str("| | |\n|---|---|\n");
        for (key, value) in &report.manifest {
            let _ = writeln!(out, "| {} | {} |", cell(key), cell(value));
        }
        out.push('\n');
    }
    for section in &report.sections {
        write_section(&mut out, section, 2);
    }
    out
}

fn write_section(out: &mut String, section: &Section, level: usize) {
    let _ = writeln!(out, "{} {}\n", "#".repeat(level.min(6)), section.title);
    for block in &section.blocks {
        write_block(out, block);
    }
    for sub in &section.subsections {
        write_section(out, sub, level + 1);
    }
}

fn write_block(out: &mut String, block: &Block) {
    match block {
        Block::Text(text) => {
            let _ = writeln!(out, "{text}\n");
        }
        Block::List(items) => {
            for item in items {
                let _ = writeln!(out, "- {item}");
            }
            out.push('\n');
        }
        Block::Table(table) => write_table(out, table),
        Block::Figure(figure) => {
            let _ = writeln!(
                out,
                "![{}](plots/{}.png)\n\n*{}* ([SVG](plots/{}.svg))\n",
                figure.chart.title(),
                figure.name,
                figure.caption,
                figure.name
            );
        }
        Block::Verbatim(text) => {
            let fence = fence_for(text);
            let _ = writeln!(out, "{fence}text\n{}\n{fence}\n", text.trim_end());
        }
        Block::Details { summary, blocks } => {
            let _ = writeln!(out, "<details><summary>{summary}</summary>\n");
            for b in blocks {
                write_block(out, b);
            }
            out.push_str("</details>\n\n");
        }
    }
}

fn write_table(out: &mut String, table: &Table) {
    if !table.caption.is_empty() {
        let _ = writeln!(
            out,
            "*{}* ([CSV](tables/{}.csv))\n",
            table.caption, table.name
        );
    }
    let header: Vec<String> = table.columns.iter().map(|c| cell(c)).collect();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(table.columns.len()));
    for row in &table.rows {
        let cells: Vec<String> = row.iter().map(|c| cell(&c.display())).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// A table cell's text: pipes escaped, newlines flattened.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A code fence longer than any backtick run inside the text.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Cell;

    #[test]
    fn tables_escape_pipes_and_verbatim_outlasts_backticks() {
        let mut r = Report::new("T").manifest_entry("store", "run.db");
        r.push(
            crate::document::Section::new("s", "S")
                .block(Block::Table(
                    Table::new("t", "cap", &["a|b"]).row(vec![Cell::text("x\ny")]),
                ))
                .block(Block::Verbatim("```python\nprint(1)\n```".into())),
        );
        let md = markdown(&r);
        assert!(md.contains("| a\\|b |\n|---|\n| x y |"), "{md}");
        assert!(md.contains("````text\n```python"), "{md}");
    }
}
