//! opsdeck: the on-call console for an AI customer-service platform.
//!
//! # Layers
//! Each layer imports only from those below it; `scripts/check-layers.sh` (run by
//! `scripts/test.sh`) fails on an upward `crate::` import.
//! ```text
//!  app (loop, wiring)   commands (headless: snapshot, report, warmup, invalidate, scale)  6
//!    │                     │
//!  ui (pure drawing over &State)                                                          5
//!    │                     │
//!  state (the one owner; State::apply is the only writer; keymap)                         4
//!    │
//!  ops (actions: request → pure plan → execution on real backends or the demo, audit)     3
//!    │
//!  sources (one folder per backend behind `registry::Source`, producing model values)     2
//!    │
//!  domain (pure rules: scaling, grading, cost, cache keys, glob)                          1
//!    │
//!  model (plain data every layer shares)      config (schema, defaults, validation)       0
//! ```
//! - `model`    samples from the backends, action events, what a scale decision is made on
//! - `config`   config.toml schema, defaults from the platform's design, lookup, validation
//! - `domain`   pure rules: scaling verdicts and HPA math, each figure's grade against the
//!   platform's targets (`domain::grade`: tiles, tables, alerts and the snapshot use it),
//!   SLO alerts, cost model, savings suggestions (`domain::suggestions`), cache keys, Redis
//!   glob rules
//! - `sources`  one task per backend (Redis, Prometheus, Kubernetes, the demo simulator)
//!   sending owned updates; `sources::registry` is the one list the console and `snapshot`
//!   start them from
//! - `ops`      one folder per action; `ops::executor` runs a confirmed plan for the console
//! - `state`    the single owner of what is shown; the keymap table drives dispatch and help
//! - `ui`       pure drawing of `&State` with a `&Theme`; never I/O
//! - `app`      the loop: terminal events, source updates, action progress, ticks, signals
//! - `commands` the headless subcommands, on the same plans and executions as the keys
//!
//! # Where to add things
//! - **A panel**: its drawing in `ui/<view>.rs` (a function per panel); the figure it needs
//!   in `model` if new, produced by a source; its grade in `domain`; `commands/snapshot.rs`
//!   when scripts should see it.
//! - **An action** (e.g. `hibernate`): `ops/<action>/mod.rs` (request, errors, pure `plan`
//!   with its preview and preconditions), `ops/<action>/kube.rs` (or the backend it acts on)
//!   and `ops/<action>/demo.rs` (executions), a variant of `ops::ActionPlan` and its arm in
//!   `ops/executor.rs`, `state/dialog.rs` (the dialog's fields and its `plan` call) with
//!   `ui/dialog.rs` (drawing it), a binding in `state/keymap.rs` (help and hints follow),
//!   and its subcommand in `cli.rs` + `commands/`.
//! - **A source**: its folder under `sources/`, producing `model` values; one entry in
//!   `sources/registry.rs`; a `Payload` variant and its slot in `state` if it reports
//!   something new; the views that show it.

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod domain;
pub mod model;
pub mod ops;
pub mod sources;
pub mod state;
pub mod ui;
