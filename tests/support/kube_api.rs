//! A Kubernetes API server on loopback, for tests: the real kube client talks to it over
//! HTTP through a kubeconfig, so what is tested is the client's real requests.
//!
//! It serves lists (with resourceVersion and `limit`/`continue` pages), watch streams
//! (ADDED / MODIFIED / DELETED / BOOKMARK, and ERROR 410 Gone for a compacted
//! resourceVersion), GET and merge PATCH of objects and of the `deployments/scale`
//! subresource with a resourceVersion precondition (409 on mismatch), `dryRun=All`, and 403
//! for configured verb/resource pairs. Tests change objects and push events through
//! [`KubeApi`]'s methods and read back every request it saw.

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Deployment,
    Hpa,
    Pod,
    Node,
}

impl Kind {
    fn from_path(group: &str, plural: &str) -> Option<Kind> {
        match (group, plural) {
            ("", "pods") => Some(Kind::Pod),
            ("", "nodes") => Some(Kind::Node),
            ("apps", "deployments") => Some(Kind::Deployment),
            ("autoscaling", "horizontalpodautoscalers") => Some(Kind::Hpa),
            _ => None,
        }
    }
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Deployment => "deployments",
            Kind::Hpa => "horizontalpodautoscalers",
            Kind::Pod => "pods",
            Kind::Node => "nodes",
        }
    }
    fn kind(self) -> &'static str {
        match self {
            Kind::Deployment => "Deployment",
            Kind::Hpa => "HorizontalPodAutoscaler",
            Kind::Pod => "Pod",
            Kind::Node => "Node",
        }
    }
    fn api_version(self) -> &'static str {
        match self {
            Kind::Deployment => "apps/v1",
            Kind::Hpa => "autoscaling/v2",
            Kind::Pod | Kind::Node => "v1",
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

#[derive(Default)]
struct Inner {
    rv: u64,
    objects: BTreeMap<Key, Value>,
    log: Vec<(u64, Kind, String, Bytes)>,
    compacted: u64,
    seen: Vec<Seen>,
    forbidden: Vec<(String, String)>,
}

pub struct KubeApi {
    pub port: u16,
    pub kubeconfig: PathBuf,
    inner: Arc<Mutex<Inner>>,
    live: broadcast::Sender<Live>,
    _dir: tempfile::TempDir,
}

fn event_line(kind: &str, obj: &Value) -> Bytes {
    let mut s = json!({ "type": kind, "object": obj }).to_string();
    s.push('\n');
    Bytes::from(s)
}

impl KubeApi {
    pub async fn start() -> KubeApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
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
                    let svc = service_fn(move |req| handle(inner.clone(), live.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: test-ctx\n  context:\n    cluster: test\n    user: test\n    namespace: default\ncurrent-context: test-ctx\nusers:\n- name: test\n  user: {{}}\n"
            ),
        )
        .unwrap();
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

    /// Answers 403 to `verb` on `resource` (e.g. "patch", "deployments/scale").
    pub fn forbid(&self, verb: &str, resource: &str) {
        let mut g = self.inner.lock().unwrap();
        g.forbidden.push((verb.into(), resource.into()));
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.clone()
    }

    pub fn clear_requests(&self) {
        self.inner.lock().unwrap().seen.clear();
    }
}

type Body = BoxBody<Bytes, Infallible>;

fn full(status: StatusCode, v: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(v.to_string())).boxed())
        .unwrap()
}

fn status(code: u16, reason: &str, message: String) -> Response<Body> {
    full(
        StatusCode::from_u16(code).unwrap(),
        &json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason, "code": code,
        }),
    )
}

fn query_map(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_string(), v.replace("%3D", "=").replace("%2F", "/")))
        .collect()
}

/// The parsed path: kind, namespace, name, subresource.
type Route = (Kind, Option<String>, Option<String>, Option<String>);

fn route(path: &str) -> Option<Route> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] => ("", rest),
        ["apis", group, _version, rest @ ..] => (*group, rest),
        _ => return None,
    };
    let (ns, rest) = match rest {
        ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(ns.to_string()), rest),
        _ => (None, rest),
    };
    let kind = Kind::from_path(group, rest.first()?)?;
    let name = rest.get(1).map(|s| s.to_string());
    let sub = rest.get(2).map(|s| s.to_string());
    Some((kind, ns, name, sub))
}

async fn handle(
    inner: Arc<Mutex<Inner>>,
    live: broadcast::Sender<Live>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    let body = String::from_utf8_lossy(&body.unwrap_or_default()).to_string();
    inner.lock().unwrap().seen.push(Seen {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        body: body.clone(),
    });
    let q = query_map(&query);
    let Some((kind, ns, name, sub)) = route(&path) else {
        return Ok(status(
            404,
            "NotFound",
            format!("the server could not find {path}"),
        ));
    };
    let watching = q.get("watch").is_some_and(|w| w == "true" || w == "1");
    let verb = match (&method, &name, watching) {
        (&Method::GET, None, true) => "watch",
        (&Method::GET, None, false) => "list",
        (&Method::GET, Some(_), _) => "get",
        (&Method::PATCH, Some(_), _) => "patch",
        _ => return Ok(status(405, "MethodNotAllowed", format!("{method} {path}"))),
    };
    let resource = match &sub {
        Some(s) => format!("{}/{s}", kind.plural()),
        None => kind.plural().to_string(),
    };
    let forbidden = inner
        .lock()
        .unwrap()
        .forbidden
        .iter()
        .any(|(v, r)| v == verb && *r == resource);
    if forbidden {
        let group = match kind {
            Kind::Deployment => "apps",
            Kind::Hpa => "autoscaling",
            _ => "",
        };
        let msg = format!(
            "{}{} is forbidden: User \"system:serviceaccount:ops:opsdeck\" cannot {verb} resource \"{resource}\" in API group \"{group}\"{}",
            kind.plural(),
            name.as_ref()
                .map(|n| format!(" \"{n}\""))
                .unwrap_or_default(),
            ns.as_ref()
                .map(|n| format!(" in the namespace \"{n}\""))
                .unwrap_or_default(),
        );
        return Ok(status(403, "Forbidden", msg));
    }
    Ok(match verb {
        "watch" => watch(&inner, &live, kind, ns, &q),
        "list" => list(&inner, kind, ns, &q),
        "get" => get(&inner, kind, ns, name.unwrap(), sub),
        _ => patch(&inner, &live, kind, ns, name.unwrap(), sub, &body, &q),
    })
}

fn list(
    inner: &Mutex<Inner>,
    kind: Kind,
    ns: Option<String>,
    q: &BTreeMap<String, String>,
) -> Response<Body> {
    let g = inner.lock().unwrap();
    let all: Vec<&Value> = g
        .objects
        .iter()
        .filter(|((k, n, _), _)| *k == kind && ns.as_ref().is_none_or(|ns| ns == n))
        .map(|(_, v)| v)
        .collect();
    let start: usize = q.get("continue").and_then(|c| c.parse().ok()).unwrap_or(0);
    let limit: usize = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(all.len());
    let mut meta = json!({ "resourceVersion": g.rv.to_string() });
    if end < all.len() {
        meta["continue"] = json!(end.to_string());
    }
    full(
        StatusCode::OK,
        &json!({
            "apiVersion": kind.api_version(),
            "kind": format!("{}List", kind.kind()),
            "metadata": meta,
            "items": &all[start.min(end)..end],
        }),
    )
}

fn watch(
    inner: &Mutex<Inner>,
    live: &broadcast::Sender<Live>,
    kind: Kind,
    ns: Option<String>,
    q: &BTreeMap<String, String>,
) -> Response<Body> {
    let from: u64 = q
        .get("resourceVersion")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let bookmarks = q.get("allowWatchBookmarks").is_some_and(|b| b == "true");
    let (tx, rx) = futures::channel::mpsc::unbounded::<Bytes>();
    let gone = move || {
        event_line(
            "ERROR",
            &json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": format!("too old resource version: {from}"),
                "reason": "Expired", "code": 410,
            }),
        )
    };
    {
        // Subscribing under the lock: no event falls between the replay and the live feed.
        let g = inner.lock().unwrap();
        if from < g.compacted {
            let _ = tx.unbounded_send(gone());
            drop(tx);
        } else {
            let mut sub = live.subscribe();
            let matches =
                move |k: Kind, n: &str| k == kind && ns.as_deref().is_none_or(|ns| ns == n);
            for (rv, k, n, line) in &g.log {
                if *rv > from && matches(*k, n) {
                    let _ = tx.unbounded_send(line.clone());
                }
            }
            tokio::spawn(async move {
                loop {
                    let line = match sub.recv().await {
                        Ok(Live::Event {
                            kind: k,
                            ns: n,
                            line,
                        }) if matches(k, &n) => line,
                        Ok(Live::Event { .. }) => continue,
                        Ok(Live::Bookmark(rv)) if bookmarks => event_line(
                            "BOOKMARK",
                            &json!({
                                "kind": kind.kind(), "apiVersion": kind.api_version(),
                                "metadata": { "resourceVersion": rv.to_string() },
                            }),
                        ),
                        Ok(Live::Bookmark(_)) => continue,
                        Ok(Live::Expire) => {
                            let _ = tx.unbounded_send(gone());
                            return;
                        }
                        Err(_) => return,
                    };
                    if tx.unbounded_send(line).is_err() {
                        return;
                    }
                }
            });
        }
    }
    let body = StreamBody::new(rx.map(|b| Ok::<_, Infallible>(Frame::data(b))));
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(BodyExt::boxed(body))
        .unwrap()
}

fn not_found(kind: Kind, name: &str) -> Response<Body> {
    status(
        404,
        "NotFound",
        format!("{} \"{name}\" not found", kind.plural()),
    )
}

fn scale_of(d: &Value) -> Value {
    json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": d["metadata"]["name"], "namespace": d["metadata"]["namespace"],
            "uid": d["metadata"]["uid"], "resourceVersion": d["metadata"]["resourceVersion"],
        },
        "spec": { "replicas": d["spec"]["replicas"] },
        "status": {
            "replicas": d["status"]["replicas"],
            "selector": format!("app={}", d["metadata"]["name"].as_str().unwrap_or("")),
        },
    })
}

fn get(
    inner: &Mutex<Inner>,
    kind: Kind,
    ns: Option<String>,
    name: String,
    sub: Option<String>,
) -> Response<Body> {
    let g = inner.lock().unwrap();
    match g.objects.get(&(kind, ns.unwrap_or_default(), name.clone())) {
        None => not_found(kind, &name),
        Some(o) if sub.as_deref() == Some("scale") => full(StatusCode::OK, &scale_of(o)),
        Some(o) => full(StatusCode::OK, o),
    }
}

/// RFC 7386 JSON merge patch.
fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().unwrap();
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

#[allow(clippy::too_many_arguments)]
fn patch(
    inner: &Mutex<Inner>,
    live: &broadcast::Sender<Live>,
    kind: Kind,
    ns: Option<String>,
    name: String,
    sub: Option<String>,
    body: &str,
    q: &BTreeMap<String, String>,
) -> Response<Body> {
    let Ok(p) = serde_json::from_str::<Value>(body) else {
        return status(400, "BadRequest", "the patch is not JSON".into());
    };
    let ns = ns.unwrap_or_default();
    let mut g = inner.lock().unwrap();
    let key = (kind, ns.clone(), name.clone());
    let Some(current) = g.objects.get(&key).cloned() else {
        return not_found(kind, &name);
    };
    if let Some(rv) = p["metadata"]["resourceVersion"].as_str()
        && Some(rv) != current["metadata"]["resourceVersion"].as_str()
    {
        return status(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {}.{} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                kind.plural(),
                kind.api_version().split('/').next().unwrap_or("")
            ),
        );
    }
    let scale = sub.as_deref() == Some("scale");
    let mut updated = current.clone();
    if scale {
        let mut s = scale_of(&current);
        merge(&mut s, &p);
        updated["spec"]["replicas"] = s["spec"]["replicas"].clone();
    } else {
        merge(&mut updated, &p);
    }
    let dry_run = q.get("dryRun").is_some_and(|d| d == "All");
    if !dry_run {
        g.rv += 1;
        let rv = g.rv;
        updated["metadata"]["resourceVersion"] = json!(rv.to_string());
        let line = event_line("MODIFIED", &updated);
        g.objects.insert(key, updated.clone());
        g.log.push((rv, kind, ns.clone(), line.clone()));
        let _ = live.send(Live::Event { kind, ns, line });
    }
    full(
        StatusCode::OK,
        &if scale { scale_of(&updated) } else { updated },
    )
}
