//! The isolated executor: a pool of pre-forked Python workers that run candidate programs
//! under every isolation layer this kernel allows.
//!
//! Process tree per job (all forks, no interpreter start-up):
//! `boundary` → zygote (one per worker, imports done) → session (trusted judge) →
//! reaper (opens a PID namespace) → candidate (PID 1 of that namespace, confined).

mod cgroup;
pub mod isolation;
pub mod protocol;
pub mod seccomp;
mod worker;

use std::path::PathBuf;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use base64::Engine;

use crate::error::SandboxError;
use crate::sandbox::isolation::{IsolationReport, KernelSupport};
use crate::sandbox::protocol::{CandidateSpec, JudgeSpec, SessionReport};
use crate::sandbox::worker::{Worker, WorkerConfig};

pub use protocol::Limits;

/// Modules imported once in each zygote, so candidates find them already loaded
/// (LiveCodeBench's prelude and the usual standard-library suspects).
const PRELOAD: &[&str] = &[
    "string",
    "re",
    "datetime",
    "collections",
    "heapq",
    "bisect",
    "copy",
    "math",
    "random",
    "statistics",
    "itertools",
    "functools",
    "operator",
    "io",
    "json",
    "typing",
    "decimal",
    "fractions",
    "hashlib",
    "array",
    "cmath",
    "dataclasses",
    "enum",
    "numbers",
    "textwrap",
    "unicodedata",
    "struct",
    "ast",
];

/// How to build a [`Sandbox`].
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Python interpreter for workers and candidates.
    pub python: String,
    /// Number of workers (default: all cores).
    pub workers: usize,
    /// Run even when a required isolation layer is unavailable.
    pub allow_unsafe: bool,
    /// Processes (threads included) one worker's candidates may have at once.
    pub max_processes: u64,
    /// Bytes of stdout+stderr a program may write before it is stopped.
    pub output_bytes: u64,
    /// Layers to leave off even where the kernel allows them (`user-namespace`,
    /// `pid-namespace`, `landlock`, `seccomp`): to reproduce a weaker machine.
    pub disabled_layers: Vec<String>,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            python: "python3".into(),
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            allow_unsafe: false,
            max_processes: 64,
            output_bytes: 16 << 20,
            disabled_layers: Vec::new(),
        }
    }
}

/// The worker pool. `run` may be called from many threads at once.
pub struct Sandbox {
    config: WorkerConfig,
    idle: Mutex<PoolState>,
    available: Condvar,
    isolation: IsolationReport,
    tmp_root: PathBuf,
}

struct PoolState {
    idle: Vec<Worker>,
    started: usize,
    capacity: usize,
}

fn python_read_paths(python: &str) -> Result<Vec<PathBuf>, SandboxError> {
    let out = std::process::Command::new(python)
        .args([
            "-I",
            "-c",
            "import sys, json; print(json.dumps([sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix] + sys.path))",
        ])
        .env_clear()
        .output()
        .map_err(|source| SandboxError::Spawn { python: python.into(), source })?;
    if !out.status.success() {
        return Err(SandboxError::Worker(format!(
            "`{python}` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let paths: Vec<String> = serde_json::from_slice(&out.stdout)
        .map_err(|e| SandboxError::Worker(format!("cannot read Python's paths: {e}")))?;
    let mut read: Vec<PathBuf> = paths
        .into_iter()
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.exists())
        .collect();
    for sys_path in [
        "/usr",
        "/lib",
        "/lib64",
        "/lib32",
        "/bin",
        "/etc/ld.so.cache",
        "/etc/localtime",
        "/dev/zero",
        "/dev/urandom",
        "/dev/random",
    ] {
        let p = PathBuf::from(sys_path);
        if p.exists() {
            read.push(p);
        }
    }
    read.sort();
    read.dedup();
    Ok(read)
}

/// Sandboxes created by this process so far (for unique names).
static INSTANCES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Removes `boundary-code-<pid>-…` entries of `dir` whose process is gone (left by a
/// Boundary process that was killed, or whose sandbox lived in a never-dropped static).
pub(crate) fn remove_stale_entries(
    dir: &std::path::Path,
    remove: impl Fn(&std::path::Path) -> std::io::Result<()>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = name
            .strip_prefix("boundary-code-")
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let alive = pid
            .parse::<u32>()
            .is_ok_and(|p| PathBuf::from(format!("/proc/{p}")).exists());
        if !alive {
            let _ = remove(&entry.path());
        }
    }
}

fn make_tmp_root(tag: &str) -> Result<PathBuf, SandboxError> {
    use std::os::unix::fs::DirBuilderExt;
    let base = std::env::temp_dir();
    remove_stale_entries(&base, |p| std::fs::remove_dir_all(p));
    let path = base.join(tag);
    std::fs::DirBuilder::new().mode(0o700).create(&path)?;
    Ok(path)
}

fn process_limit(
    k: &KernelSupport,
    max: u64,
    tag: &str,
) -> (Option<u64>, Option<u64>, Option<String>) {
    if k.is_root {
        cgroup::PidsCgroup::remove_stale();
        if cgroup::PidsCgroup::available(tag) {
            return (
                None,
                Some(max),
                Some(format!("cgroup pids.max = {max} per worker")),
            );
        }
        return (None, None, None);
    }
    let scope = if k.user_namespace {
        "per worker user namespace"
    } else {
        "shared with this user's processes"
    };
    (
        Some(max),
        None,
        Some(format!("RLIMIT_NPROC = {max} ({scope})")),
    )
}

impl Sandbox {
    /// Probes the kernel, refuses to start without the required layers (unless
    /// `allow_unsafe`), and starts the first worker to confirm that it all works.
    pub fn new(options: SandboxOptions) -> Result<Sandbox, SandboxError> {
        let mut kernel = isolation::probe();
        for layer in &options.disabled_layers {
            match layer.as_str() {
                "user-namespace" | "network-namespace" => kernel.user_namespace = false,
                "pid-namespace" => kernel.pid_namespace = false,
                "landlock" => kernel.landlock_abi = 0,
                "seccomp" => kernel.seccomp = false,
                other => {
                    return Err(SandboxError::Worker(format!(
                        "unknown isolation layer `{other}`"
                    )));
                }
            }
        }
        if !kernel.user_namespace && !kernel.is_root {
            // Without a user namespace an unprivileged PID namespace is impossible.
            kernel.pid_namespace = false;
        }
        let tag = format!(
            "boundary-code-{}-{}",
            std::process::id(),
            INSTANCES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let (nproc, pids_max, limit_detail) = process_limit(&kernel, options.max_processes, &tag);
        let isolation = isolation::report(&kernel, limit_detail.as_deref());
        isolation.enforce(options.allow_unsafe)?;
        let seccomp = if kernel.seccomp {
            seccomp::candidate_filters()?
                .iter()
                .map(|p| base64::engine::general_purpose::STANDARD.encode(p))
                .collect()
        } else {
            Vec::new()
        };
        let tmp_root = make_tmp_root(&tag)?;
        let env = [
            ("PATH", "/usr/local/bin:/usr/bin:/bin"),
            ("LANG", "C.UTF-8"),
            ("LC_ALL", "C.UTF-8"),
            ("OMP_NUM_THREADS", "1"),
            ("OPENBLAS_NUM_THREADS", "1"),
            ("MKL_NUM_THREADS", "1"),
            ("PYTHONDONTWRITEBYTECODE", "1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let config = WorkerConfig {
            userns: kernel.user_namespace,
            netns: kernel.user_namespace,
            pidns: kernel.pid_namespace,
            landlock_abi: kernel.landlock_abi,
            read_paths: python_read_paths(&options.python)?,
            rw_paths: vec![PathBuf::from("/dev/null")],
            tmp_root: tmp_root.clone(),
            env,
            seccomp,
            nproc,
            stdout_bytes: options.output_bytes,
            stderr_keep: 64 << 10,
            preload: PRELOAD.iter().map(|s| s.to_string()).collect(),
            python: options.python.clone(),
            pids_max,
            tag,
        };
        let first = Worker::spawn(&config, 0)?;
        let sandbox = Sandbox {
            config,
            idle: Mutex::new(PoolState {
                idle: vec![first],
                started: 1,
                capacity: options.workers.max(1),
            }),
            available: Condvar::new(),
            isolation,
            tmp_root,
        };
        Ok(sandbox)
    }

    /// The layers in force (print it at start-up).
    pub fn isolation(&self) -> &IsolationReport {
        &self.isolation
    }

    pub fn workers(&self) -> usize {
        self.lock().capacity
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn checkout(&self) -> Result<Worker, SandboxError> {
        let mut state = self.lock();
        loop {
            if let Some(w) = state.idle.pop() {
                return Ok(w);
            }
            if state.started < state.capacity {
                let index = state.started;
                state.started += 1;
                drop(state);
                return Worker::spawn(&self.config, index).inspect_err(|_| {
                    self.lock().started -= 1;
                });
            }
            state = self
                .available
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
    }

    fn checkin(&self, worker: Option<Worker>) {
        let mut state = self.lock();
        match worker {
            Some(w) => state.idle.push(w),
            None => state.started -= 1,
        }
        self.available.notify_one();
    }

    /// Runs one job on an idle worker. A worker that misses `deadline` is killed (with
    /// everything it started) and replaced; the job then fails with an error.
    pub fn run(
        &self,
        candidate: &CandidateSpec,
        judge: &JudgeSpec,
        deadline: Instant,
    ) -> Result<SessionReport, SandboxError> {
        let mut worker = self.checkout()?;
        match worker.run(candidate, judge, deadline) {
            Ok(report) => {
                self.checkin(Some(worker));
                Ok(report)
            }
            Err(err) => {
                tracing::warn!(pid = worker.pid(), "sandbox worker replaced: {err}");
                drop(worker);
                self.checkin(None);
                Err(err)
            }
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.lock().idle.clear();
        let _ = std::fs::remove_dir_all(&self.tmp_root);
    }
}
