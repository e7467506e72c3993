//! Input generators for `tests/fuzz_parsers.rs`: random bytes, and mutations of real
//! captures (byte edits, inserted grammar tokens, spliced spans, JSON tree edits) so that
//! most cases get past the first syntax check and reach the code behind it.
#![allow(dead_code)]

use proptest::prelude::*;
use serde_json::{Map, Value};

/// Cases per property: `OPSDECK_FUZZ_CASES`, or 256 so the normal suite stays fast.
pub fn cases() -> u32 {
    std::env::var("OPSDECK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(256)
}

pub fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        // A million cases of mutated text: shrinking is what makes a failure readable.
        max_shrink_iters: 20_000,
        // A failing input becomes a regular test in tests/parser_regressions.rs instead.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[derive(Debug, Clone)]
pub enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    /// One of the grammar's own tokens, so a mutation makes a new valid-looking field.
    Token(usize, usize),
    Delete(usize, u8),
    Truncate(usize),
    /// Copy `len` bytes from one place to another: repeated lines, nested objects.
    Splice {
        from: usize,
        len: u8,
        to: usize,
    },
}

/// Bytes that matter to the grammars, so random edits hit the interesting paths often.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        prop::sample::select(b"{}[]\",:=0123456789.eE+-NaInf \r\n#\\$_le".to_vec()),
    ]
}

pub fn edits(max: usize) -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(
        prop_oneof![
            3 => (any::<usize>(), byte()).prop_map(|(i, b)| Edit::Replace(i, b)),
            2 => (any::<usize>(), byte()).prop_map(|(i, b)| Edit::Insert(i, b)),
            4 => (any::<usize>(), any::<usize>()).prop_map(|(i, t)| Edit::Token(i, t)),
            2 => (any::<usize>(), any::<u8>()).prop_map(|(i, n)| Edit::Delete(i, n % 16 + 1)),
            1 => any::<usize>().prop_map(Edit::Truncate),
            2 => (any::<usize>(), any::<u8>(), any::<usize>())
                .prop_map(|(from, len, to)| Edit::Splice { from, len, to }),
        ],
        1..=max,
    )
}

pub fn mutate(src: &[u8], edits: &[Edit], tokens: &[&str]) -> Vec<u8> {
    let mut b = src.to_vec();
    for e in edits {
        let n = b.len();
        match *e {
            Edit::Replace(i, x) if n > 0 => b[i % n] = x,
            Edit::Insert(i, x) => b.insert(i % (n + 1), x),
            Edit::Token(i, t) if !tokens.is_empty() => {
                let at = i % (n + 1);
                b.splice(at..at, tokens[t % tokens.len()].bytes());
            }
            Edit::Delete(i, len) if n > 0 => {
                let at = i % n;
                b.drain(at..(at + len as usize).min(n));
            }
            Edit::Truncate(i) => b.truncate(i % (n + 1)),
            Edit::Splice { from, len, to } if n > 0 => {
                let from = from % n;
                let piece = b[from..(from + len as usize).min(n)].to_vec();
                let to = to % (n + 1);
                b.splice(to..to, piece);
            }
            _ => {}
        }
    }
    b
}

/// An input as bytes, shown as (lossy) text when a property fails, so the failing case
/// can be read and pasted into a regular test.
#[derive(Clone)]
pub struct Bytes(pub Vec<u8>);

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(s) => write!(f, "{s:?}"),
            Err(_) => write!(f, "lossy {:?}", String::from_utf8_lossy(&self.0)),
        }
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// Random bytes, random printable text, or a mutated capture (most often).
pub fn input(
    captures: &'static [&'static str],
    tokens: &'static [&'static str],
    max_edits: usize,
) -> impl Strategy<Value = Bytes> {
    let any_input = prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..512),
        1 => "\\PC{0,300}".prop_map(String::into_bytes),
        6 => (0..captures.len(), edits(max_edits))
            .prop_map(move |(i, e)| mutate(captures[i].as_bytes(), &e, tokens)),
    ];
    any_input.prop_map(Bytes)
}

/// `input` as text, the way a reader that takes `&str` would see a byte stream.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// --- JSON tree mutations -------------------------------------------------------------

/// Words the Kubernetes types, the Prometheus API and our conversions branch on.
const WORDS: &[&str] = &[
    "vector",
    "matrix",
    "scalar",
    "string",
    "success",
    "error",
    "input",
    "output",
    "cached_input",
    "NaN",
    "+Inf",
    "-Inf",
    "1e309",
    "1700000000.123",
    "Resource",
    "ContainerResource",
    "Pods",
    "Object",
    "External",
    "Utilization",
    "AverageValue",
    "Value",
    "Percent",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "Min",
    "Max",
    "Disabled",
    "Succeeded",
    "Failed",
    "Running",
    "Auto",
    "Off",
    "*",
    "cpu",
    "memory",
    "nvidia.com/gpu",
    "pod-template-hash",
    "5d9f8b7c6",
    "llm-gateway-5d9f8b7c6",
    "-",
    "",
];

const KEYS: &[&str] = &[
    "status",
    "data",
    "resultType",
    "result",
    "metric",
    "values",
    "warnings",
    "errorType",
    "model",
    "direction",
    "deployment",
    "service",
    "resource",
    "replicas",
    "readyReplicas",
    "availableReplicas",
    "minReplicas",
    "maxReplicas",
    "currentReplicas",
    "desiredReplicas",
    "averageUtilization",
    "averageValue",
    "value",
    "type",
    "name",
    "kind",
    "container",
    "metrics",
    "currentMetrics",
    "policies",
    "periodSeconds",
    "stabilizationWindowSeconds",
    "selectPolicy",
    "requests",
    "limits",
    "labels",
    "ownerReferences",
    "phase",
    "nodeName",
    "allocatable",
    "containerName",
    "target",
    "minAllowed",
    "maxAllowed",
    "updateMode",
    "namespace",
    "resourceVersion",
];

/// Numbers at the edges of the fields' types, and quantities at the edges of `f64`.
pub fn json_leaf() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![
            i64::from(i32::MIN),
            -1,
            0,
            1,
            2,
            100,
            i64::from(i32::MAX),
            i64::from(i32::MAX) + 1,
            i64::from(u32::MAX),
        ])
        .prop_map(Value::from),
        prop::sample::select(vec![0.5, -0.0, 1e308, -1e308, 5e-324, 70.0000001])
            .prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[-+]?[0-9]{0,22}(\\.[0-9]{0,6})?([eE][-+]?[0-9]{1,4})?(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?"
            .prop_map(Value::from),
        prop::sample::select(WORDS).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ]
}

fn json_key() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        3 => prop::sample::select(KEYS).prop_map(String::from),
        1 => "[a-zA-Z./-]{0,12}",
    ]
}

pub fn json_value() -> impl Strategy<Value = Value> + Clone {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(json_key(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

#[derive(Debug, Clone)]
pub enum TreeEdit {
    Set(usize, Value),
    Remove(usize),
    AddKey(usize, String, Value),
    /// An array element repeated: two metrics of one name, two owners, two containers.
    Repeat(usize),
}

pub fn tree_edits() -> impl Strategy<Value = Vec<TreeEdit>> {
    prop::collection::vec(
        prop_oneof![
            5 => (any::<usize>(), json_value()).prop_map(|(i, v)| TreeEdit::Set(i, v)),
            2 => any::<usize>().prop_map(TreeEdit::Remove),
            2 => (any::<usize>(), json_key(), json_value())
                .prop_map(|(i, k, v)| TreeEdit::AddKey(i, k, v)),
            1 => any::<usize>().prop_map(TreeEdit::Repeat),
        ],
        1..6,
    )
}

fn pointers(v: &Value, here: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                let escaped = k.replace('~', "~0").replace('/', "~1");
                pointers(c, format!("{here}/{escaped}"), out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                pointers(c, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(here);
}

fn parent(p: &str) -> Option<(&str, &str)> {
    p.rsplit_once('/')
}

pub fn edit_tree(mut v: Value, edits: &[TreeEdit]) -> Value {
    for e in edits {
        let mut all = Vec::new();
        pointers(&v, String::new(), &mut all);
        let pick = |i: usize| all[i % all.len()].clone();
        match e {
            TreeEdit::Set(i, x) => {
                if let Some(slot) = v.pointer_mut(&pick(*i)) {
                    *slot = x.clone();
                }
            }
            TreeEdit::Remove(i) => {
                let p = pick(*i);
                if let Some((up, last)) = parent(&p) {
                    match v.pointer_mut(up) {
                        Some(Value::Object(m)) => {
                            m.remove(&last.replace("~1", "/").replace("~0", "~"));
                        }
                        Some(Value::Array(a)) => {
                            if let Ok(n) = last.parse::<usize>()
                                && n < a.len()
                            {
                                a.remove(n);
                            }
                        }
                        _ => {}
                    }
                }
            }
            TreeEdit::AddKey(i, k, x) => {
                if let Some(Value::Object(m)) = v.pointer_mut(&pick(*i)) {
                    m.insert(k.clone(), x.clone());
                }
            }
            TreeEdit::Repeat(i) => {
                if let Some(Value::Array(a)) = v.pointer_mut(&pick(*i))
                    && let Some(first) = a.first().cloned()
                {
                    a.push(first);
                }
            }
        }
    }
    v
}

/// A capture edited as a tree (and sometimes as bytes after that), or random bytes.
pub fn json_input(captures: &'static [&'static str]) -> impl Strategy<Value = Bytes> {
    let any_input = prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..256),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        6 => (0..captures.len(), tree_edits()).prop_map(move |(i, e)| {
            let v: Value = serde_json::from_str(captures[i]).expect("fixtures are JSON");
            edit_tree(v, &e).to_string().into_bytes()
        }),
        2 => (0..captures.len(), tree_edits(), edits(4)).prop_map(move |(i, t, b)| {
            let v: Value = serde_json::from_str(captures[i]).expect("fixtures are JSON");
            mutate(edit_tree(v, &t).to_string().as_bytes(), &b, &[])
        }),
    ];
    any_input.prop_map(Bytes)
}

// --- line mutations --------------------------------------------------------------------

/// Numbers at the edges of what the formats' readers accept and overflow on.
pub fn number() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        prop::sample::select(vec![
            "0",
            "1",
            "-1",
            "-0",
            "4294967295",
            "4294967296",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "1e308",
            "1e309",
            "-1e308",
            "5e-324",
            "0.5",
            "NaN",
            "nan",
            "+Inf",
            "-Inf",
            "inf",
            "",
        ])
        .prop_map(String::from),
        any::<u64>().prop_map(|n| n.to_string()),
        (1u32..64).prop_map(|b| (u64::MAX >> b).to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        "[0-9]{1,25}",
    ]
}

#[derive(Debug, Clone)]
pub enum LineEdit {
    /// A generated line put at a line boundary.
    Insert(usize, String),
    /// The value of line i (where the format's `value_span` says it is) replaced.
    Value(usize, String),
    Delete(usize),
    Repeat(usize),
}

/// Edits a capture line by line, so the lines around each edit still parse and a field can
/// take an extreme value; byte edits on top reach the grammar's corners.
pub fn line_input(
    captures: &'static [&'static str],
    lines: impl Strategy<Value = String> + Clone + 'static,
    value_span: fn(&str) -> Option<std::ops::Range<usize>>,
    tokens: &'static [&'static str],
) -> impl Strategy<Value = Bytes> {
    let edit = prop_oneof![
        3 => (any::<usize>(), lines).prop_map(|(i, l)| LineEdit::Insert(i, l)),
        3 => (any::<usize>(), number()).prop_map(|(i, v)| LineEdit::Value(i, v)),
        1 => any::<usize>().prop_map(LineEdit::Delete),
        1 => any::<usize>().prop_map(LineEdit::Repeat),
    ];
    let by_line = (
        0..captures.len(),
        prop::collection::vec(edit, 1..8),
        prop::collection::vec(edits(3), 0..2),
    )
        .prop_map(move |(i, le, be)| {
            let mut lines: Vec<String> = captures[i].split('\n').map(String::from).collect();
            for e in &le {
                let n = lines.len();
                match e {
                    LineEdit::Insert(at, l) => lines.insert(at % (n + 1), l.clone()),
                    LineEdit::Value(at, v) if n > 0 => {
                        let l = &mut lines[at % n];
                        if let Some(span) = value_span(l) {
                            l.replace_range(span, v);
                        }
                    }
                    LineEdit::Delete(at) if n > 0 => {
                        lines.remove(at % n);
                    }
                    LineEdit::Repeat(at) if n > 0 => {
                        let l = lines[at % n].clone();
                        lines.insert(at % n, l);
                    }
                    _ => {}
                }
            }
            let joined = lines.join("\n").into_bytes();
            be.iter().fold(joined, |b, e| mutate(&b, e, tokens))
        });
    prop_oneof![
        1 => input(captures, tokens, 8),
        2 => by_line.prop_map(Bytes),
    ]
}
