//! Writing a report folder: `report.md`, `report.html`, `plots/*.svg|png`,
//! `tables/*.csv|json`, `report.json` and, when given, `samples.html`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};
use thiserror::Error;

use crate::browser::{SampleBrowser, browser_html};
use crate::document::{Cell, Report, Table};
use crate::html::html;
use crate::markdown::markdown;
use crate::plot::{PlotError, render};

#[derive(Debug, Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Plot(#[from] PlotError),
    #[error("two {kind}s of the report are both named `{name}`; names must be unique")]
    DuplicateName { kind: &'static str, name: String },
    #[error("cannot write CSV {path}: {source}")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
}

/// The files a report folder holds, relative to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Written {
    pub files: Vec<PathBuf>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `report` (and `browser`, when given) into `out`, creating it. Existing files
/// of the same names are replaced; nothing else in `out` is touched.
pub fn write_report(
    report: &Report,
    browser: Option<&SampleBrowser>,
    out: &Path,
) -> Result<Written, ReportError> {
    for dir in [out.to_owned(), out.join("plots"), out.join("tables")] {
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    }
    let mut written = Written::default();
    let mut put = |relative: String, bytes: &[u8]| -> Result<(), ReportError> {
        let path = out.join(&relative);
        write_atomic(&path, bytes)?;
        written.files.push(PathBuf::from(relative));
        Ok(())
    };

    unique(report.figures().iter().map(|f| f.name.as_str()), "figure")?;
    unique(report.tables().iter().map(|t| t.name.as_str()), "table")?;

    let mut svgs = HashMap::new();
    for figure in report.figures() {
        let rendered = render(&figure.name, &figure.chart)?;
        put(
            format!("plots/{}.svg", figure.name),
            rendered.svg.as_bytes(),
        )?;
        put(format!("plots/{}.png", figure.name), &rendered.png)?;
        svgs.insert(figure.name.clone(), rendered.svg);
    }
    for table in report.tables() {
        let csv_path = out.join(format!("tables/{}.csv", table.name));
        put(
            format!("tables/{}.csv", table.name),
            &table_csv(table, &csv_path)?,
        )?;
        let json = serde_json::to_vec_pretty(&table_json(table)).expect("tables serialise");
        put(format!("tables/{}.json", table.name), &json)?;
    }
    put("report.md".into(), markdown(report).as_bytes())?;
    put("report.html".into(), html(report, &svgs).as_bytes())?;
    let json = serde_json::to_vec_pretty(report).expect("reports serialise");
    put("report.json".into(), &json)?;
    if let Some(browser) = browser {
        put("samples.html".into(), browser_html(browser).as_bytes())?;
    }
    Ok(written)
}

/// Writes through a temporary file and a rename, so that a killed process never leaves
/// half a report file behind.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let tmp = path.with_extension(format!(
        "{}.partial",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

fn unique<'a>(names: impl Iterator<Item = &'a str>, kind: &'static str) -> Result<(), ReportError> {
    let mut seen = std::collections::HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(ReportError::DuplicateName {
                kind,
                name: name.to_owned(),
            });
        }
    }
    Ok(())
}

/// A table as CSV: full-precision numbers, empty cells for missing values.
pub fn table_csv(table: &Table, path: &Path) -> Result<Vec<u8>, ReportError> {
    let csv_error = |source| ReportError::Csv {
        path: path.to_owned(),
        source,
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&table.columns).map_err(csv_error)?;
    for row in &table.rows {
        w.write_record(row.iter().map(Cell::csv))
            .map_err(csv_error)?;
    }
    w.into_inner().map_err(|e| ReportError::Io {
        path: path.to_owned(),
        source: e.into_error(),
    })
}

/// A table as JSON: `{"caption": ..., "rows": [{column: value, ...}, ...]}` with numbers
/// as numbers and missing values as null.
pub fn table_json(table: &Table) -> Value {
    let rows: Vec<Value> = table
        .rows
        .iter()
        .map(|row| {
            let mut object = Map::new();
            for (column, cell) in table.columns.iter().zip(row) {
                object.insert(
                    column.clone(),
                    serde_json::to_value(cell).expect("cells serialise"),
                );
            }
            Value::Object(object)
        })
        .collect();
    serde_json::json!({ "name": table.name, "caption": table.caption, "rows": rows })
}
