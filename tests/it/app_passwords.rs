//! App passwords (`/api/v1/me/app-passwords`) and Basic authentication on `/dav/`.

use crate::common::*;
use reqwest::Method;
use serde_json::{json, Value};

/// A WebDAV request with Basic credentials and nothing else (no cookies, no CSRF header).
pub fn dav(base: &str, user: &str, password: &str, method: &str, path: &str) -> reqwest::blocking::RequestBuilder {
    let m = Method::from_bytes(method.as_bytes()).expect("method");
    reqwest::blocking::Client::new().request(m, format!("{base}{path}")).basic_auth(user, Some(password))
}

pub fn propfind(base: &str, user: &str, password: &str, path: &str, depth: &str) -> reqwest::blocking::Response {
    dav(base, user, password, "PROPFIND", path).header("Depth", depth).send().expect("propfind")
}

/// Create an app password for the signed-in client; returns (id, password).
#[track_caller]
pub fn new_app_password(c: &Client, name: &str) -> (u64, String) {
    let r = c.post("/api/v1/me/app-passwords", json!({ "name": name }));
    assert_eq!(r.status, 201, "{}", r.body);
    (r.id(), r.body["password"].as_str().expect("password").to_owned())
}

fn status(base: &str, user: &str, pw: &str) -> u16 {
    propfind(base, user, pw, "/dav/", "0").status().as_u16()
}

#[test]
fn create_list_revoke_and_the_password_is_shown_once() {
    let s = TestServer::start();
    let admin = s.setup();
    let r = admin.post("/api/v1/me/app-passwords", json!({ "name": "  办公室电脑 " }));
    assert_eq!(r.status, 201, "{}", r.body);
    let pw = r.body["password"].as_str().expect("password").to_owned();
    let groups: Vec<&str> = pw.split('-').collect();
    assert_eq!(groups.len(), 4, "{pw}");
    assert!(groups.iter().all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())));
    assert_eq!(r.body["name"], "办公室电脑");
    assert_eq!(r.body["username"], "admin");
    let id = r.id();

    let list = admin.get("/api/v1/me/app-passwords").ok();
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id);
    assert_eq!(items[0]["last_used_at"], Value::Null);
    let text = list.to_string();
    assert!(!text.contains(&pw) && !text.contains("hash") && !text.contains("$2b$"), "{text}");

    assert_eq!(status(&s.base, "admin", &pw), 207);
    // Typed by hand: upper case, spaces instead of dashes.
    assert_eq!(status(&s.base, "admin", &pw.to_uppercase().replace('-', " ")), 207);

    admin.delete(&format!("/api/v1/me/app-passwords/{id}")).ok();
    assert_eq!(status(&s.base, "admin", &pw), 401, "a revoked password stops working at once");
    assert!(admin.get("/api/v1/me/app-passwords").ok()["items"].as_array().expect("items").is_empty());
    admin.delete(&format!("/api/v1/me/app-passwords/{id}")).expect(404, "not_found");
    admin.delete("/api/v1/me/app-passwords/abc").expect(404, "not_found");

    let actions: Vec<String> =
        admin.audit("action=app_password.").iter().map(|e| e["action"].as_str().unwrap_or("").to_owned()).collect();
    assert!(actions.contains(&"app_password.created".into()) && actions.contains(&"app_password.revoked".into()));
}

#[test]
fn bad_names_and_other_members_ids_are_refused() {
    let s = TestServer::start();
    let admin = s.setup();
    admin.post("/api/v1/me/app-passwords", json!({ "name": "  " })).expect(422, "name_invalid");
    admin.post("/api/v1/me/app-passwords", json!({ "name": "x".repeat(65) })).expect(422, "name_invalid");
    admin.post("/api/v1/me/app-passwords", json!({ "name": "a\u{7}b" })).expect(422, "name_invalid");
    let (id, _) = new_app_password(&admin, "laptop");

    let (_, bob) = s.member(&admin, "bob", admin.root_department());
    bob.delete(&format!("/api/v1/me/app-passwords/{id}")).expect(404, "not_found");
    assert!(bob.get("/api/v1/me/app-passwords").ok()["items"].as_array().expect("items").is_empty());
    assert_eq!(admin.get("/api/v1/me/app-passwords").ok()["items"].as_array().expect("items").len(), 1);

    let anon = s.client();
    anon.get("/api/v1/me/app-passwords").expect(401, "unauthorized");
}

#[test]
fn dav_needs_an_app_password_not_the_login_password_nor_a_cookie() {
    let s = TestServer::start();
    let admin = s.setup();
    let (_, pw) = new_app_password(&admin, "rclone");

    let anon = reqwest::blocking::Client::new()
        .request(Method::from_bytes(b"PROPFIND").expect("m"), format!("{}/dav/", s.base));
    let r = anon.header("Depth", "0").send().expect("send");
    assert_eq!(r.status(), 401);
    let challenge = r.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(challenge.starts_with("Basic realm="), "{challenge}");

    assert_eq!(status(&s.base, "admin", ADMIN_PASSWORD), 401, "the login password never opens /dav/");
    assert_eq!(status(&s.base, "nobody", &pw), 401);
    assert_eq!(status(&s.base, "admin", &pw), 207);
    // The email works as the user name too, like on the sign-in form.
    assert_eq!(status(&s.base, "admin@example.cn", &pw), 207);

    // The signed-in browser's cookie (and even its CSRF token) does not authenticate /dav/.
    let rb = admin.raw(Method::from_bytes(b"PROPFIND").expect("m"), "/dav/").header("Depth", "0");
    assert_eq!(admin.send_built(rb).status, 401);
    let rb = admin.raw(Method::from_bytes(b"MKCOL").expect("m"), "/dav/x/").header("X-CSRF-Token", admin.csrf_token());
    assert_eq!(admin.send_built(rb).status, 401);
}

#[test]
fn disabling_a_member_revokes_their_app_passwords() {
    let s = TestServer::start();
    let admin = s.setup();
    let (bob_id, bob) = s.member(&admin, "bob", admin.root_department());
    let (_, pw) = new_app_password(&bob, "phone");
    assert_eq!(status(&s.base, "bob", &pw), 207, "verified once: now cached");
    admin.post(&format!("/api/v1/admin/members/{bob_id}/disable"), json!({})).ok();
    assert_eq!(status(&s.base, "bob", &pw), 401);
    admin.post(&format!("/api/v1/admin/members/{bob_id}/enable"), json!({})).ok();
    assert_eq!(status(&s.base, "bob", &pw), 401, "re-enabling does not bring app passwords back");
    let bob = Client::signed_in(&s.base, "bob", MEMBER_PASSWORD);
    assert!(bob.get("/api/v1/me/app-passwords").ok()["items"].as_array().expect("items").is_empty());
}

#[test]
fn failures_are_throttled_and_use_is_recorded() {
    let s = TestServer::start();
    let admin = s.setup();
    let (_, pw) = new_app_password(&admin, "davfs2");
    for _ in 0..5 {
        assert_eq!(status(&s.base, "admin", "wrong-pass-word-xxxx"), 401);
    }
    let r = propfind(&s.base, "admin", &pw, "/dav/", "0");
    assert_eq!(r.status(), 429, "locked after five failures, even with the right password");
    assert!(r.headers().get("retry-after").is_some());
    // The web sign-in is counted apart: a stuck WebDAV client does not lock its owner out.
    Client::new(&s.base).login("admin", ADMIN_PASSWORD).ok();

    s.clock.advance_ms(16 * 60_000);
    assert_eq!(status(&s.base, "admin", &pw), 207);
    let mut used = Value::Null;
    for _ in 0..100 {
        used = admin.get("/api/v1/me/app-passwords").ok()["items"][0]["last_used_at"].clone();
        if used.is_i64() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(used.is_i64(), "last_used_at recorded: {used}");
    assert!(!admin.audit("action=auth.app_password_failed").is_empty());
}
