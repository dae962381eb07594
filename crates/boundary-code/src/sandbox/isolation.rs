//! What this kernel lets the sandbox do, probed at start-up, and the honest report of
//! which isolation layers are in force.

use std::ffi::CString;
use std::fmt;

use serde::Serialize;

use crate::error::SandboxError;
use crate::sandbox::seccomp;

/// One isolation layer and whether it is active.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Layer {
    pub name: &'static str,
    pub active: bool,
    /// What it protects against, or why it is off.
    pub detail: String,
}

/// The layers the sandbox runs with; printed at start-up.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IsolationReport {
    pub layers: Vec<Layer>,
}

impl IsolationReport {
    pub fn is_active(&self, name: &str) -> bool {
        self.layers.iter().any(|l| l.name == name && l.active)
    }

    /// Protections the sandbox will not run without (unless explicitly told to), each
    /// met by any one of the named layers.
    fn missing_requirements(&self) -> Vec<&'static str> {
        let needs: [(&'static str, &[&str]); 4] = [
            (
                "killing every process a program starts (PID namespace)",
                &["pid-namespace"],
            ),
            (
                "network denial (network namespace or seccomp)",
                &["network-namespace", "seccomp"],
            ),
            (
                "write protection outside the temporary directory (Landlock)",
                &["landlock"],
            ),
            (
                "a process-count limit (RLIMIT_NPROC or cgroup pids)",
                &["process-limit"],
            ),
        ];
        needs
            .iter()
            .filter(|(_, any)| !any.iter().any(|l| self.is_active(l)))
            .map(|(what, _)| *what)
            .collect()
    }

    /// Errors unless every requirement is met or `allow_unsafe` is set.
    pub fn enforce(&self, allow_unsafe: bool) -> Result<(), SandboxError> {
        let missing = self.missing_requirements();
        if missing.is_empty() || allow_unsafe {
            return Ok(());
        }
        Err(SandboxError::InsufficientIsolation {
            missing: missing.join("; "),
            active: self.active_names(),
        })
    }

    pub fn active_names(&self) -> String {
        let names: Vec<_> = self
            .layers
            .iter()
            .filter(|l| l.active)
            .map(|l| l.name)
            .collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }
}

impl fmt::Display for IsolationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "code sandbox isolation:")?;
        for l in &self.layers {
            let mark = if l.active { "on " } else { "off" };
            writeln!(f, "  [{mark}] {:<18} {}", l.name, l.detail)?;
        }
        Ok(())
    }
}

/// Kernel features found by [`probe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KernelSupport {
    /// Unprivileged user namespace (with a network namespace inside it).
    pub user_namespace: bool,
    /// A PID namespace can be created (inside the user namespace when there is one).
    pub pid_namespace: bool,
    /// Landlock ABI version, 0 when unavailable.
    pub landlock_abi: u32,
    /// The candidate seccomp filters install.
    pub seccomp: bool,
    pub is_root: bool,
}

/// Runs `f` in a forked child and reports whether it exited 0. Only raw system calls
/// happen in the child (the parent may be multi-threaded).
fn in_child(f: impl FnOnce() -> bool) -> bool {
    // SAFETY: the child calls only async-signal-safe system calls through `f`, then `_exit`.
    unsafe {
        let pid = libc::fork();
        if pid < 0 {
            return false;
        }
        if pid == 0 {
            let ok = f();
            libc::_exit(if ok { 0 } else { 1 });
        }
        let mut status = 0;
        if libc::waitpid(pid, &mut status, 0) != pid {
            return false;
        }
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
    }
}

fn write_proc(path: &CString, text: &CString) -> bool {
    // SAFETY: plain open/write/close on NUL-terminated strings prepared before fork.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY);
        if fd < 0 {
            return false;
        }
        let len = text.as_bytes().len();
        let n = libc::write(fd, text.as_ptr().cast(), len);
        libc::close(fd);
        n == len as isize
    }
}

fn probe_user_namespace(pid_too: bool) -> bool {
    // SAFETY: getuid/getgid cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let files = [
        (c"/proc/self/setgroups", "deny".to_string()),
        (c"/proc/self/uid_map", format!("{uid} {uid} 1")),
        (c"/proc/self/gid_map", format!("{gid} {gid} 1")),
    ];
    let Ok(files) = files
        .into_iter()
        .map(|(p, t)| CString::new(t).map(|t| (p.to_owned(), t)))
        .collect::<Result<Vec<_>, _>>()
    else {
        return false;
    };
    in_child(move || {
        // SAFETY: unshare is a plain system call.
        if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) } != 0 {
            return false;
        }
        if !files.iter().all(|(p, t)| write_proc(p, t)) {
            return false;
        }
        // SAFETY: as above.
        !pid_too || unsafe { libc::unshare(libc::CLONE_NEWPID) } == 0
    })
}

fn probe_landlock() -> u32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: asking for the ABI version reads no memory.
    let abi = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    u32::try_from(abi).unwrap_or(0)
}

fn probe_seccomp() -> bool {
    let Ok(filters) = seccomp::candidate_filters() else {
        return false;
    };
    in_child(move || {
        filters.iter().all(|bytes| {
            let prog = libc::sock_fprog {
                len: (bytes.len() / 8) as u16,
                filter: bytes.as_ptr() as *mut libc::sock_filter,
            };
            // SAFETY: `prog` points at a whole number of sock_filter instructions.
            unsafe {
                libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
                    && libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &prog) == 0
            }
        })
    })
}

/// Asks the kernel what it allows (cheap: a few forks, no Python).
pub fn probe() -> KernelSupport {
    // SAFETY: geteuid cannot fail.
    let is_root = unsafe { libc::geteuid() } == 0;
    let user_namespace = probe_user_namespace(false);
    let pid_namespace = if user_namespace {
        probe_user_namespace(true)
    } else {
        // SAFETY: unshare is a plain system call.
        in_child(|| unsafe { libc::unshare(libc::CLONE_NEWPID) } == 0)
    };
    KernelSupport {
        user_namespace,
        pid_namespace,
        landlock_abi: probe_landlock(),
        seccomp: probe_seccomp(),
        is_root,
    }
}

/// Builds the report from the probe and from what the workers actually confirmed.
pub fn report(k: &KernelSupport, process_limit: Option<&str>) -> IsolationReport {
    let layer = |name, active, on: &str, off: &str| Layer {
        name,
        active,
        detail: if active {
            on.to_string()
        } else {
            off.to_string()
        },
    };
    let landlock_detail = format!(
        "ABI {}: writes only inside the run's temporary directory, reads only the Python \
         installation and system libraries{}{}",
        k.landlock_abi,
        if k.landlock_abi >= 4 {
            "; TCP bind/connect denied"
        } else {
            ""
        },
        if k.landlock_abi >= 6 {
            "; no signals or abstract sockets outside the sandbox"
        } else {
            ""
        },
    );
    IsolationReport {
        layers: vec![
            layer(
                "session+rlimits",
                true,
                "own session; limits on CPU, address space, file size, open files; no core dumps",
                "",
            ),
            layer(
                "fresh-tmpdir+env",
                true,
                "private temporary working directory removed afterwards; scrubbed environment; output capped",
                "",
            ),
            layer(
                "user-namespace",
                k.user_namespace,
                "per-worker user namespace, no capabilities kept by candidates",
                "unavailable (unprivileged user namespaces are disabled here)",
            ),
            layer(
                "network-namespace",
                k.user_namespace,
                "per-worker network namespace with no interfaces up",
                "unavailable (needs a user namespace)",
            ),
            layer(
                "pid-namespace",
                k.pid_namespace,
                "per-run PID namespace: when the program ends, everything it started is killed",
                "unavailable: processes a program daemonises could outlive it",
            ),
            layer(
                "landlock",
                k.landlock_abi > 0,
                &landlock_detail,
                "unavailable (kernel without Landlock or a container that blocks it)",
            ),
            layer(
                "seccomp",
                k.seccomp,
                "IP/netlink sockets, connect/bind, ptrace, mount, namespaces, io_uring, bpf, keyrings denied",
                "unavailable",
            ),
            layer(
                "process-limit",
                process_limit.is_some(),
                process_limit.unwrap_or(""),
                "unavailable: running as root without a cgroup with the pids controller",
            ),
        ],
    }
}
