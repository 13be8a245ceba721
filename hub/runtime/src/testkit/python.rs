//! Third-party implementations from PyPI as test oracles: a venv with pinned requirements,
//! built once under the calling crate's `CARGO_TARGET_TMPDIR` and shared by every test (and
//! every test binary) that asks for the same requirements.
//!
//! The venv is built in a private staging directory and renamed into place when complete, so
//! test binaries running at the same time never see half an install: the first rename wins, a
//! loser drops its copy and uses the winner's (a venv's interpreter finds its packages relative
//! to its own path, so the rename is safe as long as only `bin/python` is used). No python3 or
//! no PyPI is an error naming what to install: tests fail, never skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// FNV-1a, to name the venv after its requirements (a changed pin gets a fresh venv).
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Run `cmd`; its output, or an error with both streams.
pub fn run(cmd: &mut Command, what: &str) -> Result<Output, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot run {:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{what} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The interpreter of a venv named `name` under `tmp` (pass `env!("CARGO_TARGET_TMPDIR")`)
/// with the requirements file `requirements` installed and `imports` importable.
pub fn venv(name: &str, tmp: &Path, requirements: &Path, imports: &str) -> Result<PathBuf, String> {
    let reqs = std::fs::read_to_string(requirements)
        .map_err(|e| format!("{}: {e}", requirements.display()))?;
    let venv = tmp.join(format!("{name}-venv-{:016x}", fnv(&reqs)));
    let python = venv.join("bin/python");
    let ready = |dir: &Path| {
        std::fs::read_to_string(dir.join("READY")).is_ok_and(|r| r == reqs) && python.exists()
    };
    if ready(&venv) {
        return Ok(python);
    }
    std::fs::create_dir_all(tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let staging = tmp.join(format!(
        "{name}-venv-staging-{}-{nanos}",
        std::process::id()
    ));
    let hint = "these checks need python3 (3.9+) with the venv module and pip \
                (Debian: apt-get install python3 python3-venv python3-pip) and PyPI reachable";
    run(
        Command::new("python3").arg("-m").arg("venv").arg(&staging),
        "python3 -m venv",
    )
    .map_err(|e| format!("{e}\n{hint}"))?;
    run(
        Command::new(staging.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "-r",
            ])
            .arg(requirements),
        &format!("pip install -r {}", requirements.display()),
    )
    .map_err(|e| format!("{e}\n{hint}"))?;
    run(
        Command::new(staging.join("bin/python")).args(["-c", &format!("import {imports}")]),
        &format!("importing {imports}"),
    )?;
    std::fs::write(staging.join("READY"), &reqs).map_err(|e| e.to_string())?;
    if let Err(e) = std::fs::rename(&staging, &venv) {
        let _ = std::fs::remove_dir_all(&staging);
        if !ready(&venv) {
            return Err(format!("moving the venv to {}: {e}", venv.display()));
        }
    }
    Ok(python)
}
