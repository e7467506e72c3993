//! A Kubernetes API server on loopback, for tests: the real kube client talks to it over
//! HTTP through a kubeconfig, so what is tested is the client's real requests.
//!
//! It serves lists (with resourceVersion and `limit`/`continue` pages), watch streams
//! (ADDED / MODIFIED / DELETED / BOOKMARK, and ERROR 410 Gone for a compacted
//! resourceVersion; a watch ends after its `timeoutSeconds`), GET and merge PATCH of
//! objects and of the `deployments/scale` subresource with a resourceVersion precondition
//! (409 on mismatch), `dryRun=All`, and 403 for configured verb/resource pairs. Discovery
//! (`/api`, `/apis`, `/apis/GROUP/VERSION`) lists what is served; the VerticalPodAutoscaler
//! CRD is served only once a test installs it, and until then its paths answer 404 like a
//! cluster without it. Tests change objects and push events through [`KubeApi`]'s methods
//! and read back every request it saw.
//!
//! [`KubeApi::hang`] makes it accept requests and never answer them (all of them, or only
//! watches), as an API server behind a stuck load balancer or an overloaded etcd does.

mod serve;

use bytes::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Deployment,
    Hpa,
    Pod,
    Node,
    Vpa,
    Quota,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::Deployment,
        Kind::Hpa,
        Kind::Pod,
        Kind::Node,
        Kind::Vpa,
        Kind::Quota,
    ];

    fn from_path(group: &str, plural: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.group() == group && k.plural() == plural)
    }
    fn group(self) -> &'static str {
        match self.api_version().split_once('/') {
            Some((group, _)) => group,
            None => "",
        }
    }
    fn namespaced(self) -> bool {
        self != Kind::Node
    }
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Deployment => "deployments",
            Kind::Hpa => "horizontalpodautoscalers",
            Kind::Pod => "pods",
            Kind::Node => "nodes",
            Kind::Vpa => "verticalpodautoscalers",
            Kind::Quota => "resourcequotas",
        }
    }
    fn kind(self) -> &'static str {
        match self {
            Kind::Deployment => "Deployment",
            Kind::Hpa => "HorizontalPodAutoscaler",
            Kind::Pod => "Pod",
            Kind::Node => "Node",
            Kind::Vpa => "VerticalPodAutoscaler",
            Kind::Quota => "ResourceQuota",
        }
    }
    fn api_version(self) -> &'static str {
        match self {
            Kind::Deployment => "apps/v1",
            Kind::Hpa => "autoscaling/v2",
            Kind::Pod | Kind::Node | Kind::Quota => "v1",
            Kind::Vpa => "autoscaling.k8s.io/v1",
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub body: String,
}

#[derive(Clone)]
enum Live {
    Event { kind: Kind, ns: String, line: Bytes },
    Bookmark(u64),
    Expire,
}

type Key = (Kind, String, String);

/// Which requests the server takes in and never answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Hang {
    #[default]
    Nothing,
    /// Every request, discovery included: the connection is accepted, the request read,
    /// and no byte of an answer follows.
    Everything,
    /// Watch requests only: lists, gets and patches are answered.
    Watches,
}

#[derive(Default)]
struct Inner {
    rv: u64,
    objects: BTreeMap<Key, Value>,
    log: Vec<(u64, Kind, String, Bytes)>,
    compacted: u64,
    seen: Vec<Seen>,
    forbidden: Vec<(String, String)>,
    vpa_crd: bool,
    hang: Hang,
}

pub struct KubeApi {
    pub port: u16,
    pub kubeconfig: PathBuf,
    inner: Arc<Mutex<Inner>>,
    live: broadcast::Sender<Live>,
    _dir: tempfile::TempDir,
}

/// A kubeconfig whose current context `test-ctx` points at `http://127.0.0.1:PORT`.
pub fn write_kubeconfig(path: &std::path::Path, port: u16) {
    std::fs::write(
        path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: test-ctx\n  context:\n    cluster: test\n    user: test\n    namespace: default\ncurrent-context: test-ctx\nusers:\n- name: test\n  user: {{}}\n"
        ),
    )
    .unwrap();
}

/// One kubeconfig with a context per `(name, port)`, each on its own cluster at
/// `http://127.0.0.1:PORT`; the first is the current context.
pub fn write_kubeconfig_contexts(path: &std::path::Path, contexts: &[(&str, u16)]) {
    let mut clusters = String::new();
    let mut ctxs = String::new();
    for (name, port) in contexts {
        clusters.push_str(&format!(
            "- name: {name}-cluster\n  cluster:\n    server: http://127.0.0.1:{port}\n"
        ));
        ctxs.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {name}-cluster\n    user: test\n    namespace: default\n"
        ));
    }
    std::fs::write(
        path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n{clusters}contexts:\n{ctxs}current-context: {}\nusers:\n- name: test\n  user: {{}}\n",
            contexts[0].0
        ),
    )
    .unwrap();
}

fn event_line(kind: &str, obj: &Value) -> Bytes {
    let mut s = json!({ "type": kind, "object": obj }).to_string();
    s.push('\n');
    Bytes::from(s)
}

impl KubeApi {
    pub async fn start() -> KubeApi {
        KubeApi::start_on(0).await
    }

    /// Listens on `port` (0: any free port), e.g. one a kubeconfig already names.
    pub async fn start_on(port: u16) -> KubeApi {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let inner = Arc::new(Mutex::new(Inner {
            rv: 1000,
            ..Default::default()
        }));
        let (live, _) = broadcast::channel(65_536);
        let (i2, l2) = (inner.clone(), live.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (inner, live) = (i2.clone(), l2.clone());
                tokio::spawn(async move {
                    let svc =
                        service_fn(move |req| serve::handle(inner.clone(), live.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        write_kubeconfig(&kubeconfig, port);
        KubeApi {
            port,
            kubeconfig,
            inner,
            live,
            _dir: dir,
        }
    }

    /// Adds or replaces an object, as a controller would, and tells the watchers.
    pub fn put(&self, kind: Kind, mut obj: Value) {
        let mut g = self.inner.lock().unwrap();
        g.rv += 1;
        let rv = g.rv;
        obj["apiVersion"] = json!(kind.api_version());
        obj["kind"] = json!(kind.kind());
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let name = obj["metadata"]["name"].as_str().unwrap().to_string();
        let key = (kind, ns.clone(), name);
        let ty = if g.objects.contains_key(&key) {
            "MODIFIED"
        } else {
            "ADDED"
        };
        let line = event_line(ty, &obj);
        g.objects.insert(key, obj);
        g.log.push((rv, kind, ns.clone(), line.clone()));
        let _ = self.live.send(Live::Event { kind, ns, line });
    }

    pub fn delete(&self, kind: Kind, ns: &str, name: &str) {
        let mut g = self.inner.lock().unwrap();
        let Some(mut obj) = g.objects.remove(&(kind, ns.into(), name.into())) else {
            return;
        };
        g.rv += 1;
        let rv = g.rv;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let line = event_line("DELETED", &obj);
        g.log.push((rv, kind, ns.into(), line.clone()));
        let _ = self.live.send(Live::Event {
            kind,
            ns: ns.into(),
            line,
        });
    }

    pub fn get(&self, kind: Kind, ns: &str, name: &str) -> Option<Value> {
        let g = self.inner.lock().unwrap();
        g.objects.get(&(kind, ns.into(), name.into())).cloned()
    }

    /// Sends a BOOKMARK on every open watch.
    pub fn bookmark(&self) {
        let rv = self.inner.lock().unwrap().rv;
        let _ = self.live.send(Live::Bookmark(rv));
    }

    /// Forgets the history: open watches end with 410 Gone, and so does any watch from an
    /// older resourceVersion, as after an etcd compaction.
    pub fn expire_watches(&self) {
        let mut g = self.inner.lock().unwrap();
        g.compacted = g.rv;
        g.log.clear();
        let _ = self.live.send(Live::Expire);
    }

    /// Installs the VerticalPodAutoscaler CRD: discovery lists it and its paths are served.
    pub fn install_vpa_crd(&self) {
        self.inner.lock().unwrap().vpa_crd = true;
    }

    /// Answers 403 to `verb` on `resource` (e.g. "patch", "deployments/scale").
    pub fn forbid(&self, verb: &str, resource: &str) {
        let mut g = self.inner.lock().unwrap();
        g.forbidden.push((verb.into(), resource.into()));
    }

    /// From now on, takes in the chosen requests and never answers them.
    pub fn hang(&self, what: Hang) {
        self.inner.lock().unwrap().hang = what;
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.clone()
    }

    pub fn clear_requests(&self) {
        self.inner.lock().unwrap().seen.clear();
    }
}
