//! A per-worker cgroup with the pids controller: the process-count limit for root, for
//! whom the kernel does not enforce `RLIMIT_NPROC`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Removed (after its processes are gone) when dropped.
pub(crate) struct PidsCgroup {
    path: PathBuf,
}

fn hierarchy() -> io::Result<PathBuf> {
    let v2 = Path::new("/sys/fs/cgroup");
    if fs::read_to_string(v2.join("cgroup.controllers"))
        .is_ok_and(|c| c.split_whitespace().any(|x| x == "pids"))
    {
        // Let children of the root use the controller (a no-op when already enabled).
        fs::write(v2.join("cgroup.subtree_control"), "+pids")?;
        return Ok(v2.to_path_buf());
    }
    let v1 = v2.join("pids");
    if v1.join("cgroup.procs").exists() {
        return Ok(v1);
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "no cgroup hierarchy with the pids controller",
    ))
}

impl PidsCgroup {
    /// `tag` names the sandbox (unique per process and instance); `index` the worker.
    pub fn create(tag: &str, index: usize, max: u64) -> io::Result<PidsCgroup> {
        let path = hierarchy()?.join(format!("{tag}-{index}"));
        match fs::create_dir(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        fs::write(path.join("pids.max"), max.to_string())?;
        Ok(PidsCgroup { path })
    }

    pub fn adopt(&self, pid: u32) -> io::Result<()> {
        fs::write(self.path.join("cgroup.procs"), pid.to_string())
    }

    /// Whether this machine can give root a pids cgroup (tried by creating one).
    pub fn available(tag: &str) -> bool {
        PidsCgroup::create(tag, usize::MAX, 16).is_ok()
    }

    /// Removes cgroups left behind by Boundary processes that no longer exist.
    pub fn remove_stale() {
        if let Ok(root) = hierarchy() {
            super::remove_stale_entries(&root, |path| fs::remove_dir(path).map(|_| ()));
        }
    }
}

impl Drop for PidsCgroup {
    fn drop(&mut self) {
        // The worker is killed before its cgroup is dropped; give the kernel a moment to
        // reap its members.
        for _ in 0..50 {
            if fs::remove_dir(&self.path).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}
