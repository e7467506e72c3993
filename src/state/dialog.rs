//! The confirm dialogs for warmup, invalidation and scaling.
//!
//! Every dialog says what it will do and asks; focus starts on the input and `Enter` there
//! moves to Cancel, so no keystroke sequence without a deliberate move to Confirm acts.

use super::{ActionRequest, ScaleChange};
use crate::config::Config;
use crate::sources::Deployment;

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
        user_id: String,
        /// Keys the target holds by the latest per-prefix counts, when known.
        estimate: Option<u64>,
        /// The SCAN preview: exact count and a few sample keys, or why it failed.
        preview: Preview,
    },
    Scale {
        namespace: String,
        name: String,
        replicas: u32,
        /// (hpa name, min, max) when an HPA owns the replica count.
        hpa: Option<(String, u32, u32)>,
        input: String,
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
}

impl Dialog {
    pub fn new(kind: DialogKind) -> Dialog {
        Dialog {
            kind,
            focus: Focus::Input,
            require_typed: None,
            typed: String::new(),
            error: None,
        }
    }

    pub fn title(&self) -> &'static str {
        match self.kind {
            DialogKind::Warmup { .. } => "Warm up the cache",
            DialogKind::Invalidate { .. } => "Invalidate cache keys",
            DialogKind::Scale { .. } => "Scale deployment",
        }
    }

    pub fn scale(d: &Deployment, production: bool) -> Dialog {
        let mut dialog = Dialog::new(DialogKind::Scale {
            namespace: d.namespace.clone(),
            name: d.name.clone(),
            replicas: d.replicas,
            hpa: d.hpa.as_ref().map(|h| (h.name.clone(), h.min, h.max)),
            input: String::new(),
        });
        if production {
            dialog.require_typed = Some(d.name.clone());
        }
        dialog
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
                if count > typed_over {
                    self.require_typed = Some(group.to_string());
                }
                Preview::Counted { count, samples }
            }
            Err(e) => Preview::Failed(e),
        };
    }

    pub fn focus_order(&self) -> Vec<Focus> {
        let mut order = vec![Focus::Input];
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
        match self.focus {
            Focus::Typed => Some(&mut self.typed),
            Focus::Input => match &mut self.kind {
                DialogKind::Warmup { file } => Some(file),
                DialogKind::Invalidate { user_id, .. } => Some(user_id),
                DialogKind::Scale { input, .. } => Some(input),
            },
            _ => None,
        }
    }

    /// The replica change the scale dialog's input asks for, validated against the bounds.
    pub fn scale_change(&self, max_replicas: u32) -> Result<(u32, ScaleChange), String> {
        let DialogKind::Scale {
            input,
            hpa,
            replicas,
            ..
        } = &self.kind
        else {
            return Err("not a scale dialog".into());
        };
        let n: u32 = input
            .trim()
            .parse()
            .map_err(|_| format!("replicas: {:?} is not a whole number", input.trim()))?;
        match hpa {
            Some((name, _, max)) => {
                if n < 1 || n > *max {
                    return Err(format!(
                        "HPA {name}: minReplicas must be 1..={max} (its max)"
                    ));
                }
                Ok((n.max(*replicas), ScaleChange::HpaMin(n)))
            }
            None => {
                if n > max_replicas {
                    return Err(format!(
                        "replicas must be 0..={max_replicas} ([actions] max_replicas)"
                    ));
                }
                Ok((n, ScaleChange::Replicas(n)))
            }
        }
    }

    /// Validates the dialog and turns it into a request, or says what is wrong.
    pub fn confirm(&self, config: &Config) -> Result<ActionRequest, String> {
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
                Ok(ActionRequest::Warmup {
                    file: file.trim().into(),
                })
            }
            DialogKind::Invalidate { group, user_id, .. } => {
                let g = config
                    .actions
                    .invalidate
                    .groups
                    .get(*group)
                    .ok_or("no invalidation group configured")?;
                let needs_user = g.patterns.iter().any(|p| p.contains("{user_id}"));
                if needs_user && user_id.trim().is_empty() {
                    return Err(format!("group {}: give the user id", g.name));
                }
                Ok(ActionRequest::Invalidate {
                    group: g.name.clone(),
                    user_id: needs_user.then(|| user_id.trim().to_string()),
                })
            }
            DialogKind::Scale {
                namespace, name, ..
            } => {
                let (_, change) = self.scale_change(config.actions.max_replicas)?;
                Ok(ActionRequest::Scale {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    change,
                })
            }
        }
    }
}
