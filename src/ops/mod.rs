//! Actions, usable from the keys and headless: warmup, invalidate, scale, and their audit.

pub mod audit;
