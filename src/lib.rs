//! OfficeBox: a self-hosted office suite in one executable.
//!
//! `platform` is shared machinery that knows no feature; each feature folder (`setup`,
//! `accounts`, `org`, `admin`, `notice`) has model/store/service/api files; `app` wires them together.

pub mod accounts;
pub mod admin;
pub mod app;
pub mod chat;
pub mod cli;
pub mod config;
pub mod drive;
pub mod error;
pub mod notice;
pub mod ops;
pub mod org;
pub mod platform;
pub mod schema;
pub mod search;
pub mod setup;
