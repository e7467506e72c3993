use super::*;

fn sorted(text: &str) -> (String, bool) {
    let mut out = String::new();
    let truthy = push_sorted(&mut out, text).unwrap();
    (out, truthy)
}

#[test]
fn floats_as_python_repr() {
    let cases = [
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (1e-7, "1e-07"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1.0, "1.0"),
        (-0.0, "-0.0"),
        (0.0, "0.0"),
        (1.5e300, "1.5e+300"),
        (5e-324, "5e-324"),
        (123456789.125, "123456789.125"),
        (f64::INFINITY, "Infinity"),
    ];
    for (f, want) in cases {
        let mut s = String::new();
        push_float_repr(&mut s, f);
        assert_eq!(s, want, "{f:e}");
    }
}

#[test]
fn objects_sorted_by_code_point_and_last_duplicate_wins() {
    // U+FF61 sorts before U+1F600 by code point, after it in UTF-16.
    let (s, t) = sorted(r#"{"😀": 1, "｡": 2, "a": {"b": [], "a": 1e16}, "a": 3}"#);
    assert_eq!(s, r#"{"a": 3, "\uff61": 2, "\ud83d\ude00": 1}"#);
    assert!(t);
}

#[test]
fn falsy_values() {
    for text in [
        "null", "false", "0", "-0", "0.0", "-0.0", "0e5", "\"\"", "[ ]", "{}",
    ] {
        assert!(!sorted(text).1, "{text}");
    }
    for text in ["1", "\" \"", "[0]", "{\"\": null}", "1e400", "true"] {
        assert!(sorted(text).1, "{text}");
    }
    assert_eq!(sorted("-0").0, "0");
}

#[test]
fn big_integers_and_lone_surrogates_survive() {
    let big = "-123456789012345678901234567890";
    assert_eq!(sorted(big).0, big);
    assert_eq!(sorted(r#""\ud800x\uDC00""#).0, r#""\ud800x\udc00""#);
    assert_eq!(sorted(r#""\ud83d\ude00\/""#).0, r#""\ud83d\ude00/""#);
}

#[test]
fn bad_text_is_an_error_not_a_panic() {
    for text in [
        "",
        "{",
        "[1,]",
        "01",
        "1.",
        "-",
        "\"\\x\"",
        "\"\\u12\"",
        "{1: 2}",
        "tru",
        "1 2",
        "\"a\nb\"",
        "\"",
        "\"\\",
    ] {
        assert!(push_sorted(&mut String::new(), text).is_err(), "{text:?}");
    }
    let deep = "[".repeat(200) + &"]".repeat(200);
    assert!(push_sorted(&mut String::new(), &deep).is_err());
    let long = "9".repeat(4301);
    assert!(push_sorted(&mut String::new(), &long).is_err());
}
