//! Where confirmed actions go: the demo, or the live backends. Each live action runs as its
//! own task and reports on the action channel; the loop only spawns and never waits.

use crate::config::Config;
use crate::config::KubernetesConfig;
use crate::ops::audit::Audit;
use crate::ops::invalidate::{self, InvalidateOptions, InvalidateTarget};
use crate::ops::observed::Observed;
use crate::ops::scale::{ScaleError, ScaleRequest, ScaleTarget, Scaler};
use crate::ops::warmup::{self, WarmupOptions, WarmupTarget};
use crate::ops::{ActionEvent, ActionKind, CancelFlag};
use crate::sources::RefreshNow;
use crate::sources::kube;
use crate::sources::sim::{SimCommand, SimHandle};
use crate::state::{ActionRequest, ScaleChange, State};
use std::path::PathBuf;
use tokio::sync::mpsc;

#[derive(Debug, Default)]
pub struct Backends {
    pub sim: Option<SimHandle>,
    pub live: Option<Live>,
    pub kube: Option<KubeBackend>,
    /// Wakes the live sources for `r`.
    pub refresh: RefreshNow,
}

/// The real backends' actions.
#[derive(Debug)]
pub struct Live {
    config: Config,
    audit: Audit,
    events: mpsc::Sender<ActionEvent>,
    /// The running action's cancel flag; one action at a time.
    running: Option<CancelFlag>,
}

impl Live {
    pub fn new(config: Config, audit: Audit, events: mpsc::Sender<ActionEvent>) -> Live {
        Live {
            config,
            audit,
            events,
            running: None,
        }
    }

    fn start(&mut self, request: ActionRequest, state: &mut State) {
        if state.running.is_some() {
            state.notice =
                Some("another action is running: wait for it or press Esc to cancel it".into());
            return;
        }
        let cancel = CancelFlag::default();
        self.running = Some(cancel.clone());
        let events = self.events.clone();
        let audit = self.audit.clone();
        let config = self.config.clone();
        match request {
            ActionRequest::Warmup { file } => {
                if let Err(e) = WarmupTarget::from_config(&config) {
                    state.running = None;
                    state.last_outcome = Some(Err(e.to_string()));
                    return;
                }
                state.running = Some(crate::state::RunningAction {
                    kind: ActionKind::Warmup,
                    done: 0,
                    total: None,
                    per_sec: 0.0,
                });
                tokio::spawn(async move {
                    let opts = WarmupOptions::from_config(&config.cache);
                    let path = PathBuf::from(&file);
                    let target = match WarmupTarget::from_config(&config) {
                        Ok(t) => t,
                        Err(e) => {
                            let _ = events
                                .send(ActionEvent::Finished {
                                    kind: ActionKind::Warmup,
                                    outcome: Err(e.to_string()),
                                })
                                .await;
                            return;
                        }
                    };
                    // The summary counts bad lines; the console does not list them one by one.
                    let mut ignore_bad = |_: &warmup::BadLine| {};
                    let run = warmup::warmup_file(
                        target,
                        &path,
                        &opts,
                        &audit,
                        &events,
                        &cancel,
                        &mut ignore_bad,
                    );
                    let _ = run.await;
                });
            }
            ActionRequest::Invalidate { group, user_id } => {
                let Some(redis) = config.redis.clone() else {
                    return refuse(
                        state,
                        ActionKind::Invalidate,
                        "invalidation needs [redis] in the config",
                    );
                };
                let target = match user_id {
                    Some(id) => InvalidateTarget::User(id),
                    None => InvalidateTarget::Group(group),
                };
                state.running = Some(crate::state::RunningAction {
                    kind: ActionKind::Invalidate,
                    done: 0,
                    total: None,
                    per_sec: 0.0,
                });
                tokio::spawn(async move {
                    let groups = &config.actions.invalidate;
                    let opts = InvalidateOptions::from_config(groups);
                    let _ = invalidate::invalidate(
                        &redis, &target, groups, &opts, &audit, &events, &cancel,
                    )
                    .await;
                });
            }
            ActionRequest::Scale { .. } => refuse(
                state,
                ActionKind::Scale,
                "scaling needs [kubernetes] in the config",
            ),
        }
    }
}

fn refuse(state: &mut State, kind: ActionKind, why: &str) {
    state.running = None;
    state.last_outcome = Some(Err(format!("{}: {why}", kind.name())));
}

impl Backends {
    /// Sends a command to the demo; a busy demo drops it rather than hold up a key.
    pub fn send(&self, cmd: SimCommand, state: &mut State) {
        if let Some(sim) = &self.sim
            && sim.commands.try_send(cmd).is_err()
        {
            state.notice = Some("the demo is busy: try again".into());
        }
    }

    pub fn refresh_now(&self, state: &mut State) {
        self.send(SimCommand::Refresh, state);
        self.refresh.trigger();
    }

    pub fn run(&mut self, request: ActionRequest, state: &mut State) {
        if self.sim.is_some() {
            self.send(SimCommand::Run(request), state);
        } else if let (
            ActionRequest::Scale {
                namespace,
                name,
                change,
                seen,
            },
            Some(kube),
        ) = (&request, &self.kube)
        {
            let target = match *change {
                ScaleChange::Replicas(n) => ScaleTarget::Replicas(n),
                ScaleChange::HpaMin(n) => ScaleTarget::Hpa { min: n, max: None },
            };
            kube.scale(
                ScaleRequest {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    target,
                },
                seen.clone(),
            );
        } else if let Some(live) = self.live.as_mut() {
            live.start(request, state);
        } else {
            state.notice = Some("no backend for this action is configured".into());
        }
    }

    /// Counts what an invalidation would delete, off the loop; the answer comes back as an
    /// `ActionEvent::Preview` for the dialog.
    pub fn preview(&self, group: String, user_id: Option<String>) {
        let Some(live) = &self.live else { return };
        let Some(redis) = live.config.redis.clone() else {
            return;
        };
        let groups = live.config.actions.invalidate.clone();
        let events = live.events.clone();
        tokio::spawn(async move {
            let target = match &user_id {
                Some(id) => InvalidateTarget::User(id.clone()),
                None => InvalidateTarget::Group(group.clone()),
            };
            let opts = InvalidateOptions::from_config(&groups);
            let result = invalidate::preview(&redis, &target, &groups, &opts)
                .await
                .map(|p| (p.count, p.samples))
                .map_err(|e| e.to_string());
            let _ = events
                .send(ActionEvent::Preview {
                    group,
                    user_id,
                    result,
                })
                .await;
        });
    }

    pub fn cancel(&mut self, state: &mut State) {
        if self.sim.is_some() {
            self.send(SimCommand::Cancel, state);
        }
        if let Some(flag) = self.live.as_mut().and_then(|l| l.running.take()) {
            flag.cancel();
            state.notice = Some("cancelling: the action stops after its current batch".into());
        }
    }
}

/// Scales on the real cluster: each request runs as its own task and reports on the
/// action channel, so the loop never waits on the API server.
#[derive(Debug, Clone)]
pub struct KubeBackend {
    config: KubernetesConfig,
    max_replicas: u32,
    audit: Audit,
    events: mpsc::Sender<ActionEvent>,
}

impl KubeBackend {
    pub fn new(
        config: KubernetesConfig,
        max_replicas: u32,
        audit: Audit,
        events: mpsc::Sender<ActionEvent>,
    ) -> KubeBackend {
        KubeBackend {
            config,
            max_replicas,
            audit,
            events,
        }
    }

    /// `seen` is what the operator confirmed on: its resourceVersion is the patch's
    /// precondition, and a 409 reports it beside the fresh figures so the dialog can ask again.
    pub fn scale(&self, request: ScaleRequest, seen: Observed) {
        let this = self.clone();
        tokio::spawn(async move {
            let event = match this.run(&request, &seen.resource_version).await {
                Ok(done) => ActionEvent::Finished {
                    kind: ActionKind::Scale,
                    outcome: Ok(done),
                },
                Err(e) => match &e {
                    ScaleError::Conflict {
                        observed: Some(now),
                        ..
                    } => ActionEvent::ScaleConflict {
                        namespace: request.namespace,
                        name: request.name,
                        target: request.target,
                        before: seen,
                        now: now.clone(),
                        message: e.to_string(),
                    },
                    _ => ActionEvent::Finished {
                        kind: ActionKind::Scale,
                        outcome: Err(e.to_string()),
                    },
                },
            };
            let _ = this.events.send(event).await;
        });
    }

    async fn run(&self, request: &ScaleRequest, observed: &str) -> Result<String, ScaleError> {
        let (client, _) = kube::connect(&self.config)
            .await
            .map_err(|e| ScaleError::Api {
                target: request.label(),
                message: e.to_string(),
            })?;
        let scaler = Scaler {
            client,
            max_replicas: self.max_replicas,
            audit: self.audit.clone(),
        };
        // An empty resourceVersion (a sample without one) leaves the plan to read its own.
        let observed = Some(observed).filter(|rv| !rv.is_empty());
        let plan = scaler.plan(request, observed).await?;
        let done = scaler.apply(&plan, false).await?;
        Ok(match plan.note {
            Some(note) => format!("{done} ({note})"),
            None => done,
        })
    }
}
