//! The rendered prompt of every benchmark, with its default template, raw (as the paper
//! sends it) and as chat messages: snapshot-tested, so that a changed prompt is a
//! reviewed change.

use std::path::Path;

use boundary_bench::{Benchmark, Hub, LoadOptions, Problem, PromptMode, Templates};
use boundary_sample::PromptInput;

fn fixture(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// The first problem of each benchmark (fixtures where the data is not vendored).
fn first_problem(b: Benchmark) -> Problem {
    let options = match b {
        Benchmark::LiveCodeBench => LoadOptions {
            path: Some(fixture("livecodebench/test5.jsonl")),
            ..LoadOptions::default()
        },
        Benchmark::MathVista => LoadOptions {
            path: Some(fixture("mathvista/testmini.json")),
            images: Some(fixture("mathvista")),
            hub: None::<Hub>,
            ..LoadOptions::vendored()
        },
        _ => LoadOptions::vendored(),
    };
    let mut problems = b.load(&options).unwrap();
    problems.sort_by(|x, y| x.id.cmp(&y.id));
    problems.swap_remove(0)
}

/// Chat messages as text, with image data URLs shortened to their MIME type.
fn show(input: &PromptInput) -> String {
    match input {
        PromptInput::Text(text) => text.clone(),
        PromptInput::Chat(messages) => messages
            .iter()
            .map(|m| {
                let content = match &m.content {
                    serde_json::Value::String(s) => s.clone(),
                    parts => parts
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|part| match part["type"].as_str() {
                            Some("image_url") => {
                                let url = part["image_url"]["url"].as_str().unwrap();
                                format!("[image {}]", &url[..url.find(';').unwrap()])
                            }
                            _ => part["text"].as_str().unwrap().to_owned(),
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                };
                format!("--- {} ---\n{content}", m.role)
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn every_benchmark_renders_its_papers_prompt() {
    let templates = Templates::default();
    for b in Benchmark::ALL {
        let info = b.info();
        let problem = first_problem(b);
        let visual = !problem.images.is_empty();
        let mut shown = String::new();
        if !visual {
            let raw = templates
                .render(info.template, &problem, PromptMode::Raw)
                .unwrap();
            shown.push_str(&format!(
                "=== raw ({}) ===\n{}\n",
                info.template,
                show(&raw.input)
            ));
        }
        let chat = templates
            .render(info.template, &problem, PromptMode::Chat)
            .unwrap();
        shown.push_str(&format!(
            "=== chat ({}) ===\n{}\n",
            info.template,
            show(&chat.input)
        ));
        if let Some(prefix) = &chat.prefix {
            shown.push_str(&format!(
                "=== graded as prefix + response; prefix ===\n{prefix}\n"
            ));
        }
        insta::assert_snapshot!(format!("prompt_{}", info.name), shown);
    }
}

#[test]
fn every_named_template_renders_a_math_problem() {
    let templates = Templates::default();
    let problem = first_problem(Benchmark::Aime24);
    let mut shown = String::new();
    for t in templates.iter() {
        let rendered = templates
            .render(&t.name, &problem, PromptMode::Raw)
            .unwrap();
        shown.push_str(&format!("=== {} ===\n{}\n", t.name, show(&rendered.input)));
    }
    insta::assert_snapshot!("templates_raw_aime24", shown);
}
