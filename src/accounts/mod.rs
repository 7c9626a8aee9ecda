//! Accounts: sign-in, sessions, password changes, invitations and password resets, app passwords.
//! Tables `account_tokens` (see `tokens.rs`) and `app_passwords` (see `app_passwords.rs`);
//! sessions and credentials live in platform::auth.

pub mod api;
pub mod app_password_auth;
pub mod app_passwords;
pub mod service;
pub mod tokens;
