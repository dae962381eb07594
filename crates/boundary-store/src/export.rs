//! Exporting samples with their grades as JSON Lines, CSV or Parquet.

use std::io::Write;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use rusqlite::params;
use thiserror::Error;

use crate::error::{SqliteContext, StoreError};
use crate::record::ExportRow;
use crate::store::{Run, Store, canonical_json};

/// The file formats of `boundary export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Jsonl,
    Csv,
    Parquet,
}

/// Which samples to export, and whose grades.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    pub model: Option<String>,
    pub benchmark: Option<String>,
    /// The verifier whose grades fill `correct`/`verdict`; needed only when a run
    /// has grades from several.
    pub verifier: Option<String>,
}

impl ExportFilter {
    pub fn matches(&self, run: &Run) -> bool {
        self.model.as_ref().is_none_or(|m| *m == run.model)
            && self.benchmark.as_ref().is_none_or(|b| *b == run.benchmark)
    }
}

#[derive(Debug, Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot write Parquet: {0}")]
    Parquet(#[from] ParquetError),
}

/// Writes the matching samples to `out`, one row per sample; returns the row count.
pub fn export<W: Write + Send>(
    store: &Store,
    filter: &ExportFilter,
    format: ExportFormat,
    out: W,
) -> Result<u64, ExportError> {
    match format {
        ExportFormat::Jsonl => {
            let mut out = std::io::BufWriter::new(out);
            let rows = for_each_row(store, filter, |row| {
                serde_json::to_writer(&mut out, &row).map_err(std::io::Error::from)?;
                out.write_all(b"\n")?;
                Ok(())
            })?;
            out.flush()?;
            Ok(rows)
        }
        ExportFormat::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            let rows = for_each_row(store, filter, |row| {
                csv.serialize(row)?;
                Ok(())
            })?;
            csv.flush()?;
            Ok(rows)
        }
        ExportFormat::Parquet => {
            let mut parquet = ParquetSink::new(out)?;
            let rows = for_each_row(store, filter, |row| parquet.push(row))?;
            parquet.finish()?;
            Ok(rows)
        }
    }
}

/// Streams the rows of every matching run, in run order, then problem order (as the
/// problems were first stored), then sample index.
fn for_each_row(
    store: &Store,
    filter: &ExportFilter,
    mut each: impl FnMut(ExportRow) -> Result<(), ExportError>,
) -> Result<u64, ExportError> {
    let mut rows = 0;
    for run in store.runs()?.into_iter().filter(|r| filter.matches(r)) {
        let verifier = store.resolve_verifier(&run, filter.verifier.as_deref())?;
        let mut stmt = store
            .conn
            .prepare(
                "SELECT p.key, s.sample_index, s.status, s.response, s.error, s.finish_reason,
                        s.completion_tokens, s.prompt_tokens, g.correct, g.verdict, g.extracted,
                        g.verifier, p.gold, pr.prompt
                 FROM samples s
                 JOIN problems p ON p.id = s.problem_id
                 LEFT JOIN prompts pr ON pr.run_id = s.run_id AND pr.problem_id = s.problem_id
                 LEFT JOIN grades g ON g.run_id = s.run_id AND g.problem_id = s.problem_id
                      AND g.sample_index = s.sample_index AND g.verifier = ?2
                 WHERE s.run_id = ?1
                 ORDER BY s.problem_id, s.sample_index",
            )
            .at(&store.path)?;
        let mut query = stmt.query(params![run.id, verifier]).at(&store.path)?;
        while let Some(r) = query.next().at(&store.path)? {
            let row = (|| -> rusqlite::Result<ExportRow> {
                Ok(ExportRow {
                    model: run.model.clone(),
                    benchmark: run.benchmark.clone(),
                    problem_id: r.get(0)?,
                    sample_index: r.get(1)?,
                    status: r.get(2)?,
                    response: r.get(3)?,
                    error: r.get(4)?,
                    finish_reason: r.get(5)?,
                    num_tokens: r.get(6)?,
                    prompt_tokens: r.get(7)?,
                    correct: r.get(8)?,
                    verdict: r.get(9)?,
                    extracted: r.get(10)?,
                    verifier: r.get(11)?,
                    gold: r.get(12)?,
                    prompt: r.get(13)?,
                    source: run.source.clone(),
                    sampling: canonical_json(&run.sampling),
                    seed: run.seed,
                })
            })()
            .at(&store.path)?;
            each(row)?;
            rows += 1;
        }
    }
    Ok(rows)
}

/// Parquet output through the low-level column writer: rows are buffered per column
/// and written as row groups, so memory stays bounded for stores of any size.
struct ParquetSink<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    buffer: Vec<ExportRow>,
}

const PARQUET_SCHEMA: &str = "
message sample {
    REQUIRED BYTE_ARRAY model (STRING);
    REQUIRED BYTE_ARRAY benchmark (STRING);
    REQUIRED BYTE_ARRAY problem_id (STRING);
    REQUIRED INT64 sample_index;
    REQUIRED BYTE_ARRAY status (STRING);
    OPTIONAL BYTE_ARRAY response (STRING);
    OPTIONAL BYTE_ARRAY error (STRING);
    OPTIONAL BYTE_ARRAY finish_reason (STRING);
    OPTIONAL INT64 num_tokens;
    OPTIONAL INT64 prompt_tokens;
    OPTIONAL BOOLEAN correct;
    OPTIONAL BYTE_ARRAY verdict (STRING);
    OPTIONAL BYTE_ARRAY extracted (STRING);
    OPTIONAL BYTE_ARRAY verifier (STRING);
    OPTIONAL BYTE_ARRAY gold (STRING);
    OPTIONAL BYTE_ARRAY prompt (STRING);
    REQUIRED BYTE_ARRAY source (STRING);
    REQUIRED BYTE_ARRAY sampling (STRING);
    OPTIONAL INT64 seed;
}";

/// Rows per Parquet row group.
const ROW_GROUP_ROWS: usize = 65_536;

impl<W: Write + Send> ParquetSink<W> {
    fn new(out: W) -> Result<Self, ExportError> {
        let schema = Arc::new(parse_message_type(PARQUET_SCHEMA)?);
        let props = Arc::new(
            WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build(),
        );
        Ok(Self {
            writer: SerializedFileWriter::new(out, schema, props)?,
            buffer: Vec::with_capacity(ROW_GROUP_ROWS),
        })
    }

    fn push(&mut self, row: ExportRow) -> Result<(), ExportError> {
        self.buffer.push(row);
        if self.buffer.len() == ROW_GROUP_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(), ExportError> {
        self.flush()?;
        self.writer.close()?;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.buffer);
        let mut group = self.writer.next_row_group()?;
        let mut column = 0;
        while let Some(mut col) = group.next_column()? {
            match column {
                0 => write_strings(&mut col, rows.iter().map(|r| Some(r.model.as_str())), false)?,
                1 => write_strings(
                    &mut col,
                    rows.iter().map(|r| Some(r.benchmark.as_str())),
                    false,
                )?,
                2 => write_strings(
                    &mut col,
                    rows.iter().map(|r| Some(r.problem_id.as_str())),
                    false,
                )?,
                3 => write_ints(
                    &mut col,
                    rows.iter().map(|r| Some(i64::from(r.sample_index))),
                    false,
                )?,
                4 => write_strings(
                    &mut col,
                    rows.iter().map(|r| Some(r.status.as_str())),
                    false,
                )?,
                5 => write_strings(&mut col, rows.iter().map(|r| r.response.as_deref()), true)?,
                6 => write_strings(&mut col, rows.iter().map(|r| r.error.as_deref()), true)?,
                7 => write_strings(
                    &mut col,
                    rows.iter().map(|r| r.finish_reason.as_deref()),
                    true,
                )?,
                8 => write_ints(
                    &mut col,
                    rows.iter().map(|r| r.num_tokens.map(i64::from)),
                    true,
                )?,
                9 => write_ints(
                    &mut col,
                    rows.iter().map(|r| r.prompt_tokens.map(i64::from)),
                    true,
                )?,
                10 => {
                    let values: Vec<bool> = rows.iter().filter_map(|r| r.correct).collect();
                    let levels: Vec<i16> = rows
                        .iter()
                        .map(|r| i16::from(r.correct.is_some()))
                        .collect();
                    col.typed::<BoolType>()
                        .write_batch(&values, Some(&levels), None)?;
                }
                11 => write_strings(&mut col, rows.iter().map(|r| r.verdict.as_deref()), true)?,
                12 => write_strings(&mut col, rows.iter().map(|r| r.extracted.as_deref()), true)?,
                13 => write_strings(&mut col, rows.iter().map(|r| r.verifier.as_deref()), true)?,
                14 => write_strings(&mut col, rows.iter().map(|r| r.gold.as_deref()), true)?,
                15 => write_strings(&mut col, rows.iter().map(|r| r.prompt.as_deref()), true)?,
                16 => write_strings(
                    &mut col,
                    rows.iter().map(|r| Some(r.source.as_str())),
                    false,
                )?,
                17 => write_strings(
                    &mut col,
                    rows.iter().map(|r| Some(r.sampling.as_str())),
                    false,
                )?,
                18 => write_ints(
                    &mut col,
                    rows.iter().map(|r| r.seed.map(|s| s as i64)),
                    true,
                )?,
                _ => unreachable!("the schema has 19 columns"),
            }
            col.close()?;
            column += 1;
        }
        group.close()?;
        Ok(())
    }
}

type ColumnWriter<'a> = parquet::file::writer::SerializedColumnWriter<'a>;

fn write_strings<'s>(
    col: &mut ColumnWriter<'_>,
    values: impl Iterator<Item = Option<&'s str>>,
    optional: bool,
) -> Result<(), ParquetError> {
    let (mut present, mut levels) = (Vec::new(), Vec::new());
    for v in values {
        levels.push(i16::from(v.is_some()));
        if let Some(v) = v {
            present.push(ByteArray::from(v.as_bytes().to_vec()));
        }
    }
    col.typed::<ByteArrayType>()
        .write_batch(&present, optional.then_some(&levels[..]), None)?;
    Ok(())
}

fn write_ints(
    col: &mut ColumnWriter<'_>,
    values: impl Iterator<Item = Option<i64>>,
    optional: bool,
) -> Result<(), ParquetError> {
    let (mut present, mut levels) = (Vec::new(), Vec::new());
    for v in values {
        levels.push(i16::from(v.is_some()));
        present.extend(v);
    }
    col.typed::<Int64Type>()
        .write_batch(&present, optional.then_some(&levels[..]), None)?;
    Ok(())
}
