//! Admin console back end for super admins: admin roles and scopes, security and SMTP
//! settings, the audit log. Owns no tables (roles, settings and audit live in the platform).

pub mod api;
pub mod backup;
pub mod service;
