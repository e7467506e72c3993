//! Test backends: real redis-server and Prometheus, a tiny HTTP server, the platform's
//! exporter, and a Kubernetes API server; each test binary uses part of it.
#![allow(dead_code)]

pub mod console;
pub mod exporter;
pub mod http;
pub mod kube_api;
pub mod kube_cluster;
pub mod kube_fixtures;
pub mod process;
pub mod prometheus;
pub mod redis;

/// reqwest's rustls needs a crypto provider; the binary installs ring in main.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
pub mod tmux;
