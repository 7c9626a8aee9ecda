//! The in-process test server: the real app on 127.0.0.1:0 with a temporary data directory and
//! a manual clock, driven over HTTP with a cookie-keeping client per user.

#![allow(dead_code)]

use officebox::config::Config;
use officebox::platform::clock::ManualClock;
use officebox::platform::{Platform, Shutdown};
use reqwest::blocking::{multipart, Client as Http};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;

pub struct TestServer {
    pub base: String,
    pub dir: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
    pub platform: actix_web::web::Data<Platform>,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub fn test_config(dir: PathBuf) -> Config {
    Config { data_dir: dir, bcrypt_cost: 4, workers: 2, ..Config::default() }
}

impl TestServer {
    pub fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir)
    }

    /// Start on an existing directory (restart tests).
    pub fn start_in(dir: tempfile::TempDir) -> TestServer {
        Self::start_with(dir, |c| c)
    }

    pub fn start_with(dir: tempfile::TempDir, tweak: impl FnOnce(Config) -> Config) -> TestServer {
        let clock = ManualClock::new(chrono::Utc::now().timestamp_millis());
        let config = tweak(test_config(dir.path().to_path_buf()));
        let platform =
            actix_web::web::Data::new(officebox::app::build_platform(config, clock.clone()).expect("platform"));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let p = platform.clone();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(officebox::app::run(p, listener)).expect("server");
        });
        let server = TestServer { base, dir, clock, platform, thread: Some(thread) };
        for _ in 0..100 {
            if reqwest::blocking::get(format!("{}/healthz", server.base)).is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("server did not start");
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// Stop the server and hand back its data directory.
    pub fn stop(mut self) -> tempfile::TempDir {
        self.shutdown();
        let dir = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self.dir, dir)
    }

    fn shutdown(&mut self) {
        let _ = self.platform.shutdown.send(Some(Shutdown::Restart));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // actix workers drop their handles a moment after the server stops; once only ours is
        // left, dropping `self` closes the store and the directory can be reopened at once.
        // Under a loaded CI machine this once took longer than 10 s (the restart then found the
        // directory still locked), so wait longer and say so if it is slow or never ends.
        let arc = self.platform.clone().into_inner();
        let start = std::time::Instant::now();
        let deadline = start + std::time::Duration::from_secs(60);
        while std::sync::Arc::strong_count(&arc) > 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let (left, took) = (std::sync::Arc::strong_count(&arc), start.elapsed());
        if left > 2 || took > std::time::Duration::from_secs(2) {
            eprintln!("test server: {} platform handles still held {took:?} after the stop", left - 2);
        }
    }

    /// Complete the setup wizard; returns the super admin's client (signed in).
    pub fn setup(&self) -> Client {
        let c = self.client();
        let r = c.post(
            "/api/v1/setup",
            json!({
                "enterprise_name": "示例科技",
                "time_zone": "Asia/Shanghai",
                "admin": { "userid": "admin", "name": "管理员", "password": ADMIN_PASSWORD, "mobile": "13900000000", "email": "admin@example.cn" }
            }),
        );
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        c
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

pub const ADMIN_PASSWORD: &str = "Secret-pass-1";

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    pub fn id(&self) -> u64 {
        self.body["id"].as_u64().unwrap_or_else(|| panic!("no id in {}", self.body))
    }
    #[track_caller]
    pub fn ok(self) -> Value {
        assert!(self.status.is_success(), "expected success, got {}: {}", self.status, self.body);
        self.body
    }
    #[track_caller]
    pub fn expect(self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.code(), code, "body: {}", self.body);
        self.body
    }
}

/// One browser-like user: keeps cookies and sends the CSRF token.
pub struct Client {
    pub http: Http,
    pub base: String,
    pub csrf: RefCell<String>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        let http =
            Http::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Client { http, base: base.to_owned(), csrf: RefCell::new("1".into()) }
    }

    fn finish(&self, rb: reqwest::blocking::RequestBuilder) -> Resp {
        let res = rb.send().expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().expect("body").to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if let Some(t) = body.get("csrf_token").and_then(Value::as_str) {
            *self.csrf.borrow_mut() = t.to_owned();
        }
        Resp { status, body, headers, bytes }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> Resp {
        self.finish(self.http.get(self.url(path)))
    }

    pub fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Resp {
        let mut rb = self.http.request(method, self.url(path)).header("X-CSRF-Token", self.csrf.borrow().clone());
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        self.finish(rb)
    }

    pub fn post(&self, path: &str, body: Value) -> Resp {
        self.send(reqwest::Method::POST, path, Some(body))
    }
    pub fn put(&self, path: &str, body: Value) -> Resp {
        self.send(reqwest::Method::PUT, path, Some(body))
    }
    pub fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(reqwest::Method::PATCH, path, Some(body))
    }
    pub fn delete(&self, path: &str) -> Resp {
        self.send(reqwest::Method::DELETE, path, None)
    }

    pub fn upload(&self, method: reqwest::Method, path: &str, filename: &str, bytes: Vec<u8>) -> Resp {
        let part = multipart::Part::bytes(bytes).file_name(filename.to_owned());
        let form = multipart::Form::new().part("file", part);
        self.finish(
            self.http
                .request(method, self.url(path))
                .header("X-CSRF-Token", self.csrf.borrow().clone())
                .multipart(form),
        )
    }

    pub fn login(&self, login: &str, password: &str) -> Resp {
        self.post("/api/v1/auth/login", json!({ "login": login, "password": password }))
    }

    /// Sign in and assert success.
    #[track_caller]
    pub fn signed_in(base: &str, login: &str, password: &str) -> Client {
        let c = Client::new(base);
        c.login(login, password).ok();
        c
    }

    // --- org helpers (as an admin) ---

    pub fn root_department(&self) -> u64 {
        let deps = self.get("/api/v1/departments").ok();
        deps["items"]
            .as_array()
            .and_then(|a| a.iter().find(|d| d["parent_id"] == 0))
            .and_then(|d| d["id"].as_u64())
            .expect("root")
    }

    #[track_caller]
    pub fn create_department(&self, name: &str, parent: u64) -> u64 {
        let r = self.post("/api/v1/admin/departments", json!({ "name": name, "parent_id": parent }));
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.id()
    }

    /// Create an active member with a password (they must change it at first sign-in).
    #[track_caller]
    pub fn create_member(&self, userid: &str, name: &str, dept: u64, password: &str) -> u64 {
        let mobile = format!("139{:08}", fxhash(userid) % 100_000_000);
        let r = self.post(
            "/api/v1/admin/members",
            json!({ "userid": userid, "name": name, "department_ids": [dept], "mobile": mobile, "initial_password": password }),
        );
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["member"]["id"].as_u64().expect("member id")
    }
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(1469598103934665603u64, |h, b| (h ^ b as u64).wrapping_mul(1099511628211))
}

// ---- helpers for the scenario modules (auth, org, matrix, admin, mail, enterprise) ----

/// A valid 1×1 RGBA PNG.
pub const PNG_1X1: [u8; 70] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d,
    0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

pub fn png() -> Vec<u8> {
    PNG_1X1.to_vec()
}

/// A password that satisfies the default policy and contains none of the test account ids.
pub const MEMBER_PASSWORD: &str = "Pw-Sample-2024";

/// A process-wide counter for unique names, account ids and mobile numbers.
pub fn unique() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The `ob_session` value a response sets, if any (empty for a removal cookie).
pub fn set_cookie_value(r: &Resp) -> Option<String> {
    set_cookie_header(r)
        .and_then(|h| h.split(';').next().and_then(|kv| kv.trim().strip_prefix("ob_session=")).map(str::to_owned))
}

/// The whole `Set-Cookie` header for `ob_session`.
pub fn set_cookie_header(r: &Resp) -> Option<String> {
    r.headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.trim_start().starts_with("ob_session="))
        .map(str::to_owned)
}

/// The last path segment of an invitation / reset link: the token.
pub fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap_or_default().to_owned()
}

impl Client {
    /// A client whose cookie jar holds exactly this session token (to replay old cookies).
    pub fn with_session(base: &str, token: &str) -> Client {
        let jar = reqwest::cookie::Jar::default();
        jar.add_cookie_str(&format!("ob_session={token}; Path=/"), &base.parse().expect("url"));
        let http = Http::builder()
            .cookie_provider(Arc::new(jar))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Client { http, base: base.to_owned(), csrf: RefCell::new("1".into()) }
    }

    pub fn csrf_token(&self) -> String {
        self.csrf.borrow().clone()
    }

    /// Send a request built by hand (e.g. without the CSRF header).
    pub fn send_built(&self, rb: reqwest::blocking::RequestBuilder) -> Resp {
        self.finish(rb)
    }

    /// A request builder on this client's cookie jar with no CSRF header.
    pub fn raw(&self, method: reqwest::Method, path: &str) -> reqwest::blocking::RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// `GET /auth/me` (refreshes the CSRF token), asserting success.
    #[track_caller]
    pub fn me(&self) -> Value {
        self.get("/api/v1/auth/me").ok()
    }

    /// `POST /admin/members` with this body; asserts 201 and returns the member.
    #[track_caller]
    pub fn create_member_with(&self, body: Value) -> Value {
        let r = self.post("/api/v1/admin/members", body);
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["member"].clone()
    }

    /// A member without a password (status `inactive`) with a unique account id and mobile.
    #[track_caller]
    pub fn create_inactive_member(&self, userid: &str, dept: u64) -> u64 {
        let m = self.create_member_with(
            json!({ "userid": userid, "name": userid, "department_ids": [dept], "mobile": format!("137{:08}", unique()) }),
        );
        m["id"].as_u64().expect("id")
    }

    /// Grant an admin role (as a super admin).
    #[track_caller]
    pub fn grant(&self, member_id: u64, role: Value) {
        self.put(&format!("/api/v1/admin/admins/{member_id}"), role).ok();
    }

    /// Every audit entry matching `query` (e.g. `action=member.`), newest first, following cursors.
    #[track_caller]
    pub fn audit(&self, query: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor = String::new();
        for _ in 0..1000 {
            let page = self.get(&format!("/api/v1/admin/audit?limit=200&{query}&cursor={cursor}")).ok();
            out.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = c.to_owned(),
                None => return out,
            }
        }
        panic!("audit paging did not end");
    }

    /// The department with this name (first match).
    #[track_caller]
    pub fn department_by_name(&self, name: &str) -> Value {
        let deps = self.get("/api/v1/departments").ok();
        deps["items"].as_array().and_then(|a| a.iter().find(|d| d["name"] == name).cloned()).expect("department")
    }
}

impl TestServer {
    /// Create an active member with `MEMBER_PASSWORD` in `dept` and sign them in.
    #[track_caller]
    pub fn member(&self, admin: &Client, userid: &str, dept: u64) -> (u64, Client) {
        let id = admin.create_member(userid, userid, dept, MEMBER_PASSWORD);
        (id, Client::signed_in(&self.base, userid, MEMBER_PASSWORD))
    }
}
