//! A Redis unix socket that accepts connections and never answers (a server stopped with
//! SIGSTOP, or a socket left behind by something else): connecting gives up after the
//! timeout and says so, with the socket's path; the snapshot's sampling too.

use opsdeck::config::RedisConfig;
use opsdeck::sources::redis;
use opsdeck::sources::redis::conn::Endpoint;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Accepts every connection and holds it open without reading or answering.
fn silent_socket(dir: &tempfile::TempDir) -> PathBuf {
    let path = dir.path().join("redis.sock");
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming() {
            held.push(c);
        }
    });
    path
}

fn config(path: &std::path::Path) -> RedisConfig {
    RedisConfig {
        url: Some(format!("unix://{}", path.display())),
        ..Default::default()
    }
}

#[tokio::test]
async fn connecting_to_a_silent_unix_socket_times_out_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = silent_socket(&dir);
    let ep = Endpoint::from_config(&config(&path)).unwrap().remove(0);
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        ep.connect(Duration::from_millis(300)),
    )
    .await
    .expect("the connect gives up by itself");
    let e = result.expect_err("nothing answers").to_string();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(e.contains(&path.display().to_string()), "{e}");
    assert!(
        e.contains("timed out") || e.contains("no answer within"),
        "{e}"
    );
}

#[tokio::test]
async fn sampling_a_silent_unix_socket_reports_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = silent_socket(&dir);
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(20),
        redis::sample_twice(config(&path), Duration::from_millis(200)),
    )
    .await
    .expect("the sample gives up by itself");
    let e = result.expect_err("nothing answers");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(e.contains(&path.display().to_string()), "{e}");
    assert!(
        e.contains("timed out") || e.contains("no answer within"),
        "{e}"
    );
}
