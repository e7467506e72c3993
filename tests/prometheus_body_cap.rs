//! HTTP answers are read with a size cap: a Prometheus API answer over 64 MiB and a scrape
//! target over 16 MiB are errors naming the URL (redacted) and the cap, with
//! the declared length known up front or only as the bytes arrive.

mod support;

use chrono::Utc;
use opsdeck::config::PrometheusConfig;
use opsdeck::sources::prometheus::api::{API_BODY_CAP, Client};
use opsdeck::sources::prometheus::scrape::{SCRAPE_BODY_CAP, observe};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::http::{HttpServer, Response};

fn client(url: &str) -> Client {
    support::install_crypto();
    Client::new(&PrometheusConfig {
        url: url.into(),
        timeout_ms: 30_000,
        ..Default::default()
    })
    .unwrap()
}

/// Answers every request with `len` bytes of `fill`, its length declared.
fn declared(len: usize, fill: u8, content_type: &'static str) -> HttpServer {
    let body = String::from_utf8(vec![fill; len]).unwrap();
    HttpServer::start(Arc::new(move |_, _| Response {
        status: 200,
        content_type,
        body: body.clone(),
    }))
}

/// Answers every request with `len` bytes of `fill`, its length undeclared (read to the
/// end of the connection), as a streaming or chunked answer arrives.
fn undeclared(len: usize, fill: u8) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                    line.clear();
                }
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
                if conn.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = vec![fill; 64 * 1024];
                let mut sent = 0;
                while sent < len {
                    let n = chunk.len().min(len - sent);
                    if conn.write_all(&chunk[..n]).is_err() {
                        return;
                    }
                    sent += n;
                }
            });
        }
    });
    format!("http://{addr}")
}

fn with_password(url: &str) -> String {
    url.replacen("http://", "http://ops:hunter2@", 1)
}

#[tokio::test]
async fn an_api_answer_over_the_cap_is_an_error_naming_url_and_cap() {
    let server = declared(API_BODY_CAP + 1, b' ', "application/json");
    let started = Instant::now();
    let e = client(&with_password(&server.url()))
        .query("up", Utc::now())
        .await
        .expect_err("over the cap")
        .to_string();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(e.contains(&format!("{}/api/v1/query", server.addr)), "{e}");
    assert!(e.contains("larger than 64 MiB"), "{e}");
    assert!(!e.contains("hunter2"), "{e}");
}

#[tokio::test]
async fn a_streamed_api_answer_is_cut_at_the_cap() {
    let url = undeclared(API_BODY_CAP + (1 << 20), b' ');
    let e = client(&url)
        .query("up", Utc::now())
        .await
        .expect_err("over the cap")
        .to_string();
    assert!(e.contains(&url), "{e}");
    assert!(e.contains("larger than 64 MiB"), "{e}");
}

#[tokio::test]
async fn an_answer_just_under_the_cap_is_read() {
    // Valid JSON padded with spaces to just under the cap: read and parsed as usual.
    let json = r#"{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}"#;
    let mut body = vec![b' '; API_BODY_CAP - json.len()];
    body.extend_from_slice(json.as_bytes());
    let body = String::from_utf8(body).unwrap();
    let server = HttpServer::start(Arc::new(move |_, _| Response {
        status: 200,
        content_type: "application/json",
        body: body.clone(),
    }));
    let a = client(&server.url()).query("2", Utc::now()).await.unwrap();
    assert_eq!(a.data, opsdeck::sources::prometheus::api::Data::Scalar(2.0));
}

#[tokio::test]
async fn a_scrape_target_over_the_cap_is_an_error_naming_it() {
    let server = declared(SCRAPE_BODY_CAP + 1, b'\n', "text/plain");
    let target = format!("{}/metrics", with_password(&server.url()));
    let e = observe(&client(&server.url()), &[target], Instant::now())
        .await
        .expect_err("the only target is over the cap")
        .to_string();
    assert!(e.contains(&format!("{}/metrics", server.addr)), "{e}");
    assert!(e.contains("larger than 16 MiB"), "{e}");
    assert!(!e.contains("hunter2"), "{e}");
}
