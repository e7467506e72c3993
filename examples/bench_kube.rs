//! The Kubernetes source at scale: `serve` runs the test API server with PODS pods in
//! DEPLOYMENTS deployments (half with an HPA) on 100 nodes; `source KUBECONFIG` watches it
//! in its own process, so its RSS is the source's and the console's alone, then renders the
//! Scaling view on a 160x48 TestBackend and prints frame times. Run by scripts/bench-kube.sh.

#[allow(dead_code)]
#[path = "../tests/support/kube_api/mod.rs"]
mod kube_api;
#[allow(dead_code)]
#[path = "../tests/support/kube_fixtures.rs"]
mod kube_fixtures;

use chrono::Utc;
use kube_api::{Kind, KubeApi};
use kube_fixtures as fx;
use opsdeck::config::{Config, KubernetesConfig};
use opsdeck::sources::{Payload, SourceKind, SourceUpdate, kube};
use opsdeck::state::{Msg, State, View};
use opsdeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

async fn serve(pods: usize, deployments: usize) {
    let api = KubeApi::start().await;
    let nodes = 100;
    for n in 0..nodes {
        let (ty, cap) = match n % 4 {
            0 => ("g5.2xlarge", "on-demand"),
            1 => ("r6i.2xlarge", "on-demand"),
            _ => ("m6i.2xlarge", "spot"),
        };
        api.put(Kind::Node, fx::node(&format!("node-{n:03}"), ty, cap));
    }
    let per = pods / deployments;
    for d in 0..deployments {
        let ns = format!("team-{:02}", d % 20);
        let name = format!("svc-{d:03}");
        api.put(
            Kind::Deployment,
            fx::deployment(&ns, &name, per as u32, per as u32),
        );
        if d % 2 == 0 {
            api.put(
                Kind::Hpa,
                fx::hpa(&ns, &name, 2, 40, per as u32, Some(65), Some("12")),
            );
        }
        for i in 0..per {
            let node = format!("node-{:03}", (d * per + i) % nodes);
            api.put(Kind::Pod, fx::pod(&ns, &name, i, &node));
        }
    }
    println!("{}", api.kubeconfig.display());
    // Serve until the script closes our stdin.
    let _ = tokio::task::spawn_blocking(|| {
        let mut s = String::new();
        let _ = std::io::stdin().read_line(&mut s);
    })
    .await;
}

async fn source(kubeconfig: String, deployments: usize) {
    let before = rss_kib("VmRSS:");
    let cfg = KubernetesConfig {
        kubeconfig: Some(kubeconfig.into()),
        ..Default::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let started = Instant::now();
    tokio::spawn(kube::run(cfg, tx));
    let sample = loop {
        let u = tokio::time::timeout(Duration::from_secs(120), rx.recv())
            .await
            .expect("a full sample within 120 s")
            .expect("the source runs");
        match u.payload {
            Ok(Payload::Cluster(c)) if c.deployments.len() >= deployments => break c,
            Err(e) => panic!("source error: {e}"),
            _ => {}
        }
    };
    let synced = started.elapsed();
    // Let the watches settle, then read the steady-state figure.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss = rss_kib("VmRSS:");
    let hwm = rss_kib("VmHWM:");
    let pods: u32 = sample.pools.iter().map(|p| p.pods).sum();

    let config = Config {
        kubernetes: Some(KubernetesConfig::default()),
        ..Default::default()
    };
    let mut state = State::new(config, Utc::now(), false);
    state.apply(Msg::Source(SourceUpdate {
        context: None,
        at: Utc::now(),
        source: SourceKind::Kubernetes,
        payload: Ok(Payload::Cluster(sample)),
    }));
    state.view = View::Scaling;
    state.selected = 7;
    let theme = Theme::default_dark();
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let mut frames: Vec<Duration> = (0..1000)
        .map(|_| {
            let t = Instant::now();
            terminal.draw(|f| ui::draw(f, &state, &theme)).unwrap();
            t.elapsed()
        })
        .collect();
    frames.sort();
    let pct = |p: f64| frames[((frames.len() - 1) as f64 * p) as usize];
    println!("deployments       {}", state.visible_deployments().len());
    println!("pods              {pods}");
    println!("first full sample {:.2} s", synced.as_secs_f64());
    println!("rss before        {:.1} MB", before as f64 / 1024.0);
    println!(
        "rss steady        {:.1} MB (target <= 120 MB)",
        rss as f64 / 1024.0
    );
    println!("rss peak          {:.1} MB", hwm as f64 / 1024.0);
    println!("frame p50         {:.3} ms", pct(0.50).as_secs_f64() * 1e3);
    println!(
        "frame p99         {:.3} ms (target <= 1 ms)",
        pct(0.99).as_secs_f64() * 1e3
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let num = |i: usize, d: usize| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    match args.get(1).map(String::as_str) {
        Some("serve") => serve(num(2, 10_000), num(3, 500)).await,
        Some("source") => source(args[2].clone(), num(3, 500)).await,
        _ => eprintln!(
            "usage: bench_kube serve [PODS] [DEPLOYMENTS] | source KUBECONFIG [DEPLOYMENTS]"
        ),
    }
}
