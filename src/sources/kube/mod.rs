//! Kubernetes: watchers (not polling) on Deployments, HorizontalPodAutoscalers
//! (`autoscaling/v2`), Pods, Nodes and, when the CRD is served, VerticalPodAutoscalers,
//! slimmed on arrival into a small store, and a
//! `ClusterSample` sent whenever the store changes (at most four times a second).
//!
//! kube's watcher relists after 410 Gone and `default_backoff` spaces out retries, so a
//! flapping API server costs a few requests a minute, not a loop.

pub mod convert;
pub mod pools;
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
use kube::config::{KubeConfigOptions, Kubeconfig};
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

/// At most four samples a second, however busy the cluster.
const DEBOUNCE: Duration = Duration::from_millis(250);
/// A quiet cluster sends nothing; this resend keeps the panel from turning stale while
/// the watches are healthy.
const HEARTBEAT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("kubernetes: cannot read kubeconfig {path}: {source} (fix [kubernetes].kubeconfig)")]
    Kubeconfig {
        path: String,
        source: kube::config::KubeconfigError,
    },
    #[error(
        "kubernetes: no usable configuration ({0}); set KUBECONFIG, [kubernetes].kubeconfig or run in a pod with a service account"
    )]
    Infer(String),
    #[error("kubernetes context {context:?}: {message} (check `kubectl config get-contexts`)")]
    Context { context: String, message: String },
    #[error("kubernetes: cannot build a client: {0}")]
    Client(kube::Error),
}

/// A client for the configured cluster, and the context's name for the header.
pub async fn connect(cfg: &KubernetesConfig) -> Result<(Client, String), KubeError> {
    let options = KubeConfigOptions {
        context: cfg.context.clone(),
        ..Default::default()
    };
    let (config, context) = match (&cfg.kubeconfig, &cfg.context) {
        (Some(path), _) => {
            let kc = Kubeconfig::read_from(path).map_err(|source| KubeError::Kubeconfig {
                path: path.display().to_string(),
                source,
            })?;
            let name = cfg
                .context
                .clone()
                .or_else(|| kc.current_context.clone())
                .unwrap_or_default();
            let config = kube::Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| KubeError::Context {
                    context: name.clone(),
                    message: e.to_string(),
                })?;
            (config, name)
        }
        (None, Some(ctx)) => {
            let config =
                kube::Config::from_kubeconfig(&options)
                    .await
                    .map_err(|e| KubeError::Context {
                        context: ctx.clone(),
                        message: e.to_string(),
                    })?;
            (config, ctx.clone())
        }
        (None, None) => {
            let config = kube::Config::infer()
                .await
                .map_err(|e| KubeError::Infer(e.to_string()))?;
            let name = Kubeconfig::read()
                .ok()
                .and_then(|k| k.current_context)
                .unwrap_or_else(|| "in-cluster".into());
            (config, name)
        }
    };
    let client = Client::try_from(config).map_err(KubeError::Client)?;
    Ok((client, context))
}

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

fn watch<K>(api: Api<K>, what: String, part: usize, convert: Convert<K>) -> Watch
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default,
{
    let stream = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .filter_map(move |ev| {
            let convert = convert.clone();
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
                    Err(e) => Some(Err(describe_watch_error(&e))),
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

fn describe_watch_error(e: &watcher::Error) -> String {
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
        Some(s) => status_words(s),
        None => e.to_string(),
    }
}

fn watches(client: &Client, cfg: &KubernetesConfig, vpas: bool) -> Vec<Watch> {
    let labels = NodeLabels::from_config(cfg);
    let mut out = Vec::new();
    let ns = &cfg.namespaces;
    let dep: Convert<Deployment> = Arc::new(|d| Some(Slim::Deployment(convert::deployment(d))));
    let hpa: Convert<HorizontalPodAutoscaler> = Arc::new(|h| Some(Slim::Hpa(convert::hpa(h))));
    let pod: Convert<Pod> = Arc::new(|p| convert::pod(p).map(Slim::Pod));
    for (api, what) in apis::<Deployment>(client, ns) {
        out.push(watch(
            api,
            format!("deployments in {what}"),
            out.len(),
            dep.clone(),
        ));
    }
    for (api, what) in apis::<HorizontalPodAutoscaler>(client, ns) {
        let what = format!("horizontalpodautoscalers in {what}");
        out.push(watch(api, what, out.len(), hpa.clone()));
    }
    for (api, what) in apis::<Pod>(client, ns) {
        out.push(watch(
            api,
            format!("pods in {what}"),
            out.len(),
            pod.clone(),
        ));
    }
    let node: Convert<Node> = Arc::new(move |n| Some(Slim::Node(convert::node(n, &labels))));
    out.push(watch(
        Api::all(client.clone()),
        "nodes".into(),
        out.len(),
        node,
    ));
    if vpas {
        let slim: Convert<vpa::VerticalPodAutoscaler> = Arc::new(|v| Some(Slim::Vpa(vpa::slim(v))));
        for (api, what) in apis::<vpa::VerticalPodAutoscaler>(client, ns) {
            let what = format!("verticalpodautoscalers in {what}");
            out.push(watch(api, what, out.len(), slim.clone()));
        }
    }
    out
}

fn update(payload: Result<Payload, String>) -> SourceUpdate {
    SourceUpdate {
        at: Utc::now(),
        source: SourceKind::Kubernetes,
        payload,
    }
}

/// Watches the cluster until `tx` closes. Sends a fresh sample whenever what is shown
/// changes (debounced), and `Err(message)` when the configuration or a watch fails.
pub async fn run(cfg: KubernetesConfig, tx: mpsc::Sender<SourceUpdate>) {
    let (client, context) = match connect(&cfg).await {
        Ok(c) => c,
        Err(e) => {
            let _ = tx.send(update(Err(e.to_string()))).await;
            return;
        }
    };
    let vpas = vpa::served(&client).await;
    let watches = watches(&client, &cfg, vpas);
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
                    let sent = send(&tx, &store, &errors, &context);
                    if sent == Sent::Closed { return; }
                    if sent == Sent::Yes { dirty = false; error_dirty = false; }
                }
            }
            _ = heartbeat.tick() => {
                if send(&tx, &store, &errors, &context) == Sent::Closed { return; }
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
    match tx.try_send(update(payload)) {
        Ok(()) => Sent::Yes,
        Err(mpsc::error::TrySendError::Full(_)) => Sent::Not,
        Err(mpsc::error::TrySendError::Closed(_)) => Sent::Closed,
    }
}

/// Lists everything once (for `opsdeck snapshot`) and returns the sample or the error.
pub async fn snapshot(cfg: KubernetesConfig) -> SourceUpdate {
    update(list_once(&cfg).await)
}

async fn list_once(cfg: &KubernetesConfig) -> Result<Payload, String> {
    let (client, context) = connect(cfg).await.map_err(|e| e.to_string())?;
    let labels = NodeLabels::from_config(cfg);
    let mut store = Store::new(5);
    let ns = &cfg.namespaces;
    for (api, what) in apis::<Deployment>(&client, ns) {
        list(&mut store, 0, api, &what, |d| {
            Some(Slim::Deployment(convert::deployment(d)))
        })
        .await?;
    }
    for (api, what) in apis::<HorizontalPodAutoscaler>(&client, ns) {
        list(&mut store, 1, api, &what, |h| {
            Some(Slim::Hpa(convert::hpa(h)))
        })
        .await?;
    }
    for (api, what) in apis::<Pod>(&client, ns) {
        list(&mut store, 2, api, &what, |p| {
            convert::pod(p).map(Slim::Pod)
        })
        .await?;
    }
    let nodes = Api::<Node>::all(client.clone());
    list(&mut store, 3, nodes, "the cluster", |n| {
        Some(Slim::Node(convert::node(n, &labels)))
    })
    .await?;
    if vpa::served(&client).await {
        for (api, what) in apis::<vpa::VerticalPodAutoscaler>(&client, ns) {
            list(&mut store, 4, api, &what, |v| Some(Slim::Vpa(vpa::slim(v)))).await?;
        }
    }
    for part in 0..5 {
        store.apply(part, Change::InitDone);
    }
    Ok(Payload::Cluster(Box::new(store.sample(&context))))
}

async fn list<K>(
    store: &mut Store,
    part: usize,
    api: Api<K>,
    what: &str,
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
                _ => format!("cannot list {plural} in {what}: {}", error_words(&e)),
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
