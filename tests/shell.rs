//! Shell habits through the binary: completion scripts and the man page are generated from
//! the command-line definitions, so they name every subcommand and flag; `--help` ends with
//! examples.

use std::process::Command;

const SUBCOMMANDS: [&str; 8] = [
    "snapshot",
    "report",
    "check-config",
    "warmup",
    "invalidate",
    "scale",
    "completions",
    "man",
];

fn opsdeck(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(args)
        .env_remove("OPSDECK_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_name_every_subcommand_and_flag_and_bash_parses_them() {
    for shell in ["bash", "zsh", "fish"] {
        let script = opsdeck(&["completions", shell]);
        for word in SUBCOMMANDS
            .iter()
            .chain(&["hpa-min", "kb-version", "read-only"])
        {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opsdeck.bash");
    std::fs::write(&path, opsdeck(&["completions", "bash"])).unwrap();
    let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Loaded into bash, it completes the subcommands.
    let complete = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(opsdeck sc); COMP_CWORD=1; _opsdeck opsdeck sc opsdeck; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            path.display()
        ))
        .output()
        .unwrap();
    let words = String::from_utf8_lossy(&complete.stdout);
    assert!(words.lines().any(|w| w == "scale"), "{words}");
    assert!(!opsdeck_fails(&["completions", "tcsh"]).is_empty());
}

fn opsdeck_fails(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_man_page_has_a_section_per_subcommand_with_its_options() {
    let page = opsdeck(&["man"]);
    assert!(page.contains(".TH opsdeck 1"), "{page}");
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!(".SH \"OPSDECK {}\"", sub.to_uppercase())),
            "no section for {sub}"
        );
    }
    assert!(page.contains("\\fBopsdeck scale\\fR"));
    assert!(page.contains("\\-\\-hpa\\-min"));
    assert!(page.contains("Examples:"));
}

#[test]
fn help_ends_with_examples() {
    let help = opsdeck(&["--help"]);
    let examples = help.split("Examples:").nth(1).expect("an Examples section");
    assert!(examples.contains("opsdeck --demo"));
    assert!(examples.contains("opsdeck snapshot --json"));
    assert!(examples.contains("opsdeck completions bash"));
}
