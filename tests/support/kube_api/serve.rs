//! The HTTP side of the test API server: routing, discovery, list, watch, get and patch.

use super::{Hang, Inner, Kind, Live, Seen, event_line};
use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

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

fn served(crd: bool) -> impl Iterator<Item = Kind> {
    Kind::ALL
        .into_iter()
        .filter(move |k| *k != Kind::Vpa || crd)
}

fn resource_list(group_version: &str, crd: bool) -> Option<Value> {
    let resources: Vec<Value> = served(crd)
        .filter(|k| k.api_version() == group_version)
        .flat_map(|k| {
            let verbs = json!(["get", "list", "watch", "patch"]);
            let mut out = vec![json!({
                "name": k.plural(), "singularName": "", "namespaced": k.namespaced(),
                "kind": k.kind(), "verbs": verbs,
            })];
            if k == Kind::Deployment {
                out.push(json!({
                    "name": "deployments/scale", "singularName": "", "namespaced": true,
                    "group": "autoscaling", "version": "v1", "kind": "Scale",
                    "verbs": ["get", "patch", "update"],
                }));
            }
            out
        })
        .collect();
    (!resources.is_empty()).then(|| {
        json!({
            "kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": group_version, "resources": resources,
        })
    })
}

/// `/api`, `/apis` and the per group version resource lists; None for any other path.
fn discovery(path: &str, crd: bool) -> Option<Response<Body>> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let not_found = || {
        status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
        )
    };
    Some(match segs.as_slice() {
        ["api"] => full(
            StatusCode::OK,
            &json!({ "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{ "clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443" }] }),
        ),
        ["apis"] => {
            let mut groups: Vec<&str> = served(crd).map(|k| k.api_version()).collect();
            groups.retain(|gv| gv.contains('/'));
            groups.dedup();
            let groups: Vec<Value> = groups
                .into_iter()
                .map(|gv| {
                    let (g, v) = gv.split_once('/').unwrap();
                    let version = json!({ "groupVersion": gv, "version": v });
                    json!({ "name": g, "versions": [version], "preferredVersion": version })
                })
                .collect();
            full(
                StatusCode::OK,
                &json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups }),
            )
        }
        ["api", v] => resource_list(v, crd).map_or_else(not_found, |l| full(StatusCode::OK, &l)),
        ["apis", g, v] => resource_list(&format!("{g}/{v}"), crd)
            .map_or_else(not_found, |l| full(StatusCode::OK, &l)),
        _ => return None,
    })
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

pub(super) async fn handle(
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
    let watching = q.get("watch").is_some_and(|w| w == "true" || w == "1");
    let hang = inner.lock().unwrap().hang;
    if hang == Hang::Everything || (hang == Hang::Watches && watching) {
        // The connection stays open and silent until the client gives up.
        return futures::future::pending().await;
    }
    let crd = inner.lock().unwrap().vpa_crd;
    if let Some(answer) = discovery(&path, crd) {
        return Ok(answer);
    }
    let Some((kind, ns, name, sub)) = route(&path).filter(|r| r.0 != Kind::Vpa || crd) else {
        return Ok(status(
            404,
            "NotFound",
            format!("the server could not find {path}"),
        ));
    };
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
        let group = kind.group();
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
            // Like the API server, a watch with timeoutSeconds ends then, quiet or not.
            let ends = q
                .get("timeoutSeconds")
                .and_then(|t| t.parse().ok())
                .map(|s| tokio::time::Instant::now() + std::time::Duration::from_secs(s));
            tokio::spawn(async move {
                loop {
                    let next = match ends {
                        Some(at) => match tokio::time::timeout_at(at, sub.recv()).await {
                            Ok(next) => next,
                            Err(_) => return,
                        },
                        None => sub.recv().await,
                    };
                    let line = match next {
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
