//! SLO checks.
