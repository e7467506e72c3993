#![allow(dead_code)]
pub mod redis;
