//! Command-line definitions. Exit codes: 0 done, 1 failed, 2 bad usage or config, 3 refused.

use clap::{ArgGroup, Parser, Subcommand};
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  opsdeck --demo                                   the console on the embedded demo platform
  opsdeck --config prod.toml --read-only           watch production without any action
  opsdeck --config prod.toml --wall                the war-room screen: large figures, cycling
  opsdeck snapshot --json | jq .cache.hit_rate     one figure for a script
  opsdeck warmup --file faq.jsonl --dry-run        check a warmup file, write nothing
  opsdeck invalidate --group user --user 42        one user's keys, previewed, then asked
  opsdeck scale cs-prod/chat-api --hpa-min 6       raise the HPA's floor before a peak
  opsdeck report --period week --format csv        last week's cost by category and model
  opsdeck completions bash > /etc/bash_completion.d/opsdeck
  opsdeck man > /usr/local/share/man/man1/opsdeck.1";

#[derive(Debug, Parser)]
#[command(
    name = "opsdeck",
    version,
    about = "On-call console for the AI customer-service platform: replicas, cache, latency, cost",
    after_help = EXAMPLES
)]
pub struct Cli {
    /// Config file (default lookup: $OPSDECK_CONFIG, ./config.toml, $XDG_CONFIG_HOME/opsdeck/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Run on the embedded demo platform, whatever the config says about backends.
    #[arg(long, global = true)]
    pub demo: bool,
    /// Remove every action (scale, hibernate, wake, warmup, invalidate).
    #[arg(long, global = true)]
    pub read_only: bool,
    /// The war-room wall: read-only, views cycle (every 20 s unless [ui] cycle_s), the
    /// headline figures in large type, a banner naming any critical figure.
    #[arg(long, global = true)]
    pub wall: bool,
    /// Theme name (dark, light, high-contrast, solarized-dark) or a theme file.
    #[arg(long, global = true, value_name = "NAME|PATH")]
    pub theme: Option<String>,
    /// Kubernetes context to use instead of the kubeconfig's current one; a comma list
    /// (prod-eu,prod-us) watches several at once. scale, hibernate and wake act on the one
    /// named here, which must be given when several are configured.
    #[arg(long, global = true, value_name = "NAME[,NAME..]")]
    pub context: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the current figures once (two samples, one refresh apart) and exit.
    Snapshot {
        /// One JSON object (the default is a short text summary).
        #[arg(long)]
        json: bool,
    },
    /// What the platform cost over the last day, week or month, from Prometheus: by
    /// category, deployment and model, against the previous period and the budget.
    /// Exit 0 when complete, 1 when parts could not be computed, 2 without [prometheus].
    Report {
        #[arg(long, value_enum)]
        period: crate::commands::report::Period,
        #[arg(long, value_enum, default_value = "table")]
        format: crate::commands::report::Format,
    },
    /// Validate a config file: exit 0 when it is good, 2 with file, line and key when not.
    CheckConfig { path: Option<PathBuf> },
    /// Write answers from a JSONL file ({"question", "answer", "context"?, "ttl_s"?}) into Redis.
    Warmup {
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Knowledge-base version in the key (default: [cache] kb_version).
        #[arg(long, value_name = "V")]
        kb_version: Option<String>,
        /// TTL in seconds for every entry, at least 1 (default: the line's ttl_s, else
        /// [cache] answer_ttl_s). 0 would make Redis refuse the write or keep the key forever.
        #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
        ttl: Option<u64>,
        /// Read and check the file, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Refuse the whole file if any line is bad, before writing anything.
        #[arg(long)]
        strict: bool,
    },
    /// Delete cache keys by group, by user or by pattern: SCAN + UNLINK, throttled.
    #[command(group(ArgGroup::new("invalidate_target").required(true).multiple(true)))]
    Invalidate {
        /// A group from [[actions.invalidate.groups]] (defaults: knowledge, user); with
        /// --user, a group whose patterns hold {user_id}.
        #[arg(long, value_name = "NAME", group = "invalidate_target")]
        group: Option<String>,
        /// One user's keys: the {user_id} of --group's patterns, or alone the group named
        /// user (user:{id}:*); the id matches only itself.
        #[arg(long, value_name = "ID", group = "invalidate_target")]
        user: Option<String>,
        /// A glob starting with at least two literal characters (e.g. answer:*).
        #[arg(
            long,
            value_name = "GLOB",
            group = "invalidate_target",
            conflicts_with_all = ["group", "user"]
        )]
        pattern: Option<String>,
        /// Count what would be deleted, delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Don't ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Scale a deployment, or its HPA's min/max when an HPA owns the replica count.
    #[command(group(clap::ArgGroup::new("change").required(true).args(["replicas", "hpa_min"])))]
    Scale {
        /// The deployment, as NAMESPACE/NAME.
        target: String,
        /// Replicas to set (0..=[actions] max_replicas).
        #[arg(long, value_name = "N")]
        replicas: Option<u32>,
        /// The HPA's minReplicas (1..=max).
        #[arg(long, value_name = "N")]
        hpa_min: Option<u32>,
        /// The HPA's maxReplicas; unchanged when not given.
        #[arg(long, value_name = "M", requires = "hpa_min")]
        hpa_max: Option<u32>,
        /// Have the server check the change (dryRun=All) without storing it.
        #[arg(long)]
        dry_run: bool,
        /// Do not ask: needed when there is no terminal.
        #[arg(long)]
        yes: bool,
        /// The deployment's name, typed: what a production context asks for with --yes.
        #[arg(long, value_name = "NAME")]
        confirm: Option<String>,
    },
    /// Scale a deployment to 0, recording its replica count in the annotation
    /// opsdeck.io/hibernated-replicas; an HPA is left as it is. Refused for
    /// [actions] never_hibernate (default: the gateway and chat entry).
    Hibernate {
        #[command(flatten)]
        args: HibernateArgs,
    },
    /// Restore a hibernated deployment to its recorded count and remove the annotation.
    Wake {
        #[command(flatten)]
        args: HibernateArgs,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to stdout.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout.
    Man,
}

/// What `hibernate` and `wake` take: the same flags as `scale`.
#[derive(Debug, clap::Args)]
pub struct HibernateArgs {
    /// The deployment, as NAMESPACE/NAME.
    pub target: String,
    /// Have the server check the change (dryRun=All) without storing it.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask: needed when there is no terminal.
    #[arg(long)]
    pub yes: bool,
    /// The deployment's name, typed: what a production context asks for with --yes.
    #[arg(long, value_name = "NAME")]
    pub confirm: Option<String>,
}
