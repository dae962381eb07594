//! `boundary benchmarks`: the benchmarks and prompt templates Boundary knows, with
//! their sizes and where their data is.

use boundary_bench::{Benchmark, DataSource, LoadOptions, Templates, data_root};
use clap::Args;
use serde::Serialize;

use crate::output;

/// Vendored benchmarks are read from the `data/` folder of the checkout (or
/// $BOUNDARY_DATA); the others from a local file in their released format, or from the
/// Hugging Face Hub.
#[derive(Debug, Args)]
pub struct BenchmarksArgs {
    /// Also list the prompt templates.
    #[arg(long)]
    pub templates: bool,
    /// Load every vendored benchmark and count its problems (slower; checks the data).
    #[arg(long)]
    pub check: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Listed {
    name: &'static str,
    title: &'static str,
    domain: &'static str,
    problems: Option<usize>,
    paper_n: u32,
    template: &'static str,
    answer_field: &'static str,
    data: String,
    available: bool,
    notes: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    loaded: Option<Result<usize, String>>,
}

#[derive(Serialize)]
struct ListedTemplate {
    name: String,
    description: String,
    raw: String,
}

pub fn run(args: BenchmarksArgs) -> anyhow::Result<()> {
    let root = data_root();
    let options = LoadOptions::vendored();
    let listed: Vec<Listed> = Benchmark::ALL
        .iter()
        .map(|&b| {
            let info = b.info();
            let (data, available) = match info.source {
                DataSource::Vendored { file } => match &root {
                    Some(root) => {
                        let path = root.join(file);
                        let available = path.exists();
                        (path.display().to_string(), available)
                    }
                    None => (format!("data/{file} (no data folder found)"), false),
                },
                DataSource::External { hub_repo } => {
                    (format!("`path`, or the Hub: {hub_repo}"), false)
                }
            };
            let loaded = (args.check && available).then(|| {
                b.load(&options)
                    .map(|problems| problems.len())
                    .map_err(|e| e.to_string())
            });
            Listed {
                name: info.name,
                title: info.title,
                domain: info.domain.as_str(),
                problems: info.problems,
                paper_n: info.paper_n,
                template: info.template,
                answer_field: info.answer_field,
                data,
                available,
                notes: info.notes,
                loaded,
            }
        })
        .collect();
    let templates: Vec<ListedTemplate> = Templates::default()
        .iter()
        .map(|t| ListedTemplate {
            name: t.name.clone(),
            description: t.description.clone(),
            raw: serde_json::to_value(&t.raw)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        })
        .collect();

    if args.json {
        let mut doc = serde_json::json!({ "benchmarks": listed });
        if args.templates {
            doc["templates"] = serde_json::to_value(&templates)?;
        }
        return output::print_json(&doc);
    }
    let mut rows = vec![
        [
            "name",
            "domain",
            "problems",
            "paper n",
            "template",
            "answer (paper)",
            "data",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for l in &listed {
        let problems = match &l.loaded {
            Some(Ok(n)) => n.to_string(),
            Some(Err(_)) => "error".into(),
            None => l.problems.map_or("?".into(), |n| n.to_string()),
        };
        rows.push(vec![
            l.name.to_string(),
            l.domain.to_string(),
            problems,
            l.paper_n.to_string(),
            l.template.to_string(),
            l.answer_field.to_string(),
            l.data.clone(),
        ]);
    }
    print!("{}", output::table(&rows));
    for l in &listed {
        if !l.notes.is_empty() {
            println!("{}: {}", l.name, l.notes);
        }
        if let Some(Err(e)) = &l.loaded {
            println!("{}: cannot load: {e}", l.name);
        }
    }
    if args.templates {
        println!();
        let mut rows = vec![
            ["template", "raw layout", "what it is"]
                .map(String::from)
                .to_vec(),
        ];
        for t in &templates {
            rows.push(vec![t.name.clone(), t.raw.clone(), t.description.clone()]);
        }
        print!("{}", output::table(&rows));
    }
    Ok(())
}
