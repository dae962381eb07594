//! The benchmarks of the paper: names, where their data lives, the field the paper
//! grades against, and the paper's n and template.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::{BenchError, Result};
use crate::loaders;
use crate::problem::{Domain, Problem};
use crate::source::LoadOptions;

/// A benchmark of the paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Benchmark {
    Gsm8k,
    Math500,
    MinervaMath,
    OlympiadBench,
    Aime24,
    Amc23,
    HumanEvalPlus,
    MbppPlus,
    LiveCodeBench,
    MathVista,
    MathVision,
}

/// Where a benchmark's data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataSource {
    /// A file under the vendored `data/` folder.
    Vendored { file: &'static str },
    /// Not redistributable here: a local file in the released format, or the Hub.
    External { hub_repo: &'static str },
}

/// What the registry knows about a benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BenchmarkInfo {
    pub name: &'static str,
    pub title: &'static str,
    pub domain: Domain,
    /// Problems in the default selection (after the paper's filters), when known offline.
    pub problems: Option<usize>,
    /// The record field the paper grades against, in words.
    pub answer_field: &'static str,
    /// The paper's samples per problem (its largest k).
    pub paper_n: u32,
    pub template: &'static str,
    pub source: DataSource,
    /// Other data needed at run time, and where it comes from.
    pub notes: &'static str,
}

impl Benchmark {
    pub const ALL: [Benchmark; 11] = [
        Benchmark::Gsm8k,
        Benchmark::Math500,
        Benchmark::MinervaMath,
        Benchmark::OlympiadBench,
        Benchmark::Aime24,
        Benchmark::Amc23,
        Benchmark::HumanEvalPlus,
        Benchmark::MbppPlus,
        Benchmark::LiveCodeBench,
        Benchmark::MathVista,
        Benchmark::MathVision,
    ];

    pub fn info(self) -> BenchmarkInfo {
        use Benchmark::*;
        use DataSource::*;
        use Domain::*;
        let (name, title, domain, problems, answer_field, paper_n, template, source, notes) =
            match self {
                Gsm8k => (
                    "gsm8k",
                    "GSM8K",
                    Math,
                    Some(1319),
                    "`answer` after `####`",
                    128,
                    "qwen-boxed",
                    Vendored {
                        file: "gsm8k/test.jsonl",
                    },
                    "",
                ),
                Math500 => (
                    "math500",
                    "MATH500",
                    Math,
                    Some(500),
                    "last \\boxed{} of `solution` (not `answer`)",
                    128,
                    "qwen-boxed",
                    Vendored {
                        file: "math500/test.jsonl",
                    },
                    "",
                ),
                MinervaMath => (
                    "minerva_math",
                    "Minerva Math",
                    Math,
                    Some(272),
                    "last \\boxed{} of `solution`",
                    128,
                    "qwen-boxed",
                    Vendored {
                        file: "minerva_math/test.jsonl",
                    },
                    "",
                ),
                OlympiadBench => (
                    "olympiadbench",
                    "OlympiadBench",
                    Math,
                    Some(675),
                    "`final_answer[0]` without `$`",
                    128,
                    "qwen-boxed",
                    Vendored {
                        file: "olympiadbench/test.jsonl",
                    },
                    "",
                ),
                Aime24 => (
                    "aime24",
                    "AIME24",
                    Math,
                    Some(30),
                    "`answer`",
                    1024,
                    "qwen-boxed",
                    Vendored {
                        file: "aime24/test.jsonl",
                    },
                    "",
                ),
                Amc23 => (
                    "amc23",
                    "AMC23",
                    Math,
                    Some(40),
                    "`answer` (a float such as 27.0, written 27)",
                    1024,
                    "qwen-boxed",
                    Vendored {
                        file: "amc23/test.jsonl",
                    },
                    "",
                ),
                HumanEvalPlus => (
                    "humaneval_plus",
                    "HumanEval+",
                    Code,
                    Some(164),
                    "the tests (`test`, `base_input`, `plus_input`)",
                    128,
                    "evalplus",
                    Vendored {
                        file: "humaneval_plus/HumanEvalPlus-v0.1.10.jsonl",
                    },
                    "v0.1.10, evalplus's default release",
                ),
                MbppPlus => (
                    "mbpp_plus",
                    "MBPP+",
                    Code,
                    Some(399),
                    "the tests (`assertion`, `base_input`, `plus_input`)",
                    128,
                    "evalplus",
                    Vendored {
                        file: "mbpp_plus/MbppPlus-evalplus-git767efcc.jsonl",
                    },
                    "vendored: the 399-task development copy; the paper's v0.2.0 (378 tasks) \
                     from `path` (MbppPlus-v0.2.0.jsonl[.gz]) or the Hub (evalplus/mbppplus)",
                ),
                LiveCodeBench => (
                    "livecodebench",
                    "LiveCodeBench",
                    Code,
                    None,
                    "the public and private test cases",
                    128,
                    "livecodebench",
                    External {
                        hub_repo: "livecodebench/code_generation_lite",
                    },
                    "release_v5, contests 2024-08-01 to 2025-01-31 (279 problems); from `path` \
                     (test*.jsonl of code_generation_lite) or the Hub",
                ),
                MathVista => (
                    "mathvista",
                    "MathVista",
                    Visual,
                    Some(460),
                    "`answer` (free-form questions only)",
                    128,
                    "easyr1",
                    Vendored {
                        file: "mathvista/testmini.jsonl",
                    },
                    "testmini annotations vendored; images from `images` (the unpacked \
                     images.zip) or the Hub (AI4Math/MathVista)",
                ),
                MathVision => (
                    "mathvision",
                    "MathVision",
                    Visual,
                    Some(114),
                    "`answer` (questions without `options` only)",
                    128,
                    "easyr1",
                    Vendored {
                        file: "mathvision/testmini.jsonl",
                    },
                    "testmini with its 304 images vendored",
                ),
            };
        BenchmarkInfo {
            name,
            title,
            domain,
            problems,
            answer_field,
            paper_n,
            template,
            source,
            notes,
        }
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Finds a benchmark by name, ignoring case, `-`/`_` and a `+` for "plus".
    pub fn find(name: &str) -> Option<Benchmark> {
        let wanted = normalise(name);
        Self::ALL.into_iter().find(|b| {
            let info = b.info();
            normalise(info.name) == wanted || normalise(info.title) == wanted
        })
    }

    /// Like [`Benchmark::find`], with an error that lists the known names.
    pub fn parse(name: &str) -> Result<Benchmark> {
        Self::find(name).ok_or_else(|| BenchError::UnknownBenchmark {
            name: name.to_owned(),
            known: Self::ALL.map(Benchmark::name).join(", "),
        })
    }

    /// Loads the benchmark's problems, in the file's order.
    pub fn load(self, options: &LoadOptions) -> Result<Vec<Problem>> {
        let problems = match self {
            Benchmark::Gsm8k => loaders::math::gsm8k(self, options),
            Benchmark::Math500 => loaders::math::math500(self, options),
            Benchmark::MinervaMath => loaders::math::minerva(self, options),
            Benchmark::OlympiadBench => loaders::math::olympiadbench(self, options),
            Benchmark::Aime24 | Benchmark::Amc23 => loaders::math::aime_amc(self, options),
            Benchmark::HumanEvalPlus => loaders::code::humaneval_plus(self, options),
            Benchmark::MbppPlus => loaders::code::mbpp_plus(self, options),
            Benchmark::LiveCodeBench => loaders::livecodebench::load(self, options),
            Benchmark::MathVista => loaders::visual::mathvista(self, options),
            Benchmark::MathVision => loaders::visual::mathvision(self, options),
        }?;
        if problems.is_empty() {
            return Err(BenchError::Empty {
                benchmark: self.name().to_owned(),
                detail: " after its filters".into(),
            });
        }
        Ok(problems)
    }

    /// The files holding a code benchmark's tests: the ones [`Benchmark::load`] reads
    /// its problems from, so the code verifier grades against the same release. Empty
    /// for math and visual benchmarks, whose gold answers travel with the problems.
    pub fn test_files(self, options: &LoadOptions) -> Result<Vec<PathBuf>> {
        match self {
            Benchmark::HumanEvalPlus => {
                Ok(vec![loaders::code::humaneval_plus_path(self, options)?])
            }
            Benchmark::MbppPlus => Ok(vec![loaders::code::mbpp_plus_path(self, options)?]),
            Benchmark::LiveCodeBench => loaders::livecodebench::files(options),
            _ => Ok(Vec::new()),
        }
    }
}

fn normalise(name: &str) -> String {
    name.to_ascii_lowercase()
        .replace('+', "_plus")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_in_any_spelling() {
        assert_eq!(Benchmark::find("MATH500"), Some(Benchmark::Math500));
        assert_eq!(
            Benchmark::find("humaneval+"),
            Some(Benchmark::HumanEvalPlus)
        );
        assert_eq!(
            Benchmark::find("HumanEval+"),
            Some(Benchmark::HumanEvalPlus)
        );
        assert_eq!(Benchmark::find("mbpp-plus"), Some(Benchmark::MbppPlus));
        assert_eq!(
            Benchmark::find("Minerva Math"),
            Some(Benchmark::MinervaMath)
        );
        assert_eq!(Benchmark::find("math5000"), None);
        let err = Benchmark::parse("math5000").unwrap_err().to_string();
        assert!(err.starts_with("unknown benchmark `math5000`; known benchmarks: gsm8k, math500"));
    }

    #[test]
    fn every_benchmark_has_a_distinct_name() {
        let names: std::collections::HashSet<&str> =
            Benchmark::ALL.iter().map(|b| b.name()).collect();
        assert_eq!(names.len(), Benchmark::ALL.len());
        for b in Benchmark::ALL {
            assert_eq!(Benchmark::find(b.name()), Some(b));
        }
    }
}
