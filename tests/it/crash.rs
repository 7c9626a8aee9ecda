//! Durability: a burst of writes against the real binary, SIGKILL in the middle, restart:
//! every write that was acknowledged is there, and the database opens cleanly.

use crate::common::*;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) fn spawn_server(dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_officebox"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir)
        .env("OFFICEBOX_BCRYPT_COST", "4")
        .env("OFFICEBOX_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn officebox")
}

pub(crate) fn wait_healthy(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if reqwest::blocking::get(format!("{base}/healthz")).is_ok_and(|r| r.status().is_success()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("officebox did not become healthy at {base}");
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port")
}

/// Complete the setup wizard on a server started with [`spawn_server`]; the admin's client.
pub(crate) fn setup_real(base: &str) -> Client {
    let admin = Client::new(base);
    admin
        .post(
            "/api/v1/setup",
            json!({"enterprise_name": "耐久测试", "time_zone": "Asia/Shanghai",
                   "admin": {"userid": "admin", "name": "管理员", "password": ADMIN_PASSWORD, "mobile": "13900000000"}}),
        )
        .ok();
    admin
}

/// `threads` senders post `text(thread, i)` into conversation `conv` as `admin` until the server
/// dies; once `at_least` are acknowledged, the server is killed with SIGKILL. Returns every
/// acknowledged (seq, text).
pub(crate) fn chat_burst_then_kill(
    child: &mut Child,
    admin: &Client,
    base: &str,
    conv: u64,
    threads: usize,
    at_least: usize,
    text: fn(usize, usize) -> String,
) -> Vec<(u64, String)> {
    let acked: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
    let senders: Vec<_> = (0..threads)
        .map(|t| {
            let (http, base, csrf, acked) = (admin.http.clone(), base.to_owned(), admin.csrf_token(), acked.clone());
            std::thread::spawn(move || {
                for i in 0..1_000_000 {
                    let text = text(t, i);
                    let res = http
                        .post(format!("{base}/api/v1/chat/conversations/{conv}/messages"))
                        .header("X-CSRF-Token", &csrf)
                        .json(&json!({ "text": text }))
                        .timeout(Duration::from_secs(5))
                        .send();
                    match res
                        .ok()
                        .filter(|r| r.status().as_u16() == 201)
                        .and_then(|r| r.json::<serde_json::Value>().ok())
                    {
                        Some(m) => acked.lock().expect("lock").push((m["seq"].as_u64().unwrap_or(0), text)),
                        None => return, // the server is gone
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while acked.lock().expect("lock").len() < at_least && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("SIGKILL");
    child.wait().ok();
    for s in senders {
        s.join().expect("sender");
    }
    let acked = acked.lock().expect("lock").clone();
    assert!(acked.len() >= at_least, "the burst was too short ({} messages)", acked.len());
    acked
}

#[test]
fn kill_9_during_a_write_burst_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn_server(dir.path(), port);
    wait_healthy(&base);
    let admin = setup_real(&base);
    let csrf = admin.csrf.borrow().clone();
    let cookie_client = admin.http.clone();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (http, base, csrf, acked) = (cookie_client.clone(), base.clone(), csrf.clone(), acked.clone());
            std::thread::spawn(move || {
                for i in 0..10_000 {
                    let name = format!("标签{w}-{i}");
                    let res = http
                        .post(format!("{base}/api/v1/admin/tags"))
                        .header("X-CSRF-Token", &csrf)
                        .json(&json!({ "name": name }))
                        .timeout(Duration::from_secs(5))
                        .send();
                    match res {
                        Ok(r) if r.status().as_u16() == 201 => acked.lock().unwrap().push(name),
                        _ => return, // the server is gone
                    }
                }
            })
        })
        .collect();
    // Let the burst run, then kill without warning.
    let deadline = Instant::now() + Duration::from_secs(10);
    while acked.lock().unwrap().len() < 300 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().expect("SIGKILL");
    child.wait().ok();
    for w in writers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 300, "the burst was too short to prove anything ({} writes)", acked.len());

    let mut child = spawn_server(dir.path(), port);
    wait_healthy(&base);
    let admin = Client::signed_in(&base, "admin", ADMIN_PASSWORD);
    let tags = admin.get("/api/v1/tags").ok();
    let stored: std::collections::HashSet<&str> =
        tags["items"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    let missing: Vec<&String> = acked.iter().filter(|n| !stored.contains(n.as_str())).collect();
    child.kill().ok();
    child.wait().ok();
    assert!(missing.is_empty(), "{} acknowledged writes lost, e.g. {:?}", missing.len(), missing.first());
}

#[test]
fn sigterm_stops_gracefully_with_exit_code_zero() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn_server(dir.path(), port);
    wait_healthy(&base);
    assert!(dir.path().join("run.json").exists(), "the CLI finds a running server through run.json");
    let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(sent.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "graceful stop exits 0, got {status:?}");
    assert!(!dir.path().join("run.json").exists(), "run.json is removed on a clean stop");
}

#[test]
fn kill_9_during_a_chat_send_burst_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn_server(dir.path(), port);
    wait_healthy(&base);
    let admin = setup_real(&base);
    let peer = admin.create_member("peer", "同事", admin.root_department(), MEMBER_PASSWORD);
    let g =
        admin.post("/api/v1/chat/groups", json!({"name": "压测群", "member_ids": [peer]})).ok()["id"].as_u64().unwrap();
    let acked = chat_burst_then_kill(&mut child, &admin, &base, g, 8, 500, |w, i| format!("消息{w}-{i}"));

    let mut child = spawn_server(dir.path(), port);
    wait_healthy(&base);
    let peer_client = Client::signed_in(&base, "peer", MEMBER_PASSWORD);
    let mut stored = std::collections::HashSet::new();
    let mut before: Option<u64> = None;
    loop {
        let q = before.map(|b| format!("&before={b}")).unwrap_or_default();
        let page = peer_client.get(&format!("/api/v1/chat/conversations/{g}/messages?limit=200{q}")).ok();
        let items = page["items"].as_array().unwrap().clone();
        for m in &items {
            stored.insert(m["text"].as_str().unwrap_or("").to_owned());
        }
        if page["has_more_before"] != true || items.is_empty() {
            break;
        }
        before = items[0]["seq"].as_u64();
    }
    child.kill().ok();
    child.wait().ok();
    let missing: Vec<&String> = acked.iter().map(|(_, t)| t).filter(|t| !stored.contains(*t)).collect();
    assert!(missing.is_empty(), "{} acknowledged messages lost, e.g. {:?}", missing.len(), missing.first());
}
