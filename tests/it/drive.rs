//! The drive (微盘) through the API: roles and permissions, names, quotas, uploads and
//! downloads, versions, the bin, copies and blob lifetimes, backup. Helpers here; scenarios in
//! `drive/`.

mod extraction;
mod files;
mod lifecycle;
mod listing;
mod more;
mod perms;

use crate::chat_support::*;
use crate::common::*;
use reqwest::Method;
use serde_json::{json, Value};

/// The caller's personal space (created on first use).
pub fn my_space(c: &Client) -> Value {
    let spaces = c.get("/api/v1/drive/spaces").ok();
    let first = spaces["items"][0].clone();
    assert_eq!(first["kind"], "personal", "{spaces}");
    first
}

pub fn my_root(c: &Client) -> u64 {
    my_space(c)["root_id"].as_u64().expect("root id")
}

pub fn team_space(c: &Client, name: &str) -> Value {
    c.post("/api/v1/drive/spaces", json!({"name": name})).expect_status(201)
}

pub fn mkdir(c: &Client, parent: u64, name: &str) -> u64 {
    c.post(&format!("/api/v1/drive/nodes/{parent}/folders"), json!({"name": name})).expect_status(201)["id"]
        .as_u64()
        .expect("id")
}

pub fn put_file(c: &Client, parent: u64, name: &str, bytes: &[u8]) -> Resp {
    c.upload(Method::POST, &format!("/api/v1/drive/nodes/{parent}/files"), name, bytes.to_vec())
}

#[track_caller]
pub fn upload_ok(c: &Client, parent: u64, name: &str, bytes: &[u8]) -> u64 {
    put_file(c, parent, name, bytes).expect_status(201)["id"].as_u64().expect("id")
}

pub fn children(c: &Client, folder: u64) -> Vec<Value> {
    c.get(&format!("/api/v1/drive/nodes/{folder}/children")).ok()["items"].as_array().cloned().unwrap_or_default()
}

pub fn names(items: &[Value]) -> Vec<String> {
    items.iter().map(|n| n["name"].as_str().unwrap_or("").to_owned()).collect()
}

pub fn content(c: &Client, id: u64) -> Resp {
    c.get(&format!("/api/v1/drive/nodes/{id}/content"))
}

pub fn add_member(c: &Client, space: u64, user: u64, role: &str) {
    c.put(&format!("/api/v1/drive/spaces/{space}/members"), json!({"kind": "user", "id": user, "role": role})).ok();
}

/// Blob references counted for a sha (0 when none).
pub fn refs(s: &TestServer, sha: &str) -> u64 {
    let txn = s.platform.store.begin_read().expect("read");
    officebox::platform::blobs::BLOB_REFS.get_in(&txn, &sha.to_owned()).expect("refs").unwrap_or(0)
}

/// Run blob garbage collection the way the hourly job does, without the grace period.
pub fn collect_garbage(s: &TestServer) -> usize {
    let txn = s.platform.store.begin_read().expect("read");
    let referenced =
        officebox::platform::blobs::BLOB_REFS.all_in(&txn).expect("refs").into_iter().map(|(sha, _)| sha).collect();
    s.platform.blobs.collect_garbage(&referenced, std::time::Duration::ZERO).expect("gc").removed
}

pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

pub trait ExpectStatus {
    fn expect_status(self, status: u16) -> Value;
}

impl ExpectStatus for Resp {
    #[track_caller]
    fn expect_status(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        self.body
    }
}

/// A world with a team space managed by `boss`.
pub struct Team {
    pub w: World,
    pub boss: Person,
    pub space: u64,
    pub root: u64,
}

pub fn team() -> Team {
    let w = world();
    let boss = w.person("boss", "老板");
    let s = team_space(&boss.c, "市场部资料");
    let (space, root) = (s["id"].as_u64().expect("id"), s["root_id"].as_u64().expect("root"));
    Team { w, boss, space, root }
}
