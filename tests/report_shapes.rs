//! `report` against a Prometheus API that answers every query with a result type the
//! report does not read there (a scalar, a string, a range): each part is named as not
//! computed with the shape it got, and the command exits 1 instead of panicking.

mod support;

use std::process::Command;
use std::sync::Arc;
use support::http::{HttpServer, Response};

fn serve(result_type: &'static str, result: &'static str) -> HttpServer {
    HttpServer::start(Arc::new(move |_, _| Response {
        status: 200,
        content_type: "application/json",
        body: format!(
            r#"{{"status":"success","data":{{"resultType":"{result_type}","result":{result}}}}}"#
        ),
    }))
}

fn report(server: &HttpServer, format: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[prometheus]\nurl = \"{}\"\n\n[cost]\nstorage_query = \"sum(storage_cost_per_hour)\"\n\n\
             [cost.models.\"gpt-4\"]\ninput_per_1k = 0.03\noutput_per_1k = 0.06\n",
            server.url()
        ),
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("--config")
        .arg(&config)
        .args(["report", "--period", "day", "--format", format])
        .output()
        .unwrap()
}

fn check(result_type: &'static str, result: &'static str, named: &str) {
    let server = serve(result_type, result);
    let out = report(&server, "json");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    let missing = json["missing"].as_array().unwrap();
    let reason = |part: &str| {
        missing
            .iter()
            .find(|g| g["part"] == part)
            .and_then(|g| g["reason"].as_str())
            .unwrap_or_else(|| panic!("{part} missing in {json}"))
            .to_string()
    };
    for part in ["ai_model", "compute"] {
        let r = reason(part);
        assert!(r.contains(named), "{part}: {r}");
    }
    // The table says the same, also without a panic.
    let out = report(&server, "table");
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains(named), "{table}");
}

#[test]
fn a_scalar_where_series_are_expected_is_named_not_a_panic() {
    check("scalar", r#"[1767225600, "3"]"#, "a scalar");
}

#[test]
fn a_string_result_is_named() {
    check("string", r#"[1767225600, "three"]"#, "a string");
}

#[test]
fn a_range_result_is_named() {
    check(
        "matrix",
        r#"[{"metric":{"model":"gpt-4","direction":"input"},"values":[[1767225600,"1"]]}]"#,
        "a range",
    );
}
