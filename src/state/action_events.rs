//! What running actions report, applied to the state: progress, results, previews, and a
//! conflict that brings the action's dialog back with the fresh figures.

use super::{Dialog, Mode, RunningAction, State};
use crate::model::ActionEvent;

impl State {
    pub(super) fn apply_action(&mut self, event: ActionEvent) {
        match event {
            ActionEvent::Preview {
                group,
                user_id,
                result,
            } => {
                let threshold = self.config.actions.confirm_typed_over_keys;
                let names: Vec<String> = self
                    .config
                    .actions
                    .invalidate
                    .groups
                    .iter()
                    .map(|g| g.name.clone())
                    .collect();
                if let Mode::Dialog(d) = &mut self.mode {
                    d.apply_preview(&names, &group, user_id.as_deref(), result, threshold);
                }
            }
            ActionEvent::Progress {
                kind,
                done,
                total,
                per_sec,
            } => {
                self.running = Some(RunningAction {
                    kind,
                    done,
                    total,
                    per_sec,
                });
            }
            ActionEvent::Finished { outcome, .. } => {
                self.running = None;
                self.last_outcome = Some(outcome);
            }
            ActionEvent::ScaleConflict {
                context,
                namespace,
                name,
                target,
                before,
                now,
                message,
            } => {
                self.running = None;
                // Another dialog or prompt the operator opened meanwhile is theirs: don't
                // replace it, say what happened instead.
                if self.mode != Mode::Normal {
                    self.last_outcome = Some(Err(format!(
                        "{message} (select it and press s to scale again)"
                    )));
                    return;
                }
                let production = self.production_in(context.as_deref().unwrap_or_default());
                self.last_outcome = Some(Err(message));
                let mut dialog =
                    Dialog::scale_again(&namespace, &name, target, &before, *now, production);
                dialog.context = context;
                self.mode = Mode::Dialog(Box::new(dialog));
            }
            ActionEvent::HibernateConflict {
                context,
                namespace,
                name,
                wake,
                before,
                now,
                message,
            } => {
                self.running = None;
                if self.mode != Mode::Normal {
                    self.last_outcome = Some(Err(format!(
                        "{message} (select it and press z to try again)"
                    )));
                    return;
                }
                let production = self.production_in(context.as_deref().unwrap_or_default());
                self.last_outcome = Some(Err(message));
                let mut dialog =
                    Dialog::hibernate_again(&namespace, &name, wake, &before, *now, production);
                dialog.context = context;
                self.mode = Mode::Dialog(Box::new(dialog));
            }
        }
    }
}
