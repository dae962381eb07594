//! The six math benchmarks, in the files the paper's code reads (Qwen2.5-Math's
//! evaluation data), with the gold answer taken from the field the paper grades against.

use serde_json::Value;

use super::{keep, load_with};
use crate::answer::{last_boxed, number_text};
use crate::error::Result;
use crate::problem::Problem;
use crate::records::{Fields, kind};
use crate::registry::{Benchmark, DataSource};
use crate::source::LoadOptions;

fn vendored_path(benchmark: Benchmark, options: &LoadOptions) -> Result<std::path::PathBuf> {
    let DataSource::Vendored { file } = benchmark.info().source else {
        unreachable!("math benchmarks are vendored")
    };
    options.vendored_or_path(benchmark.name(), file)
}

/// GSM8K: the gold answer is what follows `####` in `answer`; `idx` is the id.
pub fn gsm8k(benchmark: Benchmark, options: &LoadOptions) -> Result<Vec<Problem>> {
    let mut index = 0usize;
    load_with(&vendored_path(benchmark, options)?, |f| {
        let id = f.optional_text("idx")?.unwrap_or_else(|| index.to_string());
        index += 1;
        let answer = f.text("answer")?;
        let Some((_, gold)) = answer.rsplit_once("####") else {
            return Err(f.error("field `answer` has no `####` before the final answer"));
        };
        Ok(Some(
            Problem::new(id, f.text("question")?, Some(gold.trim().to_owned()))
                .with_field("solution", Value::String(answer.clone())),
        ))
    })
}

/// The gold answer inside a reference solution's last `\boxed{}`.
fn boxed_gold(f: &Fields<'_>, field: &str) -> Result<String> {
    let solution = f.text(field)?;
    last_boxed(&solution)
        .map(str::to_owned)
        .ok_or_else(|| f.error(format!("field `{field}` has no \\boxed{{}} answer")))
}

/// MATH500: the paper grades against the last `\boxed{}` of `solution` (the `answer`
/// field is kept as a field); `unique_id` is the id.
pub fn math500(benchmark: Benchmark, options: &LoadOptions) -> Result<Vec<Problem>> {
    load_with(&vendored_path(benchmark, options)?, |f| {
        let mut p = Problem::new(
            f.text("unique_id")?,
            f.text("problem")?,
            Some(boxed_gold(f, "solution")?),
        );
        keep(&mut p, f, &["subject", "level", "answer", "solution"]);
        Ok(Some(p))
    })
}

/// Minerva Math: the last `\boxed{}` of `solution`; `idx` is the id.
pub fn minerva(benchmark: Benchmark, options: &LoadOptions) -> Result<Vec<Problem>> {
    load_with(&vendored_path(benchmark, options)?, |f| {
        let mut p = Problem::new(
            f.text("idx")?,
            f.text("problem")?,
            Some(boxed_gold(f, "solution")?),
        );
        keep(&mut p, f, &["type", "solution"]);
        Ok(Some(p))
    })
}

/// OlympiadBench: `final_answer[0]` with its `$` signs removed.
pub fn olympiadbench(benchmark: Benchmark, options: &LoadOptions) -> Result<Vec<Problem>> {
    load_with(&vendored_path(benchmark, options)?, |f| {
        let gold = match f.get("final_answer") {
            Some(Value::Array(items)) => match items.first() {
                Some(Value::String(s)) => s.trim().trim_matches('$').trim().to_owned(),
                Some(other) => {
                    return Err(f.error(format!(
                        "`final_answer[0]` must be a string, found {}",
                        kind(other)
                    )));
                }
                None => return Err(f.error("`final_answer` is an empty list")),
            },
            Some(other) => {
                return Err(f.error(format!(
                    "field `final_answer` must be a list, found {}",
                    kind(other)
                )));
            }
            None => return Err(f.error("field `final_answer` is missing")),
        };
        let mut p = Problem::new(f.text("id")?, f.text("question")?, Some(gold));
        keep(
            &mut p,
            f,
            &[
                "subfield",
                "unit",
                "answer_type",
                "is_multiple_answer",
                "final_answer",
            ],
        );
        Ok(Some(p))
    })
}

/// AIME24 and AMC23: `answer` (AMC23 stores floats such as `27.0`, written `27`).
pub fn aime_amc(benchmark: Benchmark, options: &LoadOptions) -> Result<Vec<Problem>> {
    load_with(&vendored_path(benchmark, options)?, |f| {
        let gold = match f.get("answer") {
            Some(Value::Number(n)) => number_text(n),
            Some(Value::String(s)) => s.trim().to_owned(),
            Some(other) => {
                return Err(f.error(format!(
                    "field `answer` must be a number or a string, found {}",
                    kind(other)
                )));
            }
            None => return Err(f.error("field `answer` is missing")),
        };
        let mut p = Problem::new(f.text("id")?, f.text("problem")?, Some(gold));
        keep(&mut p, f, &["url", "solution"]);
        Ok(Some(p))
    })
}
