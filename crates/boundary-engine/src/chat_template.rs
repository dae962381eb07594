//! Chat templates: the model's own Jinja template (GGUF `tokenizer.chat_template` or
//! `tokenizer_config.json`) rendered with `minijinja` the way Hugging Face `transformers` renders
//! it: `trim_blocks` and `lstrip_blocks` on, Python string and dict methods, `raise_exception`,
//! and a `tojson` that writes what Python's `json.dumps` writes.
//!
//! `strftime_now` is deliberately not provided: templates that use it (Llama 3.x) then fall back
//! to their fixed date, so the same prompt renders the same tokens every day and a resumed run
//! continues with the prompt it started with.

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, Error, ErrorKind, Value};
use serde_json::Value as Json;

const TEMPLATE_NAME: &str = "chat_template";

/// What can go wrong compiling or rendering a chat template.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("the model's chat template does not compile: {0}")]
    Syntax(String),
    #[error("rendering the chat template failed: {0}")]
    Render(String),
    #[error("the chat template rejected the messages: {0}")]
    Raised(String),
}

/// Extra inputs to a rendering.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// End the prompt with the assistant header so the model answers (`add_generation_prompt`).
    pub add_generation_prompt: bool,
    /// Further template variables (for example `enable_thinking` for Qwen3), as vLLM's
    /// `chat_template_kwargs`.
    pub extra: serde_json::Map<String, Json>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            add_generation_prompt: true,
            extra: serde_json::Map::new(),
        }
    }
}

/// A compiled chat template with the model's BOS and EOS texts.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("bos_token", &self.bos_token)
            .field("eos_token", &self.eos_token)
            .finish_non_exhaustive()
    }
}

impl ChatTemplate {
    /// Compiles `source`. `bos_token`/`eos_token` are the texts templates see under those names.
    pub fn new(source: &str, bos_token: &str, eos_token: &str) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        let syntax = SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| TemplateError::Syntax(e.to_string()))?;
        env.set_syntax(syntax);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", raise_exception);
        env.add_filter("tojson", tojson);
        env.add_template_owned(TEMPLATE_NAME, source.to_owned())
            .map_err(|e| TemplateError::Syntax(describe(&e)))?;
        Ok(Self {
            env,
            bos_token: bos_token.to_owned(),
            eos_token: eos_token.to_owned(),
        })
    }

    /// Renders `messages` (objects with at least `role` and `content`).
    pub fn render(
        &self,
        messages: &[Json],
        options: &RenderOptions,
    ) -> Result<String, TemplateError> {
        let template = self
            .env
            .get_template(TEMPLATE_NAME)
            .map_err(|e| TemplateError::Syntax(describe(&e)))?;
        let mut context = options.extra.clone();
        context.insert("messages".into(), Json::Array(messages.to_vec()));
        context.insert(
            "add_generation_prompt".into(),
            options.add_generation_prompt.into(),
        );
        context.insert("bos_token".into(), self.bos_token.clone().into());
        context.insert("eos_token".into(), self.eos_token.clone().into());
        template
            .render(Value::from(minijinja::value::Serde(&context)))
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidOperation
                    if e.detail().is_some_and(|d| d.starts_with(RAISED)) =>
                {
                    TemplateError::Raised(
                        e.detail()
                            .unwrap_or_default()
                            .trim_start_matches(RAISED)
                            .to_owned(),
                    )
                }
                _ => TemplateError::Render(describe(&e)),
            })
    }
}

const RAISED: &str = "raise_exception: ";

fn raise_exception(message: String) -> Result<Value, Error> {
    Err(Error::new(
        ErrorKind::InvalidOperation,
        format!("{RAISED}{message}"),
    ))
}

/// The error with its template line, when minijinja knows it.
fn describe(e: &Error) -> String {
    match e.line() {
        Some(line) => format!("{e} (template line {line})"),
        None => e.to_string(),
    }
}

/// `tojson` as `transformers` defines it: `json.dumps(value, ensure_ascii=False, indent=indent)`.
fn tojson(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    kwargs.assert_all_used()?;
    let mut out = String::new();
    write_python_json(&value, indent, 0, &mut out)?;
    Ok(Value::from_safe_string(out))
}

/// Writes JSON with Python's `json.dumps` spacing: `", "` and `": "` without indent, one item
/// per line with indent; non-ASCII characters as they are; maps in their own order.
fn write_python_json(
    value: &Value,
    indent: Option<usize>,
    depth: usize,
    out: &mut String,
) -> Result<(), Error> {
    let newline = |out: &mut String, depth: usize| {
        if let Some(width) = indent {
            out.push('\n');
            out.push_str(&" ".repeat(width * depth));
        }
    };
    let item_separator = if indent.is_some() { "," } else { ", " };
    let (open, close, is_map) = match value.kind() {
        ValueKind::Seq | ValueKind::Iterable => ('[', ']', false),
        ValueKind::Map => ('{', '}', true),
        ValueKind::Undefined | ValueKind::None => {
            out.push_str("null");
            return Ok(());
        }
        ValueKind::String => {
            out.push_str(&Json::String(value.to_string()).to_string());
            return Ok(());
        }
        _ => {
            let json = serde_json::to_value(value)
                .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("tojson: {e}")))?;
            out.push_str(&json.to_string());
            return Ok(());
        }
    };
    out.push(open);
    let mut empty = true;
    for (i, item) in value.try_iter()?.enumerate() {
        empty = false;
        if i > 0 {
            out.push_str(item_separator);
        }
        newline(out, depth + 1);
        if is_map {
            out.push_str(&Json::String(item.to_string()).to_string());
            out.push_str(": ");
            write_python_json(&value.get_item(&item)?, indent, depth + 1, out)?;
        } else {
            write_python_json(&item, indent, depth + 1, out)?;
        }
    }
    if !empty {
        newline(out, depth);
    }
    out.push(close);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CHATML: &str = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    #[test]
    fn renders_chatml() {
        let template = ChatTemplate::new(CHATML, "<|im_start|>", "<|im_end|>").unwrap();
        let messages = [json!({"role": "user", "content": "What is 2+2?"})];
        let text = template
            .render(&messages, &RenderOptions::default())
            .unwrap();
        assert_eq!(
            text,
            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
        );
        let without = RenderOptions {
            add_generation_prompt: false,
            ..RenderOptions::default()
        };
        assert_eq!(
            template.render(&messages, &without).unwrap(),
            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
        );
    }

    #[test]
    fn python_methods_blocks_and_exceptions() {
        let source = "{% if messages[0].role != 'user' %}{{ raise_exception('first must be user') }}{% endif %}\n{% for m in messages %}\n  [{{ m.content.strip().upper() }}]\n{% endfor %}{{ eos_token }}";
        let template = ChatTemplate::new(source, "<s>", "</s>").unwrap();
        let ok = template
            .render(
                &[json!({"role": "user", "content": "  hi "})],
                &RenderOptions::default(),
            )
            .unwrap();
        // trim_blocks drops the newline after a block tag, lstrip_blocks the indent before one.
        assert_eq!(ok, "  [HI]\n</s>");
        let err = template
            .render(
                &[json!({"role": "system", "content": "x"})],
                &RenderOptions::default(),
            )
            .unwrap_err();
        assert!(
            matches!(&err, TemplateError::Raised(m) if m == "first must be user"),
            "{err}"
        );
    }

    #[test]
    fn tojson_matches_python() {
        let source = "{% set tools = [{'name': 'é', 'args': [1, 2.5, none, true]}] %}{{ tools | tojson }}|{{ tools | tojson(indent=2) }}|{{ [] | tojson }}";
        let template = ChatTemplate::new(source, "", "").unwrap();
        let text = template.render(&[], &RenderOptions::default()).unwrap();
        assert_eq!(
            text,
            "[{\"name\": \"é\", \"args\": [1, 2.5, null, true]}]|[\n  {\n    \"name\": \"é\",\n    \"args\": [\n      1,\n      2.5,\n      null,\n      true\n    ]\n  }\n]|[]"
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let err = ChatTemplate::new("line one\n{% if %}", "", "").unwrap_err();
        assert!(
            matches!(&err, TemplateError::Syntax(m) if m.contains("line 2")),
            "{err}"
        );
    }
}
