//! Who gets Ctrl-C.
//!
//! By default Ctrl-C ends the process, which loses nothing: every stage commits its work as
//! it goes (samples, grades, scores) and a re-run resumes. A stage that talks to servers
//! turns it into a graceful stop instead ([`crate::endpoints::stop_on_ctrl_c`]) through
//! tokio, whose handler then stays installed for the life of the process and would swallow
//! every later Ctrl-C: an embedded model's sampling, grading and the report of the same
//! `boundary eval` could no longer be stopped. So [`crate::endpoints::Runtime`] sets that
//! handler aside when a server stage ends ([`release`]) and puts it back when another
//! begins ([`claim`]).

use std::sync::{Mutex, MutexGuard, OnceLock};

/// What Ctrl-C did before any server stage (normally: end the process).
static ORIGINAL: OnceLock<libc::sigaction> = OnceLock::new();
/// tokio's handler while it is set aside.
static SET_ASIDE: Mutex<Option<libc::sigaction>> = Mutex::new(None);

fn set_aside() -> MutexGuard<'static, Option<libc::sigaction>> {
    // The data is a plain struct; a panic elsewhere cannot leave it half-written.
    SET_ASIDE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn current_action() -> libc::sigaction {
    // SAFETY: sigaction with a null new action only reads the current one into `current`,
    // a zeroed plain C struct.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGINT, std::ptr::null(), &mut current);
        current
    }
}

fn install(action: &libc::sigaction) {
    // SAFETY: `action` is a disposition read back from sigaction itself, so it names a
    // handler that is still installed code (tokio's) or SIG_DFL / SIG_IGN.
    unsafe {
        libc::sigaction(libc::SIGINT, action, std::ptr::null_mut());
    }
}

/// Gives Ctrl-C to the server stage that is starting: puts back the handler an earlier one
/// installed, or, the first time, remembers what Ctrl-C did before tokio takes it over.
pub fn claim() {
    ORIGINAL.get_or_init(current_action);
    if let Some(handler) = set_aside().take() {
        install(&handler);
    }
}

/// Ends a server stage's hold on Ctrl-C: what Ctrl-C did before the first server stage
/// (normally: end the process) applies again until the next [`claim`].
pub fn release() {
    let Some(original) = ORIGINAL.get() else {
        return; // no server stage ever claimed it
    };
    let mut set_aside = set_aside();
    let current = current_action();
    if set_aside.is_some() || current.sa_sigaction == original.sa_sigaction {
        return; // already released, or tokio never installed its handler
    }
    install(original);
    *set_aside = Some(current);
}
