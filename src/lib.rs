//! OfficeBox: a self-hosted office suite in one executable.

pub mod error;
pub mod platform;
