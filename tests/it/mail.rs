//! Outgoing mail against a real SMTP server started by the test (mailin-embedded on loopback):
//! settings, the test mail, emailed invitations and password resets, and failures.

use crate::common::*;
use base64::Engine;
use mailin_embedded::{response, Handler, Response, Server, SslConfig};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default)]
struct Mail {
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

type Inbox = Arc<Mutex<Vec<Mail>>>;

/// Records every message it accepts; one clone per SMTP connection.
#[derive(Clone)]
struct Sink {
    inbox: Inbox,
    current: Mail,
}

impl Handler for Sink {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Mail { from: from.to_owned(), to: to.to_vec(), data: Vec::new() };
        response::OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.data.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> Response {
        self.inbox.lock().unwrap().push(std::mem::take(&mut self.current));
        response::OK
    }
}

/// Start an SMTP server on 127.0.0.1:<free port>; it lives until the test process ends.
fn start_sink() -> (u16, Inbox) {
    let inbox: Inbox = Arc::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind smtp");
    let port = listener.local_addr().unwrap().port();
    let mut server = Server::new(Sink { inbox: inbox.clone(), current: Mail::default() });
    server
        .with_name("sink.test")
        .with_ssl(SslConfig::None)
        .expect("no tls")
        .with_num_threads(2)
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    (port, inbox)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap()
}

fn smtp_settings(port: u16, enabled: bool) -> Value {
    json!({
        "enabled": enabled, "host": "127.0.0.1", "port": port, "security": "none",
        "username": "", "password": "s3cret-smtp-pw", "from_address": "noreply@example.cn", "from_name": "示例科技"
    })
}

/// Wait (at most ~5 s) for the inbox to hold `n` messages.
fn wait_for(inbox: &Inbox, n: usize) -> Vec<Mail> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mails = inbox.lock().unwrap().clone();
        if mails.len() >= n || Instant::now() > deadline {
            assert_eq!(mails.len(), n, "expected {n} mails, got {mails:?}");
            return mails;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---- a small MIME reader: unfolded headers, RFC 2047 words, base64 / quoted-printable bodies ----

struct Parsed {
    headers: Vec<(String, String)>,
    body: String,
}

impl Parsed {
    fn header(&self, name: &str) -> String {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| decode_words(v))
            .unwrap_or_default()
    }
}

fn parse(data: &[u8]) -> Parsed {
    let text = String::from_utf8_lossy(data).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push_str(line);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let cte =
        headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-transfer-encoding")).map(|h| h.1.to_lowercase());
    let body = match cte.as_deref() {
        Some("base64") => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(compact).expect("base64 body")).unwrap()
        }
        Some("quoted-printable") => String::from_utf8(qp(&body.replace("=\n", ""), false)).unwrap(),
        _ => body.to_owned(),
    };
    Parsed { headers, body }
}

fn qp(s: &str, underscore_is_space: bool) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'=' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("qp escape"));
                i += 3;
            }
            b'_' if underscore_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Decode RFC 2047 encoded words (whitespace between adjacent words is dropped).
fn decode_words(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        if !(last_was_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        let word = &rest[start + 2..];
        let mut parts = word.splitn(3, '?');
        let (_charset, enc, tail) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        let end = tail.find("?=").expect("end of encoded word");
        let payload = &tail[..end];
        let bytes = if enc.eq_ignore_ascii_case("b") {
            base64::engine::general_purpose::STANDARD.decode(payload).expect("b word")
        } else {
            qp(payload, true)
        };
        out.push_str(&String::from_utf8(bytes).unwrap());
        rest = &tail[end + 2..];
        last_was_word = true;
    }
    out.push_str(rest);
    out
}

/// The first `http://…/<kind>/<token>` link in a text.
fn link_in(text: &str, kind: &str) -> String {
    let start = text.find("http://").unwrap_or_else(|| panic!("no link in {text}"));
    let link: String = text[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    assert!(link.contains(&format!("/{kind}/")), "{link}");
    link
}

#[test]
fn smtp_settings_hide_the_password_and_the_test_mail_arrives() {
    let (port, inbox) = start_sink();
    let s = TestServer::start();
    let admin = s.setup();
    let saved = admin.put("/api/v1/admin/smtp", smtp_settings(port, true)).ok();
    assert!(saved.get("password").is_none(), "{saved}");
    assert_eq!(saved["has_password"], true);
    let got = admin.get("/api/v1/admin/smtp").ok();
    assert!(got.get("password").is_none(), "{got}");
    assert_eq!(
        (got["has_password"].clone(), got["port"].clone(), got["security"].clone()),
        (json!(true), json!(port), json!("none"))
    );
    // Saving without a password keeps the stored one.
    let mut again = smtp_settings(port, true);
    again.as_object_mut().unwrap().remove("password");
    assert_eq!(admin.put("/api/v1/admin/smtp", again).ok()["has_password"], true);
    let audit = admin.audit("action=smtp.");
    assert!(!audit.is_empty());
    assert!(
        !serde_json::to_string(&audit).unwrap().contains("s3cret-smtp-pw"),
        "the password never reaches the audit log"
    );

    let r = admin.post("/api/v1/admin/smtp/test", json!({ "to": "ops@example.cn" }));
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    let mails = wait_for(&inbox, 1);
    assert_eq!(mails[0].to, vec!["ops@example.cn"]);
    assert!(mails[0].from.contains("noreply@example.cn"), "{}", mails[0].from);
    let m = parse(&mails[0].data);
    assert_eq!(m.header("Subject"), "OfficeBox 测试邮件 / test mail");
    assert!(
        m.header("From").contains("示例科技") && m.header("From").contains("<noreply@example.cn>"),
        "{}",
        m.header("From")
    );
    assert_eq!(m.header("To"), "ops@example.cn");
    assert!(m.body.contains("This is a test mail from OfficeBox"), "{}", m.body);
    assert!(m.body.contains("测试邮件"));
    let tested = admin.audit("action=smtp.tested");
    assert_eq!(tested[0]["details"]["ok"], true);
    admin.post("/api/v1/admin/smtp/test", json!({ "to": "not an address" })).expect(422, "validation_failed");
    // Invalid settings are refused when enabled.
    let mut bad = smtp_settings(port, true);
    bad["from_address"] = json!("nobody");
    admin.put("/api/v1/admin/smtp", bad).expect(422, "validation_failed");
    let mut bad = smtp_settings(port, true);
    bad["host"] = json!("");
    admin.put("/api/v1/admin/smtp", bad).expect(422, "validation_failed");
    assert_eq!(admin.get("/api/v1/admin/smtp").ok()["from_address"], "noreply@example.cn");
}

#[test]
fn an_emailed_invitation_carries_a_working_activation_link() {
    let (port, inbox) = start_sink();
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    admin.put("/api/v1/admin/smtp", smtp_settings(port, true)).ok();
    let m = admin.create_member_with(
        json!({ "userid": "newbie", "name": "新同事", "department_ids": [root], "email": "newbie@example.cn" }),
    );
    let id = m["id"].as_u64().unwrap();
    let inv = admin.post(&format!("/api/v1/admin/members/{id}/invite"), json!({ "send_email": true })).ok();
    assert_eq!(inv["emailed"], true, "{inv}");
    let mails = wait_for(&inbox, 1);
    assert_eq!(mails[0].to, vec!["newbie@example.cn"]);
    let mail = parse(&mails[0].data);
    assert!(mail.header("Subject").contains("示例科技"), "{}", mail.header("Subject"));
    let link = link_in(&mail.body, "activate");
    assert_eq!(link, inv["link"].as_str().unwrap(), "the mailed link is the one shown to the admin");
    assert!(mail.body.contains("新同事"));
    let c = s.client();
    let me = c.post("/api/v1/auth/activate", json!({ "token": token_of(&link), "password": MEMBER_PASSWORD })).ok();
    assert_eq!(me["user"]["status"], "active");
    c.me();
    // Onboarding with send_invite mails at once too.
    let r = admin.post(
        "/api/v1/admin/members",
        json!({ "userid": "second", "name": "第二位", "department_ids": [root], "email": "second@example.cn", "send_invite": true }),
    );
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    assert_eq!(r.body["invite"]["emailed"], true);
    let mails = wait_for(&inbox, 2);
    assert_eq!(mails[1].to, vec!["second@example.cn"]);
    assert_eq!(link_in(&parse(&mails[1].data).body, "activate"), r.body["invite"]["link"].as_str().unwrap());
    // An admin reset without a password mails a reset link.
    let out = admin.post(&format!("/api/v1/admin/members/{id}/reset-password"), json!({})).ok();
    assert_eq!(out["emailed"], true);
    let mails = wait_for(&inbox, 3);
    assert_eq!(mails[2].to, vec!["newbie@example.cn"]);
    let reset = link_in(&parse(&mails[2].data).body, "reset");
    let r =
        s.client().post("/api/v1/auth/reset", json!({ "token": token_of(&reset), "new_password": "Reset-by-mail-1" }));
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    Client::signed_in(&s.base, "newbie", "Reset-by-mail-1");
}

#[test]
fn forgot_password_mails_a_reset_link_that_resets_the_password() {
    let (port, inbox) = start_sink();
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    admin.put("/api/v1/admin/smtp", smtp_settings(port, true)).ok();
    admin.create_member_with(json!({
        "userid": "forgetful", "name": "健忘", "department_ids": [root], "email": "Forgetful@Example.cn", "initial_password": MEMBER_PASSWORD
    }));
    let old_session = Client::signed_in(&s.base, "forgetful", MEMBER_PASSWORD);
    // Unknown accounts get the same answer and no mail.
    assert_eq!(s.client().post("/api/v1/auth/forgot", json!({ "login": "nobody@example.cn" })).status.as_u16(), 204);
    assert_eq!(s.client().post("/api/v1/auth/forgot", json!({ "login": "forgetful@example.cn" })).status.as_u16(), 204);
    let mails = wait_for(&inbox, 1);
    assert_eq!(mails[0].to, vec!["Forgetful@Example.cn"]);
    let mail = parse(&mails[0].data);
    let link = link_in(&mail.body, "reset");
    assert!(link.starts_with(&s.base), "{link}");
    let token = token_of(&link);
    assert_eq!(s.client().get(&format!("/api/v1/auth/token/{token}")).ok()["userid"], "forgetful");
    let r = s.client().post("/api/v1/auth/reset", json!({ "token": token, "new_password": "Remembered-now-2" }));
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    old_session.get("/api/v1/auth/me").expect(401, "unauthorized");
    s.client().login("forgetful", MEMBER_PASSWORD).expect(401, "invalid_credentials");
    Client::signed_in(&s.base, "forgetful", "Remembered-now-2");
    s.client()
        .post("/api/v1/auth/reset", json!({ "token": token, "new_password": "Third-pass-3" }))
        .expect(404, "invalid_token");
    assert_eq!(inbox.lock().unwrap().len(), 1, "no other mail was sent");
}

#[test]
fn without_smtp_invitations_return_the_link_and_send_nothing() {
    let (port, inbox) = start_sink();
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let m = admin.create_member_with(
        json!({ "userid": "nomail", "name": "无邮件", "department_ids": [root], "email": "nomail@example.cn" }),
    );
    let id = m["id"].as_u64().unwrap();
    let inv = admin.post(&format!("/api/v1/admin/members/{id}/invite"), json!({ "send_email": true })).ok();
    assert_eq!(inv["emailed"], false);
    assert!(inv["link"].as_str().unwrap().contains("/activate/"));
    // Configured but switched off: still nothing is sent.
    admin.put("/api/v1/admin/smtp", smtp_settings(port, false)).ok();
    let inv = admin.post(&format!("/api/v1/admin/members/{id}/invite"), json!({ "send_email": true })).ok();
    assert_eq!(inv["emailed"], false);
    admin.post("/api/v1/admin/smtp/test", json!({ "to": "ops@example.cn" })).expect(409, "smtp_not_configured");
    assert_eq!(s.client().post("/api/v1/auth/forgot", json!({ "login": "nomail" })).status.as_u16(), 204);
    // Enabled but the admin did not ask for a mail: none is sent either.
    admin.put("/api/v1/admin/smtp", smtp_settings(port, true)).ok();
    let inv = admin.post(&format!("/api/v1/admin/members/{id}/invite"), json!({})).ok();
    assert_eq!(inv["emailed"], false);
    // The first mail the sink sees is the one asked for now.
    admin.post("/api/v1/admin/smtp/test", json!({ "to": "ops@example.cn" }));
    let mails = wait_for(&inbox, 1);
    assert_eq!(mails[0].to, vec!["ops@example.cn"]);
    // The link returned without a mail works.
    let c = s.client();
    c.post(
        "/api/v1/auth/activate",
        json!({ "token": token_of(inv["link"].as_str().unwrap()), "password": MEMBER_PASSWORD }),
    )
    .ok();
}

#[test]
fn an_unreachable_smtp_server_gives_502_and_invitations_still_return_the_link() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    admin.put("/api/v1/admin/smtp", smtp_settings(free_port(), true)).ok();
    let r = admin.post("/api/v1/admin/smtp/test", json!({ "to": "ops@example.cn" }));
    r.expect(502, "mail_failed");
    let tested = admin.audit("action=smtp.tested");
    assert_eq!(tested[0]["details"]["ok"], false);
    assert!(tested[0]["details"]["error"].as_str().is_some_and(|e| !e.is_empty()));
    // A new member is created once even though their invitation mail fails; the link is shown.
    let r = admin.post(
        "/api/v1/admin/members",
        json!({ "userid": "unlucky", "name": "不走运", "department_ids": [root], "email": "unlucky@example.cn", "send_invite": true }),
    );
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    assert_eq!(r.body["invite"]["emailed"], false);
    assert!(r.body["invite"]["mail_error"].as_str().is_some_and(|e| !e.is_empty()), "{}", r.body);
    let link = r.body["invite"]["link"].as_str().unwrap().to_owned();
    assert_eq!(s.client().get(&format!("/api/v1/auth/token/{}", token_of(&link))).ok()["userid"], "unlucky");
    // Forgot-password still answers at once.
    assert_eq!(s.client().post("/api/v1/auth/forgot", json!({ "login": "admin" })).status.as_u16(), 204);
}

#[test]
fn a_forged_host_header_cannot_redirect_the_reset_link() {
    let (port, inbox) = start_sink();
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    admin.put("/api/v1/admin/smtp", smtp_settings(port, true)).ok();
    admin.create_member_with(json!({
        "userid": "victim", "name": "受害者", "department_ids": [root], "email": "victim@example.cn", "initial_password": MEMBER_PASSWORD
    }));
    let attacker = s.client();
    let rb = attacker
        .raw(reqwest::Method::POST, "/api/v1/auth/forgot")
        .header("X-CSRF-Token", "1")
        .header("Host", "evil.example")
        .header("X-Forwarded-Host", "evil.example")
        .header("Forwarded", "host=evil.example;proto=https")
        .json(&json!({ "login": "victim" }));
    assert_eq!(attacker.send_built(rb).status.as_u16(), 204);
    let mails = wait_for(&inbox, 1);
    let link = link_in(&parse(&mails[0].data).body, "reset");
    assert!(link.starts_with(&format!("{}/reset/", s.base)), "the reset link must point at this server, not {link}");
}
