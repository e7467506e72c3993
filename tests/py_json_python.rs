//! `py_json::push_sorted` against Python itself: random JSON texts, object keys written raw
//! and escaped, given twice, with lone surrogates, control characters and astral characters,
//! each compared with `json.dumps(json.loads(text), sort_keys=True)` and `bool()` from one
//! python3 run.

use opsdeck::domain::py_json::push_sorted;
use std::io::Write;
use std::process::{Command, Stdio};

/// xorshift64*: the same texts every run, so a failure names a text that stays failing.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Pieces of string literal bodies: each character raw or escaped, so the same key comes
/// both ways and must sort and merge as one.
const ATOMS: &[&str] = &[
    "a",
    "b",
    "ab",
    "\\u0061",
    "é",
    "\\u00e9",
    "\\u00E9",
    "｡",
    "\\uff61",
    "😀",
    "\\ud83d\\ude00",
    "\\ud800",
    "\\udc00x",
    "\\u0001",
    "\\n",
    "\\t",
    "\\\"",
    "\\\\",
    "\\/",
    "\u{7f}",
    "如何",
    " ",
];

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-17",
    "0.0",
    "-0.0",
    "1.0",
    "1e16",
    "1E-7",
    "0.1",
    "-2.5e-8",
    "123456789012345678901234567890",
    "1e400",
    "3.14159265358979",
];

fn ws(rng: &mut Rng, out: &mut String) {
    out.push_str(rng.pick(&["", "", " ", "\t", "  "]));
}

fn string(rng: &mut Rng, out: &mut String) {
    out.push('"');
    for _ in 0..rng.below(4) {
        out.push_str(rng.pick(ATOMS));
    }
    out.push('"');
}

fn value(rng: &mut Rng, out: &mut String, depth: usize) {
    let kinds = if depth >= 3 { 4 } else { 6 };
    match rng.below(kinds) {
        0 => string(rng, out),
        1 => out.push_str(rng.pick(NUMBERS)),
        2 => out.push_str(rng.pick(&["true", "false", "null"])),
        3 => string(rng, out),
        4 => {
            out.push('[');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                ws(rng, out);
                value(rng, out, depth + 1);
                ws(rng, out);
            }
            out.push(']');
        }
        _ => {
            out.push('{');
            for i in 0..rng.below(6) {
                if i > 0 {
                    out.push(',');
                }
                ws(rng, out);
                // Short keys from few atoms, so duplicates and shared prefixes are common.
                out.push('"');
                for _ in 0..rng.below(3) {
                    out.push_str(rng.pick(ATOMS));
                }
                out.push('"');
                ws(rng, out);
                out.push(':');
                ws(rng, out);
                value(rng, out, depth + 1);
            }
            ws(rng, out);
            out.push('}');
        }
    }
}

const PYTHON: &str = r#"
import json, sys
for line in sys.stdin.read().split("\n")[:-1]:
    v = json.loads(line)
    print(json.dumps([json.dumps(v, sort_keys=True), bool(v)]))
"#;

#[test]
fn sorted_json_equals_pythons_for_random_texts() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let texts: Vec<String> = (0..3000)
        .map(|_| {
            let mut t = String::new();
            ws(&mut rng, &mut t);
            value(&mut rng, &mut t, 0);
            ws(&mut rng, &mut t);
            t
        })
        .collect();
    let mut child = Command::new("python3")
        .args(["-c", PYTHON])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 on PATH (scripts/test.sh installs it)");
    let mut stdin = child.stdin.take().unwrap();
    let input: String = texts.iter().map(|t| format!("{t}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "python3 failed");
    let answers: Vec<(String, bool)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), texts.len());
    for (text, (want, want_truth)) in texts.iter().zip(&answers) {
        let mut got = String::new();
        let truth = push_sorted(&mut got, text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(&got, want, "json.dumps of {text}");
        assert_eq!(truth, *want_truth, "bool() of {text}");
    }
}
