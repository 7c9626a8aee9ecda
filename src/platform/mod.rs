//! Shared machinery that knows no feature.

pub mod blobs;
pub mod clock;
pub mod store;
