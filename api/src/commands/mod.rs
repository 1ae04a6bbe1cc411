//! What each `docintel` command does; their options are in `cli.rs`.

pub mod broker;
pub mod model;
pub mod openapi;
pub mod schemas;
pub mod serve;
pub mod store;
