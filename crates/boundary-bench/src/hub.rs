//! Benchmark files from the Hugging Face Hub, through `hf-hub` (feature `hub`).
//!
//! A file already in the local Hub cache (`$HF_HOME/hub`, the layout `huggingface_hub`
//! and `hf-hub` share) is used without any network access; otherwise it is downloaded
//! into that cache. With `HF_HUB_OFFLINE=1` only the cache is read.

use std::path::{Path, PathBuf};

use crate::error::{BenchError, Result};

/// Access to the Hub's dataset repositories through a local cache.
#[derive(Debug, Clone)]
pub struct Hub {
    cache_dir: PathBuf,
    offline: bool,
}

impl Hub {
    /// The cache `huggingface_hub` uses (`$HF_HOME/hub`, default `~/.cache/huggingface/hub`);
    /// offline when `HF_HUB_OFFLINE` is set to 1.
    pub fn from_env() -> Self {
        let home = std::env::var_os("HF_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".cache/huggingface")
            });
        let offline = std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| v == "1" || v == "true");
        Self {
            cache_dir: home.join("hub"),
            offline,
        }
    }

    /// A Hub reading only the cache at `cache_dir` (tests, air-gapped machines).
    pub fn offline(cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            cache_dir: cache_dir.into(),
            offline: true,
        }
    }

    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// The files of dataset `repo` whose path starts with `prefix` and ends with `suffix`,
    /// sorted: from the cached snapshot when there is one, else from the Hub's listing.
    pub fn find(&self, repo: &str, prefix: &str, suffix: &str) -> Result<Vec<String>> {
        let matches = |name: &str| name.starts_with(prefix) && name.ends_with(suffix);
        if let Some(snapshot) = self.cached_snapshot(repo) {
            let mut names: Vec<String> = walk(&snapshot)
                .into_iter()
                .filter_map(|p| {
                    p.strip_prefix(&snapshot)
                        .ok()
                        .map(|r| r.to_string_lossy().into_owned())
                })
                .filter(|n| matches(n))
                .collect();
            if !names.is_empty() {
                names.sort();
                return Ok(names);
            }
        }
        let mut names: Vec<String> = self
            .listing(repo)?
            .into_iter()
            .filter(|n| matches(n))
            .collect();
        names.sort();
        Ok(names)
    }

    /// The local path of `file` in dataset `repo`, downloading it when not cached.
    pub fn get(&self, repo: &str, file: &str) -> Result<PathBuf> {
        if let Some(path) = self.cached_snapshot(repo).map(|s| s.join(file))
            && path.exists()
        {
            return Ok(path);
        }
        self.download(repo, file)
    }

    /// The snapshot folder `refs/main` points at, when the repo is cached.
    fn cached_snapshot(&self, repo: &str) -> Option<PathBuf> {
        let folder = self
            .cache_dir
            .join(format!("datasets--{}", repo.replace('/', "--")));
        let commit = std::fs::read_to_string(folder.join("refs/main")).ok()?;
        let snapshot = folder.join("snapshots").join(commit.trim());
        snapshot.is_dir().then_some(snapshot)
    }

    fn offline_error(&self, repo: &str, file: &str) -> BenchError {
        BenchError::Hub {
            repo: repo.to_owned(),
            file: file.to_owned(),
            message: format!(
                "it is not in the cache {} and downloads are off (HF_HUB_OFFLINE); download it \
                 on a machine with network access, or give a local `path`",
                self.cache_dir.display()
            ),
        }
    }

    #[cfg(feature = "hub")]
    fn api(&self) -> std::result::Result<hf_hub::api::sync::Api, hf_hub::api::sync::ApiError> {
        hf_hub::api::sync::ApiBuilder::from_env()
            .with_cache_dir(self.cache_dir.clone())
            .with_progress(false)
            .build()
    }

    #[cfg(feature = "hub")]
    fn download(&self, repo: &str, file: &str) -> Result<PathBuf> {
        if self.offline {
            return Err(self.offline_error(repo, file));
        }
        let hub_error = |e: hf_hub::api::sync::ApiError| BenchError::Hub {
            repo: repo.to_owned(),
            file: file.to_owned(),
            message: e.to_string(),
        };
        self.api()
            .map_err(hub_error)?
            .dataset(repo.to_owned())
            .get(file)
            .map_err(hub_error)
    }

    #[cfg(feature = "hub")]
    fn listing(&self, repo: &str) -> Result<Vec<String>> {
        if self.offline {
            return Err(self.offline_error(repo, "(file listing)"));
        }
        let hub_error = |e: hf_hub::api::sync::ApiError| BenchError::Hub {
            repo: repo.to_owned(),
            file: "(file listing)".to_owned(),
            message: e.to_string(),
        };
        let info = self
            .api()
            .map_err(hub_error)?
            .dataset(repo.to_owned())
            .info()
            .map_err(hub_error)?;
        Ok(info.siblings.into_iter().map(|s| s.rfilename).collect())
    }

    #[cfg(not(feature = "hub"))]
    fn download(&self, repo: &str, file: &str) -> Result<PathBuf> {
        Err(self.offline_error(repo, file))
    }

    #[cfg(not(feature = "hub"))]
    fn listing(&self, repo: &str) -> Result<Vec<String>> {
        Err(self.offline_error(repo, "(file listing)"))
    }
}

/// Every file under `dir`, recursively (cache snapshots hold symlinks to blobs).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// Lays out `files` (repo path → contents) as a cached snapshot of dataset `repo`, the
/// way `huggingface_hub` does: for tests of the Hub path on local files.
pub fn seed_cache(cache_dir: &Path, repo: &str, files: &[(&str, &Path)]) -> std::io::Result<()> {
    let folder = cache_dir.join(format!("datasets--{}", repo.replace('/', "--")));
    let commit = "0000000000000000000000000000000000000000";
    std::fs::create_dir_all(folder.join("refs"))?;
    std::fs::write(folder.join("refs/main"), commit)?;
    for (name, source) in files {
        let target = folder.join("snapshots").join(commit).join(name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(source, target)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_files_are_found_without_network() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("x.parquet");
        std::fs::write(&src, b"PAR1").unwrap();
        seed_cache(
            &dir.path().join("hub"),
            "org/data",
            &[
                ("data/testmini-00000-of-00001.parquet", &src),
                ("data/test-00000-of-00002.parquet", &src),
            ],
        )
        .unwrap();
        let hub = Hub::offline(dir.path().join("hub"));
        assert_eq!(
            hub.find("org/data", "data/testmini-", ".parquet").unwrap(),
            ["data/testmini-00000-of-00001.parquet"]
        );
        let path = hub
            .get("org/data", "data/testmini-00000-of-00001.parquet")
            .unwrap();
        assert_eq!(std::fs::read(path).unwrap(), b"PAR1");
        let err = hub
            .get("org/data", "missing.jsonl")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not in the cache") && err.contains("HF_HUB_OFFLINE"),
            "{err}"
        );
        let err = hub.find("org/other", "", ".jsonl").unwrap_err().to_string();
        assert!(err.contains("org/other"), "{err}");
    }
}
