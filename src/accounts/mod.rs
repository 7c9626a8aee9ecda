//! Accounts: sign-in, sessions, password changes, invitations and password resets.
//! Table `account_tokens` (see `tokens.rs`); sessions and credentials live in platform::auth.

pub mod api;
pub mod service;
pub mod tokens;
