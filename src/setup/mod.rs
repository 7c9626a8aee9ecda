//! First-run setup wizard and the enterprise profile (`settings["enterprise"]`).

pub mod api;
pub mod model;
pub mod service;
