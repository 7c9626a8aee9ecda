//! Sign-in, throttling, sessions, CSRF, passwords, invitations and password resets, driven over
//! HTTP against the real server (security.md §3.1–3.2).

use crate::common::*;
use reqwest::Method;
use serde_json::{json, Value};

const WRONG: &str = "Wrong-pass-99";
const NEW_PASSWORD: &str = "Brand-new-pass-7";

/// A set-up server with a member `alice` (mobile 13812345678, email Alice@Example.cn) who has
/// the password `MEMBER_PASSWORD`. Returns (server, admin, root department, alice's id).
fn with_alice() -> (TestServer, Client, u64, u64) {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let m = admin.create_member_with(json!({
        "userid": "alice", "name": "爱丽丝", "department_ids": [root],
        "mobile": "13812345678", "email": "Alice@Example.cn", "initial_password": MEMBER_PASSWORD
    }));
    let id = m["id"].as_u64().unwrap();
    (s, admin, root, id)
}

fn retry_after(r: &Resp) -> u64 {
    r.headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("429 without a numeric Retry-After header: {:?}", r.headers))
}

/// Wait (bounded) until the server has recorded activity of this client's session at `at`:
/// activity is written back in the background, at most once a minute.
fn wait_for_activity(c: &Client, at: i64) {
    for _ in 0..500 {
        let list = c.get("/api/v1/auth/sessions").ok();
        let current = list["items"].as_array().unwrap().iter().find(|s| s["current"] == true).cloned().unwrap();
        if current["last_seen_at"].as_i64() == Some(at) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    panic!("session activity at {at} was never recorded");
}

fn security(idle_minutes: i64, absolute_hours: i64) -> Value {
    json!({
        "password": { "min_length": 8, "require_upper": false, "require_lower": true, "require_digit": true, "require_symbol": false },
        "session_idle_minutes": idle_minutes,
        "session_absolute_hours": absolute_hours
    })
}

#[test]
fn login_works_by_userid_mobile_in_any_notation_and_email() {
    let (s, _admin, _, id) = with_alice();
    for login in [
        "alice",
        "ALICE",
        " alice ",
        "13812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "alice@example.cn",
        "Alice@Example.cn",
    ] {
        let c = s.client();
        let me = c.login(login, MEMBER_PASSWORD).ok();
        assert_eq!(me["user"]["id"], id, "login as {login:?}");
        assert_eq!(me["user"]["userid"], "alice");
        assert!(me["csrf_token"].as_str().is_some_and(|t| t.len() >= 32), "{me}");
        assert!(me.get("password_hash").is_none() && me["user"].get("password").is_none());
        c.me();
    }
}

#[test]
fn wrong_password_and_unknown_account_get_the_identical_401() {
    let (s, _admin, _, _) = with_alice();
    let c = s.client();
    let wrong = c.login("alice", WRONG);
    let unknown = c.login("nobody-here", WRONG);
    let unknown_mobile = c.login("13000000000", WRONG);
    for r in [&wrong, &unknown, &unknown_mobile] {
        assert_eq!(r.status.as_u16(), 401, "{}", r.body);
        assert_eq!(r.code(), "invalid_credentials");
        assert!(set_cookie_value(r).is_none(), "no session on failure");
    }
    assert_eq!(wrong.body, unknown.body, "the bodies must not reveal whether the account exists");
    assert_eq!(wrong.body, unknown_mobile.body);
    c.get("/api/v1/auth/me").expect(401, "unauthorized");
}

#[test]
fn five_failures_lock_the_account_even_for_the_right_password_until_the_lock_passes() {
    let (s, admin, root, _) = with_alice();
    admin.create_member("bob", "鲍勃", root, MEMBER_PASSWORD);
    let c = s.client();
    for _ in 0..5 {
        c.login("alice", WRONG).expect(401, "invalid_credentials");
    }
    let locked = c.login("alice", MEMBER_PASSWORD);
    assert_eq!(locked.status.as_u16(), 429, "{}", locked.body);
    assert_eq!(locked.code(), "too_many_attempts");
    let wait = retry_after(&locked);
    assert!(wait > 0 && wait <= 30 * 60, "Retry-After {wait}");
    assert!(set_cookie_value(&locked).is_none());
    // Another account from the same address is unaffected.
    Client::signed_in(&s.base, "bob", MEMBER_PASSWORD);
    // Still locked a little before the lock ends, open right after.
    s.clock.advance_ms((wait as i64 - 2) * 1000);
    c.login("alice", MEMBER_PASSWORD).expect(429, "too_many_attempts");
    s.clock.advance_ms(3000);
    assert_eq!(c.login("alice", MEMBER_PASSWORD).ok()["user"]["userid"], "alice");
}

#[test]
fn failures_by_userid_mobile_and_email_count_against_the_same_account() {
    let (s, _admin, _, _) = with_alice();
    let c = s.client();
    for login in ["alice", "13812345678", "+86 138 1234 5678", "alice@example.cn", "ALICE@EXAMPLE.CN"] {
        c.login(login, WRONG).expect(401, "invalid_credentials");
    }
    for login in ["alice", "+86-138-1234-5678", "Alice@Example.cn"] {
        let r = c.login(login, MEMBER_PASSWORD);
        assert_eq!(r.status.as_u16(), 429, "login as {login:?} after 5 failures in several notations: {}", r.body);
        retry_after(&r);
    }
}

#[test]
fn an_unknown_account_is_throttled_exactly_like_a_real_one() {
    let (s, _admin, _, _) = with_alice();
    let c = s.client();
    for _ in 0..5 {
        c.login("ghost", WRONG).expect(401, "invalid_credentials");
    }
    let r = c.login("ghost", WRONG);
    assert_eq!(r.status.as_u16(), 429, "{}", r.body);
    assert_eq!(r.code(), "too_many_attempts");
    retry_after(&r);
    // The same for a locked real account: both answers are alike.
    for _ in 0..5 {
        c.login("alice", WRONG);
    }
    let real = c.login("alice", WRONG);
    assert_eq!(real.status, r.status);
    assert_eq!(real.body, r.body);
}

#[test]
fn one_address_failing_across_many_accounts_is_limited() {
    let (s, _admin, _, _) = with_alice();
    let c = s.client();
    let mut limited_after = None;
    for i in 0..60 {
        let r = c.login(&format!("ghost{i}"), WRONG);
        if r.status.as_u16() == 429 {
            retry_after(&r);
            limited_after = Some(i);
            break;
        }
        assert_eq!(r.code(), "invalid_credentials");
    }
    let n = limited_after.expect("60 failures from one address over 60 accounts were never limited");
    assert!(n > 5, "the per-address limit must be above the per-account one (hit after {n})");
    // Even a correct password for an untouched account is refused from this address now.
    let r = c.login("alice", MEMBER_PASSWORD);
    assert_eq!(r.status.as_u16(), 429, "{}", r.body);
    let wait = retry_after(&r);
    s.clock.advance_ms(wait as i64 * 1000 + 1000);
    c.login("alice", MEMBER_PASSWORD).ok();
}

#[test]
fn session_cookie_is_httponly_lax_path_root_and_not_secure_over_http() {
    let (s, _admin, _, _) = with_alice();
    let r = s.client().login("alice", MEMBER_PASSWORD);
    assert_eq!(r.status.as_u16(), 200);
    let header = set_cookie_header(&r).expect("Set-Cookie for ob_session");
    let attrs: Vec<String> = header.split(';').map(|a| a.trim().to_ascii_lowercase()).collect();
    assert!(attrs.contains(&"httponly".into()), "{header}");
    assert!(attrs.contains(&"samesite=lax".into()), "{header}");
    assert!(attrs.contains(&"path=/".into()), "{header}");
    assert!(!attrs.contains(&"secure".into()), "no Secure over plain http: {header}");
    assert!(!attrs.iter().any(|a| a.starts_with("domain=")), "{header}");
    let token = set_cookie_value(&r).unwrap();
    assert!(token.len() >= 32, "at least 128 bits: {token}");
    assert!(!String::from_utf8_lossy(&r.bytes).contains(&token), "the session token must not be in the body");
}

#[test]
fn signing_in_again_rotates_the_session_id_and_logout_ends_it() {
    let (s, _admin, _, _) = with_alice();
    let c = s.client();
    let first = set_cookie_value(&c.login("alice", MEMBER_PASSWORD)).unwrap();
    let second = set_cookie_value(&c.login("alice", MEMBER_PASSWORD)).unwrap();
    assert_ne!(first, second, "a new sign-in must get a new session id");
    Client::with_session(&s.base, &first).get("/api/v1/auth/me").expect(401, "unauthorized");
    Client::with_session(&s.base, &second).me();
    c.me();
    let out = c.post("/api/v1/auth/logout", json!({}));
    assert_eq!(out.status.as_u16(), 204);
    assert_eq!(set_cookie_value(&out).as_deref(), Some(""), "logout clears the cookie");
    Client::with_session(&s.base, &second).get("/api/v1/auth/me").expect(401, "unauthorized");
    c.get("/api/v1/auth/me").expect(401, "unauthorized");
}

#[test]
fn unsafe_requests_need_the_session_csrf_token() {
    let (s, _admin, _, _) = with_alice();
    let c = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    let body = json!({ "alias": "Ali" });
    let missing = c.send_built(c.raw(Method::PATCH, "/api/v1/me/profile").json(&body));
    missing.expect(403, "csrf_failed");
    let wrong =
        c.send_built(c.raw(Method::PATCH, "/api/v1/me/profile").header("X-CSRF-Token", "not-the-token").json(&body));
    wrong.expect(403, "csrf_failed");
    // Another session's token does not fit this session either.
    let other = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    let foreign =
        c.send_built(c.raw(Method::PATCH, "/api/v1/me/profile").header("X-CSRF-Token", other.csrf_token()).json(&body));
    foreign.expect(403, "csrf_failed");
    assert_eq!(c.me()["user"]["alias"], "", "refused requests changed nothing");
    // Unsafe requests without a session still need the header at all.
    let anon = s.client();
    anon.send_built(
        anon.raw(Method::POST, "/api/v1/auth/login").json(&json!({"login": "alice", "password": MEMBER_PASSWORD})),
    )
    .expect(403, "csrf_failed");
    // The right token works; GET needs none.
    assert_eq!(c.patch("/api/v1/me/profile", body).ok()["alias"], "Ali");
    assert_eq!(c.send_built(c.raw(Method::GET, "/api/v1/auth/me")).ok()["user"]["alias"], "Ali");
}

#[test]
fn idle_sessions_expire_but_activity_keeps_them_alive() {
    let (s, admin, _, _) = with_alice();
    admin.put("/api/v1/admin/security", security(30, 24)).ok();
    let c = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    let t0 = s.platform.now_ms();
    s.clock.advance_ms(29 * 60_000);
    c.me();
    wait_for_activity(&c, t0 + 29 * 60_000);
    s.clock.advance_ms(29 * 60_000);
    c.me(); // 58 minutes after sign-in, 29 after the last activity
    let idle = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    s.clock.advance_ms(30 * 60_000 + 1000);
    idle.get("/api/v1/auth/me").expect(401, "unauthorized");
    c.get("/api/v1/auth/me").expect(401, "unauthorized");
}

#[test]
fn sessions_end_at_their_absolute_lifetime_even_while_active() {
    let (s, admin, _, _) = with_alice();
    admin.put("/api/v1/admin/security", security(30, 1)).ok();
    let c = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    let t0 = s.platform.now_ms();
    let listed = c.get("/api/v1/auth/sessions").ok();
    let current = listed["items"].as_array().unwrap().iter().find(|x| x["current"] == true).unwrap().clone();
    assert_eq!(current["expires_at"].as_i64(), Some(t0 + 3_600_000), "{current}");
    for minutes in [20, 40, 59] {
        s.clock.set_ms(t0 + minutes * 60_000);
        c.me();
        wait_for_activity(&c, t0 + minutes * 60_000);
    }
    s.clock.set_ms(t0 + 60 * 60_000 + 1000); // 1 s past the lifetime, 61 s after the last activity
    c.get("/api/v1/auth/me").expect(401, "unauthorized");
}

#[test]
fn session_list_marks_this_session_and_revoking_another_ends_it() {
    let (s, admin, _, _) = with_alice();
    let a = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    let b = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    let items = a.get("/api/v1/auth/sessions").ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items.iter().filter(|x| x["current"] == true).count(), 1);
    let b_id = items.iter().find(|x| x["current"] == false).unwrap()["id"].as_str().unwrap().to_owned();
    let b_view = b.get("/api/v1/auth/sessions").ok();
    let b_current = b_view["items"].as_array().unwrap().iter().find(|x| x["current"] == true).unwrap().clone();
    assert_eq!(b_current["id"], b_id.as_str());
    assert_eq!(b_current["ip"], "127.0.0.1");
    // Revoking someone else's session is "not found", and it keeps working.
    let admin_sessions = admin.get("/api/v1/auth/sessions").ok();
    let admin_sid = admin_sessions["items"][0]["id"].as_str().unwrap().to_owned();
    a.delete(&format!("/api/v1/auth/sessions/{admin_sid}")).expect(404, "not_found");
    a.delete("/api/v1/auth/sessions/not-a-session").expect(404, "not_found");
    admin.me();
    // Revoking my other session ends it at once.
    assert_eq!(a.delete(&format!("/api/v1/auth/sessions/{b_id}")).status.as_u16(), 204);
    b.get("/api/v1/auth/me").expect(401, "unauthorized");
    a.me();
    assert_eq!(a.get("/api/v1/auth/sessions").ok()["items"].as_array().unwrap().len(), 1);
}

#[test]
fn logout_all_ends_every_session_of_the_user_only() {
    let (s, admin, _, _) = with_alice();
    let a = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    let b = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    assert_eq!(a.post("/api/v1/auth/logout-all", json!({})).status.as_u16(), 204);
    a.get("/api/v1/auth/me").expect(401, "unauthorized");
    b.get("/api/v1/auth/me").expect(401, "unauthorized");
    admin.me();
}

#[test]
fn password_change_ends_other_sessions_and_keeps_this_one_under_a_new_id() {
    let (s, _admin, _, _) = with_alice();
    let a = s.client();
    let old_token = set_cookie_value(&a.login("alice", MEMBER_PASSWORD)).unwrap();
    let b = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    let old_csrf = a.csrf_token();
    a.post("/api/v1/auth/password", json!({ "old_password": WRONG, "new_password": NEW_PASSWORD }))
        .expect(401, "invalid_credentials");
    a.post("/api/v1/auth/password", json!({ "old_password": MEMBER_PASSWORD, "new_password": MEMBER_PASSWORD }))
        .expect(422, "password_unchanged");
    let r = a.post("/api/v1/auth/password", json!({ "old_password": MEMBER_PASSWORD, "new_password": NEW_PASSWORD }));
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    let new_token = set_cookie_value(&r).expect("the session is rotated with a new cookie");
    assert!(!new_token.is_empty() && new_token != old_token);
    b.get("/api/v1/auth/me").expect(401, "unauthorized");
    Client::with_session(&s.base, &old_token).get("/api/v1/auth/me").expect(401, "unauthorized");
    let me = a.me();
    assert_ne!(me["csrf_token"].as_str().unwrap(), old_csrf, "a new CSRF token comes with the new session");
    assert_eq!(me["must_change_password"], false);
    a.patch("/api/v1/me/profile", json!({ "alias": "still-here" })).ok();
    s.client().login("alice", MEMBER_PASSWORD).expect(401, "invalid_credentials");
    Client::signed_in(&s.base, "alice", NEW_PASSWORD);
}

#[test]
fn weak_passwords_are_refused_naming_the_broken_rules() {
    let (s, admin, root, _) = with_alice();
    let a = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    let rules = |r: Value| -> Vec<String> {
        r["details"]["rules"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    };
    let short = a.post("/api/v1/auth/password", json!({ "old_password": MEMBER_PASSWORD, "new_password": "ab1" }));
    let short = rules(short.expect(422, "weak_password"));
    assert!(short.contains(&"min_length".to_owned()), "{short:?}");
    let no_digit =
        a.post("/api/v1/auth/password", json!({ "old_password": MEMBER_PASSWORD, "new_password": "abcdefghijk" }));
    assert_eq!(rules(no_digit.expect(422, "weak_password")), vec!["digit"]);
    let userid =
        a.post("/api/v1/auth/password", json!({ "old_password": MEMBER_PASSWORD, "new_password": "xx-Alice-2024" }));
    assert!(rules(userid.expect(422, "weak_password")).contains(&"contains_userid".to_owned()));
    // The old password still works: nothing was changed.
    Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    // The same policy applies to passwords chosen by an admin.
    let r = admin.post(
        "/api/v1/admin/members",
        json!({ "userid": "weakling", "name": "弱", "department_ids": [root], "mobile": "13700000001", "initial_password": "1234567" }),
    );
    r.expect(422, "weak_password");
    let policy = s.client().get("/api/v1/auth/password-policy").ok();
    assert_eq!(policy["min_length"], 8);
}

#[test]
fn an_admin_chosen_password_must_be_changed_at_first_sign_in() {
    let (s, admin, _, id) = with_alice();
    let a = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    assert_eq!(a.me()["must_change_password"], true);
    a.post("/api/v1/auth/password", json!({ "old_password": MEMBER_PASSWORD, "new_password": NEW_PASSWORD }));
    assert_eq!(a.me()["must_change_password"], false);
    // An admin setting a password again forces another change, and ends the member's sessions.
    let r =
        admin.post(&format!("/api/v1/admin/members/{id}/reset-password"), json!({ "password": "Admin-set-pw-1" })).ok();
    assert_eq!(r["emailed"], false);
    a.get("/api/v1/auth/me").expect(401, "unauthorized");
    let again = Client::signed_in(&s.base, "alice", "Admin-set-pw-1");
    assert_eq!(again.me()["must_change_password"], true);
}

#[test]
fn disabling_a_member_ends_their_sessions_and_refuses_sign_in_after_the_password() {
    let (s, admin, _, id) = with_alice();
    let a = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    let m = admin.post(&format!("/api/v1/admin/members/{id}/disable"), json!({})).ok();
    assert_eq!(m["status"], "disabled");
    a.get("/api/v1/auth/me").expect(401, "unauthorized");
    s.client().login("alice", MEMBER_PASSWORD).expect(403, "account_disabled");
    s.client().login("alice", WRONG).expect(401, "invalid_credentials");
    assert_eq!(admin.post(&format!("/api/v1/admin/members/{id}/enable"), json!({})).ok()["status"], "active");
    Client::signed_in(&s.base, "alice", MEMBER_PASSWORD).me();
}

#[test]
fn an_offboarded_member_cannot_sign_in() {
    let (s, admin, _, id) = with_alice();
    let a = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    let admin_id = admin.me()["user"]["id"].as_u64().unwrap();
    let m = admin.post(&format!("/api/v1/admin/members/{id}/offboard"), json!({ "handover_to": admin_id })).ok();
    assert_eq!(m["status"], "left");
    a.get("/api/v1/auth/me").expect(401, "unauthorized");
    s.client().login("alice", MEMBER_PASSWORD).expect(403, "account_left");
    s.client().login("alice", WRONG).expect(401, "invalid_credentials");
}

#[test]
fn an_invitation_link_activates_the_account_exactly_once() {
    let (s, admin, root, _) = with_alice();
    let id = admin.create_inactive_member("newbie", root);
    let member = admin.get(&format!("/api/v1/members/{id}")).ok();
    assert_eq!(member["status"], "inactive");
    s.client().login("newbie", MEMBER_PASSWORD).expect(401, "invalid_credentials");
    let now = s.platform.now_ms();
    let inv = admin.post(&format!("/api/v1/admin/members/{id}/invite"), json!({})).ok();
    let link = inv["link"].as_str().unwrap();
    assert!(link.starts_with(&format!("{}/activate/", s.base)), "{link}");
    let svg = inv["qr_svg"].as_str().unwrap();
    assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    assert_eq!(inv["emailed"], false);
    assert_eq!(inv["expires_at"].as_i64(), Some(now + 7 * 24 * 3_600_000));
    let token = token_of(link);
    let anon = s.client();
    let d = anon.get(&format!("/api/v1/auth/token/{token}")).ok();
    assert_eq!(d["kind"], "invite");
    assert_eq!(d["userid"], "newbie");
    assert_eq!(d["name"], "newbie");
    // A weak password is refused and does not use the link up.
    anon.post("/api/v1/auth/activate", json!({ "token": token, "password": "short" })).expect(422, "weak_password");
    // A reset endpoint does not accept an invitation.
    anon.post("/api/v1/auth/reset", json!({ "token": token, "new_password": MEMBER_PASSWORD }))
        .expect(404, "invalid_token");
    let r = anon.post("/api/v1/auth/activate", json!({ "token": token, "password": MEMBER_PASSWORD }));
    assert!(set_cookie_value(&r).is_some_and(|t| !t.is_empty()), "activation signs in");
    let me = r.ok();
    assert_eq!(me["user"]["status"], "active");
    assert_eq!(me["must_change_password"], false);
    assert_eq!(anon.me()["user"]["userid"], "newbie");
    assert_eq!(admin.get(&format!("/api/v1/members/{id}")).ok()["status"], "active");
    // Single use.
    s.client()
        .post("/api/v1/auth/activate", json!({ "token": token, "password": NEW_PASSWORD }))
        .expect(404, "invalid_token");
    s.client().get(&format!("/api/v1/auth/token/{token}")).expect(404, "invalid_token");
    Client::signed_in(&s.base, "newbie", MEMBER_PASSWORD);
    s.client().login("newbie", NEW_PASSWORD).expect(401, "invalid_credentials");
}

#[test]
fn an_invitation_expires_after_seven_days() {
    let (s, admin, root, _) = with_alice();
    let id = admin.create_inactive_member("late", root);
    let inv = admin.post(&format!("/api/v1/admin/members/{id}/invite"), json!({})).ok();
    let token = token_of(inv["link"].as_str().unwrap());
    s.clock.advance_ms(7 * 24 * 3_600_000 - 1000);
    s.client().get(&format!("/api/v1/auth/token/{token}")).ok();
    s.clock.advance_ms(2000);
    s.client().get(&format!("/api/v1/auth/token/{token}")).expect(404, "invalid_token");
    s.client()
        .post("/api/v1/auth/activate", json!({ "token": token, "password": MEMBER_PASSWORD }))
        .expect(404, "invalid_token");
    let admin = Client::signed_in(&s.base, "admin", ADMIN_PASSWORD); // the old session has idled out
    assert_eq!(admin.get(&format!("/api/v1/members/{id}")).ok()["status"], "inactive");
    s.client().get("/api/v1/auth/token/not-a-token").expect(404, "invalid_token");
}

#[test]
fn an_admin_reset_link_sets_a_new_password_once_and_ends_sessions() {
    let (s, admin, _, id) = with_alice();
    let a = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    let out = admin.post(&format!("/api/v1/admin/members/{id}/reset-password"), json!({})).ok();
    assert_eq!(out["emailed"], false);
    let link = out["link"].as_str().expect("a reset link when no password is given");
    assert!(link.starts_with(&format!("{}/reset/", s.base)), "{link}");
    assert!(out["qr_svg"].as_str().is_some_and(|q| q.contains("<svg")));
    let token = token_of(link);
    let anon = s.client();
    assert_eq!(anon.get(&format!("/api/v1/auth/token/{token}")).ok()["kind"], "reset");
    anon.post("/api/v1/auth/activate", json!({ "token": token, "password": NEW_PASSWORD }))
        .expect(404, "invalid_token");
    let r = anon.post("/api/v1/auth/reset", json!({ "token": token, "new_password": NEW_PASSWORD }));
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    a.get("/api/v1/auth/me").expect(401, "unauthorized");
    s.client().login("alice", MEMBER_PASSWORD).expect(401, "invalid_credentials");
    assert_eq!(Client::signed_in(&s.base, "alice", NEW_PASSWORD).me()["must_change_password"], false);
    anon.post("/api/v1/auth/reset", json!({ "token": token, "new_password": "Another-pass-3" }))
        .expect(404, "invalid_token");
}

#[test]
fn a_reset_link_dies_when_the_password_changes_before_it_is_used() {
    let (s, admin, _, id) = with_alice();
    let out = admin.post(&format!("/api/v1/admin/members/{id}/reset-password"), json!({})).ok();
    let token = token_of(out["link"].as_str().unwrap());
    s.clock.advance_ms(1000);
    let a = Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
    a.post("/api/v1/auth/password", json!({ "old_password": MEMBER_PASSWORD, "new_password": NEW_PASSWORD }));
    s.client().get(&format!("/api/v1/auth/token/{token}")).expect(404, "invalid_token");
    s.client()
        .post("/api/v1/auth/reset", json!({ "token": token, "new_password": "Another-pass-3" }))
        .expect(404, "invalid_token");
    Client::signed_in(&s.base, "alice", NEW_PASSWORD);
}

#[test]
fn a_reset_link_expires_after_an_hour() {
    let (s, admin, _, id) = with_alice();
    let out = admin.post(&format!("/api/v1/admin/members/{id}/reset-password"), json!({})).ok();
    let token = token_of(out["link"].as_str().unwrap());
    s.clock.advance_ms(3_600_000 + 1000);
    s.client()
        .post("/api/v1/auth/reset", json!({ "token": token, "new_password": NEW_PASSWORD }))
        .expect(404, "invalid_token");
    Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
}

#[test]
fn forgot_password_always_answers_204() {
    let (s, _admin, _, _) = with_alice();
    for login in ["alice", "alice@example.cn", "13812345678", "nobody-at-all", "nobody@example.cn"] {
        let r = s.client().post("/api/v1/auth/forgot", json!({ "login": login }));
        assert_eq!(r.status.as_u16(), 204, "{login}: {}", r.body);
        assert!(r.bytes.is_empty());
    }
    // Asking for a reset does not block signing in.
    Client::signed_in(&s.base, "alice", MEMBER_PASSWORD);
}

#[test]
fn password_reset_requests_do_not_lock_the_address_out_of_signing_in() {
    let (s, _admin, _, _) = with_alice();
    let c = s.client();
    let mut limited = false;
    for i in 0..40 {
        let r = c.post("/api/v1/auth/forgot", json!({ "login": format!("someone{i}@example.cn") }));
        match r.status.as_u16() {
            204 => {}
            429 => limited = true,
            other => panic!("forgot answered {other}: {}", r.body),
        }
    }
    assert!(limited, "reset requests from one address are rate-limited too");
    // An office behind one address must still be able to sign in.
    c.login("alice", MEMBER_PASSWORD).ok();
    // The same login asked for too often is limited on its own.
    let c2 = s.client();
    let answers: Vec<u16> =
        (0..7).map(|_| c2.post("/api/v1/auth/forgot", json!({ "login": "alice" })).status.as_u16()).collect();
    assert!(answers.contains(&429), "{answers:?}");
}
