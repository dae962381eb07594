//! Prompt templates: how a problem becomes what is sent to a model.
//!
//! A template has a `system` and a `user` part and an optional assistant `prefix` (the
//! paper pre-fills code answers with an opening code fence), each a minijinja template
//! over the problem: `question`, `id`, every field of the record (`starter_code`,
//! `subject`, ...), and `images` (their count). It renders two ways:
//!
//! - **raw** ([`PromptMode::Raw`]): one text for a completion endpoint. The paper sends
//!   base *and* RL models the literal ChatML text (no tokenizer chat template), which is
//!   the [`RawFormat::ChatMl`] layout; `plain` templates are their own text.
//! - **chat** ([`PromptMode::Chat`]): messages for a chat endpoint, where the model's own
//!   chat template applies; images become OpenAI `image_url` content parts, and a prefix
//!   becomes a final assistant message to continue.
//!
//! The paper's templates are built in ([`builtin`]); users add their own in the
//! experiment file. The gold answer is never visible to a template.

use std::collections::BTreeMap;

use base64::Engine;
use boundary_sample::{ChatMessage, PromptInput};
use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use thiserror::Error;

use crate::problem::{Image, Problem};

/// How a template's parts are laid out as one text for a completion endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RawFormat {
    /// `<|im_start|>system…<|im_end|>` turns, then an open assistant turn with the prefix:
    /// the literal text the paper sends to Qwen base and RL models alike.
    #[serde(rename = "chatml")]
    ChatMl,
    /// The system part (when any), a blank line, the user part, then the prefix.
    Plain,
}

/// Whether a model is sent one text (completion) or chat messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptMode {
    Raw,
    Chat,
}

/// A named prompt template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptTemplate {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub system: Option<String>,
    pub user: String,
    /// Text the assistant's answer starts with (pre-filled, not generated). Graders
    /// see prefix + response.
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default = "default_raw")]
    pub raw: RawFormat,
    /// Stop strings that go with the raw form (the end-of-turn tokens of its layout).
    #[serde(default)]
    pub stop: Vec<String>,
}

fn default_raw() -> RawFormat {
    RawFormat::ChatMl
}

/// What a rendered template gives a backend.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedPrompt {
    pub input: PromptInput,
    /// The pre-filled start of the answer, to prepend to the response before grading.
    pub prefix: Option<String>,
}

/// A template that does not compile or render. `part` is `system`, `user` or `prefix`.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TemplateError {
    #[error("template `{template}` ({part} part) does not compile: {message}")]
    Syntax {
        template: String,
        part: &'static str,
        message: String,
    },
    #[error("template `{template}` ({part} part) cannot render problem `{problem}`: {message}")]
    Render {
        template: String,
        part: &'static str,
        problem: String,
        message: String,
    },
    #[error(
        "template `{template}` in raw mode cannot show the images of problem `{problem}`: \
         visual benchmarks need `prompt = \"chat\"` (an OpenAI-compatible VLM server)"
    )]
    ImagesNeedChat { template: String, problem: String },
    #[error("cannot read image {path} of problem `{problem}`: {message}")]
    Image {
        problem: String,
        path: String,
        message: String,
    },
    #[error("unknown template `{name}`; templates: {known}")]
    Unknown { name: String, known: String },
}

const CHATML_STOP: &[&str] = &["<|im_end|>", "<|endoftext|>"];
const BOXED: &str = "Please reason step by step, and put your final answer within \\boxed{}.";

/// The paper's templates (Yue et al. 2025, App. E and the released evaluation code),
/// plus a plain `boxed` instruction for models without ChatML.
pub fn builtin() -> Vec<PromptTemplate> {
    let chatml_stop = || CHATML_STOP.iter().map(|s| s.to_string()).collect();
    vec![
        PromptTemplate {
            name: "qwen-boxed".into(),
            description: "The paper's math prompt (SimpleRL-Zoo, Oat-Zero and their bases): \
                          ChatML, the question, then the step-by-step/\\boxed{} instruction"
                .into(),
            system: Some("You are a helpful assistant.".into()),
            user: format!("{{{{ question }}}}\n{BOXED}"),
            prefix: None,
            raw: RawFormat::ChatMl,
            stop: chatml_stop(),
        },
        PromptTemplate {
            name: "qwen-math-cot".into(),
            description: "Oat-Zero's prompt (paper Fig. 22): the instruction as the system \
                          turn, the bare question as the user turn"
                .into(),
            system: Some(BOXED.into()),
            user: "{{ question }}".into(),
            prefix: None,
            raw: RawFormat::ChatMl,
            stop: chatml_stop(),
        },
        PromptTemplate {
            name: "dapo".into(),
            description: "DAPO's instruction: reason, then a last line `Answer: …` \
                          (graded from that line; `Answer:` is not a stop string)"
                .into(),
            system: None,
            user: "Solve the following math problem step by step. The last line of your \
                   response should be of the form Answer: $Answer (without quotes) where \
                   $Answer is the answer to the problem.\n\n{{ question }}\n\nRemember to put \
                   your answer on its own line after \"Answer:\"."
                .into(),
            prefix: None,
            raw: RawFormat::ChatMl,
            stop: chatml_stop(),
        },
        PromptTemplate {
            name: "r1-zero".into(),
            description: "The DeepSeek-R1-Zero prompt the paper's VeRL study trains and tests \
                          with (Fig. 27): <think> reasoning, then <answer>"
                .into(),
            system: None,
            user: "A conversation between User and Assistant. The User asks a question, and \
                   the Assistant solves it. The Assistant first thinks about the reasoning \
                   process in the mind and then provides the User with the answer. The \
                   reasoning process is enclosed within <think> </think> and answer is \
                   enclosed within <answer> </answer> tags, respectively, i.e., <think> \
                   reasoning process here </think> <answer> answer here </answer>. User: \
                   {{ question }}. Assistant:"
                .into(),
            prefix: None,
            raw: RawFormat::Plain,
            stop: Vec::new(),
        },
        PromptTemplate {
            name: "boxed".into(),
            description: "The question and the \\boxed{} instruction, no ChatML: for chat \
                          models behind their own chat template, or plain base models"
                .into(),
            system: None,
            user: format!("{{{{ question }}}}\n{BOXED}"),
            prefix: None,
            raw: RawFormat::Plain,
            stop: Vec::new(),
        },
        PromptTemplate {
            name: "evalplus".into(),
            description: "HumanEval+/MBPP+ (paper Fig. 25, evalplus's instruct prompt): a \
                          self-contained script in a code block, answer pre-filled with an \
                          opening fence"
                .into(),
            system: None,
            user: "Please provide a self-contained Python script that solves the following \
                   problem in a markdown code block:\n```\n{{ question | trim }}\n```"
                .into(),
            prefix: Some(
                "Below is a Python script with a self-contained function that solves the \
                 problem and passes corresponding tests:\n```python\n"
                    .into(),
            ),
            raw: RawFormat::ChatMl,
            stop: chatml_stop(),
        },
        PromptTemplate {
            name: "livecodebench".into(),
            description: "LiveCodeBench's code-generation prompt (paper Fig. 24): starter \
                          code or stdin/stdout format, answer pre-filled with an opening fence"
                .into(),
            system: Some("You are a helpful assistant.".into()),
            user: LIVECODEBENCH_USER.into(),
            prefix: Some("```python\n".into()),
            raw: RawFormat::ChatMl,
            stop: chatml_stop(),
        },
        PromptTemplate {
            name: "easyr1".into(),
            description: "EasyR1's visual-reasoning prompt (paper Fig. 26): think inside \
                          <think></think>, final answer in \\boxed{}; images as content parts"
                .into(),
            system: Some(
                "You are Qwen, created by Alibaba Cloud. You are a helpful assistant. You \
                 FIRST think about the reasoning process as an internal monologue and then \
                 provide the final answer. The reasoning process MUST BE enclosed within \
                 <think> </think> tags. The final answer MUST BE put in \\boxed{}."
                    .into(),
            ),
            user: "{{ question }}{% if unit is defined and unit %} (Give the answer in {{ unit }}.){% endif %}"
                .into(),
            prefix: None,
            raw: RawFormat::ChatMl,
            stop: chatml_stop(),
        },
    ]
}

const LIVECODEBENCH_USER: &str = "You will be given a question (problem specification) and will \
generate a correct Python program that matches the specification and passes all tests. You will \
NOT return anything except for the program.\n\nQuestion: {{ question }}\n\n\
{% if starter_code is defined and starter_code %}### Format: You will use the following starter code to write the solution \
to the problem and enclose your code within delimiters.\n```python\n{{ starter_code }}\n```\
{% else %}### Format: Read the inputs from stdin solve the problem and write the answer to stdout \
(do not directly test on the sample inputs). Enclose your code within delimiters as follows. \
Ensure that when the python program runs, it reads the inputs, runs the algorithm and writes \
output to STDOUT.\n```python\n# YOUR CODE HERE\n```{% endif %}\n\n\
### Answer: (use the provided format with backticks)\n\n";

/// A set of templates by name: the built-in ones plus the user's, compiled once.
pub struct Templates {
    env: Environment<'static>,
    templates: BTreeMap<String, PromptTemplate>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new(builtin()).expect("built-in templates compile")
    }
}

impl Templates {
    /// Compiles `templates`; a later template with the same name replaces an earlier one.
    pub fn new(templates: Vec<PromptTemplate>) -> Result<Self, TemplateError> {
        let mut set = Self {
            env: environment(),
            templates: BTreeMap::new(),
        };
        for t in templates {
            set.add(t)?;
        }
        Ok(set)
    }

    /// Adds (or replaces) a template, checking that every part compiles.
    pub fn add(&mut self, template: PromptTemplate) -> Result<(), TemplateError> {
        for (part, source) in parts(&template) {
            self.env
                .add_template_owned(key(&template.name, part), source.to_owned())
                .map_err(|e| TemplateError::Syntax {
                    template: template.name.clone(),
                    part,
                    message: describe(&e),
                })?;
        }
        self.templates.insert(template.name.clone(), template);
        Ok(())
    }

    pub fn get(&self, name: &str) -> Result<&PromptTemplate, TemplateError> {
        self.templates
            .get(name)
            .ok_or_else(|| TemplateError::Unknown {
                name: name.to_owned(),
                known: self.names().join(", "),
            })
    }

    pub fn names(&self) -> Vec<&str> {
        self.templates.keys().map(String::as_str).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &PromptTemplate> {
        self.templates.values()
    }

    /// Renders `problem` with template `name` for a model sent `mode` prompts.
    pub fn render(
        &self,
        name: &str,
        problem: &Problem,
        mode: PromptMode,
    ) -> Result<RenderedPrompt, TemplateError> {
        let template = self.get(name)?;
        if mode == PromptMode::Raw && !problem.images.is_empty() {
            return Err(TemplateError::ImagesNeedChat {
                template: name.to_owned(),
                problem: problem.id.clone(),
            });
        }
        let context = context(problem);
        let render = |part: &'static str| -> Result<String, TemplateError> {
            let t = self
                .env
                .get_template(&key(name, part))
                .expect("every part of a known template was added");
            t.render(&context).map_err(|e| TemplateError::Render {
                template: name.to_owned(),
                part,
                problem: problem.id.clone(),
                message: describe(&e),
            })
        };
        let system = template
            .system
            .as_ref()
            .map(|_| render("system"))
            .transpose()?;
        let user = render("user")?;
        let prefix = template
            .prefix
            .as_ref()
            .map(|_| render("prefix"))
            .transpose()?
            .filter(|p| !p.is_empty());

        let input = match mode {
            PromptMode::Raw => PromptInput::Text(raw_text(
                &template.raw,
                system.as_deref(),
                &user,
                prefix.as_deref(),
            )),
            PromptMode::Chat => {
                let mut messages = Vec::new();
                if let Some(system) = system {
                    messages.push(ChatMessage {
                        role: "system".into(),
                        content: Value::String(system),
                    });
                }
                messages.push(ChatMessage {
                    role: "user".into(),
                    content: user_content(problem, user)?,
                });
                if let Some(prefix) = &prefix {
                    messages.push(ChatMessage {
                        role: "assistant".into(),
                        content: Value::String(prefix.clone()),
                    });
                }
                PromptInput::Chat(messages)
            }
        };
        Ok(RenderedPrompt { input, prefix })
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // A misspelt variable is an error before sampling, never an empty string in a prompt.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env
}

fn parts(t: &PromptTemplate) -> Vec<(&'static str, &str)> {
    let mut parts = vec![("user", t.user.as_str())];
    if let Some(s) = &t.system {
        parts.push(("system", s));
    }
    if let Some(p) = &t.prefix {
        parts.push(("prefix", p));
    }
    parts
}

fn key(name: &str, part: &str) -> String {
    format!("{name}\u{0}{part}")
}

/// minijinja's message with the line it points at, without its internal template name.
fn describe(e: &minijinja::Error) -> String {
    let mut message = e
        .detail()
        .map_or_else(|| e.kind().to_string(), str::to_owned);
    if let Some(line) = e.line() {
        message.push_str(&format!(" (line {line})"));
    }
    message
}

/// The variables a template sees: the record's fields, then `id`, `question` and the
/// number of `images` (which win over fields of the same name). Never the gold answer.
fn context(problem: &Problem) -> Value {
    let mut map: Map<String, Value> = problem.fields.clone();
    map.insert("id".into(), Value::String(problem.id.clone()));
    map.insert("question".into(), Value::String(problem.question.clone()));
    map.insert("images".into(), json!(problem.images.len()));
    Value::Object(map)
}

fn raw_text(format: &RawFormat, system: Option<&str>, user: &str, prefix: Option<&str>) -> String {
    let prefix = prefix.unwrap_or("");
    match format {
        RawFormat::ChatMl => {
            let mut text = String::new();
            if let Some(system) = system {
                text.push_str(&format!("<|im_start|>system\n{system}<|im_end|>\n"));
            }
            text.push_str(&format!(
                "<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n{prefix}"
            ));
            text
        }
        RawFormat::Plain => match system {
            Some(system) => format!("{system}\n\n{user}{prefix}"),
            None => format!("{user}{prefix}"),
        },
    }
}

/// The user turn: plain text, or the images as `image_url` data URLs followed by the text.
fn user_content(problem: &Problem, text: String) -> Result<Value, TemplateError> {
    if problem.images.is_empty() {
        return Ok(Value::String(text));
    }
    let mut parts = Vec::new();
    for image in &problem.images {
        parts.push(json!({"type": "image_url", "image_url": {"url": data_url(problem, image)?}}));
    }
    parts.push(json!({"type": "text", "text": text}));
    Ok(Value::Array(parts))
}

fn data_url(problem: &Problem, image: &Image) -> Result<String, TemplateError> {
    let (bytes, mime) = match image {
        Image::Bytes { bytes, mime } => (std::borrow::Cow::Borrowed(bytes.as_slice()), *mime),
        Image::File { path } => {
            let bytes = std::fs::read(path).map_err(|e| TemplateError::Image {
                problem: problem.id.clone(),
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            let mime = Image::mime_from_bytes(&bytes);
            (std::borrow::Cow::Owned(bytes), mime)
        }
    };
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem() -> Problem {
        Problem::new("7", "What is 1+1?", Some("2".into()))
    }

    fn text(input: &PromptInput) -> &str {
        match input {
            PromptInput::Text(t) => t,
            PromptInput::Chat(_) => panic!("expected text"),
        }
    }

    #[test]
    fn qwen_boxed_raw_is_the_papers_literal_chatml() {
        let t = Templates::default();
        let r = t.render("qwen-boxed", &problem(), PromptMode::Raw).unwrap();
        assert_eq!(
            text(&r.input),
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n\
             What is 1+1?\nPlease reason step by step, and put your final answer within \
             \\boxed{}.<|im_end|>\n<|im_start|>assistant\n"
        );
        assert_eq!(r.prefix, None);
    }

    #[test]
    fn chat_mode_gives_messages_and_a_prefix_turn() {
        let t = Templates::default();
        let p = Problem::new("HumanEval/0", "def f():\n    \"\"\"doc\"\"\"\n", None);
        let r = t.render("evalplus", &p, PromptMode::Chat).unwrap();
        let PromptInput::Chat(messages) = &r.input else {
            panic!("expected chat")
        };
        let roles: Vec<&str> = messages.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["user", "assistant"]);
        assert!(r.prefix.as_deref().unwrap().ends_with("```python\n"));
        assert_eq!(
            messages[1].content,
            Value::String(r.prefix.clone().unwrap())
        );
    }

    #[test]
    fn gold_is_not_visible_and_unknown_variables_fail() {
        let mut t = Templates::default();
        t.add(PromptTemplate {
            name: "leak".into(),
            description: String::new(),
            system: None,
            user: "{{ question }} {{ gold }}".into(),
            prefix: None,
            raw: RawFormat::Plain,
            stop: vec![],
        })
        .unwrap();
        let err = t.render("leak", &problem(), PromptMode::Raw).unwrap_err();
        assert_eq!(
            err.to_string(),
            "template `leak` (user part) cannot render problem `7`: undefined value (line 1)"
        );
    }

    #[test]
    fn syntax_errors_name_template_and_part() {
        let mut t = Templates::default();
        let err = t
            .add(PromptTemplate {
                name: "broken".into(),
                description: String::new(),
                system: Some("{% if %}".into()),
                user: "{{ question }}".into(),
                prefix: None,
                raw: RawFormat::Plain,
                stop: vec![],
            })
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("template `broken` (system part) does not compile:"),
            "{err}"
        );
    }

    #[test]
    fn images_need_chat_mode_and_become_data_urls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1.png");
        std::fs::write(&path, [0x89, b'P', b'N', b'G', 1, 2, 3]).unwrap();
        let mut p = problem();
        p.images.push(Image::File { path });
        let t = Templates::default();
        assert!(matches!(
            t.render("easyr1", &p, PromptMode::Raw),
            Err(TemplateError::ImagesNeedChat { .. })
        ));
        let r = t.render("easyr1", &p, PromptMode::Chat).unwrap();
        let PromptInput::Chat(messages) = r.input else {
            panic!()
        };
        let parts = messages[1].content.as_array().unwrap();
        assert_eq!(parts[0]["type"], "image_url");
        assert!(
            parts[0]["image_url"]["url"]
                .as_str()
                .unwrap()
                .starts_with("data:image/png;base64,iVBORw")
        );
        assert_eq!(parts[1]["text"], "What is 1+1?");
    }

    #[test]
    fn livecodebench_switches_on_starter_code() {
        let t = Templates::default();
        let stdin = Problem::new("abc1", "Read N.", None).with_field("starter_code", json!(""));
        let with_starter = Problem::new("lc1", "Two sum.", None)
            .with_field("starter_code", json!("class Solution:\n    def f(self):\n"));
        let a = t.render("livecodebench", &stdin, PromptMode::Raw).unwrap();
        let b = t
            .render("livecodebench", &with_starter, PromptMode::Raw)
            .unwrap();
        assert!(text(&a.input).contains("# YOUR CODE HERE"));
        assert!(text(&b.input).contains("class Solution:"));
        assert!(text(&b.input).ends_with("<|im_start|>assistant\n```python\n"));
    }
}
