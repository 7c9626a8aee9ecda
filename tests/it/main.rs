//! API scenario tests against the real server (one test binary, many modules, so linking stays
//! cheap).

mod admin;
mod app_passwords;
mod auth;
mod backup;
mod chat;
mod chat_support;
mod common;
mod crash;
mod dav;
mod download_chunks;
mod drive;
mod drive_links;
mod enterprise;
mod extract;
mod import;
mod mail;
mod matrix;
mod notice;
mod org;
mod realtime;
mod search;
mod search_messages;
mod smoke;
mod uploads;
