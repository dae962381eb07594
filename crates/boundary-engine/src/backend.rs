//! The process-wide llama.cpp backend, and its log.
//!
//! llama.cpp is initialised once per process. Its log goes to `tracing` (target
//! `llama_cpp`), and the last warnings and errors are kept so that a failed load or decode can
//! say what llama.cpp reported instead of only "it returned null".

use std::collections::VecDeque;
use std::ffi::{CStr, c_char, c_void};
use std::sync::{Mutex, OnceLock};

use llama_cpp_2::llama_backend::LlamaBackend;

use crate::EngineError;

/// How many recent warning/error lines to keep for error messages.
const KEPT_LINES: usize = 8;

static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
static RECENT_PROBLEMS: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());
/// The level of the last line, which `GGML_LOG_LEVEL_CONT` lines continue.
static LAST_LEVEL: Mutex<u32> = Mutex::new(llama_cpp_sys_2::GGML_LOG_LEVEL_INFO);

/// The initialised backend.
pub(crate) fn backend() -> Result<&'static LlamaBackend, EngineError> {
    BACKEND
        .get_or_init(|| {
            // SAFETY: the callback is a plain function that only touches the statics above.
            unsafe { llama_cpp_sys_2::llama_log_set(Some(log_line), std::ptr::null_mut()) };
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|message| EngineError::backend("initialise", message))
}

/// What llama.cpp warned about or failed on most recently, for error messages; clears it.
pub(crate) fn take_recent_problems() -> String {
    let mut lines = RECENT_PROBLEMS.lock().unwrap_or_else(|e| e.into_inner());
    let text = lines.drain(..).collect::<Vec<_>>().join(" | ");
    if text.is_empty() {
        "no details in llama.cpp's log".to_owned()
    } else {
        text
    }
}

/// Clears the kept lines before an operation whose failure should report only its own.
pub(crate) fn clear_recent_problems() {
    RECENT_PROBLEMS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
}

unsafe extern "C" fn log_line(level: u32, text: *const c_char, _: *mut c_void) {
    if text.is_null() {
        return;
    }
    // SAFETY: llama.cpp passes a NUL-terminated string valid for the call.
    let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    let text = text.trim_end();
    let level = {
        let mut last = LAST_LEVEL.lock().unwrap_or_else(|e| e.into_inner());
        if level != llama_cpp_sys_2::GGML_LOG_LEVEL_CONT {
            *last = level;
        }
        *last
    };
    match level {
        llama_cpp_sys_2::GGML_LOG_LEVEL_ERROR | llama_cpp_sys_2::GGML_LOG_LEVEL_WARN => {
            if level == llama_cpp_sys_2::GGML_LOG_LEVEL_ERROR {
                tracing::error!(target: "llama_cpp", "{text}");
            } else {
                tracing::warn!(target: "llama_cpp", "{text}");
            }
            if !text.is_empty() {
                let mut lines = RECENT_PROBLEMS.lock().unwrap_or_else(|e| e.into_inner());
                if lines.len() == KEPT_LINES {
                    lines.pop_front();
                }
                lines.push_back(text.to_owned());
            }
        }
        llama_cpp_sys_2::GGML_LOG_LEVEL_INFO => tracing::debug!(target: "llama_cpp", "{text}"),
        _ => tracing::trace!(target: "llama_cpp", "{text}"),
    }
}
