//! WebDAV (`/dav/`) over the drive: spaces at the top level, folders, PUT/GET, Chinese names,
//! permissions exactly as the API, quota → 507, locks, delete to the bin.

use crate::app_passwords::{dav, new_app_password, propfind};
use crate::common::*;
use serde_json::json;

/// `我的空间` percent-encoded, as clients send it.
const MINE: &str = "/dav/%E6%88%91%E7%9A%84%E7%A9%BA%E9%97%B4/";

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, officebox::drive::dav::UNRESERVED).to_string()
}

struct Dav {
    base: String,
    user: String,
    pw: String,
}

impl Dav {
    fn new(s: &TestServer, c: &Client, user: &str) -> Dav {
        let (_, pw) = new_app_password(c, "test");
        Dav { base: s.base.clone(), user: user.into(), pw }
    }
    fn req(&self, method: &str, path: &str) -> reqwest::blocking::RequestBuilder {
        dav(&self.base, &self.user, &self.pw, method, path)
    }
    fn status(&self, method: &str, path: &str) -> u16 {
        self.req(method, path).send().expect("send").status().as_u16()
    }
    fn put(&self, path: &str, body: Vec<u8>) -> u16 {
        self.req("PUT", path).body(body).send().expect("put").status().as_u16()
    }
    fn get(&self, path: &str) -> (u16, Vec<u8>) {
        let r = self.req("GET", path).send().expect("get");
        (r.status().as_u16(), r.bytes().expect("body").to_vec())
    }
    /// PROPFIND body (decoded hrefs are compared by the caller in their encoded form).
    fn list(&self, path: &str) -> (u16, String) {
        let r = propfind(&self.base, &self.user, &self.pw, path, "1");
        (r.status().as_u16(), r.text().expect("text"))
    }
}

/// A team space made by `c` (through the drive API); returns its id.
fn team_space(c: &Client, name: &str, quota: Option<u64>) -> u64 {
    c.post("/api/v1/drive/spaces", json!({ "name": name, "quota": quota })).ok()["id"].as_u64().expect("id")
}

fn add_member(c: &Client, space: u64, member: u64, role: &str) {
    c.put(&format!("/api/v1/drive/spaces/{space}/members"), json!({ "kind": "user", "id": member, "role": role })).ok();
}

#[test]
fn propfind_lists_spaces_and_folders() {
    let s = TestServer::start();
    let admin = s.setup();
    team_space(&admin, "市场部资料", None);
    let d = Dav::new(&s, &admin, "admin");

    let (status, body) = d.list("/dav/");
    assert_eq!(status, 207, "{body}");
    assert!(body.contains(&enc("我的空间")), "{body}");
    assert!(body.contains(&enc("市场部资料")), "{body}");

    assert_eq!(d.status("MKCOL", &format!("{MINE}{}/", enc("季度报告"))), 201);
    assert_eq!(d.status("MKCOL", &format!("{MINE}{}/", enc("季度报告"))), 405, "exists");
    assert_eq!(d.status("MKCOL", &format!("{MINE}{}/x/", enc("没有"))), 409, "parent missing");
    assert_eq!(d.status("MKCOL", "/dav/new-space/"), 403, "no new spaces at the top level");
    let (status, body) = d.list(MINE);
    assert_eq!(status, 207);
    assert!(body.contains(&format!("{MINE}{}/", enc("季度报告"))), "{body}");
    assert!(body.contains("<D:collection/>") || body.contains("collection"), "{body}");
    assert_eq!(d.list(&format!("/dav/{}/", enc("不存在"))).0, 404);
}

#[test]
fn put_then_get_round_trips_bytes_and_chinese_names() {
    let s = TestServer::start();
    let admin = s.setup();
    let d = Dav::new(&s, &admin, "admin");
    let path = format!("{MINE}{}", enc("报价 单（最终版）.txt"));
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(d.put(&path, bytes.clone()), 201);
    let (status, got) = d.get(&path);
    assert_eq!(status, 200);
    assert!(got == bytes, "bytes differ");

    // Range (seekable reads).
    let r = d.req("GET", &path).header("Range", "bytes=1000-1009").send().expect("range");
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().expect("b").to_vec(), bytes[1000..1010].to_vec());

    // A PUT over an existing file is a new version, not a second file.
    assert_eq!(d.put(&path, b"v2".to_vec()), 204);
    assert_eq!(d.get(&path).1, b"v2");
    let (_, listing) = d.list(MINE);
    assert_eq!(listing.matches(&enc("报价 单（最终版）.txt")).count(), 1, "one file, two versions: {listing}");

    // MOVE renames (Overwrite: F refuses an existing target), COPY duplicates.
    let other = format!("{MINE}{}", enc("副本.txt"));
    let r = d.req("COPY", &path).header("Destination", format!("{}{}", s.base, other)).send().expect("copy");
    assert_eq!(r.status(), 201);
    let r = d.req("MOVE", &other).header("Destination", format!("{}{}", s.base, path)).header("Overwrite", "F");
    assert_eq!(r.send().expect("move").status(), 412);
    let moved = format!("{MINE}{}", enc("改名.txt"));
    let r = d.req("MOVE", &other).header("Destination", format!("{}{}", s.base, moved)).send().expect("move");
    assert_eq!(r.status(), 201);
    assert_eq!(d.get(&moved).1, b"v2");
    assert_eq!(d.get(&other).0, 404);
}

#[test]
fn roles_apply_as_in_the_api() {
    let s = TestServer::start();
    let admin = s.setup();
    let space = team_space(&admin, "财务", None);
    let (bob_id, bob) = s.member(&admin, "bob", admin.root_department());
    let admin_dav = Dav::new(&s, &admin, "admin");
    let bob_dav = Dav::new(&s, &bob, "bob");
    let file = format!("/dav/{}/{}", enc("财务"), enc("工资.xlsx"));
    assert_eq!(admin_dav.put(&file, b"secret".to_vec()), 201);

    // No role: the space is not listed and every path in it is 404.
    assert!(!bob_dav.list("/dav/").1.contains(&enc("财务")));
    assert_eq!(bob_dav.list(&format!("/dav/{}/", enc("财务"))).0, 404);
    assert_eq!(bob_dav.get(&file).0, 404);
    assert_eq!(bob_dav.put(&file, b"x".to_vec()), 409, "the parent does not exist for bob");

    // Viewer: reads, but no writes.
    add_member(&admin, space, bob_id, "viewer");
    assert_eq!(bob_dav.get(&file), (200, b"secret".to_vec()));
    assert_eq!(bob_dav.put(&file, b"x".to_vec()), 403);
    assert_eq!(bob_dav.status("DELETE", &file), 403);
    assert_eq!(bob_dav.status("MKCOL", &format!("/dav/{}/new/", enc("财务"))), 403);

    // Preview only: listed, but no download.
    add_member(&admin, space, bob_id, "preview");
    assert_eq!(bob_dav.list(&format!("/dav/{}/", enc("财务"))).0, 207);
    assert_eq!(bob_dav.get(&file).0, 403);
    assert_eq!(admin_dav.get(&file).1, b"secret", "nothing was changed");
}

#[test]
fn over_quota_is_507_and_nothing_is_stored() {
    let s = TestServer::start();
    let admin = s.setup();
    team_space(&admin, "小空间", Some(1000));
    let d = Dav::new(&s, &admin, "admin");
    let path = format!("/dav/{}/big.bin", enc("小空间"));
    assert_eq!(d.put(&path, vec![7u8; 2000]), 507);
    assert_eq!(d.get(&path).0, 404);
    assert_eq!(d.put(&path, vec![7u8; 500]), 201);
}

#[test]
fn lock_and_unlock_a_file() {
    let s = TestServer::start();
    let admin = s.setup();
    let d = Dav::new(&s, &admin, "admin");
    let path = format!("{MINE}{}", enc("合同.docx"));
    assert_eq!(d.put(&path, b"v1".to_vec()), 201);
    let body = r#"<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>admin</D:owner></D:lockinfo>"#;
    let r = d.req("LOCK", &path).header("Timeout", "Second-600").body(body).send().expect("lock");
    assert_eq!(r.status(), 200);
    let token = r.headers().get("lock-token").and_then(|v| v.to_str().ok()).expect("lock token").to_owned();
    assert!(token.starts_with("<urn:uuid:") && token.ends_with('>'), "{token}");

    assert_eq!(d.put(&path, b"v2".to_vec()), 423, "locked: a write without the token is refused");
    let r = d.req("PUT", &path).header("If", format!("({token})")).body(b"v2".to_vec()).send().expect("put");
    assert_eq!(r.status(), 204);
    let r = d.req("UNLOCK", &path).header("Lock-Token", token).send().expect("unlock");
    assert_eq!(r.status(), 204);
    assert_eq!(d.put(&path, b"v3".to_vec()), 204);
    assert_eq!(d.get(&path).1, b"v3");
}

#[test]
fn a_lock_holds_against_other_members_of_a_team_space() {
    let s = TestServer::start();
    let admin = s.setup();
    let space = team_space(&admin, "项目", None);
    let (bob_id, bob) = s.member(&admin, "bob", admin.root_department());
    add_member(&admin, space, bob_id, "editor");
    let (a, b) = (Dav::new(&s, &admin, "admin"), Dav::new(&s, &bob, "bob"));
    let path = format!("/dav/{}/{}", enc("项目"), enc("方案.docx"));
    assert_eq!(a.put(&path, b"v1".to_vec()), 201);
    let body = r#"<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>"#;
    let r = a.req("LOCK", &path).body(body).send().expect("lock");
    assert_eq!(r.status(), 200);
    let token = r.headers().get("lock-token").and_then(|v| v.to_str().ok()).expect("token").to_owned();
    assert_eq!(b.put(&path, b"bob".to_vec()), 423, "admin's lock protects the file from bob");
    assert_eq!(b.status("DELETE", &path), 423);
    // Each member's "我的空间" is their own: the same path is not locked for bob.
    let mine = format!("{MINE}{}", enc("方案.docx"));
    assert_eq!(a.put(&mine, b"a".to_vec()), 201);
    assert_eq!(a.req("LOCK", &mine).body(body).send().expect("lock").status(), 200);
    assert_eq!(b.put(&mine, b"b".to_vec()), 201);
    a.req("UNLOCK", &path).header("Lock-Token", token).send().expect("unlock");
    assert_eq!(b.put(&path, b"bob".to_vec()), 204);
}

#[test]
fn delete_moves_a_folder_to_the_bin_as_one_item() {
    let s = TestServer::start();
    let admin = s.setup();
    let d = Dav::new(&s, &admin, "admin");
    let folder = format!("{MINE}{}/", enc("旧资料"));
    assert_eq!(d.status("MKCOL", &folder), 201);
    assert_eq!(d.put(&format!("{folder}a.txt"), b"a".to_vec()), 201);
    assert_eq!(d.put(&format!("{folder}b.txt"), b"b".to_vec()), 201);
    assert_eq!(d.status("DELETE", &folder), 204);
    assert_eq!(d.list(&folder).0, 404);
    assert_eq!(d.status("DELETE", MINE), 403, "a space root cannot be deleted");

    let spaces = admin.get("/api/v1/drive/spaces").ok();
    let mine = spaces["items"].as_array().and_then(|a| a.iter().find(|s| s["kind"] == "personal")).expect("personal");
    let bin = admin.get(&format!("/api/v1/drive/spaces/{}/bin", mine["id"])).ok();
    let items = bin["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{bin}");
    assert_eq!(items[0]["node"]["name"], "旧资料");
}
