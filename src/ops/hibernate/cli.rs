//! `opsdeck hibernate NS/NAME` and `opsdeck wake NS/NAME` `[--dry-run] [--yes] [--confirm NAME]`:
//! the same plan and patch as the `z` key, asking on the terminal instead of a dialog.
//! Exit codes: 0 done, 1 failed, 3 refused (bad usage, 2, is clap's or main's).

use super::kube::Hibernator;
use super::{HibernateError, HibernateRequest, plan};
use crate::config::{ActionsConfig, KubernetesConfig};
use crate::ops::audit::Audit;
use crate::ops::scale::Scaler;
use crate::ops::scale::cli::{Prompt, confirm_change, conflict_line};
use crate::ops::scale::identity::Who;

pub struct HibernateCommand {
    pub request: HibernateRequest,
    pub dry_run: bool,
    pub yes: bool,
    /// `--confirm NAME`: a script's typed confirmation of a production target.
    pub confirm: Option<String>,
}

pub async fn run(
    kube: &KubernetesConfig,
    actions: &ActionsConfig,
    audit: Audit,
    cmd: HibernateCommand,
    prompt: &mut dyn Prompt,
) -> u8 {
    let label = cmd.request.label();
    let action = cmd.request.lever.name();
    let production = kube.production && !cmd.dry_run;
    let name = cmd.request.name.as_str();
    if production && cmd.yes && cmd.confirm.as_deref() != Some(name) {
        prompt.err(&format!(
            "refused: {label} is in a production context ([kubernetes] production = true): pass --confirm {name} with --yes to {action} it from a script"
        ));
        return 3;
    }
    let (client, context) = match crate::sources::kube::connect(kube).await {
        Ok(c) => c,
        Err(e) => {
            prompt.err(&e.to_string());
            return 1;
        }
    };
    let who = Who::find(&client, kube, &context).await;
    let hibernator = Hibernator {
        scaler: Scaler {
            client,
            max_replicas: actions.max_replicas,
            audit,
            who,
        },
        actions: actions.clone(),
    };
    let mut next = hibernator.plan(&cmd.request).await;
    loop {
        let plan_now = match next {
            Ok(p) => p,
            Err(e) => {
                prompt.err(&e.to_string());
                return e.exit_code();
            }
        };
        prompt.out(&plan_now.preview());
        if !cmd.yes && !cmd.dry_run {
            if !prompt.interactive() {
                prompt.err(&format!(
                    "refused: no terminal to confirm on; pass --yes to {action} from a script"
                ));
                return 3;
            }
            if !confirm_change(prompt, production, name, &format!("{action} it?")) {
                prompt.err("cancelled: nothing was changed");
                return 3;
            }
        }
        match hibernator.apply(&plan_now, cmd.dry_run).await {
            Ok(done) => {
                prompt.out(&done);
                return 0;
            }
            Err(HibernateError::Conflict {
                observed: Some(now),
                target,
                now: text,
            }) => {
                let changes = now.changes_since(&plan_now.seen);
                prompt.err(&conflict_line(&target, &changes, &text));
                if cmd.yes || !prompt.interactive() {
                    return 1;
                }
                next = plan(&cmd.request, &now, actions);
            }
            Err(e) => {
                prompt.err(&e.to_string());
                return e.exit_code();
            }
        }
    }
}
