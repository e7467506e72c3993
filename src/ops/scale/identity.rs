//! Who a scale is done as: the kube context and the identity the API server sees, for the
//! audit line. SelfSubjectReview where the server serves it (Kubernetes 1.28+), else the
//! kubeconfig's user for the context; "unknown" rather than a guess.

use crate::config::KubernetesConfig;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::Client;
use kube::api::{Api, PostParams};
use kube::config::Kubeconfig;

/// The context and identity an audit line names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Who {
    pub context: String,
    pub identity: String,
}

impl Who {
    /// Asks the server who we are; falls back to the kubeconfig's user of `context`.
    pub async fn find(client: &Client, cfg: &KubernetesConfig, context: &str) -> Who {
        let identity = match review(client).await {
            Some(name) => name,
            None => kubeconfig_user(cfg, context)
                .map(|u| format!("{u} (kubeconfig user)"))
                .unwrap_or_else(|| "unknown".into()),
        };
        Who {
            context: context.to_string(),
            identity,
        }
    }
}

/// How long the identity may take: it names the operator in the audit, it must not hold
/// up (or time out) the scale itself.
const REVIEW_LIMIT: std::time::Duration = std::time::Duration::from_secs(3);

async fn review(client: &Client) -> Option<String> {
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    let (params, review) = (PostParams::default(), SelfSubjectReview::default());
    let ask = api.create(&params, &review);
    let answer = tokio::time::timeout(REVIEW_LIMIT, ask).await.ok()?.ok()?;
    answer.status?.user_info?.username
}

/// The `user` of `context` in the kubeconfig the client was built from.
fn kubeconfig_user(cfg: &KubernetesConfig, context: &str) -> Option<String> {
    let kc = match &cfg.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).ok()?,
        None => Kubeconfig::read().ok()?,
    };
    kc.contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref()?.user.clone())
}
