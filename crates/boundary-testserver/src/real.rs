//! Real inference servers for integration tests, started on a free loopback port with the
//! SmolLM2 test model and killed when dropped: llama.cpp's `llama-server` (continuous
//! batching, honours `n`, like vLLM) and llama-cpp-python's server (ignores `n`, scores
//! through `echo`).
//!
//! Where they come from: `scripts/setup/openai.sh` (model, `llama-server` built from the
//! llama.cpp tree in the llama-cpp-python sdist, the llama-cpp-python venv), all cached under
//! `~/.cache/boundary/`. The environment variables `BOUNDARY_TEST_MODEL`,
//! `BOUNDARY_LLAMA_SERVER` and `BOUNDARY_LLAMA_PYTHON` override the paths.

use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum RealServerError {
    #[error(
        "{what} not found at {path}; run scripts/setup/openai.sh (or set {variable}) to install it"
    )]
    Missing {
        what: &'static str,
        path: PathBuf,
        variable: &'static str,
    },
    #[error("cannot start {what}: {source}")]
    Spawn {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} did not become ready within {} s; its log: {log}", waited.as_secs())]
    NotReady {
        what: &'static str,
        waited: Duration,
        log: String,
    },
    #[error("no free port: {0}")]
    Port(std::io::Error),
}

fn cache_dir() -> PathBuf {
    std::env::var_os("BOUNDARY_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/boundary")))
        .unwrap_or_else(|| PathBuf::from(".cache/boundary"))
}

fn located(
    variable: &'static str,
    default: PathBuf,
    what: &'static str,
) -> Result<PathBuf, RealServerError> {
    let path = std::env::var_os(variable).map_or(default, PathBuf::from);
    if path.exists() {
        Ok(path)
    } else {
        Err(RealServerError::Missing {
            what,
            path,
            variable,
        })
    }
}

/// The SmolLM2-135M-Instruct Q4_1 GGUF the tests run on.
pub fn test_model() -> Result<PathBuf, RealServerError> {
    located(
        "BOUNDARY_TEST_MODEL",
        cache_dir().join("models/SmolLM2-135M-Instruct.Q4_1.gguf"),
        "the SmolLM2 test model",
    )
}

/// The Python of the llama-cpp-python venv.
pub fn llama_python() -> Result<PathBuf, RealServerError> {
    located(
        "BOUNDARY_LLAMA_PYTHON",
        cache_dir().join("venv-llama/bin/python"),
        "the llama-cpp-python venv",
    )
}

fn free_port() -> Result<u16, RealServerError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(RealServerError::Port)?;
    Ok(listener.local_addr().map_err(RealServerError::Port)?.port())
}

/// A running server process; killed on drop.
pub struct RealServer {
    child: Child,
    port: u16,
    log: PathBuf,
    /// The id the server lists in `/v1/models` (both use the model path).
    pub model_id: String,
    _log_dir: tempfile::TempDir,
}

impl RealServer {
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's output so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// llama.cpp's `llama-server` with `parallel` slots sharing `context` tokens.
    pub fn llama_server(parallel: u32, context: u32) -> Result<Self, RealServerError> {
        let binary = located(
            "BOUNDARY_LLAMA_SERVER",
            cache_dir().join("bin/llama-server"),
            "llama-server",
        )?;
        let model = test_model()?;
        let port = free_port()?;
        let mut command = Command::new(binary);
        command.args(["--host", "127.0.0.1", "--port", &port.to_string()]);
        command.args(["-t", "2", "--parallel", &parallel.to_string()]);
        command.args(["-c", &context.to_string(), "-m"]);
        command.arg(&model);
        Self::start("llama-server", command, port, model)
    }

    /// llama-cpp-python's `python -m llama_cpp.server`.
    pub fn llama_cpp_python() -> Result<Self, RealServerError> {
        let python = llama_python()?;
        let model = test_model()?;
        let port = free_port()?;
        let mut command = Command::new(python);
        command.args(["-m", "llama_cpp.server", "--host", "127.0.0.1"]);
        command.args(["--port", &port.to_string(), "--n_threads", "2", "--model"]);
        command.arg(&model);
        Self::start("llama-cpp-python server", command, port, model)
    }

    fn start(
        what: &'static str,
        mut command: Command,
        port: u16,
        model: PathBuf,
    ) -> Result<Self, RealServerError> {
        let log_dir =
            tempfile::tempdir().map_err(|source| RealServerError::Spawn { what, source })?;
        let log = log_dir.path().join("server.log");
        let file = std::fs::File::create(&log)
            .map_err(|source| RealServerError::Spawn { what, source })?;
        let stderr = file
            .try_clone()
            .map_err(|source| RealServerError::Spawn { what, source })?;
        let child = command
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(stderr)
            .spawn()
            .map_err(|source| RealServerError::Spawn { what, source })?;
        let server = Self {
            child,
            port,
            log,
            model_id: model.to_string_lossy().into_owned(),
            _log_dir: log_dir,
        };
        server.wait_ready(what, Duration::from_secs(180))?;
        Ok(server)
    }

    /// Waits until `/v1/models` answers 200 (both servers answer 503 or refuse while
    /// loading).
    fn wait_ready(&self, what: &'static str, limit: Duration) -> Result<(), RealServerError> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if models_answer_ok(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        Err(RealServerError::NotReady {
            what,
            waited: limit,
            log: self.log(),
        })
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bare HTTP/1.0 `GET /v1/models`: whether the status line says 200.
fn models_answer_ok(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /v1/models HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}
