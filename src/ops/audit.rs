//! Audit trail.
