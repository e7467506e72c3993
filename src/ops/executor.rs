//! Where a confirmed plan runs: the real backends or the embedded demo. The console hands
//! every plan here; each runs as its own task and reports on the action channel, so the
//! loop never waits on a backend. The headless commands call the same per-action
//! executions (`scale::kube`, `invalidate::redis`, `warmup`) directly.

use super::audit::Audit;
use super::hibernate::kube::Hibernator;
use super::hibernate::{self, HibernatePlan};
use super::invalidate::{self, InvalidateOptions, InvalidatePlan};
use super::scale::identity::Who;
use super::scale::{ScaleError, ScalePlan, Scaler};
use super::warmup::{self, WarmupOptions, WarmupTarget};
use super::{ActionPlan, warmup_demo};
use crate::config::Config;
use crate::model::{ActionEvent, ActionKind, CancelFlag};
use crate::sources::kube;
use crate::sources::sim::SimHandle;
use std::path::PathBuf;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub enum Backend {
    Live(Box<Config>),
    Demo { sim: SimHandle, config: Box<Config> },
}

#[derive(Debug, Clone)]
pub struct Executor {
    pub backend: Backend,
    pub audit: Audit,
    pub events: mpsc::Sender<ActionEvent>,
}

impl Executor {
    fn config(&self) -> &Config {
        match &self.backend {
            Backend::Live(c) | Backend::Demo { config: c, .. } => c,
        }
    }

    /// Runs `plan` on its own task; `cancel` stops it between batches.
    pub fn start(&self, plan: ActionPlan, cancel: CancelFlag) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            match plan {
                ActionPlan::Warmup { file } => this.warmup(file, &cancel).await,
                ActionPlan::Invalidate(p) => this.invalidate(&p, &cancel).await,
                ActionPlan::Scale(p) => this.scale(&p, &cancel).await,
                ActionPlan::Hibernate(p) => this.hibernate(&p, &cancel).await,
            }
        })
    }

    /// Counts what an invalidation would delete, off the loop; the answer comes back as an
    /// `ActionEvent::Preview` for the dialog. The task is returned so a newer selection
    /// can abort it.
    pub fn preview(&self, plan: InvalidatePlan) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let result = match &this.backend {
                Backend::Demo { sim, .. } => invalidate::demo::preview(sim, &plan).await,
                Backend::Live(config) => match &config.redis {
                    None => Err("invalidation needs [redis] in the config".into()),
                    Some(redis) => {
                        let opts = InvalidateOptions::from_config(&config.actions.invalidate);
                        invalidate::preview(redis, &plan, &opts)
                            .await
                            .map(|p| (p.count, p.samples))
                            .map_err(|e| e.to_string())
                    }
                },
            };
            let (group, user_id) = match plan.target {
                invalidate::InvalidateTarget::Group { name, user } => (name, user),
                invalidate::InvalidateTarget::Pattern(p) => (p, None),
            };
            let _ = this
                .events
                .send(ActionEvent::Preview {
                    group,
                    user_id,
                    result,
                })
                .await;
        })
    }

    async fn finish(&self, kind: ActionKind, outcome: Result<String, String>) {
        let _ = self
            .events
            .send(ActionEvent::Finished { kind, outcome })
            .await;
    }

    async fn warmup(&self, file: PathBuf, cancel: &CancelFlag) {
        let config = self.config();
        let opts = WarmupOptions::from_config(&config.cache);
        if let Backend::Demo { sim, .. } = &self.backend {
            return warmup_demo::run(sim, &file, &opts, &self.audit, &self.events, cancel).await;
        }
        let target = match WarmupTarget::from_config(config) {
            Ok(t) => t,
            Err(e) => return self.finish(ActionKind::Warmup, Err(e.to_string())).await,
        };
        // The summary counts bad lines; the console does not list them one by one.
        let mut ignore_bad = |_: &warmup::BadLine| {};
        let _ = warmup::warmup_file(
            target,
            &file,
            &opts,
            &self.audit,
            &self.events,
            cancel,
            &mut ignore_bad,
        )
        .await;
    }

    async fn invalidate(&self, plan: &InvalidatePlan, cancel: &CancelFlag) {
        let config = self.config();
        let opts = InvalidateOptions::from_config(&config.actions.invalidate);
        match &self.backend {
            Backend::Demo { sim, .. } => {
                let ceiling = opts.max_keys_per_sec;
                invalidate::demo::run(sim, plan, ceiling, &self.audit, &self.events, cancel).await
            }
            Backend::Live(config) => match &config.redis {
                None => {
                    let why = "invalidate: invalidation needs [redis] in the config";
                    self.finish(ActionKind::Invalidate, Err(why.into())).await
                }
                Some(redis) => {
                    let run = invalidate::invalidate(
                        redis,
                        plan,
                        &opts,
                        &self.audit,
                        &self.events,
                        cancel,
                    );
                    let _ = run.await;
                }
            },
        }
    }

    async fn scale(&self, plan: &ScalePlan, cancel: &CancelFlag) {
        let config = match &self.backend {
            Backend::Demo { sim, .. } => {
                return super::scale::demo::run(sim, plan, &self.audit, &self.events).await;
            }
            Backend::Live(config) => config,
        };
        let missing = "scale: scaling needs [kubernetes] in the config";
        let at = plan.context.as_deref();
        let scaler = match self
            .connect_for(config, at, &plan.target(), missing, cancel)
            .await
        {
            Ok(scaler) => scaler,
            Err(why) => return self.finish(ActionKind::Scale, Err(why)).await,
        };
        let scaler = scaler.map_err(|message| ScaleError::Api {
            target: plan.target(),
            message,
        });
        let result = match scaler {
            Ok(scaler) => scaler.apply(plan, false).await,
            Err(e) => Err(e),
        };
        let event = match result {
            Ok(done) => ActionEvent::Finished {
                kind: ActionKind::Scale,
                outcome: Ok(match &plan.note {
                    Some(note) => format!("{done} ({note})"),
                    None => done,
                }),
            },
            Err(ScaleError::Conflict {
                observed: Some(now),
                target,
                now: text,
            }) => ActionEvent::ScaleConflict {
                context: plan.context.clone(),
                namespace: plan.namespace.clone(),
                name: plan.name.clone(),
                target: plan.target,
                before: Box::new(plan.seen.clone()),
                now,
                message: ScaleError::Conflict {
                    target,
                    now: text,
                    observed: None,
                }
                .to_string(),
            },
            Err(e) => ActionEvent::Finished {
                kind: ActionKind::Scale,
                outcome: Err(e.to_string()),
            },
        };
        let _ = self.events.send(event).await;
    }

    /// Connects and finds who we are; None when Esc came first (nothing was sent).
    /// The cluster an action on `context` (the one cluster when None) runs against,
    /// connected; Err says why it will not run: no `[kubernetes]` (`missing`), read-only
    /// there, or cancelled while connecting. The inner Err is the connection's own failure.
    async fn connect_for(
        &self,
        config: &Config,
        context: Option<&str>,
        target: &str,
        missing: &str,
        cancel: &CancelFlag,
    ) -> Result<Result<Scaler, String>, String> {
        let Some(k) = &config.kubernetes else {
            return Err(missing.to_string());
        };
        // The client is built for the context the plan names (the one cluster otherwise).
        let k = &k.cluster_of(context.unwrap_or_default());
        if k.read_only {
            let ctx = k.context.as_deref().unwrap_or_default();
            return Err(format!("{target}: refused: read-only in {ctx}"));
        }
        self.connect(config, k, cancel)
            .await
            .ok_or_else(|| format!("{target}: {}; nothing was changed", cancel.word()))
    }

    async fn connect(
        &self,
        config: &Config,
        k: &crate::config::KubernetesConfig,
        cancel: &CancelFlag,
    ) -> Option<Result<Scaler, String>> {
        let prepare = async {
            let (client, context) = kube::connect(k).await.map_err(|e| e.to_string())?;
            let who = Who::find(&client, k, &context).await;
            Ok(Scaler {
                client,
                max_replicas: config.actions.max_replicas,
                audit: self.audit.clone(),
                who,
            })
        };
        let cancelled = async {
            while !cancel.is_cancelled() {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        };
        tokio::select! {
            s = prepare => Some(s),
            () = cancelled => None,
        }
    }

    async fn hibernate(&self, plan: &HibernatePlan, cancel: &CancelFlag) {
        let kind = match plan.lever {
            hibernate::Lever::Hibernate => ActionKind::Hibernate,
            hibernate::Lever::Wake => ActionKind::Wake,
        };
        let config = match &self.backend {
            Backend::Demo { sim, .. } => {
                return hibernate::demo::run(sim, plan, &self.audit, &self.events).await;
            }
            Backend::Live(config) => config,
        };
        let missing = format!("{}: needs [kubernetes] in the config", plan.lever.name());
        let at = plan.context.as_deref();
        let scaler = match self
            .connect_for(config, at, &plan.target(), &missing, cancel)
            .await
        {
            Ok(scaler) => scaler,
            Err(why) => return self.finish(kind, Err(why)).await,
        };
        let result = match scaler {
            Ok(scaler) => {
                let h = Hibernator {
                    scaler,
                    actions: config.actions.clone(),
                };
                h.apply(plan, false).await
            }
            Err(message) => Err(ScaleError::Api {
                target: plan.target(),
                message,
            }),
        };
        let event = match result {
            Ok(done) => ActionEvent::Finished {
                kind,
                outcome: Ok(done),
            },
            Err(ScaleError::Conflict {
                observed: Some(now),
                target,
                now: text,
            }) => ActionEvent::HibernateConflict {
                context: plan.context.clone(),
                namespace: plan.namespace.clone(),
                name: plan.name.clone(),
                wake: plan.lever == hibernate::Lever::Wake,
                before: Box::new(plan.seen.clone()),
                now,
                message: ScaleError::Conflict {
                    target,
                    now: text,
                    observed: None,
                }
                .to_string(),
            },
            Err(e) => ActionEvent::Finished {
                kind,
                outcome: Err(e.to_string()),
            },
        };
        let _ = self.events.send(event).await;
    }
}
