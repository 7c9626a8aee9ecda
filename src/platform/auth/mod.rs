//! Authentication and authorisation machinery: password hashing and policy, server-side
//! sessions, the `Auth` extractor with CSRF checks, login throttling and admin roles.

pub mod credentials;
pub mod extract;
pub mod password;
pub mod roles;
pub mod session;
pub mod throttle;

pub use extract::Auth;
pub use roles::{AdminKind, AdminRole, Permission};
