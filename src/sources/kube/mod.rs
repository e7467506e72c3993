//! Kubernetes: watchers (not polling) on Deployments, HorizontalPodAutoscalers
//! (`autoscaling/v2`), Pods, Nodes and, when the CRD is served, VerticalPodAutoscalers,
//! slimmed on arrival into a small store, and a
//! `ClusterSample` sent whenever the store changes (at most four times a second).
//!
//! kube's watcher relists after 410 Gone and `default_backoff` spaces out retries, so a
//! flapping API server costs a few requests a minute, not a loop.
//!
//! Nothing waits on the API server without a bound: every request has connect and read
//! timeouts, watches end server-side after `timeoutSeconds` (see `connect.rs`), the
//! snapshot gives up after [`SNAPSHOT_LIMIT`], and a cluster that cannot be reached at start
//! is tried again (1 s doubling to 30 s) instead of ending the source.

mod connect;
pub mod convert;
pub mod pools;
pub mod quota;
pub mod store;
pub mod vpa;

use crate::config::KubernetesConfig;
use crate::sources::{Payload, SourceKind, SourceUpdate};
use chrono::Utc;
use futures::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Client, Resource};
use pools::NodeLabels;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;
use store::{Change, Slim, Store};
use tokio::sync::mpsc;

use connect::Explain;
pub use connect::{KubeError, Timeouts, connect};

/// At most four samples a second, however busy the cluster.
const DEBOUNCE: Duration = Duration::from_millis(250);
/// A quiet cluster sends nothing; this resend keeps the panel from turning stale while
/// the watches are healthy.
const HEARTBEAT: Duration = Duration::from_secs(2);

/// The APIs to read: one per kind and configured namespace (all namespaces when none).
fn apis<K>(client: &Client, namespaces: &[String]) -> Vec<(Api<K>, String)>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    if namespaces.is_empty() {
        vec![(Api::all(client.clone()), "all namespaces".into())]
    } else {
        namespaces
            .iter()
            .map(|ns| {
                (
                    Api::namespaced(client.clone(), ns),
                    format!("namespace {ns}"),
                )
            })
            .collect()
    }
}

fn key<K: Resource>(o: &K) -> String {
    let m = o.meta();
    let name = m.name.as_deref().unwrap_or_default();
    match &m.namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

type Convert<K> = Arc<dyn Fn(&K) -> Option<Slim> + Send + Sync>;

/// One stream of slim changes for an API, tagged with its part of the store.
struct Watch {
    part: usize,
    what: String,
    stream: std::pin::Pin<Box<dyn Stream<Item = Result<Change, String>> + Send>>,
}

/// How the watches of one client are set up and their failures put in words.
#[derive(Clone)]
struct WatchSetup {
    config: watcher::Config,
    explain: Explain,
}

fn watch<K>(
    setup: &WatchSetup,
    api: Api<K>,
    what: String,
    part: usize,
    convert: Convert<K>,
) -> Watch
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default,
{
    let explain = setup.explain.clone();
    let stream = watcher::watcher(api, setup.config.clone())
        .default_backoff()
        .filter_map(move |ev| {
            let convert = convert.clone();
            let explain = explain.clone();
            async move {
                match ev {
                    Ok(Event::Init) => Some(Ok(Change::Init)),
                    Ok(Event::InitDone) => Some(Ok(Change::InitDone)),
                    Ok(Event::InitApply(o)) => {
                        convert(&o).map(|s| Ok(Change::InitApply(key(&o), s)))
                    }
                    // A pod that finished is removed from the view like a deleted one.
                    Ok(Event::Apply(o)) => Some(Ok(match convert(&o) {
                        Some(s) => Change::Apply(key(&o), s),
                        None => Change::Delete(key(&o)),
                    })),
                    Ok(Event::Delete(o)) => Some(Ok(Change::Delete(key(&o)))),
                    Err(e) => Some(Err(describe_watch_error(&e, &explain))),
                }
            }
        });
    Watch {
        part,
        what,
        stream: Box::pin(stream),
    }
}

/// A Kubernetes API error in words. kube's own Display of an API error appends the Rust
/// debug form of the whole `Status`, which an operator should never have to read.
pub fn error_words(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => status_words(s),
        other => other.to_string(),
    }
}

fn status_words(s: &kube::core::Status) -> String {
    let mut out = format!("HTTP {}", s.code);
    if !s.reason.is_empty() {
        out.push_str(&format!(" {}", s.reason));
    }
    if !s.message.is_empty() {
        out.push_str(&format!(": {}", s.message));
    }
    out
}

fn describe_watch_error(e: &watcher::Error, explain: &Explain) -> String {
    let api = match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => Some(s.as_ref()),
        watcher::Error::WatchError(s) => Some(s.as_ref()),
        _ => None,
    };
    match api {
        Some(s) if s.code == 403 => format!(
            "forbidden: {} (grant get/list/watch as in deploy/rbac.yaml)",
            s.message
        ),
        Some(s) if s.code == 401 => {
            format!(
                "unauthorized: {} (refresh the kubeconfig credentials)",
                s.message
            )
        }
        _ => match e {
            watcher::Error::InitialListFailed(e) => format!("cannot list: {}", explain.error(e)),
            watcher::Error::WatchStartFailed(e) => {
                format!("cannot start watching: {}", explain.error(e))
            }
            watcher::Error::WatchFailed(e) => format!("watch failed: {}", explain.error(e)),
            other => other.to_string(),
        },
    }
}

fn watches(client: &Client, setup: &WatchSetup, cfg: &KubernetesConfig, vpas: bool) -> Vec<Watch> {
    let labels = NodeLabels::from_config(cfg);
    let mut out = Vec::new();
    let ns = &cfg.namespaces;
    let dep: Convert<Deployment> = Arc::new(|d| Some(Slim::Deployment(convert::deployment(d))));
    let hpa: Convert<HorizontalPodAutoscaler> = Arc::new(|h| Some(Slim::Hpa(convert::hpa(h))));
    let pod: Convert<Pod> = Arc::new(|p| convert::pod(p).map(Slim::Pod));
    for (api, what) in apis::<Deployment>(client, ns) {
        out.push(watch(
            setup,
            api,
            format!("deployments in {what}"),
            out.len(),
            dep.clone(),
        ));
    }
    for (api, what) in apis::<HorizontalPodAutoscaler>(client, ns) {
        let what = format!("horizontalpodautoscalers in {what}");
        out.push(watch(setup, api, what, out.len(), hpa.clone()));
    }
    for (api, what) in apis::<Pod>(client, ns) {
        out.push(watch(
            setup,
            api,
            format!("pods in {what}"),
            out.len(),
            pod.clone(),
        ));
    }
    let node: Convert<Node> = Arc::new(move |n| Some(Slim::Node(convert::node(n, &labels))));
    out.push(watch(
        setup,
        Api::all(client.clone()),
        "nodes".into(),
        out.len(),
        node,
    ));
    if vpas {
        let slim: Convert<vpa::VerticalPodAutoscaler> = Arc::new(|v| Some(Slim::Vpa(vpa::slim(v))));
        for (api, what) in apis::<vpa::VerticalPodAutoscaler>(client, ns) {
            let what = format!("verticalpodautoscalers in {what}");
            out.push(watch(setup, api, what, out.len(), slim.clone()));
        }
    }
    out
}

fn update(context: &Option<String>, payload: Result<Payload, String>) -> SourceUpdate {
    SourceUpdate {
        context: context.clone(),
        at: Utc::now(),
        source: SourceKind::Kubernetes,
        payload,
    }
}

/// Watches the cluster until `tx` closes. Sends a fresh sample whenever what is shown
/// changes (debounced), and `Err(message)` when the configuration or a watch fails.
pub async fn run(cfg: KubernetesConfig, tx: mpsc::Sender<SourceUpdate>) {
    run_with(cfg, tx, Timeouts::default()).await
}

/// [`run`] with other timeouts (tests use short ones).
pub async fn run_with(cfg: KubernetesConfig, tx: mpsc::Sender<SourceUpdate>, t: Timeouts) {
    let Some(cluster) = reach(&cfg, &tx, &t).await else {
        return;
    };
    watch_cluster(cluster, &cfg, tx).await
}

/// Waits between attempts to reach the cluster at start: 1 s, doubling up to 30 s.
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// A cluster that answered: the watch client and what the watches need to know.
struct Reached {
    client: Client,
    context: String,
    vpas: bool,
    setup: WatchSetup,
}

/// Tries until the cluster answers, reporting each failure, so a console started while the
/// API server is down (or before its kubeconfig exists) shows the cluster once it is back.
/// None when `tx` closed meanwhile.
async fn reach(
    cfg: &KubernetesConfig,
    tx: &mpsc::Sender<SourceUpdate>,
    t: &Timeouts,
) -> Option<Reached> {
    let mut wait = FIRST_RETRY;
    loop {
        match attempt(cfg, t).await {
            Ok(r) => return Some(r),
            Err(e) => {
                let e = format!("{e} (retrying in {} s)", wait.as_secs());
                tx.send(update(&cfg.context, Err(e))).await.ok()?;
            }
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(LAST_RETRY);
    }
}

async fn attempt(cfg: &KubernetesConfig, t: &Timeouts) -> Result<Reached, String> {
    let (config, context) = connect::load(cfg).await.map_err(|e| e.to_string())?;
    let requests = connect::client(config.clone(), t.connect, t.read).map_err(|e| e.to_string())?;
    // The first request: whether VPAs are served, and whether the API server answers at all.
    let vpas = vpa::served(&requests).await.map_err(|e| {
        format!(
            "{context}: {}",
            Explain::new(&config, t.connect, t.read).error(&e)
        )
    })?;
    let setup = WatchSetup {
        config: watcher::Config::default().timeout(t.watch_seconds()),
        explain: Explain::new(&config, t.connect, t.watch_read()),
    };
    let client = connect::client(config, t.connect, t.watch_read()).map_err(|e| e.to_string())?;
    Ok(Reached {
        client,
        context,
        vpas,
        setup,
    })
}

async fn watch_cluster(cluster: Reached, cfg: &KubernetesConfig, tx: mpsc::Sender<SourceUpdate>) {
    let Reached {
        client,
        context,
        vpas,
        setup,
    } = cluster;
    let watches = watches(&client, &setup, cfg, vpas);
    let mut store = Store::new(watches.len());
    let mut errors: Vec<Option<String>> = vec![None; watches.len()];
    let labels: Vec<String> = watches.iter().map(|w| w.what.clone()).collect();
    let mut merged = futures::stream::select_all(
        watches
            .into_iter()
            .map(|w| w.stream.map(move |c| (w.part, c))),
    );
    let mut debounce = tokio::time::interval(DEBOUNCE);
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    debounce.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = false;
    let mut error_dirty = false;
    loop {
        tokio::select! {
            item = merged.next() => {
                let Some((part, change)) = item else { return };
                match change {
                    Ok(c) => {
                        // Any event means the stream is back: its last error no longer holds.
                        error_dirty |= errors[part].take().is_some();
                        dirty |= store.apply(part, c);
                    }
                    Err(e) => {
                        errors[part] = Some(format!("{context}: {}: {e}", labels[part]));
                        error_dirty = true;
                    }
                }
            }
            _ = debounce.tick() => {
                if error_dirty || dirty {
                    let sent = send(cfg, &tx, &store, &errors, &context);
                    if sent == Sent::Closed { return; }
                    if sent == Sent::Yes { dirty = false; error_dirty = false; }
                }
            }
            _ = heartbeat.tick() => {
                if send(cfg, &tx, &store, &errors, &context) == Sent::Closed { return; }
            }
        }
    }
}

#[derive(PartialEq)]
enum Sent {
    Yes,
    Not,
    Closed,
}

fn send(
    cfg: &KubernetesConfig,
    tx: &mpsc::Sender<SourceUpdate>,
    store: &Store,
    errors: &[Option<String>],
    context: &str,
) -> Sent {
    let payload = match errors.iter().flatten().next() {
        Some(e) => Err(e.clone()),
        None if store.synced() => Ok(Payload::Cluster(Box::new(store.sample(context)))),
        None => return Sent::Not,
    };
    // try_send: a busy App loop gets the next sample instead of holding this task up.
    match tx.try_send(update(&cfg.context, payload)) {
        Ok(()) => Sent::Yes,
        Err(mpsc::error::TrySendError::Full(_)) => Sent::Not,
        Err(mpsc::error::TrySendError::Closed(_)) => Sent::Closed,
    }
}

/// `opsdeck snapshot` waits this long for the cluster at most, whatever the API server does.
pub const SNAPSHOT_LIMIT: Duration = Duration::from_secs(10);

/// Lists everything once (for `opsdeck snapshot`) and returns the sample or the error,
/// within [`SNAPSHOT_LIMIT`].
pub async fn snapshot(cfg: KubernetesConfig) -> SourceUpdate {
    update(
        &cfg.context,
        snapshot_within(&cfg, Timeouts::default(), SNAPSHOT_LIMIT).await,
    )
}

async fn snapshot_within(
    cfg: &KubernetesConfig,
    t: Timeouts,
    limit: Duration,
) -> Result<Payload, String> {
    let (config, context) = connect::load(cfg).await.map_err(|e| e.to_string())?;
    let explain = Explain::new(&config, t.connect, t.read);
    let client = connect::client(config, t.connect, t.read).map_err(|e| e.to_string())?;
    match tokio::time::timeout(limit, list_once(cfg, &client, &context, &explain)).await {
        Ok(listed) => listed.map_err(|e| format!("{context}: {e}")),
        Err(_) => Err(format!(
            "{context}: API server {}: no answer within {} s (the snapshot's time limit)",
            explain.server,
            limit.as_secs()
        )),
    }
}

async fn list_once(
    cfg: &KubernetesConfig,
    client: &Client,
    context: &str,
    explain: &Explain,
) -> Result<Payload, String> {
    let labels = NodeLabels::from_config(cfg);
    let mut store = Store::new(5);
    let ns = &cfg.namespaces;
    for (api, what) in apis::<Deployment>(client, ns) {
        list(&mut store, 0, api, &what, explain, |d| {
            Some(Slim::Deployment(convert::deployment(d)))
        })
        .await?;
    }
    for (api, what) in apis::<HorizontalPodAutoscaler>(client, ns) {
        list(&mut store, 1, api, &what, explain, |h| {
            Some(Slim::Hpa(convert::hpa(h)))
        })
        .await?;
    }
    for (api, what) in apis::<Pod>(client, ns) {
        list(&mut store, 2, api, &what, explain, |p| {
            convert::pod(p).map(Slim::Pod)
        })
        .await?;
    }
    let nodes = Api::<Node>::all(client.clone());
    list(&mut store, 3, nodes, "the cluster", explain, |n| {
        Some(Slim::Node(convert::node(n, &labels)))
    })
    .await?;
    // The lists above were answered: a discovery failure here only leaves VPAs out.
    if vpa::served(client).await.unwrap_or(false) {
        for (api, what) in apis::<vpa::VerticalPodAutoscaler>(client, ns) {
            list(&mut store, 4, api, &what, explain, |v| {
                Some(Slim::Vpa(vpa::slim(v)))
            })
            .await?;
        }
    }
    for part in 0..5 {
        store.apply(part, Change::InitDone);
    }
    Ok(Payload::Cluster(Box::new(store.sample(context))))
}

async fn list<K>(
    store: &mut Store,
    part: usize,
    api: Api<K>,
    what: &str,
    explain: &Explain,
    convert: impl Fn(&K) -> Option<Slim>,
) -> Result<(), String>
where
    K: Resource + Clone + DeserializeOwned + Debug,
    K::DynamicType: Default,
{
    let mut params = ListParams::default().limit(500);
    loop {
        let page = api.list(&params).await.map_err(|e| {
            let plural = K::plural(&Default::default()).to_string();
            match &e {
                kube::Error::Api(s) if s.code == 403 => format!(
                    "forbidden: cannot list {plural} in {what}: {} (grant list as in deploy/rbac.yaml)",
                    s.message
                ),
                _ => format!("cannot list {plural} in {what}: {}", explain.error(&e)),
            }
        })?;
        for o in &page.items {
            if let Some(s) = convert(o) {
                store.apply(part, Change::InitApply(key(o), s));
            }
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_error_reads_in_words_without_the_debug_form() {
        let e = kube::Error::Api(
            kube::core::Status::failure("etcdserver: request timed out", "InternalError")
                .with_code(500)
                .boxed(),
        );
        assert!(e.to_string().contains("Status {"), "kube's own Display");
        assert_eq!(
            error_words(&e),
            "HTTP 500 InternalError: etcdserver: request timed out"
        );
    }
}
