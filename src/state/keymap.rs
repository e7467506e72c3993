//! The keymap lives in `model::keymap` (config validates `[keys]` against it).

pub use crate::model::keymap::*;
