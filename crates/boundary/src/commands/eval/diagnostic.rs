//! Errors that point at a line of the experiment file, rendered like a compiler's:
//!
//! ```text
//! error: experiment.toml:14:8: unknown benchmark `math5000`
//!    |
//! 14 | name = "math5000"
//!    |        ^^^^^^^^^^
//!    = help: known benchmarks: gsm8k, math500, …
//! ```

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// One problem with the experiment file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub message: String,
    /// Byte range in the file; `None` for the file as a whole.
    pub span: Option<Range<usize>>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn at(span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            span: Some(span),
            help: None,
        }
    }

    pub fn file(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            span: None,
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Every problem found in an experiment file, with the text to point into.
#[derive(Debug)]
pub struct ConfigErrors {
    pub path: PathBuf,
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl std::error::Error for ConfigErrors {}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.diagnostics.len();
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let Some(span) = &d.span else {
                write!(f, "{}: {}", self.path.display(), d.message)?;
                if let Some(help) = &d.help {
                    write!(f, "\n  = help: {help}")?;
                }
                continue;
            };
            let (line, col) = line_col(&self.source, span.start);
            writeln!(f, "{}:{line}:{col}: {}", self.path.display(), d.message)?;
            let text = self.source.lines().nth(line - 1).unwrap_or("");
            let gutter = line.to_string().len();
            let end_in_line = {
                let (end_line, end_col) = line_col(&self.source, span.end);
                if end_line == line {
                    end_col
                } else {
                    text.chars().count() + 1
                }
            };
            let width = end_in_line.saturating_sub(col).max(1);
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{line} | {text}")?;
            write!(
                f,
                "{:gutter$} | {}{}",
                "",
                " ".repeat(col - 1),
                "^".repeat(width)
            )?;
            if let Some(help) = &d.help {
                write!(f, "\n{:gutter$} = help: {help}", "")?;
            }
        }
        if count > 1 {
            write!(f, "\n{count} problems in {}", self.path.display())?;
        }
        write!(
            f,
            "\nnothing was sampled: fix the experiment file and run the same command again"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_the_span() {
        let source = "a = 1\n[[benchmark]]\nname = \"math5000\"\n".to_string();
        let start = source.find("\"math5000\"").unwrap();
        let errors = ConfigErrors {
            path: "exp.toml".into(),
            source: source.clone(),
            diagnostics: vec![
                Diagnostic::at(start..start + 10, "unknown benchmark `math5000`")
                    .help("known benchmarks: gsm8k"),
            ],
        };
        assert_eq!(
            errors.to_string(),
            "exp.toml:3:8: unknown benchmark `math5000`\n  |\n3 | name = \"math5000\"\n  |        \
             ^^^^^^^^^^\n  = help: known benchmarks: gsm8k\nnothing was sampled: fix the \
             experiment file and run the same command again"
        );
        assert_eq!(line_col("ab\ncdé f", 8), (2, 5));
    }
}
