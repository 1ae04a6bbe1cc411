//! The gate's checks, each producing report sections.

pub mod bidirectional;
pub mod breaking;
pub mod contracts;
pub mod deprecations;
pub mod drift;
pub mod events;
pub mod lint;
pub mod traffic;
pub mod versioning;
