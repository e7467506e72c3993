//! Reaching the cluster: the kubeconfig or in-cluster configuration, and clients whose every
//! request gives up after a bounded silence.
//!
//! Two clients share one configuration. Requests (lists, gets, patches) may be silent for
//! [`Timeouts::read`]. Watches are ended by the server after [`Timeouts::watch`]
//! (`timeoutSeconds`) and renewed from their resourceVersion, so their client may be silent a
//! little longer than that, and no longer: a stuck API server shows as an error, not as a
//! quiet cluster.

use crate::config::KubernetesConfig;
use kube::Client;
use kube::client::ClientBuilder;
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::error::Error;
use std::time::Duration;

type BoxError = Box<dyn Error + Send + Sync>;

/// How long a request to the API server may go unanswered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP (and TLS) connection set-up.
    pub connect: Duration,
    /// Longest silence while an answer is due: between bytes, not for the whole answer, so
    /// a large list that keeps arriving is not cut off.
    pub read: Duration,
    /// The server-side end of every watch (`timeoutSeconds`, whole seconds).
    pub watch: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(15),
            watch: Duration::from_secs(30),
        }
    }
}

/// A watch's client may be silent this much longer than the watch itself lasts.
const WATCH_READ_MARGIN: Duration = Duration::from_secs(3);

impl Timeouts {
    /// `timeoutSeconds` for watches.
    pub fn watch_seconds(&self) -> u32 {
        u32::try_from(self.watch.as_secs())
            .unwrap_or(u32::MAX)
            .max(1)
    }

    /// The read timeout of the watch client: past the server-side end of a watch, so a
    /// quiet watch ends normally first, but before kube's own idle check (timeoutSeconds
    /// + 5 s) would silently start over and hide a server that stopped answering.
    pub fn watch_read(&self) -> Duration {
        Duration::from_secs(u64::from(self.watch_seconds())) + WATCH_READ_MARGIN
    }
}

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

/// The cluster's configuration as the kubeconfig (or the pod) gives it, and the context's name.
pub async fn load(cfg: &KubernetesConfig) -> Result<(kube::Config, String), KubeError> {
    let options = KubeConfigOptions {
        context: cfg.context.clone(),
        ..Default::default()
    };
    match (&cfg.kubeconfig, &cfg.context) {
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
            Ok((config, name))
        }
        (None, Some(ctx)) => {
            let config =
                kube::Config::from_kubeconfig(&options)
                    .await
                    .map_err(|e| KubeError::Context {
                        context: ctx.clone(),
                        message: e.to_string(),
                    })?;
            Ok((config, ctx.clone()))
        }
        (None, None) => {
            let config = kube::Config::infer()
                .await
                .map_err(|e| KubeError::Infer(e.to_string()))?;
            let name = Kubeconfig::read()
                .ok()
                .and_then(|k| k.current_context)
                .unwrap_or_else(|| "in-cluster".into());
            Ok((config, name))
        }
    }
}

/// A client whose requests may be silent for at most `read`. A request that times out or
/// is refused fails with an [`Unanswered`] error naming the server and the limit, so every
/// caller's message says so, including those that only print kube's error.
pub fn client(
    mut config: kube::Config,
    connect: Duration,
    read: Duration,
) -> Result<Client, KubeError> {
    let explain = Explain::new(&config, connect, read);
    config.connect_timeout = Some(connect);
    config.read_timeout = Some(read);
    config.write_timeout = Some(read);
    // The silence counts from the request, not from when a pooled connection went idle.
    config.reset_reader_on_write = true;
    let named = tower::util::MapErrLayer::new(move |e: BoxError| explain.name(e));
    Ok(ClientBuilder::try_from(config)
        .map_err(KubeError::Client)?
        .with_layer(&named)
        .build())
}

/// A client for the configured cluster with the default [`Timeouts`], and the context's
/// name for the header.
pub async fn connect(cfg: &KubernetesConfig) -> Result<(Client, String), KubeError> {
    let t = Timeouts::default();
    let (config, context) = load(cfg).await?;
    Ok((client(config, t.connect, t.read)?, context))
}

/// Puts a failed request in words an operator acts on: which API server, and for a
/// timeout which one and how long; a refused connection says so.
#[derive(Debug, Clone)]
pub struct Explain {
    /// `scheme://host:port` of the API server, without any userinfo.
    pub server: String,
    connect: Duration,
    read: Duration,
}

impl Explain {
    pub fn new(config: &kube::Config, connect: Duration, read: Duration) -> Explain {
        let u = &config.cluster_url;
        let host = u.host().unwrap_or_default();
        let server = match (u.scheme_str(), u.port_u16()) {
            (Some(scheme), Some(port)) => format!("{scheme}://{host}:{port}"),
            (Some(scheme), None) => format!("{scheme}://{host}"),
            (None, _) => host.to_string(),
        };
        Explain {
            server,
            connect,
            read,
        }
    }

    pub fn error(&self, e: &kube::Error) -> String {
        if let kube::Error::Api(s) = e {
            return format!("{} ({} {})", s.message, s.code, s.reason);
        }
        if let Some(what) = self.transport(e) {
            return format!("API server {}: {what}", self.server);
        }
        let mut text = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            let here = c.to_string();
            if !text.contains(&here) {
                text = format!("{text}: {here}");
            }
            cause = c.source();
        }
        format!("API server {}: {text}", self.server)
    }

    /// A timeout or a refused connection anywhere in `e`'s causes, in words.
    fn transport(&self, e: &(dyn Error + 'static)) -> Option<String> {
        let mut connecting = false;
        let mut cause = Some(e);
        while let Some(c) = cause {
            if let Some(named) = c.downcast_ref::<Unanswered>() {
                return Some(named.what.clone());
            }
            // hyper's client says which step failed: "client error (Connect)".
            connecting |= c.to_string().contains("(Connect)");
            if let Some(io) = c.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::TimedOut if connecting => {
                        return Some(format!(
                            "no connection within {} (connect timeout)",
                            secs(self.connect)
                        ));
                    }
                    std::io::ErrorKind::TimedOut => {
                        return Some(format!(
                            "no answer within {} (read timeout)",
                            secs(self.read)
                        ));
                    }
                    std::io::ErrorKind::ConnectionRefused => {
                        return Some(
                            "connection refused (is it up, and is the kubeconfig's server address right?)"
                                .into(),
                        );
                    }
                    _ => {}
                }
            }
            cause = c.source();
        }
        None
    }

    /// Replaces a transport failure by an [`Unanswered`] that says what happened; any other
    /// error passes unchanged.
    fn name(&self, e: BoxError) -> BoxError {
        match self.transport(&*e) {
            Some(what) => Box::new(Unanswered {
                server: self.server.clone(),
                what,
            }),
            None => e,
        }
    }
}

/// The API server did not answer in time or refused the connection.
#[derive(Debug, thiserror::Error)]
#[error("API server {server}: {what}")]
pub struct Unanswered {
    server: String,
    what: String,
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}
