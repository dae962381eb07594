//! The experiment file: models, benchmarks, sampling settings, templates and analyses,
//! in TOML. Everything is checked before anything is sampled (unknown benchmarks and
//! templates, missing model files, k larger than n, field mappings naming fields the
//! data does not have, templates that do not render), and each problem points at its
//! line of the file.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use boundary_bench::{
    Benchmark, Domain, FieldMapping, Hub, LoadOptions, Problem, PromptMode, PromptTemplate,
    RawFormat, Templates,
};
use boundary_openai::MAX_IN_FLIGHT_LIMIT;
use boundary_sample::SamplingParams;
use clap::ValueEnum;
use serde::Deserialize;
use serde_json::{Map, Value};
use toml::Spanned;

use super::diagnostic::{ConfigErrors, Diagnostic};
use crate::commands::grade_math::MathMode;
use crate::commands::score::ScoringWeights;
use crate::endpoints::EndpointArgs;

// ---- The file as written -------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    store: Option<Spanned<String>>,
    out: Option<Spanned<String>>,
    title: Option<String>,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    sampling: RawSampling,
    #[serde(default)]
    analysis: RawAnalysis,
    #[serde(default)]
    grading: RawGrading,
    #[serde(default, rename = "model")]
    models: Vec<RawModel>,
    #[serde(default, rename = "benchmark")]
    benchmarks: Vec<RawBenchmark>,
    #[serde(default, rename = "template")]
    templates: BTreeMap<String, Spanned<RawTemplate>>,
    perplexity: Option<RawPerplexity>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSampling {
    temperature: Option<f64>,
    top_p: Option<f64>,
    top_k: Option<u32>,
    min_p: Option<f64>,
    max_tokens: Option<u32>,
    stop: Option<Vec<String>>,
    /// Backend-specific settings passed through (vLLM's `repetition_penalty`, ...).
    extra: Option<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnalysis {
    k: Option<Spanned<Vec<u64>>>,
    bootstrap: Option<usize>,
    confidence: Option<f64>,
    reference: Option<Spanned<String>>,
    bins: Option<usize>,
    verifier: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrading {
    /// Math grading semantics: "default", "boxed-only" or "paper".
    math: Option<Spanned<String>>,
    /// The Python interpreter that runs code samples.
    python: Option<String>,
    /// Sandbox workers [default: all cores].
    workers: Option<usize>,
    #[serde(default)]
    allow_unsafe_sandbox: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    name: Spanned<String>,
    /// A GGUF file for the embedded backend.
    path: Option<Spanned<String>>,
    /// One or more OpenAI-compatible base URLs.
    endpoint: Option<Spanned<OneOrMany>>,
    /// The model name the server knows (vLLM's `--served-model-name`).
    served_model: Option<String>,
    /// An environment variable holding the API key.
    api_key_env: Option<String>,
    /// Server models: `boundary sample`'s flags of the same names.
    max_in_flight: Option<Spanned<usize>>,
    chunk_size: Option<Spanned<u32>>,
    context_length: Option<Spanned<u64>>,
    skip_unfit: Option<Spanned<bool>>,
    request_timeout: Option<Spanned<f64>>,
    retries: Option<Spanned<u32>>,
    prompt: Option<Spanned<String>>,
    /// A template for this model instead of each benchmark's.
    template: Option<Spanned<String>>,
    sampling: Option<RawSampling>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBenchmark {
    name: Spanned<String>,
    n: Option<Spanned<u32>>,
    /// The first `limit` problems only (a quick run, a demo).
    limit: Option<usize>,
    template: Option<Spanned<String>>,
    /// A local file: the benchmark's released format, or a user benchmark.
    path: Option<Spanned<String>>,
    images: Option<Spanned<String>>,
    /// `math`, `code` or `visual` (user benchmarks; default math).
    kind: Option<Spanned<String>>,
    fields: Option<Spanned<RawFields>>,
    version: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    #[serde(default)]
    multiple_choice: bool,
    /// Download from the Hugging Face Hub what is not local.
    #[serde(default)]
    hub: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFields {
    id: Option<Spanned<String>>,
    question: Option<Spanned<String>>,
    answer: Option<Spanned<String>>,
    image: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    #[serde(default)]
    description: String,
    system: Option<String>,
    user: String,
    prefix: Option<String>,
    raw: Option<RawFormat>,
    #[serde(default)]
    stop: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerplexity {
    scorer: Spanned<String>,
    /// Whose responses to score [default: every model].
    responses_of: Option<Vec<Spanned<String>>>,
    benchmarks: Option<Vec<Spanned<String>>>,
    /// Problems per benchmark (the first ones) [default: all].
    problems: Option<usize>,
    /// Responses per problem and model [default: all].
    samples: Option<u32>,
    /// An embedded scorer's weights: "auto", "stored" or "f32" [default: "auto"].
    weights: Option<Spanned<String>>,
}

// ---- The checked experiment ----------------------------------------------------------

/// How a model is run.
#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    /// A GGUF file run in-process by the embedded llama.cpp backend.
    Embedded { path: PathBuf },
    /// OpenAI-compatible servers (vLLM, SGLang, llama.cpp server, ...).
    Server(ServerModel),
}

/// A model behind OpenAI-compatible servers.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerModel {
    pub endpoints: Vec<String>,
    /// The name the servers know it by.
    pub served_model: Option<String>,
    pub api_key_env: Option<String>,
    pub settings: ServerSettings,
}

impl ServerModel {
    /// The name requests carry: `served_model`, else the model's own `name`. Servers that
    /// serve any name (llama.cpp) need none; vLLM needs it, and a wrong name fails at
    /// connect with the names the server does serve.
    pub fn request_name(&self, name: &str) -> String {
        self.served_model.clone().unwrap_or_else(|| name.to_owned())
    }

    /// `boundary sample`'s endpoint flags as this model's settings give them.
    pub fn endpoint_args(&self) -> EndpointArgs {
        let mut flags =
            EndpointArgs::with_defaults(self.endpoints.clone(), self.api_key_env.clone());
        if let Some(limit) = self.settings.max_in_flight {
            flags.max_in_flight = limit;
        }
        if let Some(seconds) = self.settings.request_timeout {
            flags.request_timeout = seconds;
        }
        if let Some(attempts) = self.settings.retries {
            flags.retries = attempts;
        }
        flags
    }
}

/// How hard to drive a model's servers; what is not set takes `boundary sample`'s default.
/// None of it changes the samples, so none of it is part of a run's identity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerSettings {
    /// Requests in flight per server.
    pub max_in_flight: Option<usize>,
    /// Most samples one request asks for.
    pub chunk_size: Option<u32>,
    /// The context length prompts are checked against when the servers do not report it.
    pub context_length: Option<u64>,
    /// Leave out (and list) problems that do not fit the context instead of refusing.
    pub skip_unfit: bool,
    /// Seconds one request may take.
    pub request_timeout: Option<f64>,
    /// Attempts per request.
    pub retries: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub name: String,
    pub backend: Backend,
    pub prompt: PromptMode,
    pub template: Option<String>,
    pub sampling: SamplingParams,
}

/// Where a benchmark's problems come from.
#[derive(Debug, Clone)]
pub enum BenchmarkSource {
    Registry(Benchmark),
    Custom {
        path: PathBuf,
        mapping: FieldMapping,
    },
}

#[derive(Debug, Clone)]
pub struct BenchmarkSpec {
    pub name: String,
    pub domain: Domain,
    pub source: BenchmarkSource,
    pub options: LoadOptions,
    pub n: u32,
    pub template: String,
    /// The problems (after `limit`), loaded while checking.
    pub problems: Vec<Problem>,
}

#[derive(Debug, Clone)]
pub struct AnalysisSettings {
    pub ks: Option<Vec<u64>>,
    pub bootstrap: usize,
    pub confidence: f64,
    pub reference: Option<String>,
    pub bins: usize,
    pub verifier: Option<String>,
}

/// How samples are graded: math answers by boundary-math, programs in the
/// boundary-code sandbox.
#[derive(Debug, Clone)]
pub struct GradingSettings {
    pub math: MathMode,
    pub python: String,
    pub workers: Option<usize>,
    pub allow_unsafe_sandbox: bool,
}

#[derive(Debug, Clone)]
pub struct PerplexitySpec {
    pub scorer: String,
    pub responses_of: Vec<String>,
    pub benchmarks: Vec<String>,
    pub problems: Option<usize>,
    pub samples: Option<u32>,
    /// An embedded scorer's weights.
    pub weights: ScoringWeights,
}

/// A checked experiment: every name resolved, every file found, every benchmark loaded.
pub struct Experiment {
    pub file: PathBuf,
    pub store: PathBuf,
    pub out: PathBuf,
    pub title: String,
    pub seed: u64,
    pub models: Vec<ModelSpec>,
    pub benchmarks: Vec<BenchmarkSpec>,
    pub templates: Templates,
    pub analysis: AnalysisSettings,
    pub grading: GradingSettings,
    pub perplexity: Option<PerplexitySpec>,
}

/// The paper's sampling settings (§3): T = 0.6, top-p 0.95, 16,384 new tokens.
pub const PAPER_SAMPLING: (f64, f64, u32) = (0.6, 0.95, 16_384);

/// Reads and checks an experiment file; every problem found is reported at once.
pub fn load(path: &Path) -> anyhow::Result<Experiment> {
    let source = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read the experiment file {}: {e}", path.display()))?;
    let fail = |diagnostics: Vec<Diagnostic>| ConfigErrors {
        path: path.to_owned(),
        source: source.clone(),
        diagnostics,
    };
    let raw: RawConfig = toml::from_str(&source).map_err(|e| {
        let d = match e.span() {
            Some(span) => Diagnostic::at(span, e.message().trim()),
            None => Diagnostic::file(e.message().trim()),
        };
        fail(vec![d])
    })?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_owned);
    let mut checker = Checker {
        base,
        diagnostics: Vec::new(),
    };
    let experiment = checker.check(raw, path);
    if checker.diagnostics.is_empty() {
        Ok(experiment.expect("a check without diagnostics gives an experiment"))
    } else {
        Err(fail(checker.diagnostics).into())
    }
}

/// The first server-only setting of an embedded model, and where it is written.
fn server_only_setting(m: &RawModel) -> Option<(&'static str, Range<usize>)> {
    [
        ("max_in_flight", m.max_in_flight.as_ref().map(Spanned::span)),
        ("chunk_size", m.chunk_size.as_ref().map(Spanned::span)),
        (
            "context_length",
            m.context_length.as_ref().map(Spanned::span),
        ),
        ("skip_unfit", m.skip_unfit.as_ref().map(Spanned::span)),
        (
            "request_timeout",
            m.request_timeout.as_ref().map(Spanned::span),
        ),
        ("retries", m.retries.as_ref().map(Spanned::span)),
    ]
    .into_iter()
    .filter_map(|(key, span)| Some((key, span?)))
    .min_by_key(|(_, span)| span.start)
}

struct Checker {
    base: PathBuf,
    diagnostics: Vec<Diagnostic>,
}

impl Checker {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) -> &mut Diagnostic {
        self.diagnostics.push(Diagnostic::at(span, message));
        self.diagnostics.last_mut().expect("just pushed")
    }

    /// A server model's settings, each checked where it is written.
    fn server_settings(&mut self, m: &RawModel) -> Option<ServerSettings> {
        let before = self.diagnostics.len();
        let mut at_least_one = |value: &Option<Spanned<u32>>, key: &str| {
            let value = value.as_ref()?;
            if *value.get_ref() == 0 {
                self.error(value.span(), format!("`{key}` must be at least 1"));
            }
            Some(*value.get_ref())
        };
        let chunk_size = at_least_one(&m.chunk_size, "chunk_size");
        let retries = at_least_one(&m.retries, "retries");
        if let Some(limit) = &m.max_in_flight
            && !(1..=MAX_IN_FLIGHT_LIMIT).contains(limit.get_ref())
        {
            self.error(
                limit.span(),
                format!("`max_in_flight` must be from 1 to {MAX_IN_FLIGHT_LIMIT}"),
            );
        }
        if let Some(length) = &m.context_length
            && *length.get_ref() == 0
        {
            self.error(length.span(), "`context_length` must be at least 1");
        }
        if let Some(timeout) = &m.request_timeout
            && !(timeout.get_ref().is_finite() && *timeout.get_ref() > 0.0)
        {
            self.error(
                timeout.span(),
                "`request_timeout` must be a positive number of seconds",
            );
        }
        (self.diagnostics.len() == before).then(|| ServerSettings {
            max_in_flight: m.max_in_flight.as_ref().map(|v| *v.get_ref()),
            chunk_size,
            context_length: m.context_length.as_ref().map(|v| *v.get_ref()),
            skip_unfit: m.skip_unfit.as_ref().is_some_and(|v| *v.get_ref()),
            request_timeout: m.request_timeout.as_ref().map(|v| *v.get_ref()),
            retries,
        })
    }

    /// A path of the file, relative to the file's folder; `~/` is the home folder.
    fn resolve(&self, path: &str) -> PathBuf {
        if let Some(rest) = path.strip_prefix("~/")
            && let Some(home) = std::env::var_os("HOME")
        {
            return PathBuf::from(home).join(rest);
        }
        self.base.join(path)
    }

    fn check(&mut self, raw: RawConfig, file: &Path) -> Option<Experiment> {
        let stem = file
            .file_stem()
            .map_or("experiment".into(), |s| s.to_string_lossy().into_owned());
        let out = raw.out.as_ref().map_or_else(
            || self.base.join(format!("{stem}-report")),
            |o| self.resolve(o.get_ref()),
        );
        let store = raw
            .store
            .as_ref()
            .map_or_else(|| out.join("run.db"), |s| self.resolve(s.get_ref()));

        let mut templates = Templates::default();
        for (name, t) in &raw.templates {
            let span = t.span();
            let t = t.get_ref();
            let template = PromptTemplate {
                name: name.clone(),
                description: t.description.clone(),
                system: t.system.clone(),
                user: t.user.clone(),
                prefix: t.prefix.clone(),
                raw: t.raw.clone().unwrap_or(RawFormat::ChatMl),
                stop: t.stop.clone(),
            };
            if let Err(e) = templates.add(template) {
                self.error(span, e.to_string());
            }
        }

        if raw.models.is_empty() {
            self.diagnostics.push(
                Diagnostic::file("the experiment has no models").help(
                    "add a [[model]] with a `name` and a `path` (GGUF file) or an `endpoint`",
                ),
            );
        }
        if raw.benchmarks.is_empty() {
            self.diagnostics.push(
                Diagnostic::file("the experiment has no benchmarks")
                    .help("add a [[benchmark]] with a `name`, such as `name = \"math500\"`"),
            );
        }
        let models = self.models(&raw, &templates);
        let benchmarks = self.benchmarks(&raw.benchmarks, &templates);
        let analysis = self.analysis(&raw.analysis, &models, &benchmarks);
        let grading = self.grading(&raw.grading);
        let perplexity = raw
            .perplexity
            .as_ref()
            .and_then(|p| self.perplexity(p, &models, &benchmarks));
        self.render_check(&models, &benchmarks, &templates, &raw);

        Some(Experiment {
            file: file.to_owned(),
            store,
            out,
            title: raw.title.clone().unwrap_or_else(|| stem.clone()),
            seed: raw.seed,
            models,
            benchmarks,
            templates,
            analysis,
            grading,
            perplexity,
        })
    }

    fn sampling(
        &mut self,
        defaults: &RawSampling,
        own: Option<&RawSampling>,
        seed: u64,
    ) -> SamplingParams {
        let pick = |f: fn(&RawSampling) -> Option<f64>| own.and_then(f).or(f(defaults));
        let extra: Map<String, Value> = defaults
            .extra
            .iter()
            .chain(own.and_then(|o| o.extra.as_ref()))
            .flat_map(|t| t.iter())
            .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(Value::Null)))
            .collect();
        SamplingParams {
            temperature: pick(|s| s.temperature).unwrap_or(PAPER_SAMPLING.0),
            top_p: pick(|s| s.top_p).unwrap_or(PAPER_SAMPLING.1),
            top_k: own.and_then(|s| s.top_k).or(defaults.top_k),
            min_p: pick(|s| s.min_p),
            max_tokens: own
                .and_then(|s| s.max_tokens)
                .or(defaults.max_tokens)
                .unwrap_or(PAPER_SAMPLING.2),
            stop: own
                .and_then(|s| s.stop.clone())
                .or_else(|| defaults.stop.clone())
                .unwrap_or_default(),
            seed,
            extra,
        }
    }

    fn models(&mut self, raw: &RawConfig, templates: &Templates) -> Vec<ModelSpec> {
        let mut models: Vec<ModelSpec> = Vec::new();
        for m in &raw.models {
            let name = m.name.get_ref().trim().to_owned();
            if name.is_empty() {
                self.error(m.name.span(), "a model name cannot be empty");
                continue;
            }
            if models.iter().any(|other| other.name == name) {
                self.error(m.name.span(), format!("model `{name}` is listed twice"))
                    .help = Some(
                    "give each model its own name (two settings of one checkpoint \
                                  are two models)"
                        .into(),
                );
                continue;
            }
            let backend = match (&m.path, &m.endpoint) {
                (Some(path), None) => {
                    let resolved = self.resolve(path.get_ref());
                    if !resolved.is_file() {
                        self.error(
                            path.span(),
                            format!("model file {} does not exist", resolved.display()),
                        )
                        .help = Some(
                            "give the path of a GGUF file (relative to the experiment file, or \
                             starting with ~/)"
                                .into(),
                        );
                        continue;
                    }
                    if let Some((key, span)) = server_only_setting(m) {
                        self.error(
                            span,
                            format!(
                                "`{key}` is a setting for servers, and model `{name}` runs \
                                 embedded (`path`)"
                            ),
                        )
                        .help = Some(
                            "max_in_flight, chunk_size, context_length, skip_unfit, \
                             request_timeout and retries apply to models with an `endpoint`"
                                .into(),
                        );
                        continue;
                    }
                    Backend::Embedded { path: resolved }
                }
                (None, Some(endpoint)) => {
                    let endpoints = match endpoint.get_ref() {
                        OneOrMany::One(e) => vec![e.clone()],
                        OneOrMany::Many(es) => es.clone(),
                    };
                    if endpoints.is_empty() {
                        self.error(endpoint.span(), "`endpoint` lists no server");
                        continue;
                    }
                    if let Some(bad) = endpoints
                        .iter()
                        .find(|e| !(e.starts_with("http://") || e.starts_with("https://")))
                    {
                        self.error(
                            endpoint.span(),
                            format!("endpoint `{bad}` is not an http(s) URL"),
                        )
                        .help = Some("for example \"http://localhost:8000/v1\"".into());
                        continue;
                    }
                    let Some(settings) = self.server_settings(m) else {
                        continue;
                    };
                    Backend::Server(ServerModel {
                        endpoints,
                        served_model: m.served_model.clone(),
                        api_key_env: m.api_key_env.clone(),
                        settings,
                    })
                }
                (Some(_), Some(endpoint)) => {
                    self.error(
                        endpoint.span(),
                        format!("model `{name}` has both a `path` and an `endpoint`"),
                    )
                    .help =
                        Some("a model runs either embedded (path) or on servers (endpoint)".into());
                    continue;
                }
                (None, None) => {
                    self.error(m.name.span(), format!("model `{name}` has neither a `path` nor an `endpoint`"))
                        .help = Some(
                        "give `path = \"model.gguf\"` (embedded) or `endpoint = \"http://host:8000/v1\"`"
                            .into(),
                    );
                    continue;
                }
            };
            let prompt = match m.prompt.as_ref().map(|p| (p.get_ref().as_str(), p.span())) {
                None | Some(("raw", _)) => PromptMode::Raw,
                Some(("chat", _)) => PromptMode::Chat,
                Some((other, span)) => {
                    self.error(span, format!("`prompt` must be \"raw\" or \"chat\", not {other:?}"))
                        .help = Some(
                        "raw: one text for a completion endpoint, as the paper samples base and RL \
                         models; chat: messages through the model's chat template"
                            .into(),
                    );
                    continue;
                }
            };
            if let Some(t) = &m.template
                && let Err(e) = templates.get(t.get_ref())
            {
                self.error(t.span(), e.to_string());
                continue;
            }
            models.push(ModelSpec {
                name,
                backend,
                prompt,
                template: m.template.as_ref().map(|t| t.get_ref().clone()),
                sampling: self.sampling(&raw.sampling, m.sampling.as_ref(), raw.seed),
            });
        }
        models
    }

    fn benchmarks(&mut self, raw: &[RawBenchmark], templates: &Templates) -> Vec<BenchmarkSpec> {
        let mut specs: Vec<BenchmarkSpec> = Vec::new();
        for b in raw {
            let name = b.name.get_ref().trim().to_owned();
            if specs.iter().any(|s| s.name == name) {
                self.error(b.name.span(), format!("benchmark `{name}` is listed twice"));
                continue;
            }
            let registry = Benchmark::find(&name);
            let custom = registry.is_none() && (b.path.is_some() || b.fields.is_some());
            if registry.is_none() && !custom {
                let known = Benchmark::ALL.map(Benchmark::name).join(", ");
                self.error(b.name.span(), format!("unknown benchmark `{name}`"))
                    .help = Some(format!(
                    "known benchmarks: {known}; for your own, give `path` (JSONL/Parquet) and `fields`"
                ));
                continue;
            }
            let path = b
                .path
                .as_ref()
                .map(|p| (self.resolve(p.get_ref()), p.span()));
            if let Some((p, span)) = &path
                && !p.exists()
            {
                self.error(span.clone(), format!("{} does not exist", p.display()));
                continue;
            }
            let images = b
                .images
                .as_ref()
                .map(|p| (self.resolve(p.get_ref()), p.span()));
            if let Some((p, span)) = &images
                && !p.is_dir()
            {
                self.error(
                    span.clone(),
                    format!("image folder {} does not exist", p.display()),
                );
                continue;
            }
            let options = LoadOptions {
                path: path.as_ref().map(|(p, _)| p.clone()),
                images: images.map(|(p, _)| p),
                multiple_choice: b.multiple_choice,
                version: b.version.clone(),
                start_date: b.start_date.clone(),
                end_date: b.end_date.clone(),
                hub: b.hub.then(Hub::from_env),
                ..LoadOptions::vendored()
            };
            let domain = match (&b.kind, registry) {
                (None, Some(r)) => r.info().domain,
                (None, None) => Domain::Math,
                (Some(k), _) => match k.get_ref().as_str() {
                    "math" => Domain::Math,
                    "code" if custom => {
                        self.error(
                            k.span(),
                            "user benchmarks of kind code cannot be graded: the code verifier \
                             runs the tests of HumanEval+, MBPP+ and LiveCodeBench only",
                        )
                        .help = Some(
                            "sample them here and grade with `boundary grade --kind code \
                             --input`, whose lines carry each problem's tests"
                                .into(),
                        );
                        continue;
                    }
                    "code" => Domain::Code,
                    "visual" => Domain::Visual,
                    other => {
                        self.error(
                            k.span(),
                            format!("`kind` must be math, code or visual, not {other:?}"),
                        );
                        continue;
                    }
                },
            };
            let (source, loaded) = match registry {
                Some(r) if !custom => (BenchmarkSource::Registry(r), r.load(&options)),
                _ => {
                    let Some((path, _)) = path.clone() else {
                        self.error(
                            b.name.span(),
                            format!("user benchmark `{name}` needs a `path`"),
                        );
                        continue;
                    };
                    let mapping = self.mapping(b.fields.as_ref());
                    let loaded = boundary_bench::loaders::custom::load(&path, &mapping);
                    (BenchmarkSource::Custom { path, mapping }, loaded)
                }
            };
            let mut problems = match loaded {
                Ok(p) => p,
                Err(e) => {
                    self.load_error(b, e);
                    continue;
                }
            };
            if let Some(limit) = b.limit {
                problems.truncate(limit);
            }
            if problems.is_empty() {
                self.error(
                    b.name.span(),
                    format!("benchmark `{name}` has no problems to sample"),
                );
                continue;
            }
            if domain != Domain::Code
                && let Some(p) = problems.iter().find(|p| p.gold.is_none())
            {
                self.error(
                    b.fields
                        .as_ref()
                        .map_or_else(|| b.name.span(), Spanned::span),
                    format!(
                        "problem `{}` of `{name}` has no gold answer, so its samples could not \
                         be graded",
                        p.id
                    ),
                )
                .help =
                    Some("map the field holding the answer: fields = { answer = \"...\" }".into());
                continue;
            }
            let template = match &b.template {
                Some(t) => {
                    if let Err(e) = templates.get(t.get_ref()) {
                        self.error(t.span(), e.to_string());
                        continue;
                    }
                    t.get_ref().clone()
                }
                None => registry
                    .map_or("qwen-boxed", |r| r.info().template)
                    .to_owned(),
            };
            let n = match &b.n {
                Some(n) if *n.get_ref() == 0 => {
                    self.error(n.span(), "n must be at least 1");
                    continue;
                }
                Some(n) => *n.get_ref(),
                None => registry.map_or(128, |r| r.info().paper_n),
            };
            specs.push(BenchmarkSpec {
                name: registry
                    .filter(|_| !custom)
                    .map_or(name, |r| r.name().to_owned()),
                domain,
                source,
                options,
                n,
                template,
                problems,
            });
        }
        specs
    }

    fn mapping(&self, fields: Option<&Spanned<RawFields>>) -> FieldMapping {
        let Some(f) = fields.map(Spanned::get_ref) else {
            return FieldMapping::default();
        };
        let get = |s: &Option<Spanned<String>>| s.as_ref().map(|v| v.get_ref().clone());
        FieldMapping {
            id: get(&f.id),
            question: get(&f.question).unwrap_or_else(|| "question".into()),
            answer: get(&f.answer),
            image: get(&f.image),
        }
    }

    /// A loading error, pointed at the mapping entry it comes from when it is one.
    fn load_error(&mut self, b: &RawBenchmark, e: boundary_bench::BenchError) {
        if let boundary_bench::BenchError::MappedField {
            key,
            field,
            path,
            line,
            available,
        } = &e
        {
            let fields = b.fields.as_ref().map(Spanned::get_ref);
            let span = fields
                .and_then(|f| match *key {
                    "id" => f.id.as_ref(),
                    "question" => f.question.as_ref(),
                    "answer" => f.answer.as_ref(),
                    "image" => f.image.as_ref(),
                    _ => None,
                })
                .map(Spanned::span)
                .or_else(|| b.fields.as_ref().map(Spanned::span))
                .unwrap_or_else(|| b.name.span());
            self.error(
                span,
                format!(
                    "field mapping: `{key}` names field `{field}`, which {}:{line} does not have",
                    path.display()
                ),
            )
            .help = Some(format!("the records have: {available}"));
            return;
        }
        let span = b.path.as_ref().map_or_else(|| b.name.span(), Spanned::span);
        self.error(span, e.to_string());
    }

    fn analysis(
        &mut self,
        raw: &RawAnalysis,
        models: &[ModelSpec],
        benchmarks: &[BenchmarkSpec],
    ) -> AnalysisSettings {
        let ks = raw.k.as_ref().map(|k| {
            let values = k.get_ref().clone();
            if values.is_empty() || values.contains(&0) {
                self.error(
                    k.span(),
                    "k values must be positive, for example [1, 2, 4, 8]",
                );
            }
            let max_k = values.iter().copied().max().unwrap_or(0);
            for b in benchmarks.iter().filter(|b| u64::from(b.n) < max_k) {
                self.error(
                    k.span(),
                    format!(
                        "k = {max_k} is larger than n = {} of benchmark `{}`",
                        b.n, b.name
                    ),
                )
                .help = Some(
                    "pass@k needs at least k samples per problem: raise that benchmark's `n` or \
                     lower k"
                        .into(),
                );
            }
            values
        });
        let confidence = raw
            .confidence
            .unwrap_or(boundary_core::Bootstrap::DEFAULT_CONFIDENCE);
        let bootstrap = raw
            .bootstrap
            .unwrap_or(boundary_core::Bootstrap::DEFAULT_RESAMPLES);
        if let Err(e) = boundary_core::Bootstrap::new(bootstrap, confidence, 0) {
            self.diagnostics
                .push(Diagnostic::file(format!("[analysis]: {e}")));
        }
        let reference = raw.reference.as_ref().map(|r| {
            if !models.iter().any(|m| &m.name == r.get_ref()) {
                let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
                self.error(
                    r.span(),
                    format!("reference `{}` is not one of the models", r.get_ref()),
                )
                .help = Some(format!("models: {}", names.join(", ")));
            }
            r.get_ref().clone()
        });
        AnalysisSettings {
            ks,
            bootstrap,
            confidence,
            reference,
            bins: raw.bins.unwrap_or(10).max(1),
            verifier: raw.verifier.clone(),
        }
    }

    fn grading(&mut self, raw: &RawGrading) -> GradingSettings {
        let math = match &raw.math {
            None => MathMode::Default,
            Some(m) => MathMode::from_str(m.get_ref(), true).unwrap_or_else(|_| {
                self.error(m.span(), format!("unknown math grading `{}`", m.get_ref()))
                    .help = Some(
                    "\"default\" (exact equivalence), \"boxed-only\" (only a \\boxed{} answer \
                     counts) or \"paper\" (the paper's Qwen2.5-Math grader)"
                        .into(),
                );
                MathMode::Default
            }),
        };
        GradingSettings {
            math,
            python: raw.python.clone().unwrap_or_else(|| "python3".into()),
            workers: raw.workers,
            allow_unsafe_sandbox: raw.allow_unsafe_sandbox,
        }
    }

    fn perplexity(
        &mut self,
        raw: &RawPerplexity,
        models: &[ModelSpec],
        benchmarks: &[BenchmarkSpec],
    ) -> Option<PerplexitySpec> {
        let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
        let mut ok = true;
        for m in std::iter::once(&raw.scorer).chain(raw.responses_of.iter().flatten()) {
            if !names.contains(&m.get_ref().as_str()) {
                self.error(
                    m.span(),
                    format!("`{}` is not one of the models", m.get_ref()),
                )
                .help = Some(format!("models: {}", names.join(", ")));
                ok = false;
            }
        }
        for b in raw.benchmarks.iter().flatten() {
            if !benchmarks.iter().any(|s| &s.name == b.get_ref()) {
                self.error(
                    b.span(),
                    format!("`{}` is not one of the benchmarks", b.get_ref()),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        let spec = PerplexitySpec {
            scorer: raw.scorer.get_ref().clone(),
            responses_of: raw.responses_of.as_ref().map_or_else(
                || models.iter().map(|m| m.name.clone()).collect(),
                |r| r.iter().map(|m| m.get_ref().clone()).collect(),
            ),
            benchmarks: raw.benchmarks.as_ref().map_or_else(
                || benchmarks.iter().map(|b| b.name.clone()).collect(),
                |r| r.iter().map(|b| b.get_ref().clone()).collect(),
            ),
            problems: raw.problems,
            samples: raw.samples,
            weights: self.scoring_weights(raw),
        };
        self.scorable(raw, &spec, models, benchmarks);
        Some(spec)
    }

    /// `weights` [default: auto]; `scorable` refuses it for a scorer on servers.
    fn scoring_weights(&mut self, raw: &RawPerplexity) -> ScoringWeights {
        let Some(weights) = &raw.weights else {
            return ScoringWeights::default();
        };
        ScoringWeights::from_str(weights.get_ref(), true).unwrap_or_else(|_| {
            self.error(
                weights.span(),
                format!("unknown weights `{}`", weights.get_ref()),
            )
            .help = Some(
                "\"auto\" (f32 where measured faster), \"stored\" (the file's own) or \"f32\""
                    .into(),
            );
            ScoringWeights::default()
        })
    }

    /// What the scorer cannot score or honour, found before anything is sampled: `weights`
    /// for a scorer on servers (they compute with their own), prompts with images (the
    /// scorer reads text), and chat prompts on servers (their completions endpoint takes
    /// one text, and their chat template is not known here).
    fn scorable(
        &mut self,
        raw: &RawPerplexity,
        spec: &PerplexitySpec,
        models: &[ModelSpec],
        benchmarks: &[BenchmarkSpec],
    ) {
        let on_servers = models
            .iter()
            .any(|m| m.name == spec.scorer && matches!(m.backend, Backend::Server(_)));
        if let Some(weights) = raw.weights.as_ref().filter(|_| on_servers) {
            self.error(
                weights.span(),
                format!(
                    "`weights` applies to a scorer run here from its `path`; the scorer `{}` \
                     runs on servers, which compute with their own weights",
                    spec.scorer
                ),
            )
            .help = Some("remove `weights`".into());
        }
        for b in benchmarks
            .iter()
            .filter(|b| b.domain == Domain::Visual && spec.benchmarks.contains(&b.name))
        {
            let span = raw
                .benchmarks
                .iter()
                .flatten()
                .find(|s| s.get_ref() == &b.name)
                .map_or_else(|| raw.scorer.span(), Spanned::span);
            self.error(
                span,
                format!(
                    "perplexity cannot be computed on `{}`: its prompts carry images, and the \
                     scorer reads text",
                    b.name
                ),
            )
            .help = Some("list the text benchmarks in `benchmarks = [...]`".into());
        }
        let chat: Vec<&str> = models
            .iter()
            .filter(|m| m.prompt == PromptMode::Chat && spec.responses_of.contains(&m.name))
            .map(|m| m.name.as_str())
            .collect();
        if on_servers && !chat.is_empty() {
            self.error(
                raw.scorer.span(),
                format!(
                    "the scorer `{}` runs on servers, which score one text through their \
                     completions endpoint, but the responses of {} are sampled with chat \
                     prompts",
                    spec.scorer,
                    chat.iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .help = Some(
                "give the scorer a `path` to its GGUF file (the embedded scorer renders chat \
                 messages with its own chat template), or sample with prompt = \"raw\""
                    .into(),
            );
        }
    }

    /// Renders the first problem of every (model, benchmark) pair, so that a template
    /// that cannot render (a misspelt variable, images for a raw-prompt model) stops the
    /// run before anything is sampled.
    fn render_check(
        &mut self,
        models: &[ModelSpec],
        benchmarks: &[BenchmarkSpec],
        templates: &Templates,
        raw: &RawConfig,
    ) {
        for m in models {
            for b in benchmarks {
                let template = m.template.as_deref().unwrap_or(&b.template);
                let Some(problem) = b.problems.first() else {
                    continue;
                };
                if let Err(e) = templates.render(template, problem, m.prompt) {
                    let span = raw
                        .models
                        .iter()
                        .find(|r| r.name.get_ref().trim() == m.name)
                        .map(|r| {
                            r.prompt
                                .as_ref()
                                .map_or_else(|| r.name.span(), Spanned::span)
                        })
                        .unwrap_or(0..0);
                    self.error(span, format!("model `{}` on `{}`: {e}", m.name, b.name));
                }
            }
        }
    }
}
