//! One sandbox worker: a pre-forked Python zygote and the framed pipe protocol to it.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::SandboxError;
use crate::sandbox::cgroup::PidsCgroup;
use crate::sandbox::protocol::{CandidateSpec, JudgeSpec, SessionReport};

/// The Python half of the sandbox (zygote, trusted session, candidate confinement).
pub(crate) const RUNTIME_PY: &str = include_str!("runtime.py");

/// Largest frame accepted from a session (stdout of stdio tests travels in it).
const MAX_FRAME: usize = 512 << 20;

/// The init frame: everything a zygote needs to confine its candidates.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WorkerConfig {
    pub userns: bool,
    pub netns: bool,
    pub pidns: bool,
    pub landlock_abi: u32,
    pub read_paths: Vec<PathBuf>,
    pub rw_paths: Vec<PathBuf>,
    pub tmp_root: PathBuf,
    pub env: Vec<(String, String)>,
    /// base64 `sock_filter` programs, installed in order.
    pub seccomp: Vec<String>,
    pub nproc: Option<u64>,
    pub stdout_bytes: u64,
    pub stderr_keep: u64,
    pub preload: Vec<String>,
    #[serde(skip)]
    pub python: String,
    #[serde(skip)]
    pub pids_max: Option<u64>,
    /// Unique name of this sandbox (`boundary-code-<pid>-<n>`): its temporary directory
    /// and cgroups carry it.
    #[serde(skip)]
    pub tag: String,
}

#[derive(Serialize)]
struct InitFrame<'a> {
    userns: bool,
    netns: bool,
    pidns: bool,
    landlock_abi: u32,
    read_paths: &'a [PathBuf],
    rw_paths: &'a [PathBuf],
    tmp_root: &'a PathBuf,
    env: std::collections::BTreeMap<&'a str, &'a str>,
    seccomp: &'a [String],
    nproc: Option<u64>,
    stdout_bytes: u64,
    stderr_keep: u64,
    preload: &'a [String],
}

pub(crate) struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    _cgroup: Option<PidsCgroup>,
    /// Layers the zygote confirmed (e.g. "user-namespace").
    pub active: Vec<String>,
}

impl Worker {
    pub fn spawn(config: &WorkerConfig, index: usize) -> Result<Worker, SandboxError> {
        let mut command = Command::new(&config.python);
        command
            .args(["-I", "-c", RUNTIME_PY])
            .env_clear()
            .envs(config.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&config.tmp_root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        // SAFETY: setsid is async-signal-safe; it gives the worker its own process group
        // so that a hung worker can be killed with everything it forked.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command.spawn().map_err(|source| SandboxError::Spawn {
            python: config.python.clone(),
            source,
        })?;
        let cgroup = match config.pids_max {
            Some(max) => match PidsCgroup::create(&config.tag, index, max)
                .and_then(|cg| cg.adopt(child.id()).map(|_| cg))
            {
                Ok(cg) => Some(cg),
                Err(err) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(SandboxError::Worker(format!("cgroup set-up failed: {err}")));
                }
            },
            None => None,
        };
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(SandboxError::Worker("worker pipes missing".into()));
        };
        let mut worker = Worker {
            child,
            stdin,
            stdout,
            _cgroup: cgroup,
            active: Vec::new(),
        };
        let init = InitFrame {
            userns: config.userns,
            netns: config.netns,
            pidns: config.pidns,
            landlock_abi: config.landlock_abi,
            read_paths: &config.read_paths,
            rw_paths: &config.rw_paths,
            tmp_root: &config.tmp_root,
            env: config
                .env
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
            seccomp: &config.seccomp,
            nproc: config.nproc,
            stdout_bytes: config.stdout_bytes,
            stderr_keep: config.stderr_keep,
            preload: &config.preload,
        };
        worker.send(&init)?;
        let ready = worker.receive(Instant::now() + Duration::from_secs(60))?;
        let value: serde_json::Value = serde_json::from_slice(&ready)
            .map_err(|e| SandboxError::Worker(format!("bad ready frame: {e}")))?;
        match value.get("op").and_then(|v| v.as_str()) {
            Some("ready") => {
                worker.active = value
                    .get("active")
                    .and_then(|a| a.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(worker)
            }
            _ => Err(SandboxError::Worker(format!(
                "worker failed to start: {value}"
            ))),
        }
    }

    fn send<T: Serialize>(&mut self, frame: &T) -> Result<(), SandboxError> {
        let body = serde_json::to_vec(frame)
            .map_err(|e| SandboxError::Worker(format!("cannot encode a frame: {e}")))?;
        let len = u32::try_from(body.len())
            .map_err(|_| SandboxError::Worker("frame larger than 4 GiB".into()))?;
        self.stdin.write_all(&len.to_le_bytes())?;
        self.stdin.write_all(&body)?;
        self.stdin.flush()?;
        Ok(())
    }

    fn wait_readable(&self, deadline: Instant) -> Result<(), SandboxError> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(SandboxError::Worker("deadline".into()));
            }
            let mut pfd = libc::pollfd {
                fd: self.stdout.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd.
            let n = unsafe { libc::poll(&mut pfd, 1, ms) };
            if n > 0 {
                return Ok(());
            }
            if n < 0 {
                let err = std::io::Error::last_os_error();
                if err.kind() != std::io::ErrorKind::Interrupted {
                    return Err(err.into());
                }
            }
        }
    }

    fn receive(&mut self, deadline: Instant) -> Result<Vec<u8>, SandboxError> {
        self.wait_readable(deadline)?;
        let mut head = [0u8; 4];
        self.stdout
            .read_exact(&mut head)
            .map_err(|e| SandboxError::Worker(format!("worker closed its pipe ({e})")))?;
        let len = u32::from_le_bytes(head) as usize;
        if len > MAX_FRAME {
            return Err(SandboxError::Worker(format!(
                "frame of {len} bytes from worker"
            )));
        }
        let mut body = vec![0u8; len];
        self.stdout.read_exact(&mut body)?;
        Ok(body)
    }

    /// Runs one job. `Err` means the worker is unusable and must be replaced.
    pub fn run(
        &mut self,
        candidate: &CandidateSpec,
        judge: &JudgeSpec,
        deadline: Instant,
    ) -> Result<SessionReport, SandboxError> {
        self.send(candidate)?;
        self.send(judge)?;
        let mut report = None;
        loop {
            let frame = self.receive(deadline)?;
            let value: serde_json::Value = serde_json::from_slice(&frame)
                .map_err(|e| SandboxError::Worker(format!("bad frame from session: {e}")))?;
            match value.get("op").and_then(|v| v.as_str()) {
                Some("result") => {
                    report = Some(serde_json::from_value::<SessionReport>(value).map_err(|e| {
                        SandboxError::Worker(format!("bad result from session: {e}"))
                    })?);
                }
                Some("reaped") => {
                    return report.ok_or_else(|| {
                        SandboxError::Worker(format!(
                            "the session died without a verdict ({value})"
                        ))
                    });
                }
                _ => return Err(SandboxError::Worker(format!("unexpected frame {value}"))),
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // The zygote leads its own process group: kill it with every session and reaper;
        // candidates die with their reaper (parent-death signal) and take their PID
        // namespace with them.
        // SAFETY: signalling a process group we created.
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}
