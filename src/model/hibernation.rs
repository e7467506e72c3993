//! A hibernated deployment, as its annotations record it. The count to restore lives on the
//! Deployment itself, so any console (or `kubectl`) can wake it, as kube-downscaler does with
//! `downscaler/original-replicas`.

use serde::Serialize;
use std::collections::BTreeMap;

/// The replica count a deployment had when it was hibernated.
pub const REPLICAS_ANNOTATION: &str = "opsdeck.io/hibernated-replicas";
/// Who hibernated it (the operator and the identity the API server saw).
pub const BY_ANNOTATION: &str = "opsdeck.io/hibernated-by";
/// When, RFC 3339.
pub const AT_ANNOTATION: &str = "opsdeck.io/hibernated-at";

/// Set while a deployment is hibernated: at 0 replicas, its count recorded beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Hibernation {
    /// The count to restore; None when the annotation holds something else than a count
    /// (edited by hand): wake refuses rather than guess.
    pub replicas: Option<u32>,
    pub by: Option<String>,
    pub at: Option<String>,
}

impl Hibernation {
    /// From a Deployment's annotations; None when it is not hibernated.
    pub fn from_annotations(annotations: &BTreeMap<String, String>) -> Option<Hibernation> {
        let count = annotations.get(REPLICAS_ANNOTATION)?;
        Some(Hibernation {
            replicas: count.trim().parse().ok(),
            by: annotations.get(BY_ANNOTATION).cloned(),
            at: annotations.get(AT_ANNOTATION).cloned(),
        })
    }

    /// "hibernated (was 4)", or "hibernated (was ?)" for an unreadable count: text, so it
    /// reads the same without colour.
    pub fn label(&self) -> String {
        match self.replicas {
            Some(n) => format!("zz hibernated (was {n})"),
            None => "zz hibernated (was ?)".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_is_read_from_the_annotation_and_a_bad_one_is_kept_as_unknown() {
        let mut a = BTreeMap::new();
        assert_eq!(Hibernation::from_annotations(&a), None);
        a.insert(REPLICAS_ANNOTATION.to_string(), "4".to_string());
        a.insert(BY_ANNOTATION.to_string(), "alice".to_string());
        let h = Hibernation::from_annotations(&a).unwrap();
        assert_eq!((h.replicas, h.by.as_deref()), (Some(4), Some("alice")));
        assert_eq!(h.label(), "zz hibernated (was 4)");
        a.insert(REPLICAS_ANNOTATION.to_string(), "four".to_string());
        let h = Hibernation::from_annotations(&a).unwrap();
        assert_eq!(h.replicas, None);
        assert_eq!(h.label(), "zz hibernated (was ?)");
    }
}
