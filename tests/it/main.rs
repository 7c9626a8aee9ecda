//! API scenario tests against the real server (one test binary, many modules, so linking stays
//! cheap).

mod common;
mod crash;
mod smoke;
