//! The one owner of what the console shows. Only `State::apply` changes it; sources and
//! actions send messages, the App loop applies them, the UI reads `&State`.

mod action_events;
mod contexts;
pub mod dialog;
mod forecast;
pub mod health;
mod history;
pub mod keymap;
mod keys;
pub mod logbook;
pub mod series;
mod suggestions;
pub mod wall;

pub use contexts::ContextSlot;
pub use dialog::{Dialog, DialogKind, Focus};
pub use health::{Health, Slot, Status};
pub use history::{CHARTED_SERVICES, History};
pub use keymap::Keymap;
pub use logbook::LogBook;
pub use series::Series;

use crate::config::Config;
use crate::domain::cost::{self, CostBreakdown};
use crate::domain::scaling::{self, Signals, Verdict};
use crate::domain::slo::{self, Alert};
use crate::model::{
    ActionEvent, ActionKind, CacheSample, ClusterSample, CostInputs, Deployment, MetricsSample,
    Payload, PromAlert, SourceKind, SourceUpdate, SpendToday, TenantQuota, TrafficHistory,
};
pub use crate::model::{HISTORY_POINTS, HISTORY_STEP_S, View};
use crate::ops::ActionPlan;
use crate::ops::invalidate::InvalidatePlan;
use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

/// What the keyboard is talking to. One enum, so two modes can never be on at once.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    Help,
    Command(String),
    Filter(String),
    /// Boxed: a dialog is many times the size of the other modes.
    Dialog(Box<Dialog>),
    /// `q` or Ctrl-C while an action runs: "cancel it and quit?"
    ConfirmQuit,
}

/// Everything a message can ask the App loop to do outside `State`.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Quit; a running action is cancelled first and its end line written.
    Quit,
    Refresh,
    /// Count keys per prefix exactly (the Redis source's budgeted SCAN).
    CountKeys,
    SetTheme(String),
    /// Run a confirmed plan.
    Run(ActionPlan),
    CancelAction,
    /// Count what an invalidation would delete (SCAN only) for its dialog.
    PreviewInvalidate(InvalidatePlan),
}

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal's new size.
    Resize(u16, u16),
    Tick(DateTime<Utc>),
    Source(SourceUpdate),
    Action(ActionEvent),
    /// An action was handed to its executor.
    ActionStarted(ActionKind),
    /// A one-line message for the operator from outside the state (a busy backend...).
    Notice(String),
    /// The theme in use now, by name.
    ThemeChanged(String),
    /// A line the console logged, for the Logs view.
    Log(crate::model::LogLine),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunningAction {
    pub kind: ActionKind,
    pub done: u64,
    pub total: Option<u64>,
    pub per_sec: f64,
}

#[derive(Debug, Clone)]
pub struct State {
    pub config: Config,
    pub now: DateTime<Utc>,
    pub view: View,
    pub mode: Mode,
    pub selected: usize,
    pub filter: String,
    pub read_only: bool,
    /// The war-room wall (`--wall`, `[ui] wall`): read-only, cycling, large figures.
    pub wall: bool,
    pub demo: bool,
    /// Shown under the header, e.g. how to configure real backends.
    pub banner: Option<String>,
    pub theme_name: String,
    pub metrics: Slot<MetricsSample>,
    pub cache: Slot<CacheSample>,
    /// What the panels show of Kubernetes: the one context's sample, or with several
    /// the merge of those shown (see `contexts.rs`).
    pub cluster: Slot<ClusterSample>,
    /// Each watched context's own sample and health, when more than one is watched.
    pub contexts: Vec<ContextSlot>,
    /// `:ctx NAME`: only this context is shown.
    pub context_filter: Option<String>,
    pub history: History,
    pub alerts: Vec<Alert>,
    /// The keys in force: the defaults with the config's `[keys]` remaps.
    pub keymap: Keymap,
    /// Prometheus' own firing and pending alerts, as its rules report them.
    pub prom_alerts: Vec<PromAlert>,
    /// Each namespace's ResourceQuota figures (the Tenants section).
    pub tenants: Vec<TenantQuota>,
    /// Each service's traffic yesterday and last week, and yesterday's next hour.
    pub traffic: Option<TrafficHistory>,
    pub cost: Option<CostBreakdown>,
    /// OpenCost prices, cached tokens, storage and network $/h: the latest report.
    pub cost_inputs: CostInputs,
    /// Today's spend from Prometheus range data, when it has it.
    pub spend_today: Option<SpendToday>,
    /// Per service, since when its QPS has been ≈0 without a break (the hibernate
    /// suggestion), from the Latency panel's samples.
    pub idle_since: std::collections::BTreeMap<String, DateTime<Utc>>,
    /// When the operator last pressed a key, and when the wall-screen cycle last moved.
    pub last_key: DateTime<Utc>,
    pub last_cycle: DateTime<Utc>,
    /// Spend since the console started, from the $/h samples.
    pub spend: cost::Accrual,
    pub running: Option<RunningAction>,
    /// The last action's outcome, shown in the status line until the next action.
    pub last_outcome: Option<Result<String, String>>,
    /// A one-line message for the operator (bad command, refused key...).
    pub notice: Option<String>,
    /// When the notice or the last outcome was set: the status bar shows the time, and a
    /// message that is not an error fades after [`MESSAGE_FADE_S`].
    pub message_at: Option<DateTime<Utc>>,
    /// The selected deployment's details fill the Scaling view (Enter opens, Esc closes).
    pub details_open: bool,
    /// The terminal's size; keys other than quit do nothing while it is under the minimum.
    pub screen: (u16, u16),
    /// What the console logged, for the Logs view.
    pub logs: LogBook,
}

/// The smallest terminal the layout works in.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
/// Seconds a message that is not an error stays in the status bar.
pub const MESSAGE_FADE_S: i64 = 10;

impl State {
    pub fn new(config: Config, now: DateTime<Utc>, demo: bool) -> State {
        // A config that reached the console was validated; a bad one keeps the defaults.
        let keymap = Keymap::build(&config.keys).unwrap_or_default();
        let wall = config.ui.wall;
        let read_only = config.ui.read_only || wall;
        let theme_name = config.ui.theme.clone();
        State {
            metrics: Slot::new(demo || config.prometheus.is_some()),
            cache: Slot::new(demo || config.redis.is_some()),
            cluster: Slot::new(demo || config.kubernetes.is_some()),
            contexts: if demo {
                Vec::new()
            } else {
                contexts::watched(&config)
            },
            context_filter: None,
            config,
            now,
            view: View::Overview,
            mode: Mode::Normal,
            selected: 0,
            filter: String::new(),
            read_only,
            wall,
            demo,
            banner: None,
            theme_name,
            history: History::default(),
            alerts: Vec::new(),
            keymap,
            prom_alerts: Vec::new(),
            tenants: Vec::new(),
            traffic: None,
            cost: None,
            cost_inputs: CostInputs::default(),
            spend_today: None,
            idle_since: Default::default(),
            spend: cost::Accrual::default(),
            last_key: now,
            last_cycle: now,
            running: None,
            last_outcome: None,
            notice: None,
            message_at: None,
            details_open: false,
            screen: (u16::MAX, u16::MAX),
            logs: LogBook::default(),
        }
    }

    pub fn refresh_ms(&self) -> u64 {
        self.config.ui.refresh_ms
    }

    /// Applies one message. Returns what the App loop must do outside the state.
    pub fn apply(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => {
                self.last_key = self.now;
                let before = (self.notice.clone(), self.last_outcome.clone());
                // An error stays until the operator presses a key after seeing it.
                if matches!(self.last_outcome, Some(Err(_))) {
                    self.last_outcome = None;
                }
                let effects = keys::handle(self, key);
                self.stamp_message(before);
                effects
            }
            Msg::Resize(w, h) => {
                self.screen = (w, h);
                Vec::new()
            }
            Msg::Tick(now) => {
                self.now = now;
                self.cycle_view();
                self.fade_message();
                Vec::new()
            }
            Msg::Source(update) => {
                self.apply_source(update);
                Vec::new()
            }
            Msg::Action(event) => {
                let before = (self.notice.clone(), self.last_outcome.clone());
                self.apply_action(event);
                self.stamp_message(before);
                Vec::new()
            }
            Msg::ActionStarted(kind) => {
                self.running = Some(RunningAction {
                    kind,
                    done: 0,
                    total: None,
                    per_sec: 0.0,
                });
                Vec::new()
            }
            Msg::Notice(text) => {
                let before = (self.notice.clone(), self.last_outcome.clone());
                self.notice = Some(text);
                self.stamp_message(before);
                Vec::new()
            }
            Msg::ThemeChanged(name) => {
                self.theme_name = name;
                Vec::new()
            }
            Msg::Log(line) => {
                self.logs.push(line);
                Vec::new()
            }
        }
    }

    /// Dates the status bar's message when it changed.
    /// A new notice goes to the Logs view too (action results are logged where they
    /// arrive), so every message the status bar showed can be read again there.
    fn stamp_message(&mut self, before: (Option<String>, Option<Result<String, String>>)) {
        let now = (self.notice.clone(), self.last_outcome.clone());
        if now != before && (now.0.is_some() || now.1.is_some()) {
            self.message_at = Some(self.now);
        }
        if let Some(text) = &now.0
            && before.0.as_ref() != Some(text)
        {
            self.logs.push(crate::model::LogLine {
                at: self.now,
                level: crate::model::LogLevel::Info,
                text: text.clone(),
            });
        }
    }

    /// A message that is not an error goes after [`MESSAGE_FADE_S`]; errors stay until a
    /// key is pressed.
    fn fade_message(&mut self) {
        let Some(at) = self.message_at else { return };
        if (self.now - at).num_seconds() < MESSAGE_FADE_S {
            return;
        }
        self.notice = None;
        if matches!(self.last_outcome, Some(Ok(_))) {
            self.last_outcome = None;
        }
        if self.notice.is_none() && self.last_outcome.is_none() {
            self.message_at = None;
        }
    }

    /// Under the minimum size nothing is drawn but a note; keys other than quit wait.
    pub fn too_small(&self) -> bool {
        self.screen.0 < MIN_WIDTH || self.screen.1 < MIN_HEIGHT
    }

    fn apply_source(&mut self, mut u: SourceUpdate) {
        if u.at > self.now {
            self.now = u.at;
        }
        let t = u.at.timestamp();
        if u.source == SourceKind::Kubernetes {
            let ok = u.payload.is_ok();
            if self.apply_context_update(&mut u) {
                if ok {
                    self.cluster_changed(t);
                }
                return self.after_sample(u.at);
            }
        }
        match (u.source, u.payload) {
            (_, Ok(Payload::Metrics(m))) => {
                let busiest = m.services.iter().map(|s| s.p95_ms).fold(f64::NAN, f64::max);
                let qps: f64 = m.services.iter().map(|s| s.qps).sum();
                self.history.p95_ms.push(t, busiest);
                for s in &m.services {
                    self.history.push_service_p95(t, &s.label(), s.p95_ms);
                }
                self.history.qps.push(t, qps);
                crate::domain::suggestions::track_idle(&mut self.idle_since, u.at, &m.services);
                if let Some(rate) = crate::domain::grade::error_rate(&m.services) {
                    self.history.error_rate.push(t, rate);
                }
                self.metrics.set(u.at, Ok(*m));
            }
            (_, Ok(Payload::Cache(c))) => {
                if let Some(h) = c.hit_rate {
                    self.history.hit_rate.push(t, h);
                }
                self.cache.set(u.at, Ok(*c));
            }
            (_, Ok(Payload::Cluster(k))) => {
                self.cluster.set(u.at, Ok(*k));
                self.cluster_changed(t);
            }
            (_, Ok(Payload::Traffic(t))) => {
                let services = self.metrics.value.as_ref().map(|m| m.services.as_slice());
                let window = self.config.cost.idle_hibernate_after_s;
                let idle = &mut self.idle_since;
                crate::domain::suggestions::idle_from_history(idle, u.at, window, &t, services);
                self.traffic = Some(*t);
                return;
            }
            (_, Ok(Payload::Quotas(t))) => {
                self.tenants = t;
                return;
            }
            (_, Ok(Payload::PromAlerts(a))) => {
                self.prom_alerts = a;
                return;
            }
            (_, Ok(Payload::SpendToday(t))) => {
                self.spend_today = Some(*t);
                return;
            }
            (_, Ok(Payload::CostInputs(c))) => {
                self.cost_inputs = *c;
                // Prices alone are not a new $/h sample: the history and the spend follow
                // the panels' rounds.
                self.derive();
                return;
            }
            (SourceKind::Prometheus, Err(e)) => self.metrics.set(u.at, Err(e)),
            (SourceKind::Redis, Err(e)) => self.cache.set(u.at, Err(e)),
            (SourceKind::Kubernetes, Err(e)) => self.cluster.set(u.at, Err(e)),
        }
        self.after_sample(u.at);
    }

    /// A new cluster sample is shown: the replica history, and an open scale or
    /// hibernate dialog keeps its precondition current.
    fn cluster_changed(&mut self, t: i64) {
        let Some(k) = &self.cluster.value else { return };
        let replicas: u32 = k.deployments.iter().map(|d| d.replicas).sum();
        self.history.replicas.push(t, replicas as f64);
        if let Mode::Dialog(d) = &mut self.mode {
            d.follow(&k.deployments);
        }
    }

    /// What every sample moves: alerts, cost, the $/h history and the spend.
    fn after_sample(&mut self, at: DateTime<Utc>) {
        self.derive();
        if let Some(c) = &self.cost {
            self.history
                .cost_per_hour
                .push(at.timestamp(), c.per_hour.total);
            self.spend.add(at, c.per_hour.total);
        }
    }

    /// Recomputes what follows from the samples: alerts and cost.
    fn derive(&mut self) {
        let breaches = slo::check(
            self.metrics.value.as_ref(),
            self.cache.value.as_ref(),
            &self.config.rules,
        );
        slo::update(&mut self.alerts, breaches, self.now);
        let deployments = self
            .cluster
            .value
            .as_ref()
            .map(|c| c.deployments.as_slice());
        let metrics = self.metrics.value.as_ref();
        let models = metrics.map(|m| m.models.as_slice());
        self.cost = match (deployments, models) {
            (None, None) => None,
            (d, m) => Some(cost::breakdown(
                d.unwrap_or_default(),
                m.unwrap_or_default(),
                metrics.map_or(&[][..], |m| &m.tokens_by_namespace),
                &self.cost_inputs,
                &self.config.cost,
            )),
        };
    }

    /// `[ui] cycle_s`: the wall screen moves to the next view (Logs left out) when nobody
    /// has touched a key for a whole period and nothing is open. On the wall a critical
    /// figure stops the cycle on the view that shows it.
    fn cycle_view(&mut self) {
        let period = self.cycle_period() as i64;
        if period == 0 || self.mode != Mode::Normal {
            return;
        }
        if self.wall {
            let critical = self.critical_figures();
            if let Some(first) = critical.first() {
                if !critical.iter().any(|c| c.view == self.view) {
                    self.view = first.view;
                    self.last_cycle = self.now;
                }
                return;
            }
        }
        let quiet = (self.now - self.last_key).num_seconds() >= period;
        let due = (self.now - self.last_cycle).num_seconds() >= period;
        if quiet && due {
            let cycled = &View::ALL[..View::ALL.len() - 1];
            let next = cycled
                .iter()
                .position(|v| *v == self.view)
                .map_or(0, |i| (i + 1) % cycled.len());
            self.view = cycled[next];
            self.last_cycle = self.now;
        }
    }

    /// What the cache saves per hour: hits priced as the average LLM call of a miss.
    pub fn cache_savings_per_hour(&self) -> Option<f64> {
        let ai = self.cost.as_ref()?.per_hour.ai_model;
        let c = self.cache.value.as_ref()?;
        cost::cache_savings_per_hour(
            ai,
            c.hits_per_sec,
            c.misses_per_sec,
            self.config.cost.cache_llm_share,
        )
    }

    /// The $/h change of scaling `d` from `from` to `to` replicas, at the prices in use now.
    pub fn replica_change_per_hour(
        &self,
        d: &Deployment,
        from: u32,
        to: u32,
    ) -> Result<f64, cost::MissingPrice> {
        cost::replica_change_per_hour(
            d,
            from,
            to,
            &self.config.cost,
            &self.cost_inputs.node_prices,
        )
    }

    /// What hibernated `d` saves per hour; None when it is not hibernated.
    pub fn hibernation_savings(&self, d: &Deployment) -> Option<Result<f64, cost::MissingPrice>> {
        self.hibernation_saving(d).map(|r| r.map(|s| s.per_hour))
    }

    /// The saving with its basis (recorded count × one pod's price).
    pub fn hibernation_saving(
        &self,
        d: &Deployment,
    ) -> Option<Result<cost::HibernationSaving, cost::MissingPrice>> {
        cost::hibernation_savings_per_hour(d, &self.config.cost, &self.cost_inputs.node_prices)
    }

    /// Requests per second at the platform's entry (the first service reported).
    pub fn entry_qps(&self) -> Option<f64> {
        self.metrics
            .value
            .as_ref()?
            .services
            .first()
            .map(|s| s.qps)
            .filter(|q| q.is_finite())
    }

    /// The seed's verdict for one deployment, from the figures the sources gave.
    pub fn verdict(&self, d: &Deployment) -> Verdict {
        scaling::verdict(&self.signals(d), &self.config.rules)
    }

    /// What the verdict is made on: Prometheus' figures while it answers, the HPA's own
    /// `status.currentMetrics` for what Prometheus does not give (or while it fails), the
    /// HPA's bounds; anything else unknown.
    pub fn signals(&self, d: &Deployment) -> Signals {
        let answering = self.status(SourceKind::Prometheus) == Status::Ok;
        let m = self.metrics.value.as_ref().filter(|_| answering);
        let util = m.and_then(|m| m.utilization.iter().find(|u| u.is_for(d)));
        let svc = m.and_then(|m| m.services.iter().find(|s| s.is_for(d)));
        let prometheus = Signals {
            cpu_pct: util.map(|u| u.cpu_pct),
            memory_pct: util.map(|u| u.memory_pct),
            queue_length: svc.map(|s| s.queue_length),
            p95_ms: svc.map(|s| s.p95_ms),
            ..Signals::default()
        };
        match &d.hpa {
            Some(h) => prometheus.with_hpa(h),
            None => prometheus,
        }
    }

    /// Deployments after the `/` filter, in source order.
    pub fn visible_deployments(&self) -> Vec<&Deployment> {
        let f = self.filter.to_ascii_lowercase();
        self.cluster
            .value
            .iter()
            .flat_map(|c| c.deployments.iter())
            .filter(|d| {
                f.is_empty() || d.name.to_ascii_lowercase().contains(&f) || d.namespace.contains(&f)
            })
            .collect()
    }

    pub fn selected_deployment(&self) -> Option<&Deployment> {
        let v = self.visible_deployments();
        v.get(self.selected.min(v.len().saturating_sub(1))).copied()
    }

    pub fn status(&self, kind: SourceKind) -> Status {
        self.health(kind).status
    }

    /// The one place that knows which slot each source fills.
    /// Prometheus is graded against its own pace (scrape interval), others `[ui] refresh_ms`.
    pub fn health(&self, kind: SourceKind) -> Health<'_> {
        let (now, refresh) = (self.now, self.refresh_ms());
        match kind {
            SourceKind::Prometheus => {
                let pace = self.metrics.value.as_ref().and_then(|m| m.pace_ms);
                self.metrics.health(now, pace.unwrap_or(refresh))
            }
            SourceKind::Redis => self.cache.health(now, refresh),
            SourceKind::Kubernetes => self.cluster.health(now, refresh),
        }
    }
}
