//! Prompt files: `{"id": ..., "prompt": "..."}` for raw completion (base models) or
//! `{"id": ..., "messages": [...]}` for chat models, one per line.

use std::collections::HashSet;
use std::io::BufRead;

use boundary_store::{ErrorList, Fields, InputError, InputErrors, canonical_json, read_objects};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What is sent to the model for one problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PromptInput {
    /// Raw text for a completion endpoint: the paper samples base models this way,
    /// with no chat template.
    Text(String),
    /// Chat messages, rendered by the model's chat template.
    Chat(Vec<ChatMessage>),
}

impl PromptInput {
    /// The form stored with each run: the text itself, or the messages as canonical JSON.
    pub fn stored_form(&self) -> String {
        match self {
            PromptInput::Text(text) => text.clone(),
            PromptInput::Chat(messages) => {
                canonical_json(&serde_json::to_value(messages).expect("messages serialise to JSON"))
            }
        }
    }

    /// Reads back a [`stored_form`](Self::stored_form): a JSON array of chat messages
    /// (canonical or not: imported stores write their own JSON) is a chat prompt; any
    /// other text is a raw prompt.
    pub fn from_stored(stored: &str) -> Self {
        if stored.trim_start().starts_with('[')
            && let Ok(value) = serde_json::from_str::<Value>(stored)
            && let Ok(messages) = parse_messages(&value)
        {
            return PromptInput::Chat(messages);
        }
        PromptInput::Text(stored.to_owned())
    }
}

/// One chat message. `content` is a string, or an array of OpenAI content parts
/// (text and images) for vision-language models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: Value,
}

/// One line of a prompt file.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptRecord {
    pub id: String,
    pub input: PromptInput,
    /// The gold answer, when the file carries one (`gold` or `answer`): stored with
    /// the problem so that `boundary grade --store` can grade later.
    pub gold: Option<String>,
    /// Anything else the line carries (tests for code problems, subject, level...).
    pub metadata: Option<Value>,
}

const REQUIRED: &str = "each line needs `id` and either `prompt` (text) or `messages` (chat)";

/// Reads a prompt file, reporting every bad line with its number.
pub fn read_prompts<R: BufRead>(
    reader: R,
    source_name: &str,
) -> Result<Vec<PromptRecord>, InputErrors> {
    let mut records = Vec::new();
    let mut seen = HashSet::new();
    let mut errors = ErrorList::default();
    read_objects(
        reader,
        source_name,
        &mut errors,
        |line, map, errors| match parse_line(&map, &mut seen) {
            Ok(r) => records.push(r),
            Err(message) => errors.push(InputError::Line {
                source_name: source_name.to_owned(),
                line,
                message,
            }),
        },
    )?;
    errors.into_result()?;
    Ok(records)
}

fn parse_line(
    map: &serde_json::Map<String, Value>,
    seen: &mut HashSet<String>,
) -> Result<PromptRecord, String> {
    let f = Fields { map };
    let id = f.id("id", REQUIRED)?;
    let input = match (map.get("prompt"), map.get("messages")) {
        (Some(_), Some(_)) => return Err("give either `prompt` or `messages`, not both".into()),
        (Some(Value::String(text)), None) => PromptInput::Text(text.clone()),
        (Some(other), None) => {
            return Err(format!(
                "field `prompt` must be a string, found {}",
                boundary_store::describe(other)
            ));
        }
        (None, Some(messages)) => PromptInput::Chat(parse_messages(messages)?),
        (None, None) => return Err(format!("no `prompt` or `messages`; {REQUIRED}")),
    };
    let gold = match f.optional_answer("gold")? {
        Some(g) => Some(g),
        None => f.optional_answer("answer")?,
    };
    let mut rest = map.clone();
    for known in ["id", "prompt", "messages", "gold", "answer"] {
        rest.remove(known);
    }
    if !seen.insert(id.clone()) {
        return Err(format!(
            "problem id `{id}` appears twice; ids must be unique"
        ));
    }
    Ok(PromptRecord {
        id,
        input,
        gold,
        metadata: (!rest.is_empty()).then_some(Value::Object(rest)),
    })
}

fn parse_messages(value: &Value) -> Result<Vec<ChatMessage>, String> {
    let Value::Array(items) = value else {
        return Err(format!(
            "field `messages` must be an array of {{\"role\", \"content\"}} objects, found {}",
            boundary_store::describe(value)
        ));
    };
    if items.is_empty() {
        return Err("field `messages` is empty; a chat prompt needs at least one message".into());
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let role = item.get("role").and_then(Value::as_str);
            let content = item.get("content");
            match (role, content) {
                (Some(role), Some(content @ (Value::String(_) | Value::Array(_)))) => {
                    Ok(ChatMessage {
                        role: role.to_owned(),
                        content: content.clone(),
                    })
                }
                _ => Err(format!(
                    "`messages[{i}]` must be an object with a string `role` and a string (or \
                     content-part array) `content`"
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<PromptRecord>, String> {
        read_prompts(text.as_bytes(), "prompts.jsonl").map_err(|e| e.to_string())
    }

    #[test]
    fn text_and_chat_prompts() {
        let text = concat!(
            "{\"id\": 1, \"prompt\": \"2+2=\", \"answer\": 4}\n",
            "{\"id\": \"q2\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"level\": 3}\n",
        );
        let records = read(text).unwrap();
        assert_eq!(records[0].id, "1");
        assert_eq!(records[0].input, PromptInput::Text("2+2=".into()));
        assert_eq!(records[0].gold.as_deref(), Some("4"));
        assert_eq!(records[1].metadata, Some(serde_json::json!({"level": 3})));
        assert_eq!(
            records[1].input.stored_form(),
            r#"[{"content":"Hi","role":"user"}]"#
        );
    }

    #[test]
    fn stored_prompts_read_back() {
        for input in [
            PromptInput::Text("Question: 2+2?\nAnswer:".into()),
            PromptInput::Text("[1, 2] is a list".into()),
            PromptInput::Text("[{\"role\": \"user\"}]".into()),
            PromptInput::Chat(vec![
                ChatMessage {
                    role: "system".into(),
                    content: Value::String("Be brief.".into()),
                },
                ChatMessage {
                    role: "user".into(),
                    content: serde_json::json!([{"type": "text", "text": "Hi"}]),
                },
            ]),
        ] {
            assert_eq!(PromptInput::from_stored(&input.stored_form()), input);
        }
        // JSON written by another tool (spaces, key order) is still a chat prompt.
        assert_eq!(
            PromptInput::from_stored(r#"[{"role": "user", "content": "Hi"}]"#),
            PromptInput::Chat(vec![ChatMessage {
                role: "user".into(),
                content: Value::String("Hi".into()),
            }])
        );
    }

    #[test]
    fn bad_lines_are_named() {
        let text = concat!(
            "{\"id\": 1, \"prompt\": 5}\n",
            "{\"id\": 2}\n",
            "{\"id\": 3, \"messages\": [{\"role\": \"user\"}]}\n",
            "{\"id\": 3, \"prompt\": \"x\"}\n",
            "{\"id\": 3, \"prompt\": \"y\"}\n",
        );
        let err = read(text).unwrap_err();
        assert_eq!(
            err,
            "prompts.jsonl:1: field `prompt` must be a string, found a number (5)\n\
             prompts.jsonl:2: no `prompt` or `messages`; each line needs `id` and either `prompt` (text) or `messages` (chat)\n\
             prompts.jsonl:3: `messages[0]` must be an object with a string `role` and a string (or content-part array) `content`\n\
             prompts.jsonl:5: problem id `3` appears twice; ids must be unique"
        );
    }
}
