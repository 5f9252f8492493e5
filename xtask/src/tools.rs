//! Pinned tools, installed into the project (`.tools/`) or cargo's bin folder:
//! - `cargo-deny` (`DENY_VERSION`), with `cargo install --locked`;
//! - a Python venv (`.tools/venv`) with `xtask/requirements.txt` (the OpenAPI validator).

use std::path::PathBuf;
use std::process::Command;

use crate::util::{cargo, root, run, succeeds};

/// cargo-deny version (MSRV 1.88, fine on rustc 1.95).
const DENY_VERSION: &str = "0.20.2";

/// Paths of the installed tools.
pub(crate) struct Tools {
    /// `openapi-spec-validator` executable.
    pub(crate) openapi_validator: PathBuf,
    /// The venv's Python (with pympp and x402).
    pub(crate) python: PathBuf,
    /// anvil 1.7.1 from npm.
    pub(crate) anvil: PathBuf,
}

/// Installs every tool that is missing and returns their paths.
pub(crate) fn install_all() -> Result<Tools, String> {
    install_cargo_deny()?;
    let venv = install_python_venv()?;
    install_npm()?;
    Ok(Tools {
        openapi_validator: venv.join("bin").join("openapi-spec-validator"),
        python: venv.join("bin").join("python"),
        anvil: root().join("e2e/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"),
    })
}

/// `npm ci` in `e2e/` (the real payment clients, anvil, FiatToken artifacts), pinned by
/// `e2e/package-lock.json`; skipped when the installed lock matches.
fn install_npm() -> Result<(), String> {
    let dir = root().join("e2e");
    let lock =
        std::fs::read_to_string(dir.join("package-lock.json")).map_err(|e| format!("e2e/package-lock.json: {e}"))?;
    let stamp = dir.join("node_modules").join(".installed-lock");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == lock) {
        return Ok(());
    }
    run(Command::new("npm").current_dir(&dir).args(["ci", "--legacy-peer-deps", "--no-audit", "--no-fund"]))?;
    std::fs::write(&stamp, lock).map_err(|e| e.to_string())
}

fn install_cargo_deny() -> Result<(), String> {
    let ok = Command::new("cargo-deny")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(DENY_VERSION));
    if ok {
        return Ok(());
    }
    run(cargo().args(["install", "cargo-deny", "--version", DENY_VERSION, "--locked"]))
}

fn install_python_venv() -> Result<PathBuf, String> {
    let venv = root().join(".tools").join("venv");
    let requirements = root().join("xtask").join("requirements.txt");
    let stamp = venv.join(".requirements");
    let wanted =
        std::fs::read_to_string(&requirements).map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return Ok(venv);
    }
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| succeeds(Command::new(p).arg("--version")))
        .ok_or("python3 is required")?;
    run(Command::new(python).args(["-m", "venv"]).arg(&venv))?;
    let pip = venv.join("bin").join("pip");
    run(Command::new(&pip).args(["install", "--quiet", "--disable-pip-version-check", "-r"]).arg(&requirements))?;
    std::fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    Ok(venv)
}
