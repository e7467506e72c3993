//! opsdeck: the on-call console for an AI customer-service platform.
//!
//! - `config`   config.toml schema, defaults from the platform's design, lookup, validation,
//!   and the one redactor (`config::redact`) every shown URL and error message goes through
//! - `sources`  one task per backend (demo simulator, Redis, Prometheus, Kubernetes) sending
//!   owned updates
//! - `state`    the single owner of what is shown; changed only by `State::apply`
//! - `domain`   pure rules: scaling verdicts and HPA math, each figure's grade against the
//!   platform's targets (`domain::grade`, used by tiles, tables, alerts and the snapshot),
//!   SLO alerts, cost model, cache keys
//! - `ops`      the actions (warmup, invalidate, scale) and their audit trail
//! - `ui`       pure drawing of `&State` with a `&Theme`
//! - `app`      the loop: terminal events, source updates, action progress, ticks

pub mod action;
pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod domain;
pub mod ops;
pub mod snapshot;
pub mod sources;
pub mod state;
pub mod ui;
