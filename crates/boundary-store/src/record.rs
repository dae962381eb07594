//! The interchange format: one sample per line (JSONL) or row (CSV, Parquet).
//!
//! Import and export share the field names, so an export re-imports cleanly:
//!
//! | field | import | meaning |
//! |---|---|---|
//! | `model`, `benchmark`, `problem_id`, `sample_index` | required | the sample's key |
//! | `response` | required unless `status` is `failed` | the model's text |
//! | `status`, `error` | optional | `ok` (default) or `failed` with its error |
//! | `correct`, `verdict`, `extracted`, `verifier` | optional | a grade (`verifier` defaults to `import`) |
//! | `gold`, `prompt` | optional | the problem's gold answer, the exact prompt sent |
//! | `finish_reason`, `num_tokens`, `prompt_tokens` | optional | generation details |
//! | `source`, `sampling`, `seed` | optional | the run's identity (defaults: `import`, `{}`, none) |

use serde::Serialize;
use serde_json::{Map, Value};

use crate::jsonl::Fields;
use crate::store::RunSpec;
use crate::writer::{NewGrade, NewSample, SampleOutcome};

/// The verifier name given to grades that arrive with imported samples.
pub const IMPORT_VERIFIER: &str = "import";

const REQUIRED: &str = "each line needs `model`, `benchmark`, `problem_id`, `sample_index` and \
                        `response` (or `\"status\": \"failed\"` with an `error`)";

/// One parsed input line.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRecord {
    pub run: RunSpec,
    pub gold: Option<String>,
    pub prompt: Option<String>,
    pub sample: NewSample,
    pub grade: Option<NewGrade>,
}

impl SampleRecord {
    /// Parses one JSON object; the error names the offending field.
    pub fn from_object(map: &Map<String, Value>) -> Result<Self, String> {
        let f = Fields { map };
        let model = f.string("model", REQUIRED)?;
        let benchmark = f.string("benchmark", REQUIRED)?;
        let problem = f.id("problem_id", REQUIRED)?;
        let sample_index = f.u32("sample_index", REQUIRED)?;
        let status = f.optional_string("status")?;
        let response = f.optional_string("response")?;
        let error = f.optional_string("error")?;
        let outcome = match status.as_deref() {
            None | Some("ok") => SampleOutcome::Ok {
                response: response
                    .ok_or_else(|| format!("field `response` is missing; {REQUIRED}"))?,
            },
            Some("failed") => {
                if response.is_some() {
                    return Err(
                        "a sample with `\"status\": \"failed\"` cannot have a `response`".into(),
                    );
                }
                SampleOutcome::Failed {
                    error: error.unwrap_or_else(|| "failed (no error text given)".into()),
                }
            }
            Some(other) => {
                return Err(format!(
                    "field `status` must be \"ok\" or \"failed\", found {other:?}"
                ));
            }
        };

        let correct = f.optional_bool("correct")?;
        let verdict = f.optional_string("verdict")?;
        let grade = match (correct, verdict) {
            (None, None) => None,
            _ if matches!(outcome, SampleOutcome::Failed { .. }) => {
                return Err("a failed sample cannot carry a grade (`correct`/`verdict`)".into());
            }
            (correct, verdict) => {
                let correct = correct.unwrap_or(verdict.as_deref() == Some("correct"));
                Some(NewGrade {
                    problem: problem.clone(),
                    sample_index,
                    verifier: f
                        .optional_string("verifier")?
                        .unwrap_or_else(|| IMPORT_VERIFIER.to_owned()),
                    verdict: verdict
                        .unwrap_or_else(|| if correct { "correct" } else { "incorrect" }.into()),
                    correct,
                    extracted: f.optional_string("extracted")?,
                    detail: None,
                })
            }
        };

        let sampling = f
            .optional_object("sampling")?
            .unwrap_or_else(|| Value::Object(Map::new()));
        let seed = match f.map.get("seed").filter(|v| !v.is_null()) {
            None => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| {
                format!(
                    "field `seed` must be a non-negative integer, found {}",
                    crate::jsonl::describe(v)
                )
            })?),
        };
        Ok(Self {
            run: RunSpec {
                model,
                benchmark,
                source: f
                    .optional_string("source")?
                    .unwrap_or_else(|| IMPORT_VERIFIER.to_owned()),
                sampling,
                seed,
            },
            gold: f.optional_answer("gold")?,
            prompt: f.optional_string("prompt")?,
            sample: NewSample {
                problem,
                sample_index,
                outcome,
                finish_reason: f.optional_string("finish_reason")?,
                prompt_tokens: f.optional_u32("prompt_tokens")?,
                completion_tokens: f.optional_u32("num_tokens")?,
            },
            grade,
        })
    }
}

/// One exported sample with its grade (from one verifier) when graded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportRow {
    pub model: String,
    pub benchmark: String,
    pub problem_id: String,
    pub sample_index: u32,
    pub status: String,
    pub response: Option<String>,
    pub error: Option<String>,
    pub finish_reason: Option<String>,
    pub num_tokens: Option<u32>,
    pub prompt_tokens: Option<u32>,
    pub correct: Option<bool>,
    pub verdict: Option<String>,
    pub extracted: Option<String>,
    pub verifier: Option<String>,
    pub gold: Option<String>,
    pub prompt: Option<String>,
    pub source: String,
    /// The run's sampling settings as JSON text (one column in every format).
    pub sampling: String,
    pub seed: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<SampleRecord, String> {
        SampleRecord::from_object(v.as_object().unwrap())
    }

    #[test]
    fn minimal_line() {
        let r = parse(json!({"model": "m", "benchmark": "b", "problem_id": 7, "sample_index": 0, "response": "x"}))
            .unwrap();
        assert_eq!(r.sample.problem, "7");
        assert_eq!(r.run.source, "import");
        assert_eq!(r.run.sampling, json!({}));
        assert!(r.grade.is_none());
    }

    #[test]
    fn grade_from_correct_or_verdict() {
        let base = json!({"model": "m", "benchmark": "b", "problem_id": "p", "sample_index": 1, "response": "x"});
        let mut with_correct = base.clone();
        with_correct["correct"] = json!(1);
        let g = parse(with_correct).unwrap().grade.unwrap();
        assert_eq!(
            (g.verdict.as_str(), g.correct, g.verifier.as_str()),
            ("correct", true, "import")
        );

        let mut with_verdict = base;
        with_verdict["verdict"] = json!("unverifiable");
        with_verdict["verifier"] = json!("math");
        let g = parse(with_verdict).unwrap().grade.unwrap();
        assert_eq!(
            (g.verdict.as_str(), g.correct, g.verifier.as_str()),
            ("unverifiable", false, "math")
        );
    }

    #[test]
    fn failed_samples() {
        let r = parse(
            json!({"model": "m", "benchmark": "b", "problem_id": "p", "sample_index": 1,
                             "status": "failed", "error": "HTTP 500"}),
        )
        .unwrap();
        assert_eq!(
            r.sample.outcome,
            SampleOutcome::Failed {
                error: "HTTP 500".into()
            }
        );
        let err = parse(
            json!({"model": "m", "benchmark": "b", "problem_id": "p", "sample_index": 1,
                               "status": "failed", "correct": false}),
        )
        .unwrap_err();
        assert!(err.contains("cannot carry a grade"));
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse(json!({"model": "m", "benchmark": "b", "problem_id": "p", "sample_index": -1, "response": "x"}))
            .unwrap_err();
        assert_eq!(
            err,
            "field `sample_index` must be a non-negative integer below 2^32, found a number (-1)"
        );
        let err =
            parse(json!({"model": "m", "problem_id": "p", "sample_index": 0, "response": "x"}))
                .unwrap_err();
        assert!(err.starts_with("field `benchmark` is missing"), "{err}");
    }
}
