//! The real binary in a tmux pane on a private tmux server, with a clean environment the
//! test chooses: send keys, read the screen, and keep every byte the program wrote to the
//! terminal (`pipe-pane`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

pub struct Pane {
    dir: tempfile::TempDir,
    socket: PathBuf,
    env: Vec<(String, String)>,
    /// Everything the program wrote to the terminal.
    pub output: PathBuf,
}

impl Pane {
    /// Starts `program args` in a `w`x`h` pane whose environment is `env` plus PATH, LANG
    /// and TERM. The pane is kept when the program exits, so its last screen stays readable.
    pub fn start(program: &str, args: &[&str], env: &[(&str, &str)], w: u16, h: u16) -> Pane {
        let ok = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "tmux is not installed: run scripts/test.sh, which installs it"
        );
        let mut dir = tempfile::tempdir().expect("tempdir");
        // A unix socket path must fit in about 100 bytes, whatever TMPDIR is.
        if dir.path().as_os_str().len() > 80 {
            dir = tempfile::tempdir_in("/tmp").expect("tempdir in /tmp");
        }
        let pane = Pane {
            socket: dir.path().join("tmux.sock"),
            output: dir.path().join("pane.out"),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            dir,
        };
        let (w, h) = (w.to_string(), h.to_string());
        let mut argv = vec![
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &w,
            "-y",
            &h,
            "--",
            program,
        ];
        argv.extend_from_slice(args);
        pane.tmux(&argv);
        pane.tmux(&["set-option", "-g", "remain-on-exit", "on"]);
        pane.tmux(&["set-option", "-g", "window-size", "manual"]);
        let out = pane.output.to_str().unwrap().to_string();
        pane.tmux(&["pipe-pane", "-o", "-t", "t", &format!("cat >> '{out}'")]);
        pane
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("LANG", "C.UTF-8")
            .env("TERM", "xterm-256color")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null");
        cmd
    }

    pub fn tmux(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().expect("cannot run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The visible screen as text.
    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    /// The visible screen with its colours and attributes as escape sequences.
    pub fn screen_with_escapes(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-e", "-t", "t"])
    }

    pub fn send(&self, keys: &[&str]) {
        let mut argv = vec!["send-keys", "-t", "t"];
        argv.extend_from_slice(keys);
        self.tmux(&argv);
    }

    /// Whether the program in the pane has exited.
    pub fn dead(&self) -> bool {
        self.tmux(&["display-message", "-p", "-t", "t", "#{pane_dead}"])
            .trim()
            == "1"
    }

    /// Polls the screen until `pred` holds; panics with the last screen after `timeout`.
    pub fn wait_screen(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            if start.elapsed() > timeout {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            sleep(Duration::from_millis(50));
        }
    }

    /// Every byte the program wrote to the terminal so far.
    pub fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.output).unwrap_or_default()
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}
