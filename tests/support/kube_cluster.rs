//! The cluster most Kubernetes tests start from, and ways to watch and draw it.

use super::kube_api::{Kind, KubeApi};
use super::kube_fixtures as fx;
use chrono::Utc;
use opsdeck::config::{Config, KubernetesConfig};
use opsdeck::sources::{ClusterSample, Payload, SourceUpdate};
use opsdeck::state::{Msg, State, View};
use opsdeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Duration;
use tokio::sync::mpsc;

pub fn kcfg(api: &KubeApi) -> KubernetesConfig {
    KubernetesConfig {
        kubeconfig: Some(api.kubeconfig.clone()),
        ..Default::default()
    }
}

/// Two deployments in cs-prod: `answer-api` owned by an HPA (min 2, max 20), `ingest`
/// without one; a spot CPU node and an on-demand GPU node.
pub async fn cluster() -> KubeApi {
    cluster_on(0).await
}

/// The same cluster on a given port (0: any free port).
pub async fn cluster_on(port: u16) -> KubeApi {
    let api = KubeApi::start_on(port).await;
    api.put(Kind::Node, fx::node("ip-10-0-1-1", "m6i.2xlarge", "spot"));
    api.put(
        Kind::Node,
        fx::node("ip-10-0-2-1", "g5.2xlarge", "on-demand"),
    );
    api.put(
        Kind::Deployment,
        fx::deployment("cs-prod", "answer-api", 4, 4),
    );
    api.put(Kind::Deployment, fx::deployment("cs-prod", "ingest", 2, 2));
    api.put(
        Kind::Hpa,
        fx::hpa("cs-prod", "answer-api", 2, 20, 4, Some(140), None),
    );
    for i in 0..4 {
        api.put(
            Kind::Pod,
            fx::pod("cs-prod", "answer-api", i, "ip-10-0-1-1"),
        );
    }
    for i in 0..2 {
        api.put(Kind::Pod, fx::pod("cs-prod", "ingest", i, "ip-10-0-2-1"));
    }
    api
}

/// Waits for a sample that satisfies `ok`, failing with the last thing seen.
pub async fn sample_where(
    rx: &mut mpsc::Receiver<SourceUpdate>,
    ok: impl Fn(&ClusterSample) -> bool,
) -> ClusterSample {
    let mut last = String::from("nothing");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let u = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no matching sample in 20 s; last: {last}"))
            .expect("the source stopped");
        match u.payload {
            Ok(Payload::Cluster(c)) if ok(&c) => return *c,
            Ok(Payload::Cluster(c)) => last = format!("{c:?}"),
            Ok(_) => {}
            Err(e) => last = format!("error: {e}"),
        }
    }
}

pub fn render_scaling(sample: ClusterSample) -> String {
    let config = Config {
        kubernetes: Some(KubernetesConfig::default()),
        ..Default::default()
    };
    let mut state = State::new(config, Utc::now(), false);
    state.apply(Msg::Source(SourceUpdate {
        context: None,
        at: Utc::now(),
        source: opsdeck::sources::SourceKind::Kubernetes,
        payload: Ok(Payload::Cluster(Box::new(sample))),
    }));
    state.view = View::Scaling;
    let mut t = Terminal::new(TestBackend::new(160, 48)).unwrap();
    t.draw(|f| ui::draw(f, &state, &Theme::default_dark()))
        .unwrap();
    t.backend().to_string()
}
