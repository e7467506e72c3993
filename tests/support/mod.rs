//! Test backends: a tiny HTTP server, the platform's exporter and a real Prometheus.
#![allow(dead_code)]

pub mod exporter;
pub mod http;
pub mod prometheus;

/// reqwest's rustls needs a crypto provider; the binary installs ring in main.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
