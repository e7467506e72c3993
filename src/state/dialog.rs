//! The confirm dialogs for warmup, invalidation, scaling, and hibernate or wake.
//!
//! Every dialog says what it will do and asks; focus starts on the input and `Enter` there
//! moves to Cancel, so no keystroke sequence without a deliberate move to Confirm acts.

use crate::config::Config;
use crate::model::{Deployment, Observed, ScaleTarget};
use crate::ops::ActionPlan;
use crate::ops::hibernate::{self, HibernatePlan, HibernateRequest, Lever};
use crate::ops::invalidate::{self, InvalidatePlan, InvalidateTarget};
use crate::ops::scale::{self, ScaleError, ScalePlan, ScaleRequest};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Input,
    Typed,
    Cancel,
    Confirm,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DialogKind {
    Warmup {
        file: String,
    },
    Invalidate {
        /// Index into the configured groups.
        group: usize,
        /// The group's patterns take a user id: the dialog has an input field.
        keyed: bool,
        user_id: String,
        /// Keys the target holds by the latest per-prefix counts, when known.
        estimate: Option<u64>,
        /// The SCAN preview: exact count and a few sample keys, or why it failed.
        preview: Preview,
    },
    Scale {
        namespace: String,
        name: String,
        /// Replicas, owning HPA and resourceVersion as shown; what a confirm is made on.
        seen: Observed,
        input: String,
        /// After a 409: what changed since the operator last looked.
        changed: Option<String>,
    },
    /// Hibernate a running deployment, or wake a hibernated one (`wake`).
    Hibernate {
        namespace: String,
        name: String,
        wake: bool,
        /// Replicas, HPA, recorded count and resourceVersion as shown.
        seen: Observed,
        changed: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Preview {
    /// No preview for this backend (the demo), or not asked yet.
    #[default]
    None,
    Counting,
    Counted {
        count: u64,
        samples: Vec<String>,
    },
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dialog {
    pub kind: DialogKind,
    pub focus: Focus,
    /// Large or production actions: the operator types this name to confirm.
    pub require_typed: Option<String>,
    pub typed: String,
    pub error: Option<String>,
    /// The kube context a scale, hibernate or wake acts on, when several are watched;
    /// the dialog names it and the plan connects to it.
    pub context: Option<String>,
}

impl Dialog {
    pub fn new(kind: DialogKind) -> Dialog {
        Dialog {
            kind,
            focus: Focus::Input,
            require_typed: None,
            typed: String::new(),
            error: None,
            context: None,
        }
    }

    pub fn title(&self) -> &'static str {
        match self.kind {
            DialogKind::Warmup { .. } => "Warm up the cache",
            DialogKind::Invalidate { .. } => "Invalidate cache keys",
            DialogKind::Scale { .. } => "Scale deployment",
            DialogKind::Hibernate { wake: false, .. } => "Hibernate deployment",
            DialogKind::Hibernate { wake: true, .. } => "Wake deployment",
        }
    }

    /// Hibernate `d`, or wake it when it is hibernated. There is nothing to type but the
    /// name on production: focus starts there, else on Cancel.
    pub fn hibernate(d: &Deployment, production: bool) -> Dialog {
        let mut dialog = Dialog::new(DialogKind::Hibernate {
            namespace: d.namespace.clone(),
            name: d.name.clone(),
            wake: d.hibernated.is_some(),
            seen: Observed::of(d),
            changed: None,
        });
        if production {
            dialog.require_typed = Some(d.name.clone());
        }
        dialog.focus = dialog.first_focus();
        dialog
    }

    /// The hibernate dialog again after a 409, on the fresh figures, focus on Cancel.
    pub fn hibernate_again(
        namespace: &str,
        name: &str,
        wake: bool,
        before: &Observed,
        now: Observed,
        production: bool,
    ) -> Dialog {
        let changes = now.changes_since(before);
        let changed = if changes.is_empty() {
            format!(
                "changed since you looked (resourceVersion {} → {}, same figures); confirm again",
                before.resource_version, now.resource_version
            )
        } else {
            format!(
                "changed since you looked: {}; confirm again",
                changes.join(", ")
            )
        };
        let mut dialog = Dialog::new(DialogKind::Hibernate {
            namespace: namespace.into(),
            name: name.into(),
            wake,
            seen: now,
            changed: Some(changed),
        });
        if production {
            dialog.require_typed = Some(name.into());
        }
        dialog.focus = Focus::Cancel;
        dialog
    }

    /// The hibernate or wake plan the dialog shows, as `opsdeck hibernate` builds it.
    pub fn hibernate_plan(&self, config: &Config) -> Result<HibernatePlan, String> {
        let DialogKind::Hibernate {
            namespace,
            name,
            wake,
            seen,
            ..
        } = &self.kind
        else {
            return Err("not a hibernate dialog".into());
        };
        let req = HibernateRequest {
            context: self.context.clone(),
            namespace: namespace.clone(),
            name: name.clone(),
            lever: if *wake { Lever::Wake } else { Lever::Hibernate },
        };
        hibernate::plan(&req, seen, &config.actions).map_err(|e| match e {
            ScaleError::Refused(why) => why,
            e => e.to_string(),
        })
    }

    pub fn scale(d: &Deployment, production: bool) -> Dialog {
        let mut dialog = Dialog::new(DialogKind::Scale {
            namespace: d.namespace.clone(),
            name: d.name.clone(),
            seen: Observed::of(d),
            input: String::new(),
            changed: None,
        });
        if production {
            dialog.require_typed = Some(d.name.clone());
        }
        dialog
    }

    /// The scale dialog again after a 409: the fresh figures, the operator's number kept,
    /// a line saying what moved, and focus on Cancel so a stray Enter does not re-send.
    pub fn scale_again(
        namespace: &str,
        name: &str,
        target: ScaleTarget,
        before: &Observed,
        now: Observed,
        production: bool,
    ) -> Dialog {
        let input = match target {
            ScaleTarget::Replicas(n) | ScaleTarget::Hpa { min: n, .. } => n.to_string(),
        };
        let changes = now.changes_since(before);
        let changed = if changes.is_empty() {
            format!(
                "changed since you looked (resourceVersion {} → {}, same figures); confirm again",
                before.resource_version, now.resource_version
            )
        } else {
            format!(
                "changed since you looked: {}; confirm again",
                changes.join(", ")
            )
        };
        let mut dialog = Dialog::new(DialogKind::Scale {
            namespace: namespace.into(),
            name: name.into(),
            seen: now,
            input,
            changed: Some(changed),
        });
        if production {
            dialog.require_typed = Some(name.into());
        }
        dialog.focus = Focus::Cancel;
        dialog
    }

    /// Keeps an open scale dialog's precondition current while what it shows still holds.
    /// A deployment's resourceVersion moves with every status update (a pod turning ready);
    /// asking again for those would teach operators to confirm twice without reading.
    pub fn follow(&mut self, deployments: &[Deployment]) {
        let (DialogKind::Scale {
            namespace,
            name,
            seen,
            ..
        }
        | DialogKind::Hibernate {
            namespace,
            name,
            seen,
            ..
        }) = &mut self.kind
        else {
            return;
        };
        let Some(d) = deployments.iter().find(|d| {
            d.namespace == *namespace
                && d.name == *name
                && self.context.as_ref().is_none_or(|c| *c == d.context)
        }) else {
            return;
        };
        seen.follow(&Observed::of(d));
    }

    /// Takes a preview result if it is for what the dialog shows now; a large count asks
    /// for the group's name to be typed.
    pub fn apply_preview(
        &mut self,
        group_names: &[String],
        group: &str,
        user: Option<&str>,
        result: Result<(u64, Vec<String>), String>,
        typed_over: u64,
    ) {
        let DialogKind::Invalidate {
            group: g,
            user_id,
            preview,
            ..
        } = &mut self.kind
        else {
            return;
        };
        let same_group = group_names.get(*g).is_some_and(|n| n == group);
        let same_user = user.is_none_or(|u| u == user_id.trim());
        if !same_group || !same_user {
            return;
        }
        *preview = match result {
            Ok((count, samples)) => {
                // Counted: the name is asked for only over the threshold.
                self.require_typed = (count > typed_over).then(|| group.to_string());
                if self.require_typed.is_none() && self.focus == Focus::Typed {
                    self.focus = Focus::Cancel;
                }
                Preview::Counted { count, samples }
            }
            // Not known: the name stays asked for.
            Err(e) => {
                self.require_typed = Some(group.to_string());
                Preview::Failed(e)
            }
        };
    }

    /// The dialog has a field to type into (not an invalidation of a whole group).
    pub fn has_input(&self) -> bool {
        !matches!(
            self.kind,
            DialogKind::Invalidate { keyed: false, .. } | DialogKind::Hibernate { .. }
        )
    }

    /// Focus starts in the first field that takes input: the input, else the name to type,
    /// else Cancel.
    pub fn first_focus(&self) -> Focus {
        if self.has_input() {
            Focus::Input
        } else if self.require_typed.is_some() {
            Focus::Typed
        } else {
            Focus::Cancel
        }
    }

    pub fn focus_order(&self) -> Vec<Focus> {
        let mut order = Vec::new();
        if self.has_input() {
            order.push(Focus::Input);
        }
        if self.require_typed.is_some() {
            order.push(Focus::Typed);
        }
        order.extend([Focus::Cancel, Focus::Confirm]);
        order
    }

    pub fn move_focus(&mut self, forward: bool) {
        let order = self.focus_order();
        let i = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = order.len();
        self.focus = order[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }];
    }

    pub fn input_mut(&mut self) -> Option<&mut String> {
        if self.focus == Focus::Input && !self.has_input() {
            return None;
        }
        match self.focus {
            Focus::Typed => Some(&mut self.typed),
            Focus::Input => match &mut self.kind {
                DialogKind::Warmup { file } => Some(file),
                DialogKind::Invalidate { user_id, .. } => Some(user_id),
                DialogKind::Scale { input, .. } => Some(input),
                DialogKind::Hibernate { .. } => None,
            },
            _ => None,
        }
    }

    /// The scale plan the dialog's input asks for, built as `opsdeck scale` builds it;
    /// the error is in the words of the field shown.
    pub fn scale_plan(&self, max_replicas: u32) -> Result<ScalePlan, String> {
        let DialogKind::Scale {
            namespace,
            name,
            input,
            seen,
            ..
        } = &self.kind
        else {
            return Err("not a scale dialog".into());
        };
        let field = if seen.hpa.is_some() {
            "minReplicas"
        } else {
            "replicas"
        };
        let n: u32 = input
            .trim()
            .parse()
            .map_err(|_| format!("{field}: {:?} is not a whole number", input.trim()))?;
        let req = ScaleRequest {
            context: self.context.clone(),
            namespace: namespace.clone(),
            name: name.clone(),
            target: ScaleTarget::Replicas(n),
        };
        scale::plan::plan(&req, seen, max_replicas).map_err(|e| match e {
            ScaleError::Refused(why) => why,
            e => e.to_string(),
        })
    }

    /// The invalidation the dialog shows: the chosen group, with the user id when the
    /// group is keyed by user.
    pub fn invalidate_plan(&self, config: &Config) -> Result<InvalidatePlan, String> {
        let DialogKind::Invalidate { group, user_id, .. } = &self.kind else {
            return Err("not an invalidate dialog".into());
        };
        let g = config
            .actions
            .invalidate
            .groups
            .get(*group)
            .ok_or("no invalidation group configured")?;
        let keyed = g.patterns.iter().any(|p| p.contains("{user_id}"));
        let target = InvalidateTarget::Group {
            name: g.name.clone(),
            user: keyed.then(|| user_id.trim().to_string()),
        };
        invalidate::plan(&target, &config.actions.invalidate).map_err(|e| e.to_string())
    }

    /// Validates the dialog and turns it into the plan to run, or says what is wrong.
    pub fn confirm(&self, config: &Config) -> Result<ActionPlan, String> {
        if let Some(name) = &self.require_typed
            && self.typed.trim() != name
        {
            return Err(format!("type {name:?} to confirm"));
        }
        match &self.kind {
            DialogKind::Warmup { file } => {
                if file.trim().is_empty() {
                    return Err("file: give a JSONL file of questions and answers".into());
                }
                Ok(ActionPlan::Warmup {
                    file: file.trim().into(),
                })
            }
            DialogKind::Invalidate { .. } => {
                self.invalidate_plan(config).map(ActionPlan::Invalidate)
            }
            DialogKind::Scale { .. } => self
                .scale_plan(config.actions.max_replicas)
                .map(|p| ActionPlan::Scale(Box::new(p))),
            DialogKind::Hibernate { .. } => self
                .hibernate_plan(config)
                .map(|p| ActionPlan::Hibernate(Box::new(p))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::HpaBounds;
    use crate::ops::scale::PlannedChange;

    fn deployment(replicas: u32, rv: &str) -> Deployment {
        Deployment {
            namespace: "ns".into(),
            name: "api".into(),
            replicas,
            resource_version: rv.into(),
            ..Default::default()
        }
    }

    #[test]
    fn asking_again_keeps_the_number_and_starts_on_cancel() {
        let before = Observed::of(&deployment(4, "10"));
        let now = Observed {
            replicas: 6,
            hpa: None,
            resource_version: "12".into(),
            hibernated: None,
        };
        let d = Dialog::scale_again("ns", "api", ScaleTarget::Replicas(3), &before, now, true);
        assert_eq!(d.focus, Focus::Cancel);
        assert_eq!(d.require_typed.as_deref(), Some("api"));
        let DialogKind::Scale {
            seen,
            input,
            changed,
            ..
        } = &d.kind
        else {
            panic!("{:?}", d.kind)
        };
        assert_eq!((seen.replicas, input.as_str()), (6, "3"));
        assert_eq!(
            changed.as_deref(),
            Some("changed since you looked: replicas 4 → 6; confirm again")
        );
        // An HPA that took over turns the same number into its minReplicas.
        let now = Observed {
            replicas: 4,
            hpa: Some(HpaBounds {
                name: "api-hpa".into(),
                min: 2,
                max: 20,
                resource_version: "h13".into(),
            }),
            resource_version: "13".into(),
            hibernated: None,
        };
        let d = Dialog::scale_again("ns", "api", ScaleTarget::Replicas(3), &before, now, false);
        let plan = d.scale_plan(50).unwrap();
        assert_eq!(
            plan.change,
            PlannedChange::Hpa {
                hpa: "api-hpa".into(),
                min: (2, 3),
                max: (20, 20)
            }
        );
        assert_eq!(plan.resource_version, "h13");
    }

    #[test]
    fn an_open_dialog_follows_status_updates_but_not_changes() {
        let mut d = Dialog::scale(&deployment(4, "10"), false);
        let rv = |d: &Dialog| match &d.kind {
            DialogKind::Scale { seen, .. } => seen.resource_version.clone(),
            _ => unreachable!(),
        };
        d.follow(&[deployment(4, "11")]);
        assert_eq!(rv(&d), "11", "same figures: the newer precondition");
        d.follow(&[deployment(6, "12")]);
        assert_eq!(rv(&d), "11", "new figures: the operator has not seen them");
    }
}
