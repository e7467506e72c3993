//! A Kubernetes API server that takes requests in and never answers (all of them, or only
//! watches), and one that is not there yet: `snapshot --json` and `scale` give up in bounded
//! time naming the timeout, a watch that hangs after its list turns into the source's error,
//! and a source started before the API server shows the cluster once the server is up.

mod support;

use opsdeck::config::KubernetesConfig;
use opsdeck::sources::kube;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::kube_api::{Hang, Kind, write_kubeconfig};
use support::kube_cluster::{cluster, cluster_on, kcfg, sample_where};
use support::kube_fixtures as fx;
use tokio::sync::mpsc;

const MI: u64 = 1024 * 1024;

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn write_config(dir: &Path, kubeconfig: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    let audit = dir.join("audit.jsonl");
    std::fs::write(
        &path,
        format!(
            "[kubernetes]\nkubeconfig = {:?}\n\n[actions]\naudit_log = {:?}\n",
            kubeconfig.display().to_string(),
            audit.display().to_string()
        ),
    )
    .unwrap();
    path
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs the binary; past `limit` it is killed, so a hang fails the test instead of stalling it.
async fn opsdeck(config: PathBuf, args: &[&str], limit: Duration) -> Run {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .arg("--config")
            .arg(&config)
            .args(&args)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        while child.try_wait().unwrap().is_none() && started.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            took: started.elapsed(),
        }
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_answers_within_15_s_when_the_api_server_never_answers() {
    let api = cluster().await;
    api.hang(Hang::Everything);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &api.kubeconfig);
    let run = opsdeck(config, &["snapshot", "--json"], Duration::from_secs(40)).await;
    assert!(run.took < Duration::from_secs(15), "took {:?}", run.took);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect(&run.stdout);
    let k = &json["sources"]["kubernetes"];
    assert_eq!(k["status"], "error", "{k}");
    let e = k["error"].as_str().unwrap();
    assert!(e.contains("no answer within"), "{e}");
    assert!(e.contains(&format!("127.0.0.1:{}", api.port)), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_gives_up_within_30_s_naming_the_timeout() {
    let api = cluster().await;
    api.hang(Hang::Everything);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &api.kubeconfig);
    let args = ["scale", "cs-prod/ingest", "--replicas", "3", "--yes"];
    let run = opsdeck(config, &args, Duration::from_secs(60)).await;
    assert!(run.took < Duration::from_secs(30), "took {:?}", run.took);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("no answer within"), "{}", run.stderr);
    let replicas = &api.get(Kind::Deployment, "cs-prod", "ingest").unwrap()["spec"]["replicas"];
    assert_eq!(replicas, 2, "nothing was changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_that_hangs_after_its_list_becomes_the_sources_error() {
    let api = cluster().await;
    api.hang(Hang::Watches);
    let timeouts = kube::Timeouts {
        connect: Duration::from_secs(1),
        read: Duration::from_secs(2),
        watch: Duration::from_secs(2),
    };
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(kube::run_with(kcfg(&api), tx, timeouts));
    // The lists are answered: the cluster is shown first.
    sample_where(&mut rx, |c| c.deployments.len() == 2).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let error = loop {
        let u = tokio::time::timeout_at(deadline.into(), rx.recv())
            .await
            .expect("an error within 20 s while every watch hangs")
            .expect("the source stopped");
        if let Err(e) = u.payload {
            break e;
        }
    };
    task.abort();
    assert!(error.contains("no answer within"), "{error}");
    let watches: Vec<_> = api
        .requests()
        .into_iter()
        .filter(|r| r.query.contains("watch=true"))
        .collect();
    assert!(!watches.is_empty());
    for w in &watches {
        assert!(w.query.contains("timeoutSeconds=2"), "{}", w.query);
    }
}

/// The server ends every watch after timeoutSeconds; the client's longer read timeout never
/// fires on a quiet cluster, so no error shows while nothing happens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_cluster_shows_no_error_across_watch_renewals() {
    let api = cluster().await;
    let timeouts = kube::Timeouts {
        connect: Duration::from_secs(1),
        read: Duration::from_secs(2),
        watch: Duration::from_secs(1),
    };
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(kube::run_with(kcfg(&api), tx, timeouts));
    sample_where(&mut rx, |c| c.deployments.len() == 2).await;
    // Three times the watch client's read timeout (1 s + 3 s) without an event.
    let quiet_until = Instant::now() + Duration::from_secs(12);
    while let Ok(Some(u)) = tokio::time::timeout_at(quiet_until.into(), rx.recv()).await {
        assert!(u.payload.is_ok(), "{:?}", u.payload.err());
    }
    // The renewed watches still follow the cluster.
    api.put(Kind::Deployment, fx::deployment("cs-prod", "ingest", 3, 3));
    sample_where(&mut rx, |c| c.deployments[1].replicas == 3).await;
    task.abort();
    let renewals = api
        .requests()
        .iter()
        .filter(|r| r.query.contains("watch=true"))
        .count();
    assert!(
        renewals >= 4 * 5,
        "every watch was renewed about every second: {renewals}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_started_before_the_api_server_shows_the_cluster_once_it_is_up() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    write_kubeconfig(&kubeconfig, port);
    let cfg = KubernetesConfig {
        kubeconfig: Some(kubeconfig),
        ..Default::default()
    };
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(kube::run(cfg, tx));
    let first = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the source says the server is unreachable")
        .expect("the source keeps running");
    let e = first.payload.expect_err("nothing listens yet");
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");

    // The server comes up with the VPA CRD: the cluster, VPAs included, is shown.
    let api = cluster_on(port).await;
    api.install_vpa_crd();
    api.put(
        Kind::Vpa,
        fx::vpa("cs-prod", "answer-api", "250m", 512 * MI),
    );
    let c = sample_where(&mut rx, |c| {
        c.deployments.len() == 2 && c.deployments[0].vpa.is_some()
    })
    .await;
    task.abort();
    assert_eq!(c.context, "test-ctx");
    let watches: Vec<_> = api
        .requests()
        .into_iter()
        .filter(|r| r.query.contains("watch=true"))
        .collect();
    assert!(!watches.is_empty());
    for w in &watches {
        assert!(w.query.contains("timeoutSeconds=30"), "{}", w.query);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kubeconfig_that_appears_later_is_picked_up_without_a_restart() {
    let api = cluster().await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let cfg = KubernetesConfig {
        kubeconfig: Some(kubeconfig.clone()),
        ..Default::default()
    };
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(kube::run(cfg, tx));
    let first = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the source reports the missing kubeconfig")
        .expect("the source keeps running");
    let e = first.payload.expect_err("no kubeconfig yet");
    assert!(e.contains("kubeconfig"), "{e}");
    std::fs::copy(&api.kubeconfig, &kubeconfig).unwrap();
    let c = sample_where(&mut rx, |c| c.deployments.len() == 2).await;
    task.abort();
    assert_eq!(c.context, "test-ctx");
}
