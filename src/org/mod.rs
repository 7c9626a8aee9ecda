//! Organisation (通讯录): department tree, members, tags, custom fields, directory search.
//! Tables are listed in `store.rs`.

pub mod api;
pub mod departments;
pub mod directory;
pub mod import;
pub mod members;
pub mod model;
pub mod search;
pub mod search_api;
pub mod service;
pub mod store;
pub mod tags;
pub mod tree;
