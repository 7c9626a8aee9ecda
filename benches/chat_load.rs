//! Chat load tool: the real `officebox` release binary as a child process on a fresh data
//! directory, driven over HTTP and WebSockets like the SPA would (session cookie + CSRF header,
//! `client_id` on every send, keep-alive connection pool, async client).
//!
//! `cargo bench --bench chat_load` prints ONE JSON line on stdout (human-readable lines on
//! stderr). Phases, in order (select with `CHAT_LOAD_PHASES=seq,throughput,e2e,paging,fanout,startup`):
//!
//! - `seq`: send latency, one sender, one message at a time (20-member group);
//! - `throughput`: `CHAT_LOAD_SENDERS` (16) concurrent senders in the 20-member group for
//!   `CHAT_LOAD_SECS` (10) s: durable sends/s and latency under load;
//! - `e2e`: one message every `CHAT_LOAD_E2E_INTERVAL_MS` (10) ms; time from the start of the POST
//!   to its arrival on another member's WebSocket;
//! - `paging`: 1,000 messages back in pages of 200 (`?before=`), repeated;
//! - `fanout`: a group of every user (`CHAT_LOAD_USERS`, 2,000) with one WebSocket per user;
//!   delivery time of `CHAT_LOAD_FANOUT_MSGS` (20) messages to every socket; server RSS;
//! - `startup`: grow the database to `CHAT_LOAD_STARTUP_MESSAGES` (1,000,000) messages through
//!   `POST /chat/forward` (2,000 messages a request), wait for the search outbox to drain, stop the
//!   server (SIGTERM) and time its restart.
//!
//! Other knobs: `CHAT_LOAD_GROUP` (20), `CHAT_LOAD_SEQ_MSGS` (1000), `CHAT_LOAD_E2E_SECS` (5),
//! `CHAT_LOAD_FANOUT_GAP_MS` (300), `CHAT_LOAD_PAGE_REPEAT` (30), `CHAT_LOAD_CLIENT_THREADS` (2),
//! `CHAT_LOAD_LOG` (server log level, default `info` as shipped), `CHAT_LOAD_BIN` (server
//! binary; default the one cargo built with this bench), `CHAT_LOAD_PERF=<file>` (record the
//! server with `perf record -g` during the throughput phase).
//!
//! The client and the server share the machine: on 2 cores the client's own HTTP and WebSocket
//! work is taken from the server. The fan-out phase opens one socket per user in each process:
//! it checks `ulimit -n` (at least 2 × users + 512; `ulimit -n 65536` before running).
//! The JSON line ends with `targets`: each figure with its target and whether it was met.

#[path = "common/mod.rs"]
mod common;

use common::*;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

const PASSWORD: &str = "Pw-Sample-2024";
const ADMIN_PASSWORD: &str = "Secret-pass-1";

struct Knobs {
    users: usize,
    group: usize,
    senders: usize,
    secs: f64,
    seq_msgs: usize,
    e2e_secs: f64,
    e2e_interval_ms: u64,
    fanout_msgs: usize,
    fanout_gap_ms: u64,
    page_repeat: usize,
    startup_messages: u64,
    log: String,
    bin: PathBuf,
    perf: Option<String>,
    phases: Vec<String>,
}

impl Knobs {
    fn read() -> Knobs {
        let phases = knob("CHAT_LOAD_PHASES", "seq,throughput,e2e,paging,fanout,startup".to_owned());
        let users: usize = knob("CHAT_LOAD_USERS", 2000);
        Knobs {
            users: users.max(knob("CHAT_LOAD_GROUP", 20)).max(2),
            group: knob("CHAT_LOAD_GROUP", 20),
            senders: knob("CHAT_LOAD_SENDERS", 16),
            secs: knob("CHAT_LOAD_SECS", 10.0),
            seq_msgs: knob("CHAT_LOAD_SEQ_MSGS", 1000),
            e2e_secs: knob("CHAT_LOAD_E2E_SECS", 5.0),
            e2e_interval_ms: knob("CHAT_LOAD_E2E_INTERVAL_MS", 10),
            fanout_msgs: knob("CHAT_LOAD_FANOUT_MSGS", 20),
            fanout_gap_ms: knob("CHAT_LOAD_FANOUT_GAP_MS", 300),
            page_repeat: knob("CHAT_LOAD_PAGE_REPEAT", 30),
            startup_messages: knob("CHAT_LOAD_STARTUP_MESSAGES", 1_000_000),
            log: knob("CHAT_LOAD_LOG", "info".to_owned()),
            bin: std::env::var_os("CHAT_LOAD_BIN")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_officebox"))),
            perf: std::env::var("CHAT_LOAD_PERF").ok().filter(|s| !s.is_empty()),
            phases: phases.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
        }
    }
    fn runs(&self, phase: &str) -> bool {
        self.phases.iter().any(|p| p == phase)
    }
}

macro_rules! say {
    ($($t:tt)*) => { eprintln!("chat_load: {}", format!($($t)*)) };
}

fn fd_limit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

// ---------------------------------------------------------------- HTTP client

#[derive(Clone)]
struct User {
    id: u64,
    token: String,
    csrf: String,
}

impl User {
    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(&format!("ob_session={}", self.token)).expect("cookie"));
        h.insert("x-csrf-token", HeaderValue::from_str(&self.csrf).expect("csrf"));
        h
    }
}

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
}

fn session_token(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.split(';').next().and_then(|kv| kv.trim().strip_prefix("ob_session=")).map(str::to_owned))
}

impl Api {
    fn new(base: &str) -> Api {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(600))
            .build()
            .expect("client");
        Api { http, base: base.to_owned() }
    }

    async fn call(&self, u: Option<&User>, method: reqwest::Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut rb = self.http.request(method, format!("{}{path}", self.base)).header("x-csrf-token", "1");
        if let Some(u) = u {
            rb = rb.headers(u.headers());
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let res = rb.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = res.status().as_u16();
        let bytes = res.bytes().await.expect("body");
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    #[track_caller]
    fn expect_ok(path: &str, (status, body): (u16, Value)) -> Value {
        assert!((200..300).contains(&status), "{path}: {status} {body}");
        body
    }

    async fn get(&self, u: &User, path: &str) -> Value {
        Self::expect_ok(path, self.call(Some(u), reqwest::Method::GET, path, None).await)
    }

    async fn post(&self, u: &User, path: &str, body: Value) -> Value {
        Self::expect_ok(path, self.call(Some(u), reqwest::Method::POST, path, Some(&body)).await)
    }

    async fn put(&self, u: &User, path: &str, body: Value) -> Value {
        Self::expect_ok(path, self.call(Some(u), reqwest::Method::PUT, path, Some(&body)).await)
    }

    /// Sign in; the session token comes from Set-Cookie, the CSRF token from the body.
    async fn login(&self, login: &str, password: &str, path: &str, body: Value) -> User {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("x-csrf-token", "1")
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("login {login}: {e}"));
        let status = res.status().as_u16();
        let token = session_token(&res);
        let v: Value = res.json().await.unwrap_or(Value::Null);
        assert!((200..300).contains(&status), "login {login} ({password}): {status} {v}");
        let csrf = v["csrf_token"].as_str().expect("csrf_token").to_owned();
        let id = v["user"]["id"].as_u64().or_else(|| v["id"].as_u64()).unwrap_or(0);
        User { id, token: token.expect("session cookie"), csrf }
    }

    /// Send one text message; returns the status and the time the POST took.
    async fn send_text(&self, u: &User, conv: u64, text: &str, client_id: &str) -> (u16, Duration) {
        let body = if client_id.is_empty() {
            format!("{{\"kind\":\"text\",\"text\":{},\"mentions\":[],\"at_all\":false}}", Value::from(text))
        } else {
            format!(
                "{{\"kind\":\"text\",\"text\":{},\"mentions\":[],\"at_all\":false,\"client_id\":\"{client_id}\"}}",
                Value::from(text)
            )
        };
        let t = Instant::now();
        let res = self
            .http
            .post(format!("{}/api/v1/chat/conversations/{conv}/messages", self.base))
            .headers(u.headers())
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .expect("send");
        let status = res.status().as_u16();
        let _ = res.bytes().await.expect("send body");
        if status == 201 {
            SENT.fetch_add(1, Ordering::Relaxed);
        }
        (status, t.elapsed())
    }

    async fn metric(&self, name: &str) -> f64 {
        let text = self.http.get(format!("{}/metrics", self.base)).send().await.expect("metrics");
        let text = text.text().await.unwrap_or_default();
        text.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }
}

// ---------------------------------------------------------------- WebSockets

type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_connect(base: &str, u: &User) -> WsStream {
    let url = format!("{}/ws", base.replacen("http://", "ws://", 1));
    let mut req = url.into_client_request().expect("ws request");
    req.headers_mut().insert("Cookie", format!("ob_session={}", u.token).parse().expect("cookie"));
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(req, None, true).await.expect("ws handshake");
    // Wait for `hello`: from then on the socket is live.
    loop {
        match ws.next().await {
            Some(Ok(WsMessage::Text(t))) if t.as_str().contains("\"hello\"") => return ws,
            Some(Ok(_)) => {}
            other => panic!("websocket closed before hello: {other:?}"),
        }
    }
}

/// The number after `marker` in a frame's text (`"text":"e2e-17 ..."` → 17).
fn marker_index(frame: &str, marker: &str) -> Option<usize> {
    let at = frame.find(marker)? + marker.len();
    let digits: String = frame[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

// ---------------------------------------------------------------- scenario set-up

struct World {
    api: Api,
    admin: User,
    users: Vec<User>,
    group: u64,
}

async fn set_up(api: &Api, k: &Knobs) -> World {
    let t = Instant::now();
    let setup = json!({
        "enterprise_name": "压测科技",
        "time_zone": "Asia/Shanghai",
        "admin": { "userid": "admin", "name": "管理员", "password": ADMIN_PASSWORD, "mobile": "13900000000" }
    });
    let admin = api.login("admin", ADMIN_PASSWORD, "/api/v1/setup", setup).await;
    let deps = api.get(&admin, "/api/v1/departments").await;
    let root = deps["items"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["parent_id"] == 0))
        .and_then(|d| d["id"].as_u64())
        .expect("root department");
    // Groups up to the hard ceiling (2,000) for the fan-out phase.
    let mut chat = api.get(&admin, "/api/v1/admin/chat/settings").await;
    chat["max_group_members"] = json!(k.users.min(2000));
    api.put(&admin, "/api/v1/admin/chat/settings", chat).await;

    const SURNAMES: &[char] = &['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙'];
    const GIVEN: &[char] = &['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '涛'];
    let ids: Vec<u64> = futures_util::stream::iter(0..k.users)
        .map(|i| {
            let (api, admin) = (api.clone(), admin.clone());
            async move {
                let name: String =
                    [SURNAMES[i % SURNAMES.len()], GIVEN[(i / 12) % GIVEN.len()], GIVEN[(i * 7) % 14]].iter().collect();
                let body = json!({ "userid": format!("u{i:05}"), "name": name, "department_ids": [root],
                                   "mobile": format!("138{i:08}"), "initial_password": PASSWORD });
                let m = api.post(&admin, "/api/v1/admin/members", body).await;
                m["member"]["id"].as_u64().expect("member id")
            }
        })
        .buffered(8)
        .collect()
        .await;
    let users: Vec<User> = futures_util::stream::iter(ids.into_iter().enumerate())
        .map(|(i, id)| {
            let api = api.clone();
            async move {
                let login = format!("u{i:05}");
                let body = json!({ "login": login, "password": PASSWORD });
                let mut u = api.login(&login, PASSWORD, "/api/v1/auth/login", body).await;
                u.id = id;
                u
            }
        })
        .buffered(8)
        .collect()
        .await;
    let members: Vec<u64> = users[1..k.group].iter().map(|u| u.id).collect();
    let g = api.post(&users[0], "/api/v1/chat/groups", json!({"name": "压测群", "member_ids": members})).await;
    let group = g["id"].as_u64().expect("group id");
    say!("set-up: {} users created and signed in, group {group} of {} in {:.1} s", users.len(), k.group, secs(t));
    World { api: api.clone(), admin, users, group }
}

// ---------------------------------------------------------------- phases

/// Messages sent so far through `send_text` (the start-up phase tops this up to its target).
static SENT: AtomicU64 = AtomicU64::new(0);
static CLIENT_IDS: AtomicU64 = AtomicU64::new(1);

/// A fresh idempotency key, as the SPA sends with every message (`CHAT_LOAD_CLIENT_ID=0`: none).
fn client_id() -> String {
    static OFF: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *OFF.get_or_init(|| std::env::var("CHAT_LOAD_CLIENT_ID").is_ok_and(|v| v == "0")) {
        return String::new();
    }
    // time-ordered, as the SPA's (see `newClientId`): milliseconds first, then a counter
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    format!("{ms:013}-{:08}", CLIENT_IDS.fetch_add(1, Ordering::Relaxed))
}

async fn phase_seq(w: &World, k: &Knobs) -> Value {
    let u = &w.users[0];
    for i in 0..100 {
        w.api.send_text(u, w.group, &format!("预热 warm-up {i}"), &client_id()).await;
    }
    let mut s = Samples::default();
    let t = Instant::now();
    for i in 0..k.seq_msgs {
        let (status, d) = w.api.send_text(u, w.group, &format!("顺序发送 sequential message {i}"), &client_id()).await;
        assert_eq!(status, 201);
        s.push(d);
    }
    let rate = k.seq_msgs as f64 / secs(t);
    say!("seq: {} sends one at a time: p50 {:.2} ms p99 {:.2} ms ({rate:.0}/s)", k.seq_msgs, s.pct(50.0), s.pct(99.0));
    let mut v = s.summary();
    v["msgs_per_s"] = json!(rate.round());
    v
}

/// `perf record -g` of the server for `secs` (CHAT_LOAD_PERF=<file>).
fn perf_start(k: &Knobs, server: &Server, secs: f64) -> Option<Child> {
    let out = k.perf.as_ref()?;
    let child = Command::new("perf")
        .args(["record", "-F", "1999", "-g", "-o", out, "-p", &server.pid().to_string(), "--", "sleep"])
        .arg(format!("{secs:.1}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok();
    std::thread::sleep(Duration::from_millis(300));
    child
}

fn perf_stop(child: Option<Child>) {
    if let Some(mut c) = child {
        let _ = c.wait();
    }
}

async fn phase_throughput(w: &World, k: &Knobs, server: &Server) -> Value {
    // Warm the connection pool (one connection per sender).
    let warm: Vec<_> = (0..k.senders)
        .map(|i| {
            let (api, u, g) = (w.api.clone(), w.users[i % k.group].clone(), w.group);
            tokio::spawn(async move { api.send_text(&u, g, "预热", &client_id()).await })
        })
        .collect();
    for h in warm {
        h.await.expect("warm");
    }
    let perf = perf_start(k, server, k.secs);
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicUsize::new(0));
    let cpu0 = server.cpu_secs();
    let client0 = cpu_secs_of("self");
    let commits0 = w.api.metric("officebox_writer_commits_total").await;
    let run0 = w.api.metric("officebox_writer_run_seconds_total").await;
    let commit0 = w.api.metric("officebox_writer_commit_seconds_total").await;
    let t = Instant::now();
    let tasks: Vec<_> = (0..k.senders)
        .map(|i| {
            let (api, u, g, stop, errors) =
                (w.api.clone(), w.users[i % k.group].clone(), w.group, stop.clone(), errors.clone());
            tokio::spawn(async move {
                let mut s = Samples::default();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let text = format!("压测消息 {i}-{n} 今天下午三点开会，请准时参加");
                    let (status, d) = api.send_text(&u, g, &text, &client_id()).await;
                    if status != 201 {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    s.push(d);
                    n += 1;
                }
                s
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(k.secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Samples::default();
    for h in tasks {
        all.0.extend(h.await.expect("sender").0);
    }
    let elapsed = secs(t);
    let cpu = server.cpu_secs() - cpu0;
    let client_cpu = cpu_secs_of("self") - client0;
    perf_stop(perf);
    let commits = w.api.metric("officebox_writer_commits_total").await - commits0;
    let run_s = w.api.metric("officebox_writer_run_seconds_total").await - run0;
    let commit_s = w.api.metric("officebox_writer_commit_seconds_total").await - commit0;
    say!(
        "throughput: writer busy {:.0}% ({:.0}% running use cases, {:.0}% committing); per commit: {:.3} ms running, {:.3} ms committing",
        (run_s + commit_s) / elapsed * 100.0,
        run_s / elapsed * 100.0,
        commit_s / elapsed * 100.0,
        run_s * 1000.0 / commits.max(1.0),
        commit_s * 1000.0 / commits.max(1.0)
    );
    let sent = all.0.len();
    let rate = sent as f64 / elapsed;
    let errs = errors.load(Ordering::Relaxed);
    say!(
        "throughput: {} senders, {sent} sends in {elapsed:.1} s = {rate:.0} msg/s (target >= 15000); p50 {:.2} ms p99 {:.2} ms (target <= 10); \
         {errs} errors; CPU: server {:.2} cores ({:.0} us a message), client {:.2} cores; {:.1} sends per commit",
        k.senders,
        all.pct(50.0),
        all.pct(99.0),
        cpu / elapsed,
        cpu * 1e6 / sent.max(1) as f64,
        client_cpu / elapsed,
        sent as f64 / commits.max(1.0)
    );
    let mut v = all.summary();
    v["senders"] = json!(k.senders);
    v["msgs"] = json!(sent);
    v["secs"] = json!(r3(elapsed));
    v["msgs_per_s"] = json!(rate.round());
    v["errors"] = json!(errs);
    v["server_cpu_cores"] = json!(r3(cpu / elapsed));
    v["server_cpu_us_per_msg"] = json!((cpu * 1e6 / sent.max(1) as f64).round());
    v["client_cpu_cores"] = json!(r3(client_cpu / elapsed));
    v["sends_per_commit"] = json!(r3(sent as f64 / commits.max(1.0)));
    v["writer_run_ms_per_commit"] = json!(r3(run_s * 1000.0 / commits.max(1.0)));
    v["writer_commit_ms_per_commit"] = json!(r3(commit_s * 1000.0 / commits.max(1.0)));
    v
}

async fn phase_e2e(w: &World, k: &Knobs) -> Value {
    let (sender, receiver) = (&w.users[0], &w.users[1]);
    let n = ((k.e2e_secs * 1000.0) / k.e2e_interval_ms.max(1) as f64) as usize;
    let sent_at: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; n]));
    let got_at: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; n]));
    let mut ws = ws_connect(&w.api.base, receiver).await;
    let got = got_at.clone();
    let reader = tokio::spawn(async move {
        let mut seen = 0;
        while let Some(Ok(m)) = ws.next().await {
            if let WsMessage::Text(t) = m {
                if let Some(i) = marker_index(t.as_str(), "e2e-") {
                    if let Some(slot) = got.lock().expect("lock").get_mut(i) {
                        slot.get_or_insert_with(Instant::now);
                        seen += 1;
                    }
                }
            }
            if seen >= n {
                break;
            }
        }
        let _ = ws.close(None).await;
    });
    let mut http = Samples::default();
    let mut tick = tokio::time::interval(Duration::from_millis(k.e2e_interval_ms));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for i in 0..n {
        tick.tick().await;
        let t = Instant::now();
        sent_at.lock().expect("lock")[i] = Some(t);
        let (status, d) = w.api.send_text(sender, w.group, &format!("e2e-{i} 端到端延迟"), &client_id()).await;
        assert_eq!(status, 201);
        http.push(d);
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
    let mut s = Samples::default();
    let mut lost = 0;
    let (sent, got) = (sent_at.lock().expect("lock"), got_at.lock().expect("lock"));
    for (a, b) in sent.iter().zip(got.iter()) {
        match (a, b) {
            (Some(a), Some(b)) => s.push(b.saturating_duration_since(*a)),
            _ => lost += 1,
        }
    }
    say!(
        "e2e: {n} messages every {} ms, POST start -> other member's socket: p50 {:.2} ms p99 {:.2} ms (target <= 5); POST p50 {:.2} ms; {lost} not received",
        k.e2e_interval_ms,
        s.pct(50.0),
        s.pct(99.0),
        http.pct(50.0)
    );
    let mut v = s.summary();
    v["interval_ms"] = json!(k.e2e_interval_ms);
    v["lost"] = json!(lost);
    v["post"] = http.summary();
    v
}

/// Page 1,000 messages back (5 pages of 200, `?before=`) `repeat` times: (per 1,000, per page, count).
async fn page_back(api: &Api, u: &User, conv: u64, repeat: usize) -> (Samples, Samples, usize) {
    let base = format!("/api/v1/chat/conversations/{conv}/messages");
    let mut total = Samples::default();
    let mut page = Samples::default();
    let mut count = 0;
    for _ in 0..repeat {
        let t = Instant::now();
        let mut before: Option<u64> = None;
        count = 0;
        for _ in 0..5 {
            let q = match before {
                Some(b) => format!("{base}?before={b}&limit=200"),
                None => format!("{base}?limit=200"),
            };
            let tp = Instant::now();
            let v = api.get(u, &q).await;
            page.push(tp.elapsed());
            let items = v["items"].as_array().expect("items");
            count += items.len();
            before = items.first().and_then(|m| m["seq"].as_u64());
            if before.is_none() {
                break;
            }
        }
        total.push(t.elapsed());
    }
    (total, page, count)
}

async fn phase_paging(w: &World, k: &Knobs) -> Value {
    let (total, page, count) = page_back(&w.api, &w.users[0], w.group, k.page_repeat).await;
    say!(
        "paging: {count} messages back in pages of 200: p50 {:.2} ms p99 {:.2} ms (target <= 20); a page p50 {:.2} ms",
        total.pct(50.0),
        total.pct(99.0),
        page.pct(50.0)
    );
    let mut v = total.summary();
    v["messages"] = json!(count);
    v["page"] = page.summary();
    v
}

async fn phase_fanout(w: &World, k: &Knobs, server: &Server) -> Value {
    let n_users = w.users.len().min(2000);
    let ids: Vec<u64> = w.users[1..n_users].iter().map(|u| u.id).collect();
    let t = Instant::now();
    let g = w.api.post(&w.users[0], "/api/v1/chat/groups", json!({"name": "全员群", "member_ids": ids})).await;
    let group = g["id"].as_u64().expect("group id");
    say!("fan-out: group of {n_users} created in {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
    let rss_before = server.rss_mb();
    let t = Instant::now();
    let sockets: Vec<WsStream> = futures_util::stream::iter(w.users[..n_users].iter().cloned())
        .map(|u| {
            let base = w.api.base.clone();
            async move { ws_connect(&base, &u).await }
        })
        .buffered(32)
        .collect()
        .await;
    say!("fan-out: {} WebSockets open in {:.1} s", sockets.len(), secs(t));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_sockets = server.rss_mb();
    let msgs = k.fanout_msgs;
    // arrivals[msg][socket]
    let arrivals: Arc<Vec<Mutex<Vec<Option<Instant>>>>> =
        Arc::new((0..msgs).map(|_| Mutex::new(vec![None; n_users])).collect());
    let done = Arc::new(AtomicUsize::new(0));
    let readers: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(sock, mut ws)| {
            let (arrivals, done) = (arrivals.clone(), done.clone());
            tokio::spawn(async move {
                let mut seen = 0;
                while let Some(Ok(m)) = ws.next().await {
                    if let WsMessage::Text(t) = m {
                        let now = Instant::now();
                        if let Some(i) = marker_index(t.as_str(), "fanout-") {
                            if let Some(slot) = arrivals.get(i) {
                                slot.lock().expect("lock")[sock].get_or_insert(now);
                                seen += 1;
                            }
                        }
                    }
                    if seen >= msgs {
                        break;
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
                ws
            })
        })
        .collect();
    let mut sent_at = Vec::new();
    let mut post = Samples::default();
    for i in 0..msgs {
        tokio::time::sleep(Duration::from_millis(k.fanout_gap_ms)).await;
        let t = Instant::now();
        sent_at.push(t);
        let (status, d) =
            w.api.send_text(&w.users[0], group, &format!("fanout-{i} 全员通知：系统今晚升级"), &client_id()).await;
        assert_eq!(status, 201);
        post.push(d);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while done.load(Ordering::Relaxed) < n_users && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rss_peak = server.rss_mb();
    let mut each = Samples::default();
    let mut last = Samples::default();
    let mut lost = 0;
    for (i, slot) in arrivals.iter().enumerate() {
        let v = slot.lock().expect("lock");
        let mut max = Duration::ZERO;
        for a in v.iter() {
            match a {
                Some(a) => {
                    let d = a.saturating_duration_since(sent_at[i]);
                    max = max.max(d);
                    each.push(d);
                }
                None => lost += 1,
            }
        }
        last.push(max);
    }
    // Close every socket (in the reader tasks' hands).
    let mut open = Vec::new();
    for h in readers {
        if let Ok(Ok(ws)) = tokio::time::timeout(Duration::from_secs(1), h).await {
            open.push(ws);
        }
    }
    futures_util::stream::iter(open)
        .for_each_concurrent(64, |mut ws| async move {
            let _ = ws.close(None).await;
        })
        .await;
    say!(
        "fan-out: {msgs} messages to {n_users} sockets: per socket p50 {:.1} ms p99 {:.1} ms (target <= 200); \
         last socket p50 {:.1} ms p99 {:.1} ms; POST p50 {:.1} ms; {lost} not received",
        each.pct(50.0),
        each.pct(99.0),
        last.pct(50.0),
        last.pct(99.0),
        post.pct(50.0)
    );
    say!("fan-out: server RSS {rss_before} MB before the sockets, {rss_sockets} MB with {n_users} sockets (target <= 250), {rss_peak} MB after the messages");
    json!({
        "members": n_users, "sockets": n_users, "messages": msgs,
        "delivery": each.summary(), "last_socket": last.summary(), "post": post.summary(), "lost": lost,
        "rss_mb_before_sockets": rss_before, "rss_mb_with_sockets": rss_sockets, "rss_mb_after_messages": rss_peak,
    })
}

/// Grow the database to `target` messages with `POST /chat/forward` (100 messages into 20
/// conversations = 2,000 new messages a request), wait for the search outbox to drain, restart.
async fn phase_startup(w: &World, k: &Knobs, server: Server, dir: &Path) -> (Value, Server) {
    let api = &w.api;
    let u = &w.users[0];
    let t = Instant::now();
    // 20 small target groups of the sender and 3 colleagues.
    let mut targets = Vec::new();
    for j in 0..20 {
        let members: Vec<u64> = w.users[1..4].iter().map(|u| u.id).collect();
        let g =
            api.post(u, "/api/v1/chat/groups", json!({"name": format!("转发目标{j}"), "member_ids": members})).await;
        targets.push(g["id"].as_u64().expect("id"));
    }
    // 100 source messages.
    let src = targets[0];
    let mut seqs = Vec::new();
    for i in 0..100 {
        let v = api
            .post(
                u,
                &format!("/api/v1/chat/conversations/{src}/messages"),
                json!({"text": format!("历史消息 {i}：季度报表已上传到共享盘，请各部门负责人在周五前审阅并反馈意见"), "client_id": client_id()}),
            )
            .await;
        seqs.push(v["seq"].as_u64().expect("seq"));
    }
    let mut have = SENT.load(Ordering::Relaxed) + seqs.len() as u64;
    let per = (seqs.len() * targets.len()) as u64;
    let mut requests = 0;
    let body = json!({"from": src, "seqs": seqs, "to": targets, "mode": "single"});
    // Two requests in flight so the writer always has the next transaction waiting.
    while have < k.startup_messages {
        let left = (k.startup_messages - have).div_ceil(per).min(2) as usize;
        let futs: Vec<_> = (0..left).map(|_| api.post(u, "/api/v1/chat/forward", body.clone())).collect();
        futures_util::future::join_all(futs).await;
        have += per * left as u64;
        requests += left;
        if requests % 50 == 0 {
            say!("startup: {have} messages written ({:.0}/s)", have as f64 / secs(t));
        }
    }
    let write_secs = secs(t);
    let t_drain = Instant::now();
    loop {
        let depth = api.metric("officebox_search_outbox_depth").await;
        if depth == 0.0 || secs(t_drain) > 1800.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let drain_secs = secs(t_drain);
    let rss_loaded = server.rss_mb();
    let db_mb = std::fs::metadata(dir.join("data.redb")).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0;
    say!(
        "startup: {have} messages written in {write_secs:.1} s ({:.0}/s via /chat/forward), search outbox drained {drain_secs:.1} s later; \
         data.redb {db_mb:.0} MB; RSS {rss_loaded} MB",
        have as f64 / write_secs
    );
    let port = server.port;
    let stop = server.stop();
    let (server, took) = Server::start(&k.bin, &k.log, dir, port);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = server.rss_mb();
    // First answers after the restart (cold caches): the conversation list and a history page.
    let t = Instant::now();
    api.get(u, "/api/v1/chat/conversations").await;
    let list_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    api.get(u, &format!("/api/v1/chat/conversations/{}/messages?limit=50", targets[5])).await;
    let page_ms = t.elapsed().as_secs_f64() * 1000.0;
    // 1,000 messages back in a conversation of 50,000, after the restart: cold, then warm.
    let (cold, _, _) = page_back(api, u, targets[7], 1).await;
    let (warm, _, count) = page_back(api, u, targets[7], k.page_repeat).await;
    say!(
        "startup: paging {count} messages back in a conversation of {}: cold {:.1} ms, then p50 {:.2} ms p99 {:.2} ms",
        have / targets.len() as u64,
        cold.pct(50.0),
        warm.pct(50.0),
        warm.pct(99.0)
    );
    say!(
        "startup: graceful stop {:.0} ms; restart with {have} messages healthy in {:.0} ms; idle RSS {rss_idle} MB; \
         first conversation list {list_ms:.1} ms, first history page {page_ms:.1} ms",
        stop.as_secs_f64() * 1000.0,
        took.as_secs_f64() * 1000.0
    );
    let v = json!({
        "messages": have, "written_per_s": (have as f64 / write_secs).round(), "outbox_drain_s": r3(drain_secs),
        "data_redb_mb": db_mb.round(), "rss_mb_loaded": rss_loaded, "stop_ms": stop.as_millis(),
        "restart_ms": took.as_millis(), "rss_mb_idle_after_restart": rss_idle,
        "first_list_ms": r3(list_ms), "first_page_ms": r3(page_ms),
        "paging_1000_cold_ms": r3(cold.pct(50.0)), "paging_1000": warm.summary(),
    });
    (v, server)
}

// ---------------------------------------------------------------- main

/// Each measured figure next to its target (absent phases are left out).
fn targets(out: &Value) -> Value {
    let checks: [(&str, &[&str], f64, bool); 7] = [
        ("throughput_msgs_per_s", &["throughput", "msgs_per_s"], 15_000.0, true),
        ("send_p99_under_load_ms", &["throughput", "p99_ms"], 10.0, false),
        ("e2e_p99_ms", &["e2e", "p99_ms"], 5.0, false),
        ("fanout_p99_ms", &["fanout", "delivery", "p99_ms"], 200.0, false),
        ("rss_mb_with_sockets", &["fanout", "rss_mb_with_sockets"], 250.0, false),
        ("paging_1000_p50_ms", &["paging", "p50_ms"], 20.0, false),
        ("idle_rss_mb", &["idle_rss_mb"], 60.0, false),
    ];
    let mut t = serde_json::Map::new();
    for (name, path, target, at_least) in checks {
        let v = path.iter().try_fold(out, |v, k| v.get(*k)).and_then(Value::as_f64);
        if let Some(v) = v {
            let met = if at_least { v >= target } else { v <= target };
            t.insert(name.into(), json!({"value": v, "target": target, "met": met}));
        }
    }
    Value::Object(t)
}

fn main() {
    let k = Knobs::read();
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and friends
    }
    let limit = fd_limit();
    if k.runs("fanout") && limit < (k.users as u64 * 2 + 512) {
        eprintln!(
            "chat_load: the fan-out phase opens {} WebSockets (client and server each hold one fd per socket), \
             but `ulimit -n` is {limit}. Run `ulimit -n 65536` (or at least {}) in this shell first.",
            k.users,
            k.users * 2 + 512
        );
        std::process::exit(2);
    }
    if !k.bin.exists() {
        eprintln!("chat_load: {} does not exist; build it with `cargo build --release`", k.bin.display());
        std::process::exit(2);
    }
    let threads: usize = knob("CHAT_LOAD_CLIENT_THREADS", 2);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build().expect("runtime");
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir).expect("data dir");
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let load_start = loadavg();
    say!(
        "server {} on a fresh data directory, {cpus} CPUs shared by client and server; load average {load_start} before the run",
        k.bin.display()
    );
    let port = free_port();
    let (server, fresh_start) = Server::start(&k.bin, &k.log, &dir, port);
    std::thread::sleep(Duration::from_secs(1));
    let idle_rss = server.rss_mb();
    say!(
        "start-up of a fresh data directory: healthy in {:.0} ms; idle RSS {idle_rss} MB (target <= 60)",
        fresh_start.as_secs_f64() * 1000.0
    );
    let mut out = json!({
        "bench": "chat_load", "cpus": cpus, "users": k.users, "group": k.group, "server_log": k.log,
        "fresh_start_ms": fresh_start.as_millis(), "idle_rss_mb": idle_rss, "loadavg_before": load_start,
    });
    let server = rt.block_on(async {
        let api = Api::new(&server.base);
        let w = set_up(&api, &k).await;
        let _ = &w.admin;
        out["rss_mb_after_setup"] = json!(server.rss_mb());
        say!("set-up: server RSS {} MB", server.rss_mb());
        if k.runs("seq") {
            out["seq"] = phase_seq(&w, &k).await;
        }
        if k.runs("throughput") {
            out["throughput"] = phase_throughput(&w, &k, &server).await;
            out["throughput"]["rss_mb_after"] = json!(server.rss_mb());
            say!("throughput: server RSS {} MB afterwards", server.rss_mb());
        }
        if k.runs("e2e") {
            out["e2e"] = phase_e2e(&w, &k).await;
        }
        if k.runs("paging") {
            out["paging"] = phase_paging(&w, &k).await;
        }
        if k.runs("fanout") {
            out["fanout"] = phase_fanout(&w, &k, &server).await;
        }
        if k.runs("startup") && k.startup_messages > 0 {
            let (v, s) = phase_startup(&w, &k, server, &dir).await;
            out["startup"] = v;
            return s;
        }
        server
    });
    let _ = server.stop();
    out["loadavg_after"] = json!(loadavg());
    out["targets"] = targets(&out);
    println!("{out}");
}
