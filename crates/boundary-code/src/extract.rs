//! Finding the program in a model's response.
//!
//! Rules, in order:
//! 1. Fenced blocks (```` ``` ```` or `~~~`, any info string) are collected; blocks tagged
//!    with a language that is clearly not Python (`text`, `bash`, `output`, ...) are set
//!    aside unless nothing else is left.
//! 2. With an entry point, the last block that defines it (`def name(` or
//!    `class Solution`) wins; otherwise the last candidate block.
//! 3. An unmatched fence: prompts often pre-fill the opening ```` ```python ````, so a
//!    response that starts with code and *closes* a fence is the code before that fence;
//!    a response cut off inside a block is the code after its opening fence.
//! 4. No fence at all: the whole response.

use serde::{Deserialize, Serialize};

/// Where the code came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A complete fenced block (index among all blocks, 0-based).
    FencedBlock {
        index: usize,
    },
    /// Text before a closing fence whose opening fence was in the prompt.
    BeforeClosingFence,
    /// Text after an opening fence that was never closed.
    UnclosedFence,
    WholeResponse,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    pub code: String,
    pub source: Source,
}

struct Fence<'a> {
    /// Byte range of the fence line in the response.
    line_start: usize,
    line_end: usize,
    marker: &'a str,
    info: &'a str,
}

fn fences(text: &str) -> Vec<Fence<'_>> {
    let mut out = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if indent > 3 {
            continue;
        }
        let marker = if trimmed.starts_with("```") {
            "```"
        } else if trimmed.starts_with("~~~") {
            "~~~"
        } else {
            continue;
        };
        let info = trimmed
            .trim_start_matches(marker.chars().next().unwrap_or('`'))
            .trim();
        out.push(Fence {
            line_start: start,
            line_end: pos,
            marker,
            info,
        });
    }
    out
}

const NOT_PYTHON: &[&str] = &[
    "text",
    "txt",
    "output",
    "console",
    "bash",
    "sh",
    "shell",
    "json",
    "plaintext",
    "markdown",
    "md",
    "cpp",
    "c++",
    "c",
    "java",
    "javascript",
    "js",
    "rust",
    "go",
    "sql",
    "yaml",
    "toml",
    "html",
    "xml",
    "diff",
];

fn is_python_like(info: &str) -> bool {
    let lang = info
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    !NOT_PYTHON.contains(&lang.as_str())
}

/// Whether `code` defines function `name` (only at the top level, or at any indentation).
pub(crate) fn defines_function(code: &str, name: &str, top_level_only: bool) -> bool {
    code.lines().any(|line| {
        let l = if top_level_only {
            line
        } else {
            line.trim_start()
        };
        l.strip_prefix("def ")
            .or_else(|| l.strip_prefix("async def "))
            .is_some_and(|rest| {
                rest.trim_start()
                    .strip_prefix(name)
                    .is_some_and(|r| r.trim_start().starts_with('('))
            })
    })
}

fn defines(code: &str, entry_point: &str) -> bool {
    defines_function(code, entry_point, false)
        || code
            .lines()
            .any(|l| l.trim_start().starts_with("class Solution"))
}

/// Extracts the code to run from `response`.
pub fn extract_code(response: &str, entry_point: Option<&str>) -> Extracted {
    let fs = fences(response);
    let mut blocks = Vec::new(); // (info, code)
    let mut i = 0;
    let mut unmatched_open = None;
    while i < fs.len() {
        let open = &fs[i];
        let close = fs[i + 1..]
            .iter()
            .position(|f| f.marker == open.marker && f.info.is_empty());
        match close {
            Some(offset) => {
                let close = &fs[i + 1 + offset];
                blocks.push((open.info, &response[open.line_end..close.line_start]));
                i += offset + 2;
            }
            None => {
                unmatched_open = Some(open);
                break;
            }
        }
    }
    // A bare closing fence first, with code before it: the opening fence was pre-filled.
    if let Some(first) = fs.first() {
        let before = &response[..first.line_start];
        let odd = fs.len() % 2 == 1;
        if odd && first.info.is_empty() && !before.trim().is_empty() {
            return Extracted {
                code: before.trim_end().to_string() + "\n",
                source: Source::BeforeClosingFence,
            };
        }
    }
    let python: Vec<(usize, &str)> = blocks
        .iter()
        .enumerate()
        .filter(|(_, (info, code))| is_python_like(info) && !code.trim().is_empty())
        .map(|(i, (_, code))| (i, *code))
        .collect();
    let pool: Vec<(usize, &str)> = if python.is_empty() {
        blocks
            .iter()
            .enumerate()
            .filter(|(_, (_, c))| !c.trim().is_empty())
            .map(|(i, (_, c))| (i, *c))
            .collect()
    } else {
        python
    };
    let chosen = entry_point
        .and_then(|ep| pool.iter().rev().find(|(_, code)| defines(code, ep)))
        .or_else(|| pool.last());
    if let Some((index, code)) = chosen {
        return Extracted {
            code: code.to_string(),
            source: Source::FencedBlock { index: *index },
        };
    }
    if let Some(open) = unmatched_open {
        let rest = &response[open.line_end..];
        if !rest.trim().is_empty() {
            return Extracted {
                code: rest.to_string(),
                source: Source::UnclosedFence,
            };
        }
    }
    Extracted {
        code: response.to_string(),
        source: Source::WholeResponse,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn last_python_block_wins() {
        let r = "Idea:\n```python\nx = 1\n```\nBetter:\n```python\ndef f():\n    return 2\n```\nOutput:\n```text\n2\n```\n";
        let e = extract_code(r, None);
        assert_eq!(e.code, "def f():\n    return 2\n");
        assert_eq!(e.source, Source::FencedBlock { index: 1 });
    }

    #[test]
    fn block_defining_the_entry_point_beats_a_later_usage_example() {
        let r = "```py\ndef add(a, b):\n    return a + b\n```\nUsage:\n```\nprint(add(1, 2))\n```";
        assert_eq!(
            extract_code(r, Some("add")).code,
            "def add(a, b):\n    return a + b\n"
        );
        assert_eq!(extract_code(r, None).code, "print(add(1, 2))\n");
    }

    #[test]
    fn untagged_and_tilde_fences() {
        assert_eq!(extract_code("~~~\nprint(1)\n~~~", None).code, "print(1)\n");
        assert_eq!(extract_code("```\nprint(2)\n```", None).code, "print(2)\n");
    }

    #[test]
    fn prefilled_opening_fence() {
        let r = "def f():\n    return 1\n```\n\nThis function returns 1.";
        let e = extract_code(r, Some("f"));
        assert_eq!(e.code, "def f():\n    return 1\n");
        assert_eq!(e.source, Source::BeforeClosingFence);
    }

    #[test]
    fn truncated_block() {
        let r = "Here:\n```python\ndef f():\n    return 1";
        let e = extract_code(r, None);
        assert_eq!(e.code, "def f():\n    return 1");
        assert_eq!(e.source, Source::UnclosedFence);
    }

    #[test]
    fn no_fence_is_the_whole_response() {
        let e = extract_code("def f(): return 3", None);
        assert_eq!(e.source, Source::WholeResponse);
        assert_eq!(e.code, "def f(): return 3");
    }

    proptest! {
        #[test]
        fn never_panics_and_returns_a_substring(s in "(```|~~~|python|\n|def f\\(|[a-z ]){0,60}") {
            let e = extract_code(&s, Some("f"));
            prop_assert!(s.contains(e.code.trim_end()) || e.code.trim().is_empty() || e.source == Source::BeforeClosingFence);
        }
    }
}
