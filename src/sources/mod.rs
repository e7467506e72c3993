//! Sources: one tokio task per backend, each sending owned [`SourceUpdate`]s to the App loop.
//!
//! The payload types here are the console's vocabulary for what a backend reported; the
//! embedded demo (`sim`) and the real backends produce the same types.

pub mod http;
pub mod kube;
pub mod prometheus;
pub mod redis;
pub mod registry;
pub mod sim;
pub mod supervise;

pub use crate::model::{
    CacheNode, CacheSample, ClusterSample, CostInputs, Deployment, Hpa, HpaMetric, HpaNext,
    MetricsSample, ModelTokens, NamespaceTokens, NodePool, NodePrice, PanelProblem, Payload,
    PrefixCount, ServiceLatency, SourceKind, SourceUpdate, SpendToday, Utilization, Vpa,
    VpaContainer, VpaResources,
};
use std::sync::Arc;
use tokio::sync::Notify;

/// The `r` key: wakes every live source to sample now instead of at its next tick; and the
/// `c` key: asks the Redis source for an exact count of keys per prefix.
#[derive(Debug, Clone, Default)]
pub struct RefreshNow {
    now: Arc<Notify>,
    count_keys: Arc<Notify>,
}

impl RefreshNow {
    pub fn trigger(&self) {
        self.now.notify_waiters();
    }

    /// Waits for the next tick, or for `trigger`, which restarts the interval from now.
    pub async fn wait(&self, tick: &mut tokio::time::Interval) {
        tokio::select! {
            _ = tick.tick() => {}
            _ = self.now.notified() => tick.reset(),
        }
    }

    /// Asks for an exact count of keys per prefix; kept until the Redis source takes it.
    pub fn count_keys(&self) {
        self.count_keys.notify_one();
    }

    /// What the Redis source waits on for [`RefreshNow::count_keys`].
    pub fn count_keys_requests(&self) -> Arc<Notify> {
        self.count_keys.clone()
    }
}
