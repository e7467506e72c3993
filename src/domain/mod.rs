//! Domain logic: plain functions over plain data, tested without a terminal or a network.

pub mod cache_key;
pub mod cost;
pub mod forecast;
pub mod grade;
pub mod prefix_hits;
pub mod py_json;
pub mod scaling;
pub mod slo;
pub mod suggestions;
pub mod tenants;
