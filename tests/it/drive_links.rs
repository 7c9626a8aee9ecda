//! Drive sharing: share links (password unlock, expiry, revoke, download limits, preview-only,
//! subtree confinement, access log, who may manage them) and the chat bridge (send a drive
//! file into a chat, save a chat file into the drive).
//!
//! Trees are seeded through the drive's service functions (the same ones the HTTP API calls);
//! everything under test goes through HTTP.

use crate::chat_support::*;
use crate::common::*;
use officebox::drive::model::{OnConflict, PrincipalKind, Role};
use officebox::drive::service;
use officebox::platform::clock::Clock;
use serde_json::{json, Value};

const TEXT: &[u8] = "季度报告：营收增长 12%".as_bytes();

fn personal_root(w: &World, user: u64) -> u64 {
    w.s.platform.store.write_blocking(move |tx| Ok(service::personal_space(tx, user)?.root_id)).expect("space")
}

fn mkdir(w: &World, user: u64, parent: u64, name: &str) -> u64 {
    let name = name.to_owned();
    w.s.platform
        .store
        .write_blocking(move |tx| Ok(service::mkdir(tx, user, parent, &name, OnConflict::Error)?.id))
        .expect("mkdir")
}

fn put_file(w: &World, user: u64, parent: u64, name: &str, bytes: &[u8], on_conflict: OnConflict) -> u64 {
    let blob = w.s.platform.blobs.put_reader(bytes, u64::MAX, "application/octet-stream").expect("blob");
    let name = name.to_owned();
    w.s.platform
        .store
        .write_blocking(move |tx| Ok(service::commit_file(tx, user, parent, &name, on_conflict, &blob)?.id))
        .expect("commit")
}

fn trash(w: &World, user: u64, id: u64) {
    w.s.platform.store.write_blocking(move |tx| service::delete(tx, user, id)).expect("delete");
}

fn grant(w: &World, owner: u64, node: u64, to: u64, role: Role) {
    w.s.platform
        .store
        .write_blocking(move |tx| {
            officebox::drive::grants::put(tx, owner, node, PrincipalKind::User, to, role).map(|_| ())
        })
        .expect("grant");
}

/// Alice's "项目资料" folder: 说明.txt, 图片/logo.png; and 私密.txt next to it (not shared).
struct Tree {
    folder: u64,
    txt: u64,
    pics: u64,
    png: u64,
    private: u64,
}

fn tree(w: &World, alice: u64) -> Tree {
    let root = personal_root(w, alice);
    let folder = mkdir(w, alice, root, "项目资料");
    let txt = put_file(w, alice, folder, "说明.txt", TEXT, OnConflict::Error);
    let pics = mkdir(w, alice, folder, "图片");
    let png = put_file(w, alice, pics, "logo.png", &png(), OnConflict::Error);
    let private = put_file(w, alice, root, "私密.txt", b"secret", OnConflict::Error);
    Tree { folder, txt, pics, png, private }
}

fn create_link(c: &Client, node: u64, body: Value) -> (u64, String) {
    let l = c.post(&format!("/api/v1/drive/nodes/{node}/links"), body).expect(201, "");
    let url = l["url"].as_str().expect("url").to_owned();
    assert!(url.contains("/s/"), "{url}");
    (l["id"].as_u64().expect("id"), token_of(&url))
}

fn public(token: &str, rest: &str) -> String {
    format!("/api/v1/public/links/{token}{rest}")
}

fn names(v: &Value) -> Vec<String> {
    v["items"].as_array().expect("items").iter().map(|i| i["name"].as_str().unwrap_or("").to_owned()).collect()
}

#[test]
fn a_password_link_unlocks_with_a_scoped_cookie_and_logs_every_access() {
    let w = world();
    let alice = w.person("alice", "爱丽丝");
    let t = tree(&w, alice.id);
    let (link, token) = create_link(&alice.c, t.folder, json!({"password": "abcd1234"}));
    let anon = w.s.client();

    let info = anon.get(&public(&token, "")).ok();
    assert_eq!(info["name"], "项目资料");
    assert_eq!(info["needs_password"], true);
    anon.get(&public(&token, "/nodes")).expect(401, "password_required");
    anon.get(&public(&token, &format!("/nodes/{}/content", t.txt))).expect(401, "password_required");
    anon.post(&public(&token, "/unlock"), json!({"password": "wrong-one"})).expect(403, "wrong_password");
    anon.get(&public(&token, "/nodes")).expect(401, "password_required");

    let r = anon.post(&public(&token, "/unlock"), json!({"password": "abcd1234"}));
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    let cookie = r.headers.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(cookie.starts_with("ob_link="), "{cookie}");
    assert!(cookie.contains(&format!("Path=/api/v1/public/links/{token}")), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");

    let top = anon.get(&public(&token, "/nodes")).ok();
    assert_eq!(names(&top), ["图片", "说明.txt"], "folders first");
    assert_eq!(top["items"][0]["parent_id"], t.folder);
    assert_eq!(top["path"], json!([{"id": t.folder, "name": "项目资料"}]), "nothing above the shared folder shows");
    let sub = anon.get(&public(&token, &format!("/nodes?parent={}", t.pics))).ok();
    assert_eq!(names(&sub), ["logo.png"]);
    assert_eq!(sub["path"][0]["name"], "项目资料");
    let pv = anon.get(&public(&token, &format!("/nodes/{}/preview", t.txt))).ok();
    assert_eq!(pv["kind"], "text");
    assert_eq!(pv["text"], "季度报告：营收增长 12%");
    let thumb = anon.get(&public(&token, &format!("/nodes/{}/thumbnail", t.png)));
    assert_eq!(thumb.status.as_u16(), 200);
    assert_eq!(thumb.headers["content-type"], "image/jpeg");
    let dl = anon.get(&public(&token, &format!("/nodes/{}/content", t.txt)));
    assert_eq!(dl.status.as_u16(), 200);
    assert_eq!(dl.bytes, TEXT);
    assert!(dl.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));

    // The whole shared folder as one zip: everything under it, nothing above, one download.
    let z = anon.get(&public(&token, "/zip"));
    assert_eq!(z.status.as_u16(), 200, "{}", z.body);
    assert!(z.headers["content-disposition"].to_str().unwrap().contains(".zip"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(z.bytes.clone())).expect("a zip");
    let mut entries: Vec<String> = archive.file_names().map(str::to_owned).collect();
    entries.sort();
    assert_eq!(entries, ["项目资料/", "项目资料/图片/", "项目资料/图片/logo.png", "项目资料/说明.txt"]);
    let mut txt = Vec::new();
    std::io::Read::read_to_end(&mut archive.by_name("项目资料/说明.txt").expect("txt"), &mut txt).expect("read");
    assert_eq!(txt, TEXT);
    anon.get(&public(&token, &format!("/zip?ids={}", t.private))).expect(404, "not_found");
    w.s.client().get(&public(&token, "/zip")).expect(401, "password_required");

    // Ids outside the shared folder look like missing ones.
    for path in [
        format!("/nodes/{}/content", t.private),
        format!("/nodes/{}/preview", t.private),
        format!("/nodes?parent={}", personal_root(&w, alice.id)),
        "/nodes/999999999/content".to_owned(),
    ] {
        anon.get(&public(&token, &path)).expect(404, "not_found");
    }
    // The cookie belongs to this browser only.
    w.s.client().get(&public(&token, "/nodes")).expect(401, "password_required");

    let listed = alice.c.get(&format!("/api/v1/drive/nodes/{}/links", t.folder)).ok();
    let l = &listed["items"][0];
    assert_eq!((l["id"].as_u64(), l["downloads"].as_u64()), (Some(link), Some(2)), "{listed}");
    assert_eq!(l["has_password"], true);
    assert_eq!(l["url"], Value::Null, "the token is stored hashed: shown only once");
    let log = alice.c.get(&format!("/api/v1/drive/links/{link}/log")).ok();
    let actions: Vec<&str> =
        log["items"].as_array().unwrap().iter().rev().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["open", "wrong_password", "preview", "download", "download"], "{log}");
    assert_eq!(log["items"][0]["node_id"], t.folder, "the zip counts against the shared folder");
    assert!(!log["items"][0]["ip"].as_str().unwrap_or("").is_empty());
    let audit = w.admin.audit("action=drive.link_create");
    assert_eq!(audit.len(), 1, "{audit:?}");
}

#[test]
fn a_shared_folder_lists_in_pages_in_the_members_order() {
    let w = world();
    let alice = w.person("pager", "翻页");
    let t = tree(&w, alice.id);
    let (_, token) = create_link(&alice.c, t.folder, json!({}));
    for name in ["b.txt", "A.txt", "甲.txt"] {
        put_file(&w, alice.id, t.folder, name, b"x", OnConflict::Error);
    }
    mkdir(&w, alice.id, t.folder, "Z 目录");
    let anon = w.s.client();
    let all = names(&anon.get(&public(&token, "/nodes")).ok());
    assert_eq!(all, ["Z 目录", "图片", "A.txt", "b.txt", "甲.txt", "说明.txt"], "folders first, then folded names");
    // Two at a time: the same order, no repeats, the last page says there is no more.
    let (mut paged, mut cursor, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        let page = anon.get(&public(&token, &format!("/nodes?limit=2&cursor={cursor}"))).ok();
        paged.extend(names(&page));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!((paged, pages), (all, 3));
    anon.get(&public(&token, "/nodes?cursor=zzz")).expect(400, "invalid_cursor");
}

#[test]
fn wrong_passwords_are_throttled() {
    let w = world();
    let alice = w.person("alice", "爱丽丝");
    let t = tree(&w, alice.id);
    let (_, token) = create_link(&alice.c, t.txt, json!({"password": "abcd1234"}));
    let anon = w.s.client();
    let unlocked = w.s.client();
    assert_eq!(unlocked.post(&public(&token, "/unlock"), json!({"password": "abcd1234"})).status.as_u16(), 204);
    let file = unlocked.get(&public(&token, "/nodes")).ok();
    assert_eq!(names(&file), ["说明.txt"], "a shared file lists as itself");
    assert_eq!(file["items"][0]["parent_id"], Value::Null, "nothing above the shared file shows");
    for _ in 0..5 {
        anon.post(&public(&token, "/unlock"), json!({"password": "nope"})).expect(403, "wrong_password");
    }
    anon.post(&public(&token, "/unlock"), json!({"password": "abcd1234"})).expect(429, "too_many_attempts");
}

#[test]
fn expired_revoked_and_used_up_links_all_answer_the_same_404() {
    let w = world();
    let alice = w.person("alice", "爱丽丝");
    let t = tree(&w, alice.id);
    let anon = w.s.client();
    let unknown = anon.get(&public("AAAAAAAAAAAAAAAAAAAAAA", "")).expect(404, "not_found");

    let soon = w.s.clock.now_ms() + 60_000;
    let (_, expiring) = create_link(&alice.c, t.folder, json!({"expires_at": soon}));
    anon.get(&public(&expiring, "/nodes")).ok();
    w.s.clock.advance_ms(60_001);
    assert_eq!(anon.get(&public(&expiring, "")).expect(404, "not_found"), unknown);
    anon.get(&public(&expiring, &format!("/nodes/{}/content", t.txt))).expect(404, "not_found");

    let (id, revoked) = create_link(&alice.c, t.folder, json!({}));
    anon.get(&public(&revoked, "")).ok();
    assert_eq!(alice.c.delete(&format!("/api/v1/drive/links/{id}")).status.as_u16(), 204);
    assert_eq!(anon.get(&public(&revoked, "/nodes")).expect(404, "not_found"), unknown);
    let listed = alice.c.get(&format!("/api/v1/drive/nodes/{}/links", t.folder)).ok();
    assert!(listed["items"].as_array().unwrap().iter().any(|l| l["id"] == id && l["revoked"] == true), "{listed}");
    // Creating and revoking show in the space's activity as `link`.
    let space = alice.c.get("/api/v1/drive/spaces").ok()["items"][0]["id"].as_u64().expect("space");
    let activity = alice.c.get(&format!("/api/v1/drive/spaces/{space}/activity")).ok();
    let ops: Vec<&str> = activity["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "link" && a["details"]["link_id"] == id)
        .map(|a| a["details"]["op"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(ops, ["revoke", "create"], "{activity}");

    // max_downloads 1: the first download works, then the link is used up (404, not 410: a
    // used-up link is indistinguishable from one that never existed).
    let (_, once) = create_link(&alice.c, t.txt, json!({"max_downloads": 1}));
    let first = anon.get(&public(&once, &format!("/nodes/{}/content", t.txt)));
    assert_eq!((first.status.as_u16(), first.bytes.as_slice()), (200, TEXT));
    anon.get(&public(&once, &format!("/nodes/{}/content", t.txt))).expect(404, "not_found");
    assert_eq!(anon.get(&public(&once, "")).expect(404, "not_found"), unknown);
}

#[test]
fn preview_only_links_show_but_do_not_hand_out_files() {
    let w = world();
    let alice = w.person("alice", "爱丽丝");
    let t = tree(&w, alice.id);
    let (link, token) = create_link(&alice.c, t.folder, json!({"preview_only": true}));
    let anon = w.s.client();
    assert_eq!(anon.get(&public(&token, "")).ok()["preview_only"], true);
    anon.get(&public(&token, &format!("/nodes/{}/content", t.txt))).expect(403, "download_forbidden");
    anon.get(&public(&token, &format!("/nodes/{}/content?disposition=inline", t.txt)))
        .expect(403, "download_forbidden");
    anon.get(&public(&token, &format!("/nodes/{}/content", t.png))).expect(403, "download_forbidden");
    anon.get(&public(&token, "/zip")).expect(403, "download_forbidden");
    let img = anon.get(&public(&token, &format!("/nodes/{}/content?disposition=inline", t.png)));
    assert_eq!(img.status.as_u16(), 200);
    assert_eq!(img.bytes, png());
    assert!(img.headers["content-disposition"].to_str().unwrap().starts_with("inline"));
    assert_eq!(anon.get(&public(&token, &format!("/nodes/{}/preview", t.txt))).ok()["kind"], "text");
    let listed = alice.c.get(&format!("/api/v1/drive/nodes/{}/links", t.folder)).ok();
    assert_eq!(listed["items"][0]["downloads"], 0, "previews are not downloads");
    let log = alice.c.get(&format!("/api/v1/drive/links/{link}/log")).ok();
    assert_eq!(log["items"][0]["action"], "preview");
}

#[test]
fn what_goes_to_the_bin_leaves_the_link() {
    let w = world();
    let alice = w.person("alice", "爱丽丝");
    let t = tree(&w, alice.id);
    let (_, token) = create_link(&alice.c, t.folder, json!({}));
    let anon = w.s.client();
    trash(&w, alice.id, t.pics);
    anon.get(&public(&token, &format!("/nodes/{}/content", t.png))).expect(404, "not_found");
    anon.get(&public(&token, &format!("/nodes?parent={}", t.pics))).expect(404, "not_found");
    assert_eq!(names(&anon.get(&public(&token, "/nodes")).ok()), ["说明.txt"]);
    trash(&w, alice.id, t.folder);
    anon.get(&public(&token, "")).expect(404, "not_found");
}

#[test]
fn only_managers_create_and_see_links() {
    let w = world();
    let (alice, bob, carol) = (w.person("alice", "爱丽丝"), w.person("bob", "鲍勃"), w.person("carol", "卡萝"));
    let t = tree(&w, alice.id);
    let (link, _) = create_link(&alice.c, t.folder, json!({}));
    let links = format!("/api/v1/drive/nodes/{}/links", t.folder);
    // Carol has no role at all: every id is 404.
    carol.c.post(&links, json!({})).expect(404, "not_found");
    carol.c.get(&links).expect(404, "not_found");
    carol.c.delete(&format!("/api/v1/drive/links/{link}")).expect(404, "not_found");
    carol.c.get(&format!("/api/v1/drive/links/{link}/log")).expect(404, "not_found");
    // Bob may view the folder but not manage it: 403.
    grant(&w, alice.id, t.folder, bob.id, Role::Editor);
    bob.c.post(&links, json!({})).expect(403, "forbidden");
    bob.c.get(&links).expect(403, "forbidden");
    bob.c.delete(&format!("/api/v1/drive/links/{link}")).expect(403, "forbidden");
    bob.c.get(&format!("/api/v1/drive/links/{link}/log")).expect(403, "forbidden");
    // Bad inputs.
    let past = w.s.clock.now_ms() - 1;
    alice.c.post(&links, json!({"expires_at": past})).expect(422, "invalid_expires_at");
    alice.c.post(&links, json!({"max_downloads": 0})).expect(422, "invalid_max_downloads");
    alice.c.post(&links, json!({"password": "abc"})).expect(422, "invalid_password");
    alice.c.post(&links, json!({"colour": "red"})).expect(400, "bad_request");
    assert_eq!(alice.c.get(&links).ok()["items"].as_array().unwrap().len(), 1);
    // The node shows as shared.
    let shared = w.s.platform.store.read(|txn| officebox::drive::store::node(txn, t.folder)).expect("node");
    assert!(shared.shared);
}

#[test]
fn the_share_page_is_a_spa_route() {
    let w = world();
    let r = w.s.client().get("/s/some-token");
    assert_eq!(r.status.as_u16(), 200, "/s/{{token}} is served by the SPA fallback");
    let ct = r.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(ct.starts_with("text/html"), "{ct}");
}

#[test]
fn a_drive_file_goes_into_a_chat_as_a_snapshot_and_back_into_another_drive() {
    let w = world();
    let (alice, bob, carol) = (w.person("alice", "爱丽丝"), w.person("bob", "鲍勃"), w.person("carol", "卡萝"));
    let t = tree(&w, alice.id);
    let conv = group(&alice.c, "项目组", &[bob.id]);
    let sent = alice
        .c
        .post(&format!("/api/v1/chat/conversations/{conv}/messages"), json!({"kind": "file", "drive_node_id": t.txt}))
        .expect(201, "");
    let seq = sent["seq"].as_u64().expect("seq");
    assert_eq!(sent["file"]["name"], "说明.txt", "{sent}");
    assert_eq!(sent["file"]["size"], TEXT.len());

    // A later edit in the drive does not change the message.
    put_file(&w, alice.id, t.folder, "说明.txt", b"v2", OnConflict::Version);
    let got = bob.c.get(&format!("/api/v1/chat/conversations/{conv}/messages/{seq}/file?download=1"));
    assert_eq!((got.status.as_u16(), got.bytes.as_slice()), (200, TEXT));

    // Bob saves it into his own drive: the same blob, no copy.
    let bob_root = personal_root(&w, bob.id);
    let saved = bob
        .c
        .post(&format!("/api/v1/drive/nodes/{bob_root}/from-chat"), json!({"conversation_id": conv, "seq": seq}))
        .expect(201, "");
    assert_eq!((saved["name"].as_str(), saved["size"].as_u64()), (Some("说明.txt"), Some(TEXT.len() as u64)));
    let node =
        w.s.platform.store.read(|txn| officebox::drive::store::node(txn, saved["id"].as_u64().unwrap())).unwrap();
    let msg_sha = w.s.platform.store.read(|txn| {
        Ok(officebox::chat::store::MESSAGES.get_in(txn, &(conv, seq))?.and_then(|m| m.file).map(|f| f.sha))
    });
    assert_eq!(node.sha, msg_sha.unwrap());
    // Saving again clashes, unless renamed.
    bob.c
        .post(&format!("/api/v1/drive/nodes/{bob_root}/from-chat"), json!({"conversation_id": conv, "seq": seq}))
        .expect(409, "name_conflict");
    let again = bob.c.post(
        &format!("/api/v1/drive/nodes/{bob_root}/from-chat"),
        json!({"conversation_id": conv, "seq": seq, "on_conflict": "rename"}),
    );
    assert_eq!(again.ok()["name"], "说明 (1).txt");

    // Carol is not in the group: the message does not exist for her.
    let carol_root = personal_root(&w, carol.id);
    carol
        .c
        .post(&format!("/api/v1/drive/nodes/{carol_root}/from-chat"), json!({"conversation_id": conv, "seq": seq}))
        .expect(404, "not_found");
    // Bob cannot save into Alice's folder (no role there).
    bob.c
        .post(&format!("/api/v1/drive/nodes/{}/from-chat", t.folder), json!({"conversation_id": conv, "seq": seq}))
        .expect(404, "not_found");
    // Carol cannot send Alice's file: she has no access to it.
    let direct_conv = direct(&carol.c, bob.id);
    carol
        .c
        .post(
            &format!("/api/v1/chat/conversations/{direct_conv}/messages"),
            json!({"kind": "file", "drive_node_id": t.private}),
        )
        .expect(404, "not_found");
    // A preview-only role is not enough to hand out a copy; folders cannot be sent.
    grant(&w, alice.id, t.private, carol.id, Role::Preview);
    carol
        .c
        .post(
            &format!("/api/v1/chat/conversations/{direct_conv}/messages"),
            json!({"kind": "file", "drive_node_id": t.private}),
        )
        .expect(403, "forbidden");
    alice
        .c
        .post(&format!("/api/v1/chat/conversations/{conv}/messages"), json!({"kind": "file", "drive_node_id": t.pics}))
        .expect(422, "not_a_file");
}
