//! Global search: `GET /api/v1/search` over every kind a feature registered
//! (`platform::search::kinds`, listed in `app.rs`): people, groups, messages, and whatever
//! comes next (announcements). This module knows no feature; it parses the request, runs each
//! kind's scope, query and re-check, and pages newest-first kinds with a cursor.

pub mod api;
pub mod service;
