//! The real binary in a real pseudo-terminal: tmux gives it a pane, sends it keys and
//! resizes it, and its format variables say whether the program left the alternate screen
//! and showed the cursor again on the way out.
//!
//! The pane runs a small shell wrapper rather than opsdeck itself: when a pane's process
//! dies, tmux hides the cursor of the dead pane, which would hide whether opsdeck restored
//! it. The wrapper records opsdeck's exit status and keeps the pane alive as opsdeck left it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Generous, for a loaded CI machine; the polls return as soon as the condition holds.
const START_TIMEOUT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(10);
/// The issue's deadline for SIGTERM and SIGHUP.
const SIGNAL_DEADLINE: Duration = Duration::from_secs(1);

const WRAPPER: &str = r#"status_file=$1; shift; "$@"; echo $? > "$status_file.tmp"; mv "$status_file.tmp" "$status_file"; exec sleep 3600"#;

fn require_tmux() {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "tmux is not installed: the terminal tests need it. Run scripts/test.sh, which installs it."
    );
}

/// opsdeck running in a detached tmux session on a private server.
struct Console {
    dir: tempfile::TempDir,
    socket: PathBuf,
    status_file: PathBuf,
}

impl Console {
    fn start() -> Console {
        Console::start_with(&[])
    }

    /// The demo console with extra flags (e.g. `--read-only`).
    fn start_with(flags: &[&str]) -> Console {
        require_tmux();
        let mut dir = tempfile::tempdir().expect("tempdir");
        // A unix socket path must fit in about 100 bytes, whatever TMPDIR is.
        if dir.path().as_os_str().len() > 80 {
            dir = tempfile::tempdir_in("/tmp").expect("tempdir in /tmp");
        }
        let home = dir.path().join("home");
        let cwd = dir.path().join("cwd");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&cwd).unwrap();
        let console = Console {
            socket: dir.path().join("tmux.sock"),
            status_file: dir.path().join("status"),
            dir,
        };
        let bin = env!("CARGO_BIN_EXE_opsdeck");
        let status_file = console.status_file.to_str().unwrap();
        let cwd = cwd.to_str().unwrap();
        console.tmux(
            &[
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                "80",
                "-y",
                "24",
                "-c",
                cwd,
                "--",
                "sh",
                "-c",
                WRAPPER,
                "wrapper",
                status_file,
                bin,
                "--demo",
            ]
            .into_iter()
            .chain(flags.iter().copied())
            .collect::<Vec<_>>(),
        );
        // Set after the session exists: tmux 3.3a crashes when a new session is created
        // with window-size manual already set.
        console.tmux(&["set-option", "-g", "window-size", "manual"]);
        console
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Every tmux call gets the same clean environment, so the server (and the pane it
    /// spawns) sees only the tempdir as home and config dirs: the audit log and the config
    /// lookup stay inside it.
    fn command(&self) -> Command {
        let home = self.home();
        let mut cmd = Command::new("tmux");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("LANG", "C.UTF-8")
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null");
        cmd
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out: Output = self.command().args(args).output().expect("cannot run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn display(&self, format: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", "t", format])
            .trim()
            .to_string()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    /// Polls the screen until `pred` holds; panics with the last screen otherwise.
    fn wait_screen(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            if let Some(code) = self.exit_status() {
                panic!("opsdeck exited ({code}) while waiting for {what}; screen:\n{screen}");
            }
            if start.elapsed() > START_TIMEOUT {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            sleep(POLL);
        }
    }

    /// Waits for the console to be up: drawn in the alternate screen.
    fn wait_console(&self) {
        let screen = self.wait_screen("the console", shows_console);
        assert!(screen.contains("opsdeck"), "screen:\n{screen}");
        assert_eq!(
            self.display("#{alternate_on}"),
            "1",
            "the console should draw in the alternate screen"
        );
    }

    /// opsdeck's pid: the wrapper shell's child.
    fn pid(&self) -> u32 {
        let shell: u32 = self.display("#{pane_pid}").parse().expect("pane_pid");
        let start = Instant::now();
        loop {
            if let Some(pid) = child_of(shell) {
                return pid;
            }
            assert!(
                start.elapsed() < START_TIMEOUT,
                "no child process of the pane's shell {shell}"
            );
            sleep(POLL);
        }
    }

    fn exit_status(&self) -> Option<i32> {
        let text = std::fs::read_to_string(&self.status_file).ok()?;
        Some(text.trim().parse().expect("exit status"))
    }

    /// Waits for opsdeck to exit; returns its status and how long it took from `since`.
    fn wait_exit(&self, since: Instant) -> (i32, Duration) {
        loop {
            if let Some(code) = self.exit_status() {
                return (code, since.elapsed());
            }
            if since.elapsed() > START_TIMEOUT {
                panic!(
                    "opsdeck did not exit within {START_TIMEOUT:?}; screen:\n{}",
                    self.screen()
                );
            }
            sleep(POLL);
        }
    }

    fn signal(&self, name: &str) -> Instant {
        let pid = self.pid();
        let sent = Instant::now();
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -{name} {pid}"))
            .status()
            .expect("cannot run sh");
        assert!(status.success(), "kill -{name} {pid} failed");
        sent
    }

    /// After exit: out of the alternate screen, cursor visible, exit status 0.
    fn assert_restored(&self, code: i32) {
        let screen = self.screen();
        assert_eq!(code, 0, "opsdeck's exit status; screen:\n{screen}");
        assert_eq!(
            self.display("#{alternate_on}"),
            "0",
            "the alternate screen was not left; screen:\n{screen}"
        );
        assert_eq!(
            self.display("#{cursor_flag}"),
            "1",
            "the cursor was left hidden; screen:\n{screen}"
        );
        assert!(!screen.contains("panicked"), "screen:\n{screen}");
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}

fn shows_console(screen: &str) -> bool {
    screen.contains("opsdeck") && screen.contains("overview") && !screen.contains("opsdeck needs")
}

/// The first process whose parent is `parent`, read from /proc/*/stat.
fn child_of(parent: u32) -> Option<u32> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) =
            std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat"))
        else {
            continue;
        };
        // The command name sits in parentheses and may hold spaces: fields follow the last ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) {
            return Some(pid);
        }
    }
    None
}

#[test]
fn q_quits_and_restores_the_terminal() {
    let console = Console::start();
    console.wait_console();
    let sent = Instant::now();
    console.tmux(&["send-keys", "-t", "t", "q"]);
    let (code, _) = console.wait_exit(sent);
    console.assert_restored(code);
}

fn assert_signal_exits_in_time(name: &str) {
    let console = Console::start();
    console.wait_console();
    let sent = console.signal(name);
    let (code, took) = console.wait_exit(sent);
    assert!(
        took <= SIGNAL_DEADLINE,
        "SIG{name}: exit took {took:?}, the deadline is {SIGNAL_DEADLINE:?}"
    );
    console.assert_restored(code);
}

#[test]
fn sigterm_exits_within_a_second_and_restores_the_terminal() {
    assert_signal_exits_in_time("TERM");
}

#[test]
fn sighup_exits_within_a_second_and_restores_the_terminal() {
    assert_signal_exits_in_time("HUP");
}

#[test]
fn resize_to_40x12_shows_the_note_and_back_draws_the_console() {
    let console = Console::start();
    console.wait_console();

    console.tmux(&["resize-window", "-t", "t", "-x", "40", "-y", "12"]);
    let screen = console.wait_screen("the too-small note", |s| s.contains("this is 40x12"));
    assert!(screen.contains("needs"), "screen:\n{screen}");
    assert_eq!(console.exit_status(), None, "opsdeck exited on resize");

    console.tmux(&["resize-window", "-t", "t", "-x", "80", "-y", "24"]);
    console.wait_screen("the console again at 80x24", shows_console);
    assert_eq!(console.exit_status(), None, "opsdeck exited on resize");

    let sent = Instant::now();
    console.tmux(&["send-keys", "-t", "t", "q"]);
    let (code, _) = console.wait_exit(sent);
    console.assert_restored(code);
}

#[test]
fn audit_and_config_lookup_stay_in_the_test_home() {
    // Guards the other tests' isolation: the pane sees the tempdir as its home.
    let console = Console::start();
    console.wait_console();
    let pid = console.pid();
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("environ");
    let home = format!("HOME={}", console.home().display());
    assert!(
        environ.split(|b| *b == 0).any(|var| var == home.as_bytes()),
        "opsdeck does not run with {home}"
    );
    console.tmux(&["send-keys", "-t", "t", "q"]);
    let (code, _) = console.wait_exit(Instant::now());
    assert_eq!(code, 0);
}

/// The demo's audit file, as the console in tmux writes it.
fn audit_lines(console: &Console) -> Vec<serde_json::Value> {
    let path = console.home().join(".local/state/opsdeck/audit.jsonl");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
        .collect()
}

/// SIGTERM while a warmup runs: the action stops between batches, its end line says it
/// was interrupted and how far it got, and the exit status says so too.
#[test]
fn sigterm_during_an_action_writes_its_end_line_and_exits_non_zero() {
    let console = Console::start();
    console.wait_console();
    // w opens the warmup on the demo's hot questions (20000 entries, a few seconds);
    // Tab Tab reaches Warm up.
    for key in ["w", "Tab", "Tab", "Enter"] {
        console.tmux(&["send-keys", "-t", "t", key]);
    }
    console.wait_screen("the warmup running", |s| s.contains("/20000"));
    let sent = console.signal("TERM");
    let (code, took) = console.wait_exit(sent);
    assert_ne!(code, 0, "an interrupted action is not a clean exit");
    assert!(took <= Duration::from_secs(5), "took {took:?}");
    let lines = audit_lines(&console);
    let outcomes: Vec<&str> = lines
        .iter()
        .map(|l| l["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["started", "interrupted"], "{lines:?}");
    let done = lines[1]["parameters"]["done"].as_u64().unwrap();
    assert!(done > 0 && done < 20_000, "done {done}");
}

/// q while an action runs asks first; any key but y goes back, y cancels and quits.
#[test]
fn q_during_an_action_asks_and_y_cancels_and_quits() {
    let console = Console::start();
    console.wait_console();
    for key in ["w", "Tab", "Tab", "Enter"] {
        console.tmux(&["send-keys", "-t", "t", key]);
    }
    console.wait_screen("the warmup running", |s| s.contains("/20000"));
    console.tmux(&["send-keys", "-t", "t", "q"]);
    console.wait_screen("the question", |s| s.contains("Cancel it and quit?"));
    console.tmux(&["send-keys", "-t", "t", "n"]);
    console.wait_screen("the question gone", |s| !s.contains("Cancel it and quit?"));
    console.tmux(&["send-keys", "-t", "t", "q"]);
    console.wait_screen("the question again", |s| s.contains("Cancel it and quit?"));
    let sent = Instant::now();
    console.tmux(&["send-keys", "-t", "t", "y"]);
    let (code, _) = console.wait_exit(sent);
    console.assert_restored(code);
    let outcomes: Vec<String> = audit_lines(&console)
        .iter()
        .map(|l| l["outcome"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(outcomes, ["started", "cancelled"]);
}

/// `--read-only`: an action key says actions are off instead of doing nothing silently.
#[test]
fn read_only_action_keys_say_why_they_do_nothing() {
    let console = Console::start_with(&["--read-only"]);
    console.wait_console();
    console.tmux(&["send-keys", "-t", "t", "s"]);
    let screen = console.wait_screen("the read-only note", |s| s.contains("s: read-only"));
    assert!(!screen.contains("Scale deployment"), "screen:\n{screen}");
}

/// While the terminal is under the minimum, keys other than quit do nothing: `2` and `s`
/// typed at 50x15 leave the overview without a dialog once it is big enough again.
#[test]
fn keys_wait_while_the_screen_is_too_small() {
    let console = Console::start();
    console.wait_console();
    console.tmux(&["resize-window", "-t", "t", "-x", "50", "-y", "15"]);
    console.wait_screen("the too-small note", |s| s.contains("this is 50x15"));
    for key in ["2", "s"] {
        console.tmux(&["send-keys", "-t", "t", key]);
    }
    sleep(Duration::from_millis(300));
    console.tmux(&["resize-window", "-t", "t", "-x", "80", "-y", "24"]);
    let screen = console.wait_screen("the console again", shows_console);
    assert!(!screen.contains("Scale deployment"), "screen:\n{screen}");
    assert!(screen.contains("Replicas"), "still the overview:\n{screen}");
}

/// The demo's warmup reads the file as a real one does: a missing file is an error, not
/// "wrote 20000 of 20000 keys".
#[test]
fn a_demo_warmup_of_a_missing_file_says_so() {
    let console = Console::start();
    console.wait_console();
    // Wide enough for the whole message in the status bar.
    console.tmux(&["resize-window", "-t", "t", "-x", "200", "-y", "30"]);
    console.tmux(&["send-keys", "-t", "t", "3", "w"]);
    console.wait_screen("the warmup dialog", |s| s.contains("Warm up the cache"));
    for _ in 0.."demo:hot-questions".len() {
        console.tmux(&["send-keys", "-t", "t", "BSpace"]);
    }
    console.tmux(&["send-keys", "-t", "t", "-l", "/nonexistent/faq.jsonl"]);
    console.tmux(&["send-keys", "-t", "t", "Enter"]);
    let screen = console.wait_screen("the error", |s| {
        s.contains("No such file") && s.contains("(demo)")
    });
    assert!(!screen.contains("wrote"), "screen:\n{screen}");
    assert!(screen.contains("(demo)"), "screen:\n{screen}");
}
