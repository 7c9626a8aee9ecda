//! The setup wizard, the enterprise profile (credit code, verification, logo and licence), the
//! SPA fallback, security headers, health and metrics.

use crate::common::*;
use reqwest::Method;
use serde_json::{json, Value};

fn setup_body(tz: &str, password: &str, mobile: Option<&str>, email: Option<&str>) -> Value {
    json!({
        "enterprise_name": "示例科技", "time_zone": tz,
        "admin": { "userid": "admin", "name": "管理员", "password": password, "mobile": mobile, "email": email }
    })
}

#[test]
fn setup_validates_its_input_and_keeps_nothing_when_refused() {
    let s = TestServer::start();
    let c = s.client();
    let ok = setup_body("Asia/Shanghai", ADMIN_PASSWORD, Some("13900000000"), None);
    let mut bad_name = ok.clone();
    bad_name["enterprise_name"] = json!("  ");
    let mut bad_userid = ok.clone();
    bad_userid["admin"]["userid"] = json!("管理员");
    let cases = [
        (setup_body("Mars/Olympus", ADMIN_PASSWORD, Some("13900000000"), None), "invalid_time_zone", "time_zone"),
        (setup_body("Asia/Shanghai", "short1", Some("13900000000"), None), "weak_password", "password"),
        (setup_body("Asia/Shanghai", "nodigitsatall", Some("13900000000"), None), "weak_password", "password"),
        (setup_body("Asia/Shanghai", ADMIN_PASSWORD, None, None), "mobile_or_email_required", "mobile"),
        (setup_body("Asia/Shanghai", ADMIN_PASSWORD, Some(""), Some("")), "mobile_or_email_required", "mobile"),
        (setup_body("Asia/Shanghai", ADMIN_PASSWORD, Some("12ab"), None), "invalid_mobile", "mobile"),
        (setup_body("Asia/Shanghai", ADMIN_PASSWORD, None, Some("admin@")), "invalid_email", "email"),
        (bad_name, "invalid_name", "enterprise_name"),
        (bad_userid, "invalid_userid", "userid"),
    ];
    for (body, code, field) in cases {
        let r = c.post("/api/v1/setup", body.clone());
        assert_eq!((r.status.as_u16(), r.code()), (422, code), "{body}: {}", r.body);
        assert_eq!(r.body["details"]["field"], field, "{}", r.body);
        assert!(set_cookie_value(&r).is_none());
        let st = c.get("/api/v1/system/status").ok();
        assert_eq!(st["setup_done"], false, "a refused setup stores nothing");
        c.get("/api/v1/departments").expect(409, "setup_required");
    }
    // Without the CSRF header the wizard is refused as well.
    c.send_built(c.raw(Method::POST, "/api/v1/setup").json(&ok)).expect(403, "csrf_failed");
    let r = c.post("/api/v1/setup", ok.clone());
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    assert!(set_cookie_value(&r).is_some_and(|t| !t.is_empty()), "setup signs the admin in");
    assert_eq!(r.body["admin"]["kind"], "super");
    assert_eq!(r.body["user"]["userid"], "admin");
    assert_eq!(r.body["user"]["status"], "active");
    assert_eq!(r.body["must_change_password"], false);
    let st = c.get("/api/v1/system/status").ok();
    assert_eq!(
        (st["setup_done"].clone(), st["enterprise_name"].clone(), st["time_zone"].clone()),
        (json!(true), json!("示例科技"), json!("Asia/Shanghai"))
    );
    assert_eq!(
        c.get("/api/v1/departments").ok()["items"][0]["name"],
        "示例科技",
        "the root department carries the name"
    );
    // Only once, whoever asks.
    s.client()
        .post("/api/v1/setup", setup_body("Asia/Shanghai", "Other-pass-2", Some("13800000009"), None))
        .expect(409, "already_set_up");
    c.post("/api/v1/setup", ok).expect(409, "already_set_up");
    s.client().login("admin", "Other-pass-2").expect(401, "invalid_credentials");
    assert_eq!(c.audit("action=setup.completed").len(), 1);
}

#[test]
fn before_setup_only_status_and_the_wizard_answer() {
    let s = TestServer::start();
    let c = s.client();
    let st = c.get("/api/v1/system/status").ok();
    assert_eq!(st["setup_done"], false);
    assert_eq!(st["has_logo"], false);
    assert!(st["version"].as_str().is_some_and(|v| !v.is_empty()));
    let zones = c.get("/api/v1/time-zones").ok();
    assert!(zones.as_array().unwrap().iter().any(|z| z == "Asia/Shanghai"));
    c.get("/api/v1/auth/password-policy").ok();
    for (method, path) in [
        (Method::GET, "/api/v1/departments"),
        (Method::GET, "/api/v1/auth/me"),
        (Method::POST, "/api/v1/auth/login"),
        (Method::POST, "/api/v1/auth/forgot"),
        (Method::GET, "/api/v1/enterprise/logo"),
        (Method::GET, "/api/v1/admin/audit"),
        (Method::PUT, "/api/v1/admin/smtp"),
        (Method::GET, "/api/v1/nope"),
    ] {
        let r = c.send(method.clone(), path, Some(json!({ "login": "admin", "password": ADMIN_PASSWORD })));
        assert_eq!((r.status.as_u16(), r.code()), (409, "setup_required"), "{method} {path}: {}", r.body);
    }
    let health = c.get("/healthz");
    assert_eq!((health.status.as_u16(), health.bytes.as_slice()), (200, b"ok".as_slice()));
    let page = c.get("/setup");
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
}

#[test]
fn the_credit_code_is_checked_and_verification_needs_name_code_and_licence() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let (_, member) = s.member(&admin, "viewer", root);
    let r = admin.put("/api/v1/admin/enterprise", json!({ "credit_code": "9144030071526726XA" }));
    assert_eq!(r.expect(422, "invalid_credit_code")["details"]["field"], "credit_code");
    for bad in ["9144030071526726X", "9144030071526726XI", "hello"] {
        admin.put("/api/v1/admin/enterprise", json!({ "credit_code": bad })).expect(422, "invalid_credit_code");
    }
    admin.put("/api/v1/admin/enterprise", json!({ "time_zone": "Nowhere/City" })).expect(422, "invalid_time_zone");
    let e = admin.put("/api/v1/admin/enterprise", json!({ "credit_code": " 9144030071526726xg " })).ok();
    assert_eq!(e["credit_code"], "9144030071526726XG");
    admin.post("/api/v1/admin/enterprise/verify", json!({ "verified": true })).expect(409, "verification_incomplete");
    admin.put("/api/v1/admin/enterprise", json!({ "legal_name": "示例科技有限公司", "address": "深圳市南山区" })).ok();
    admin.post("/api/v1/admin/enterprise/verify", json!({ "verified": true })).expect(409, "verification_incomplete");
    admin.get("/api/v1/admin/enterprise/licence").expect(404, "not_found");
    let r =
        admin.upload(Method::PUT, "/api/v1/admin/enterprise/licence", "licence.png", b"%PDF-1.4 not an image".to_vec());
    r.expect(422, "invalid_image");
    let e = admin.upload(Method::PUT, "/api/v1/admin/enterprise/licence", "licence.png", png()).ok();
    assert_eq!(e["has_licence"], true);
    assert_eq!(e["verified"], false);
    let lic = admin.get("/api/v1/admin/enterprise/licence");
    assert_eq!((lic.status.as_u16(), lic.headers["content-type"].to_str().unwrap()), (200, "image/png"));
    assert_eq!(lic.bytes, png());
    member.get("/api/v1/admin/enterprise/licence").expect(403, "forbidden");
    let e = admin.post("/api/v1/admin/enterprise/verify", json!({ "verified": true })).ok();
    assert_eq!(e["verified"], true);
    assert!(e["verified_at"].as_i64().is_some());
    let public = member.get("/api/v1/enterprise").ok();
    assert_eq!((public["verified"].clone(), public["legal_name"].clone()), (json!(true), json!("示例科技有限公司")));
    assert_eq!(member.me()["enterprise"]["verified"], true);
    // Non-verified data may change freely; changing the verified data withdraws verification.
    assert_eq!(admin.put("/api/v1/admin/enterprise", json!({ "address": "深圳市福田区" })).ok()["verified"], true);
    assert_eq!(
        admin.put("/api/v1/admin/enterprise", json!({ "credit_code": "9144030071526726XG" })).ok()["verified"],
        true
    );
    let e = admin.put("/api/v1/admin/enterprise", json!({ "credit_code": "91330100799655058B" })).ok();
    assert_eq!((e["verified"].clone(), e["verified_at"].clone()), (json!(false), Value::Null));
    assert_eq!(member.get("/api/v1/enterprise").ok()["verified"], false);
    admin.post("/api/v1/admin/enterprise/verify", json!({ "verified": true })).ok();
    assert_eq!(admin.put("/api/v1/admin/enterprise", json!({ "legal_name": "新名有限公司" })).ok()["verified"], false);
    admin.post("/api/v1/admin/enterprise/verify", json!({ "verified": true })).ok();
    let e = admin.upload(Method::PUT, "/api/v1/admin/enterprise/licence", "new.png", png()).ok();
    assert_eq!(e["verified"], false, "a new licence needs a new verification");
    // Renaming the enterprise renames the root department and the public status.
    admin.put("/api/v1/admin/enterprise", json!({ "name": "新示例" })).ok();
    assert_eq!(s.client().get("/api/v1/system/status").ok()["enterprise_name"], "新示例");
    assert_eq!(admin.department_by_name("新示例")["id"], root);
    let actions: Vec<String> =
        admin.audit("action=enterprise.").iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
    assert!(
        actions.contains(&"enterprise.verified".to_owned()) && actions.contains(&"enterprise.updated".to_owned()),
        "{actions:?}"
    );
}

#[test]
fn an_uploaded_logo_is_served_publicly() {
    let s = TestServer::start();
    let admin = s.setup();
    let anon = s.client();
    anon.get("/api/v1/enterprise/logo").expect(404, "not_found");
    admin
        .upload(Method::PUT, "/api/v1/admin/enterprise/logo", "logo.txt", b"hello".to_vec())
        .expect(422, "invalid_image");
    let e = admin.upload(Method::PUT, "/api/v1/admin/enterprise/logo", "logo.png", png()).ok();
    assert_eq!(e["has_logo"], true);
    let logo = anon.get("/api/v1/enterprise/logo");
    assert_eq!(logo.status.as_u16(), 200);
    assert_eq!(logo.headers["content-type"], "image/png");
    assert_eq!(logo.headers["x-content-type-options"], "nosniff");
    assert_eq!(logo.bytes, png());
    assert_eq!(anon.get("/api/v1/system/status").ok()["has_logo"], true);
    assert_eq!(admin.me()["enterprise"]["has_logo"], true);
    // A part not named `file` is refused.
    let form = reqwest::blocking::multipart::Form::new()
        .part("image", reqwest::blocking::multipart::Part::bytes(png()).file_name("x.png"));
    let r = admin.send_built(
        admin
            .raw(Method::PUT, "/api/v1/admin/enterprise/logo")
            .header("X-CSRF-Token", admin.csrf_token())
            .multipart(form),
    );
    r.expect(400, "file_missing");
}

#[test]
fn client_routes_fall_back_to_the_spa_but_server_prefixes_do_not() {
    let s = TestServer::start();
    s.setup();
    let c = s.client();
    for path in ["/", "/contacts", "/admin/members/12", "/activate/some-token"] {
        let r = c.get(path);
        assert_eq!(r.status.as_u16(), 200, "{path}");
        assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
        let html = String::from_utf8_lossy(&r.bytes).to_lowercase();
        assert!(html.contains("<html") || html.contains("<!doctype html"), "{path}");
    }
    for path in ["/api/v1/nope", "/api/v2/members", "/cgi-bin/x", "/cgi-bin/gettoken", "/ws/nope"] {
        let r = c.get(path);
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (404, "not_found"),
            "{path}: {:?}",
            String::from_utf8_lossy(&r.bytes)
        );
        assert!(r.headers["content-type"].to_str().unwrap().starts_with("application/json"), "{path}");
    }
    // WebDAV is a server prefix too: it asks for Basic credentials instead of serving the SPA.
    let r = c.get("/dav/x");
    assert_eq!((r.status.as_u16(), r.code()), (401, "unauthorized"));
    assert!(r.headers["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let r = c.get("/assets/missing.js");
    assert_eq!(r.status.as_u16(), 404);
    assert!(!String::from_utf8_lossy(&r.bytes).to_lowercase().contains("<html"), "a missing asset is not the SPA");
}

fn assert_security_headers(r: &Resp, what: &str) {
    let h = |name: &str| {
        r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_else(|| panic!("{what}: no {name}")).to_owned()
    };
    let csp = h("content-security-policy");
    assert!(csp.contains("script-src 'self'") && !csp.contains("script-src 'self' 'unsafe"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("object-src 'none'"), "{what}: {csp}");
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
}

#[test]
fn security_headers_are_on_pages_and_api_answers() {
    let s = TestServer::start();
    let admin = s.setup();
    let anon = s.client();
    assert_security_headers(&anon.get("/contacts"), "SPA page");
    assert_security_headers(&anon.get("/api/v1/system/status"), "API answer");
    assert_security_headers(&anon.get("/api/v1/auth/me"), "401");
    assert_security_headers(&anon.get("/api/v1/nope"), "404");
    assert_security_headers(&admin.get("/api/v1/departments"), "signed-in API answer");
}

#[test]
fn security_headers_are_also_on_requests_refused_at_the_gate() {
    let fresh = TestServer::start();
    assert_security_headers(&fresh.client().get("/api/v1/departments"), "409 setup_required");
    let s = TestServer::start();
    let admin = s.setup();
    let r = admin.send_built(admin.raw(Method::POST, "/api/v1/auth/logout"));
    assert_eq!(r.code(), "csrf_failed");
    assert_security_headers(&r, "403 csrf_failed");
}

fn metric(text: &str, line_prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(line_prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no metric {line_prefix} in\n{text}"))
}

#[test]
fn health_and_metrics_answer() {
    let s = TestServer::start();
    s.setup();
    let c = s.client();
    let h = c.get("/healthz");
    assert_eq!((h.status.as_u16(), h.bytes.as_slice()), (200, b"ok".as_slice()));
    let m = c.get("/metrics");
    assert_eq!(m.status.as_u16(), 200);
    assert!(m.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = String::from_utf8(m.bytes).unwrap();
    assert!(text.contains("# TYPE officebox_http_requests_total counter"), "{text}");
    assert!(metric(&text, "officebox_db_size_bytes") > 0.0);
    let before = metric(&text, "officebox_http_requests_total{class=\"4xx\"}");
    c.get("/api/v1/nope");
    c.get("/api/v1/auth/me");
    let text = String::from_utf8(c.get("/metrics").bytes).unwrap();
    assert_eq!(metric(&text, "officebox_http_requests_total{class=\"4xx\"}"), before + 2.0);
    assert!(metric(&text, "officebox_http_requests_total{class=\"2xx\"}") >= 3.0);
}
