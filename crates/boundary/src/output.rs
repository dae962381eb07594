//! Printing: JSON for scripts, aligned tables for people, errors with their causes,
//! and progress bars that stay out of the way when stderr is not a terminal.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Prints an error and the chain of its causes on stderr.
pub fn print_error(error: &anyhow::Error) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {error}");
    for cause in error.chain().skip(1) {
        let _ = writeln!(err, "  caused by: {cause}");
    }
}

/// Whether an error is stdout's reader going away (`| head`), which is not a failure.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// A spinner counting items (lines, samples) on stderr; hidden when `quiet` or when
/// stderr is not a terminal.
pub fn counter(quiet: bool, unit: &'static str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {{human_pos}} {unit} ({{per_sec}}, {{elapsed}})"
        ))
        .expect("valid progress template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A progress bar over `total` items with rate and ETA on stderr; hidden when `quiet` or
/// when stderr is not a terminal.
pub fn bar(quiet: bool, total: u64, unit: &'static str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    ProgressBar::new(total).with_style(
        ProgressStyle::with_template(&format!(
            "{{bar:30}} {{human_pos}}/{{human_len}} {unit} ({{per_sec}}, {{elapsed}}, eta {{eta}})"
        ))
        .expect("valid progress template"),
    )
}

/// A left-aligned text table: the first row is the header.
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// A probability as a percentage with one decimal, as papers print pass@k.
pub fn percent(p: f64) -> String {
    format!("{:.1}", 100.0 * p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let rows = vec![
            vec!["k".to_string(), "pass@k".to_string()],
            vec!["1".to_string(), "12.5".to_string()],
            vec!["1024".to_string(), "80.0".to_string()],
        ];
        assert_eq!(table(&rows), "k     pass@k\n1     12.5\n1024  80.0\n");
    }
}
