//! opsdeck binary: CLI dispatch.
//!
//! - no subcommand: the console (the embedded demo when no config is found or `--demo`)
//! - `snapshot [--json]`: the figures once, for scripts
//! - `report --period day|week|month`: the period's cost from Prometheus
//! - `check-config [PATH]`: validate a config file
//! - `scale NS/NAME (--replicas N | --hpa-min N [--hpa-max M])`: scale, HPA-aware
//! - `hibernate NS/NAME`, `wake NS/NAME`: to 0 with the count kept on the Deployment, and back

use clap::Parser;
use color_eyre::eyre::WrapErr;
use opsdeck::app::{self, App, Backends, Exit};
use opsdeck::cli::{Cli, Command};
use opsdeck::commands::{self, cache};
use opsdeck::config::{self, Config};
use opsdeck::ops::audit::Audit;
use opsdeck::ops::executor::{Backend, Executor};
use opsdeck::ops::hibernate::Lever;
use opsdeck::ops::invalidate::InvalidateTarget;
use opsdeck::sources::{RefreshNow, registry, sim};
use opsdeck::state::State;
use opsdeck::ui::Theme;
use std::process::ExitCode;
use std::time::Duration;

const NO_CONFIG_BANNER: &str = "demo: no config found. Copy config.toml.example to ./config.toml (or --config PATH) to watch real Prometheus, Redis and Kubernetes.";

/// The demo's seed: the same every run, so screenshots and docs match what users see.
const DEMO_SEED: u64 = 2026;

/// How the console was set up: which config, and whether it runs on the demo.
struct Setup {
    config: Config,
    demo: bool,
    /// A config file was found by the lookup.
    found: bool,
    banner: Option<String>,
}

/// Headless actions act on real backends only: with `--demo` or without a config file they
/// would otherwise reach whatever the environment points at (the current kube context).
fn refuse_headless_action(cli: &Cli, setup: &Setup) -> Option<u8> {
    let acting = matches!(
        cli.command,
        Some(
            Command::Warmup { .. }
                | Command::Invalidate { .. }
                | Command::Scale { .. }
                | Command::Hibernate { .. }
                | Command::Wake { .. }
        )
    );
    if !acting {
        return None;
    }
    if cli.demo {
        eprintln!(
            "error: --demo has no backends to act on: headless warmup, invalidate, scale, hibernate and wake act on the backends of a config file (try them in the console: opsdeck --demo)"
        );
        return Some(2);
    }
    if !setup.found {
        eprintln!(
            "error: no config file found, so there is nothing to act on. Looked at --config PATH, $OPSDECK_CONFIG, ./config.toml and $XDG_CONFIG_HOME/opsdeck/config.toml; copy config.toml.example to one of them"
        );
        return Some(2);
    }
    None
}

fn setup(cli: &Cli) -> Result<Setup, String> {
    let path = config::lookup(cli.config.as_deref());
    let (mut config, found) = match &path {
        Some(p) => (config::load(p).map_err(|e| e.to_string())?, true),
        None => (Config::default(), false),
    };
    if cli.read_only {
        config.ui.read_only = true;
    }
    if cli.wall {
        config.ui.wall = true;
    }
    // A headless action picks its one context from the flag itself (`KubernetesConfig::pick`).
    let acting = matches!(
        cli.command,
        Some(Command::Scale { .. } | Command::Hibernate { .. } | Command::Wake { .. })
    );
    if let (Some(ctx), Some(k), false) = (&cli.context, config.kubernetes.as_mut(), acting) {
        k.set_from_flag(ctx);
    }
    let has_backend =
        config.prometheus.is_some() || config.redis.is_some() || config.kubernetes.is_some();
    let demo = cli.demo || !found || !has_backend;
    let banner = (!found && !cli.demo).then(|| NO_CONFIG_BANNER.to_string());
    Ok(Setup {
        config,
        demo,
        found,
        banner,
    })
}

fn main() -> ExitCode {
    // reqwest's rustls has no provider of its own: install ring before any client exists.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Completions { shell }) => {
            commands::shell::completions(*shell, &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Some(Command::Man) => {
            return match commands::shell::man(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write the man page: {e}");
                    ExitCode::from(1)
                }
            };
        }
        _ => {}
    }
    if let Some(Command::CheckConfig { path }) = &cli.command {
        let code = config::check_config(
            path.as_deref().or(cli.config.as_deref()),
            &mut std::io::stdout(),
            &mut std::io::stderr(),
        );
        return ExitCode::from(code as u8);
    }
    let setup = match setup(&cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(code) = refuse_headless_action(&cli, &setup) {
        return ExitCode::from(code);
    }
    let runtime = match runtime_for(cli.command.as_ref()).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = match &cli.command {
        Some(Command::Snapshot { json }) => Ok(runtime.block_on(commands::snapshot::run(
            setup.config,
            setup.demo,
            DEMO_SEED,
            *json,
        ))),
        Some(Command::CheckConfig { .. } | Command::Completions { .. } | Command::Man) => {
            unreachable!("handled above")
        }
        Some(Command::Report { period, format }) => Ok(runtime.block_on(
            opsdeck::commands::report::run(&setup.config, *period, *format),
        )),
        Some(Command::Warmup {
            file,
            kb_version,
            ttl,
            dry_run,
            strict,
        }) => {
            let args = cache::WarmupArgs {
                file,
                kb_version: kb_version.clone(),
                ttl: *ttl,
                dry_run: *dry_run,
                strict: *strict,
            };
            Ok(runtime.block_on(cache::warmup(&setup.config, args)))
        }
        Some(Command::Invalidate {
            group,
            user,
            pattern,
            dry_run,
            yes,
        }) => {
            let target = match (group, user, pattern) {
                (Some(g), user, _) => InvalidateTarget::Group {
                    name: g.clone(),
                    user: user.clone(),
                },
                (None, Some(u), _) => InvalidateTarget::user(u.clone()),
                (None, None, Some(p)) => InvalidateTarget::Pattern(p.clone()),
                _ => unreachable!("clap requires one target"),
            };
            let args = cache::InvalidateArgs {
                target,
                dry_run: *dry_run,
                yes: *yes,
            };
            Ok(runtime.block_on(cache::invalidate(&setup.config, args)))
        }
        Some(Command::Scale { .. }) => runtime.block_on(run_scale(&cli, setup)),
        Some(Command::Hibernate { args }) => {
            runtime.block_on(run_hibernate(&cli, setup, args, Lever::Hibernate))
        }
        Some(Command::Wake { args }) => {
            runtime.block_on(run_hibernate(&cli, setup, args, Lever::Wake))
        }
        None => runtime.block_on(run_console(&cli, setup)),
    };
    // Source tasks may sit in a long request: don't wait for them on the way out.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:?}");
            ExitCode::from(1)
        }
    }
}

/// The cache actions are one task on one connection (warmup's parser has a thread of its
/// own): a second worker would only wake, find nothing to steal, and take CPU from a Redis
/// on the same machine. Everything else has sources or requests to run side by side.
fn runtime_for(command: Option<&Command>) -> tokio::runtime::Builder {
    match command {
        Some(Command::Warmup { .. } | Command::Invalidate { .. }) => {
            tokio::runtime::Builder::new_current_thread()
        }
        _ => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(2);
            b
        }
    }
}

async fn run_console(cli: &Cli, setup: Setup) -> color_eyre::Result<u8> {
    // A full-screen UI written to a file or a pipe is escape codes forever.
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        eprintln!(
            "error: the console needs a terminal on stdout; for scripts and pipes use `opsdeck snapshot` (or `opsdeck snapshot --json`)"
        );
        return Ok(2);
    }
    color_eyre::install()?;
    let no_color = Theme::no_color_from_env();
    let theme =
        match Theme::from_env_and_flag(cli.theme.as_deref(), &setup.config.ui.theme, no_color) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(2);
            }
        };
    init_logging();
    let refresh = Duration::from_millis(setup.config.ui.refresh_ms);
    let (update_tx, updates) = tokio::sync::mpsc::channel(64);
    let (action_tx, actions) = tokio::sync::mpsc::channel(64);
    let audit = Audit::new(setup.config.actions.audit_log.clone());
    let mut state = State::new(setup.config, chrono::Utc::now(), setup.demo);
    state.banner = setup.banner;
    state.theme_name = theme.name.clone();
    let wake = RefreshNow::default();
    let (backend, sim) = if setup.demo {
        tracing::info!("starting the embedded demo");
        let sim = sim::spawn(DEMO_SEED, refresh, update_tx);
        let backend = Backend::Demo {
            sim: sim.clone(),
            config: Box::new(state.config.clone()),
        };
        (backend, Some(sim))
    } else {
        registry::spawn_all(&state.config, refresh, &update_tx, &wake);
        (Backend::Live(Box::new(state.config.clone())), None)
    };
    let executor = Executor {
        backend,
        audit,
        events: action_tx,
    };
    let backends = Backends::new(executor, sim, wake);
    let mut app = App {
        state,
        theme,
        no_color,
        backends,
        updates,
        actions,
    };
    // ratatui::init installs a panic hook that restores the terminal before the report.
    let mut terminal = ratatui::try_init().wrap_err("cannot set up the terminal")?;
    // Over ratatui's hook: a panic in a source task must not restore the terminal.
    opsdeck::sources::supervise::install_panic_hook();
    let events = crossterm::event::EventStream::new();
    let exit = app::run(&mut terminal, events, &mut app).await;
    ratatui::restore();
    let exit = exit?;
    Ok(match exit {
        Exit::Signal {
            name,
            stopped_action,
        } => {
            tracing::info!("stopped by {name}");
            if stopped_action {
                eprintln!(
                    "opsdeck: {name}: the running action was interrupted; its audit line says what it did"
                );
                1
            } else {
                0
            }
        }
        _ => 0,
    })
}

fn init_logging() {
    use tracing_subscriber::prelude::*;
    let _ = tracing_subscriber::registry()
        .with(opsdeck::app::LogCapture)
        .try_init();
}

/// `opsdeck scale`: exit 0 done, 1 failed, 2 bad usage or config, 3 refused.
async fn run_scale(cli: &Cli, setup: Setup) -> color_eyre::Result<u8> {
    use opsdeck::ops::scale::cli::{self as scale_cli, ScaleCommand, TerminalPrompt};
    use opsdeck::ops::scale::{ScaleRequest, ScaleTarget};
    let Some(Command::Scale {
        target,
        replicas,
        hpa_min,
        hpa_max,
        dry_run,
        yes,
        confirm,
    }) = &cli.command
    else {
        unreachable!("dispatched on Command::Scale")
    };
    if setup.config.ui.read_only {
        eprintln!("refused: read-only mode (--read-only or [ui] read_only) removes every action");
        return Ok(3);
    }
    let (namespace, name) = match ScaleRequest::parse_target(target) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
    };
    let target = match (replicas, hpa_min) {
        (Some(n), _) => ScaleTarget::Replicas(*n),
        (None, Some(min)) => ScaleTarget::Hpa {
            min: *min,
            max: *hpa_max,
        },
        (None, None) => unreachable!("clap requires --replicas or --hpa-min"),
    };
    let (k, several) = match kube_target(cli, &setup, "scale") {
        Ok(t) => t,
        Err(code) => return Ok(code),
    };
    let cmd = ScaleCommand {
        request: ScaleRequest {
            context: k.context.clone().filter(|_| several),
            namespace,
            name,
            target,
        },
        dry_run: *dry_run,
        yes: *yes,
        confirm: confirm.clone(),
    };
    let audit = Audit::new(setup.config.actions.audit_log.clone());
    let max = setup.config.actions.max_replicas;
    Ok(scale_cli::run(&k, max, audit, cmd, &mut TerminalPrompt).await)
}

/// The one context a headless kube action acts on (`--context` among several), and whether
/// several are configured; Err is the exit code after saying why (2 no such context or no
/// `[kubernetes]`, 3 read-only there).
fn kube_target(
    cli: &Cli,
    setup: &Setup,
    what: &str,
) -> Result<(opsdeck::config::KubernetesConfig, bool), u8> {
    let Some(k) = setup.config.kubernetes.clone() else {
        eprintln!(
            "error: {what} needs [kubernetes] in the config (context = \"NAME\", or empty for the kubeconfig's current context)"
        );
        return Err(2);
    };
    let several = k.several();
    let k = k.pick(cli.context.as_deref()).map_err(|e| {
        eprintln!("error: {e}");
        2u8
    })?;
    if k.read_only {
        let ctx = k.context.as_deref().unwrap_or_default();
        eprintln!("refused: read-only in {ctx} ([kubernetes.context.\"{ctx}\"] read_only = true)");
        return Err(3);
    }
    Ok((k, several))
}

/// `opsdeck hibernate` and `opsdeck wake`: exit 0 done, 1 failed, 2 bad usage or config,
/// 3 refused.
async fn run_hibernate(
    cli: &Cli,
    setup: Setup,
    args: &opsdeck::cli::HibernateArgs,
    lever: Lever,
) -> color_eyre::Result<u8> {
    use opsdeck::ops::hibernate::HibernateRequest;
    use opsdeck::ops::hibernate::cli::{self as hibernate_cli, HibernateCommand};
    use opsdeck::ops::scale::ScaleRequest;
    use opsdeck::ops::scale::cli::TerminalPrompt;
    if setup.config.ui.read_only {
        eprintln!("refused: read-only mode (--read-only or [ui] read_only) removes every action");
        return Ok(3);
    }
    let (namespace, name) = match ScaleRequest::parse_target(&args.target) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(2);
        }
    };
    let (k, several) = match kube_target(cli, &setup, lever.name()) {
        Ok(t) => t,
        Err(code) => return Ok(code),
    };
    let cmd = HibernateCommand {
        request: HibernateRequest {
            context: k.context.clone().filter(|_| several),
            namespace,
            name,
            lever,
        },
        dry_run: args.dry_run,
        yes: args.yes,
        confirm: args.confirm.clone(),
    };
    let audit = Audit::new(setup.config.actions.audit_log.clone());
    let actions = &setup.config.actions;
    Ok(hibernate_cli::run(&k, actions, audit, cmd, &mut TerminalPrompt).await)
}
