//! Shared by the test binaries that need a Kubernetes API; each uses part of it.
#![allow(dead_code)]

pub mod kube_api;
pub mod kube_fixtures;
