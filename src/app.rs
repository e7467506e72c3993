//! The App loop: one `select!` over terminal events, source updates, action progress, a
//! clock tick and signals. It owns the `State`, applies messages, carries out the effects
//! they ask for (all without waiting on a backend) and redraws only when something visible
//! changed.

use crate::config::KubernetesConfig;
use crate::ops::audit::Audit;
use crate::ops::scale::{ScaleRequest, ScaleTarget, Scaler};
use crate::ops::{ActionEvent, ActionKind};
use crate::sources::SourceUpdate;
use crate::sources::kube;
use crate::sources::sim::{SimCommand, SimHandle};
use crate::state::{ActionRequest, Effect, Msg, ScaleChange, State};
use crate::ui::{self, Theme};
use chrono::Utc;
use crossterm::event::Event;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::time::Duration;
use tokio::sync::mpsc;

/// Where actions and refresh requests go.
#[derive(Debug, Default)]
pub struct Backends {
    pub sim: Option<SimHandle>,
    pub kube: Option<KubeBackend>,
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

    /// `observed` is the resourceVersion the operator saw, the patch's precondition.
    pub fn scale(&self, request: ScaleRequest, observed: Option<String>) {
        let this = self.clone();
        tokio::spawn(async move {
            let outcome = this.run(&request, observed.as_deref()).await;
            let _ = this
                .events
                .send(ActionEvent::Finished {
                    kind: ActionKind::Scale,
                    outcome: outcome.map_err(|e| e.to_string()),
                })
                .await;
        });
    }

    async fn run(&self, request: &ScaleRequest, observed: Option<&str>) -> Result<String, String> {
        let (client, _) = kube::connect(&self.config)
            .await
            .map_err(|e| e.to_string())?;
        let scaler = Scaler {
            client,
            max_replicas: self.max_replicas,
            audit: self.audit.clone(),
        };
        let plan = scaler
            .plan(request, observed)
            .await
            .map_err(|e| e.to_string())?;
        let done = scaler
            .apply(&plan, false)
            .await
            .map_err(|e| e.to_string())?;
        Ok(match plan.note {
            Some(note) => format!("{done} ({note})"),
            None => done,
        })
    }
}

impl Backends {
    fn send(&self, cmd: SimCommand, state: &mut State) {
        match &self.sim {
            // try_send: a busy backend must never hold up a key.
            Some(sim) => {
                if sim.commands.try_send(cmd).is_err() {
                    state.notice = Some("the demo is busy: try again".into());
                }
            }
            None => {
                if matches!(cmd, SimCommand::Run(_)) {
                    state.notice = Some("no backend for this action is configured".into());
                }
            }
        }
    }
}

pub struct App {
    pub state: State,
    pub theme: Theme,
    pub no_color: bool,
    pub backends: Backends,
    pub updates: mpsc::Receiver<SourceUpdate>,
    pub actions: mpsc::Receiver<ActionEvent>,
}

/// Why the loop ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    Quit,
    /// The terminal went away (SSH dropped) or its event stream failed.
    TerminalClosed,
    Signal(&'static str),
}

/// What of the clock is visible: each source's status and age in whole seconds.
fn clock_face(state: &State) -> Vec<(crate::state::Status, Option<i64>)> {
    use crate::sources::SourceKind;
    SourceKind::ALL
        .into_iter()
        .map(|k| {
            let age = match k {
                SourceKind::Prometheus => state.metrics.age_s(state.now),
                SourceKind::Redis => state.cache.age_s(state.now),
                SourceKind::Kubernetes => state.cluster.age_s(state.now),
            };
            (state.status(k), age)
        })
        .collect()
}

pub async fn run<B, S>(
    terminal: &mut Terminal<B>,
    mut events: S,
    app: &mut App,
) -> color_eyre::Result<Exit>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = std::io::Result<Event>> + Unpin,
{
    #[cfg(unix)]
    let (mut sigterm, mut sighup) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
        )
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    loop {
        if dirty {
            terminal.draw(|f| ui::draw(f, &app.state, &app.theme))?;
            dirty = false;
        }
        let mut effects = Vec::new();
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => {
                    effects = app.state.apply(Msg::Key(key));
                    dirty = true;
                }
                Some(Ok(Event::Resize(..))) => {
                    terminal.autoresize()?;
                    dirty = true;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Ok(Exit::TerminalClosed),
            },
            Some(update) = app.updates.recv() => {
                app.state.apply(Msg::Source(update));
                // Sources often report together: take what is queued before drawing once.
                while let Ok(more) = app.updates.try_recv() {
                    app.state.apply(Msg::Source(more));
                }
                dirty = true;
            }
            Some(event) = app.actions.recv() => {
                app.state.apply(Msg::Action(event));
                while let Ok(more) = app.actions.try_recv() {
                    app.state.apply(Msg::Action(more));
                }
                dirty = true;
            }
            _ = tick.tick() => {
                let before = clock_face(&app.state);
                app.state.apply(Msg::Tick(Utc::now()));
                dirty = clock_face(&app.state) != before;
            }
            _ = sigterm.recv() => return Ok(Exit::Signal("SIGTERM")),
            _ = sighup.recv() => return Ok(Exit::Signal("SIGHUP")),
        }
        for effect in effects {
            match effect {
                Effect::Quit => return Ok(Exit::Quit),
                Effect::Refresh => app.backends.send(SimCommand::Refresh, &mut app.state),
                Effect::CancelAction => app.backends.send(SimCommand::Cancel, &mut app.state),
                Effect::Run(request) => {
                    tracing::info!(?request, "action confirmed");
                    run_action(app, request);
                }
                Effect::SetTheme(name) => set_theme(app, &name),
            }
        }
    }
}

fn run_action(app: &mut App, request: ActionRequest) {
    match (request, &app.backends.kube) {
        (
            ActionRequest::Scale {
                namespace,
                name,
                change,
            },
            Some(kube),
        ) if app.backends.sim.is_none() => {
            let observed = app
                .state
                .cluster
                .value
                .iter()
                .flat_map(|c| c.deployments.iter())
                .find(|d| d.namespace == namespace && d.name == name)
                .map(|d| d.resource_version.clone())
                .filter(|rv| !rv.is_empty());
            let target = match change {
                ScaleChange::Replicas(n) => ScaleTarget::Replicas(n),
                ScaleChange::HpaMin(n) => ScaleTarget::Hpa { min: n, max: None },
            };
            kube.scale(
                ScaleRequest {
                    namespace,
                    name,
                    target,
                },
                observed,
            );
        }
        (request, _) => app.backends.send(SimCommand::Run(request), &mut app.state),
    }
}

fn set_theme(app: &mut App, name: &str) {
    if app.no_color {
        app.state.notice = Some("NO_COLOR is set: themes are off".into());
        return;
    }
    match Theme::resolve(name) {
        Ok(theme) => {
            app.state.theme_name = theme.name.clone();
            app.theme = theme;
        }
        Err(e) => app.state.notice = Some(e.to_string()),
    }
}
