//! Child processes for the end-to-end stack (anvil, the Fly fake, gateways), killed on drop.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process that is killed when dropped.
pub(crate) struct Proc {
    name: String,
    child: Child,
}

impl Proc {
    /// Spawns `cmd` with stdout and stderr appended to `log`.
    pub(crate) fn spawn(name: &str, cmd: &mut Command, log: &Path) -> Result<Proc, String> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = cmd
            .stdout(out)
            .stderr(err)
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        Ok(Proc { name: name.to_owned(), child })
    }

    /// Spawns `cmd` and returns it with the first stdout line (e.g. a "listening on …" line).
    pub(crate) fn spawn_reading_line(name: &str, cmd: &mut Command) -> Result<(Proc, String), String> {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map_err(|e| format!("{name}: {e}"))?;
        Ok((Proc { name: name.to_owned(), child }, line.trim().to_owned()))
    }

    /// The process id.
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub(crate) fn terminate(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Proc {
    /// Sends SIGKILL (no clean-up at all, as a crash) and reaps the process.
    pub(crate) fn kill9(mut self) {
        let _ = Command::new("kill").args(["-KILL", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            eprintln!("stopped {}", self.name);
        }
    }
}

/// A free TCP port on 127.0.0.1.
pub(crate) fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// Waits until `url` answers an HTTP request with any status (curl), or fails after `within`.
pub(crate) fn wait_http(url: &str, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let ok =
            Command::new("curl").args(["-s", "-o", "/dev/null", "-m", "2", url]).status().is_ok_and(|s| s.success());
        if ok {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!("{url} did not answer within {within:?}"))
}

/// Waits until a JSON-RPC node at `url` answers `eth_chainId`.
pub(crate) fn wait_rpc(url: &str, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
    while Instant::now() < deadline {
        let out = Command::new("curl")
            .args(["-s", "-m", "2", "-H", "content-type: application/json", "-d", body, url])
            .output();
        if out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("result")) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!("no JSON-RPC node at {url} within {within:?}"))
}

/// The cargo target folder (`CARGO_TARGET_DIR`, else the one cargo is configured with).
pub(crate) fn target_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .or_else(metadata_target_dir)
            .unwrap_or_else(|| crate::util::root().join("target"))
    })
    .clone()
}

/// The target directory cargo itself uses (it honours `build.target-dir` in cargo
/// configuration files), read from `cargo metadata`.
fn metadata_target_dir() -> Option<PathBuf> {
    let out = crate::util::cargo().args(["metadata", "--format-version", "1", "--no-deps"]).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let rest = &text[text.find("\"target_directory\":\"")? + "\"target_directory\":\"".len()..];
    Some(PathBuf::from(rest[..rest.find('"')?].replace("\\\\", "\\")))
}
