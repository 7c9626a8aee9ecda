//! API scenario tests against the real server (one test binary, many modules, so linking stays
//! cheap).

mod admin;
mod auth;
mod backup;
mod common;
mod mail;
mod crash;
mod enterprise;
mod matrix;
mod import;
mod org;
mod search;
mod smoke;
