//! The console draws a full-screen terminal UI: with stdout redirected to a file or a pipe
//! it would write escape sequences there forever. It refuses instead (exit 2) and points
//! at `opsdeck snapshot`, which is made for scripts and pipes.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn the_console_refuses_a_stdout_that_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("--demo")
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("opsdeck snapshot"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing drawn into the pipe");
}
