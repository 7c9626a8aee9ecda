//! Search benchmark: 1,000,000 Chinese work-chat messages in 200 groups, written through the
//! store in big transactions; then the full index rebuild, the server's start-up on that data,
//! and query latency (p50/p99) for typical queries by a user in 50 of the groups, in-process
//! (the endpoint's service: query, permission filter, redb re-check, snippets) and over HTTP.
//!
//! `cargo bench --bench search` prints one JSON line. `OFFICEBOX_BENCH_MESSAGES=100000` for a
//! quicker run; `OFFICEBOX_BENCH_DIR=/path` keeps the data directory (reused when it exists).

#[path = "search/data.rs"]
mod data;

use officebox::config::Config;
use officebox::platform::clock::SystemClock;
use officebox::platform::search::Params;
use officebox::platform::{Platform, Shutdown};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "Secret-pass-1";
const ROUNDS: usize = 20;

type Server = (actix_web::web::Data<Platform>, std::thread::JoinHandle<()>, String);

fn config(dir: &Path) -> Config {
    Config { data_dir: dir.to_path_buf(), bcrypt_cost: 4, workers: 2, ..Config::default() }
}

fn start(dir: &Path) -> (Server, u128) {
    let t = Instant::now();
    let platform = actix_web::web::Data::new(
        officebox::app::build_platform(config(dir), Arc::new(SystemClock)).expect("platform"),
    );
    let built = t.elapsed().as_millis();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let p = platform.clone();
    let thread = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(officebox::app::run(p, listener)).expect("server");
    });
    ((platform, thread, base), built)
}

fn stop((platform, thread, _): Server) {
    let _ = platform.shutdown.send(Some(Shutdown::Restart));
    let _ = thread.join();
    officebox::app::release(platform);
}

fn http() -> Client {
    Client::builder().cookie_store(true).timeout(Duration::from_secs(60)).build().expect("client")
}

fn wait(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(600);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} did not happen");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| rd.filter_map(|e| e.ok()?.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum())
        .unwrap_or(0)
}

/// A data directory with the setup done (the admin is the benchmark user) and the data
/// written (reused as is when `bench.json` says it holds data), then a full index rebuild.
fn prepare(dir: &Path, total: u64) -> (u64, Vec<u64>, Value) {
    let marker = dir.join("bench.json");
    let (user, convs, mut prepared) = match std::fs::read(&marker) {
        Ok(b) => {
            let v: Value = serde_json::from_slice(&b).expect("bench.json");
            let convs = v["user_convs"].as_array().expect("convs").iter().filter_map(Value::as_u64).collect();
            (v["user"].as_u64().expect("user"), convs, v["prepared"].clone())
        }
        Err(_) => {
            let user = setup(dir);
            let p = officebox::app::build_platform(config(dir), Arc::new(SystemClock)).expect("platform");
            let world = data::write(&p.store, user, total);
            let prepared = json!({"messages": world.messages, "write_ms": world.write_ms,
                                  "db_mb": p.store.file_size() / (1 << 20)});
            let v = json!({"user": user, "user_convs": world.user_convs, "prepared": prepared});
            std::fs::write(&marker, v.to_string()).expect("bench.json");
            (user, world.user_convs, prepared)
        }
    };
    let p = officebox::app::build_platform(config(dir), Arc::new(SystemClock)).expect("platform");
    let t = Instant::now();
    let st = officebox::platform::search::rebuild(&p.store, p.search.dir(), &officebox::app::features_search_documents)
        .expect("rebuild");
    prepared["rebuild_ms"] = json!(t.elapsed().as_millis());
    prepared["indexed_docs"] = json!(st.docs);
    prepared["index_mb"] = json!(dir_size(p.search.dir()) / (1 << 20));
    (user, convs, prepared)
}

/// Run the setup wizard on a fresh directory; returns the admin's id.
fn setup(dir: &Path) -> u64 {
    let (server, _) = start(dir);
    let c = http();
    wait("healthy", || c.get(format!("{}/healthz", server.2)).send().is_ok_and(|r| r.status().is_success()));
    let setup = json!({"enterprise_name": "示例科技", "time_zone": "Asia/Shanghai",
        "admin": {"userid": "admin", "name": "管理员", "password": PASSWORD, "mobile": "19900000000"}});
    let me: Value = c
        .post(format!("{}/api/v1/setup", server.2))
        .header("X-CSRF-Token", "1")
        .json(&setup)
        .send()
        .expect("setup")
        .json()
        .expect("me");
    stop(server);
    me["user"]["id"].as_u64().expect("admin id")
}

/// (label, parameters) of the measured requests.
fn queries(convs: &[u64]) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let mut out = Vec::new();
    let q = |text: &str| vec![("q", text.to_owned()), ("kinds", "message".to_owned())];
    for w in ["项目", "客户", "报销", "合同", "会议", "上线", "发票", "进度"] {
        out.push(("word", q(w)));
    }
    for i in [0usize, 1, 2, 3, 5, 8, 13, 21] {
        out.push(("name", q(&data::name(i))));
    }
    for w in ["张伟", "李娜"] {
        out.push(("name", q(w)));
    }
    for w in ["目进", "报", "户反", "销单", "户说", "接口文"] {
        out.push(("partial", q(w)));
    }
    let mut f = q("项目");
    f.push(("conversation_id", convs[0].to_string()));
    out.push(("filtered", f));
    let mut f = q("方案");
    f.push(("type", "file".into()));
    out.push(("filtered", f));
    let now = chrono::Utc::now().timestamp_millis();
    let mut f = q("客户");
    f.push(("from", (now - 30 * 86_400_000).to_string()));
    out.push(("filtered", f));
    out.push(("all_kinds", vec![("q", "研发".into())]));
    out.push(("all_kinds", vec![("q", "张伟".into())]));
    out
}

fn pct(mut v: Vec<f64>) -> Value {
    v.sort_by(f64::total_cmp);
    let at = |p: usize| v[(v.len() * p / 100).min(v.len() - 1)];
    json!({"p50": round(at(50)), "p99": round(at(99)), "max": round(at(100)), "n": v.len()})
}

fn round(ms: f64) -> f64 {
    (ms * 100.0).round() / 100.0
}

/// The tantivy part alone of a message query (scope + query of 50 hits, no re-check).
fn index_query(p: &Platform, user: u64, params: &Params) -> f64 {
    use officebox::platform::search::{Asker, Order, Request};
    let text = params.get("q").unwrap_or("").to_owned();
    let t = Instant::now();
    let txn = p.store.begin_read().expect("txn");
    let asker = Asker { user, text: &text, params };
    let filter = (officebox::chat::search::MESSAGES.scope)(&txn, &asker).expect("scope").expect("filter");
    let req = Request { text: text.clone(), kinds: vec!["message".into()], filter, order: Order::Newest, limit: 50 };
    p.search.query(&req).expect("query");
    t.elapsed().as_secs_f64() * 1000.0
}

/// A value of /proc/self/status in MiB.
fn status_mb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).map(|l| l.to_owned()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        .map_or(0, |kb| kb / 1024)
}

fn drop_caches() -> bool {
    let synced = std::process::Command::new("sync").status().is_ok_and(|s| s.success());
    synced && std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

/// Send 20 messages over HTTP into a big index and time until each is found.
fn freshness(c: &Client, base: &str, conv: u64) -> Value {
    let csrf = c.get(format!("{base}/api/v1/auth/me")).send().expect("me").json::<Value>().expect("me")["csrf_token"]
        .as_str()
        .unwrap_or("1")
        .to_owned();
    let mut lag = Vec::new();
    for i in 0..20 {
        let marker = format!("新鲜度{i}号x{}", std::process::id());
        let r = c
            .post(format!("{base}/api/v1/chat/conversations/{conv}/messages"))
            .header("X-CSRF-Token", &csrf)
            .json(&json!({"text": format!("{marker} 刚发的消息")}))
            .send()
            .expect("send");
        assert_eq!(r.status().as_u16(), 201, "{}", r.text().unwrap_or_default());
        let t = Instant::now();
        let params = [("q", marker.as_str()), ("kinds", "message")];
        wait("searchable", || {
            c.get(format!("{base}/api/v1/search"))
                .query(&params)
                .send()
                .ok()
                .and_then(|r| r.json::<Value>().ok())
                .is_some_and(|v| v["items"].as_array().is_some_and(|a| !a.is_empty()))
        });
        lag.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    pct(lag)
}

fn main() {
    let total: u64 = std::env::var("OFFICEBOX_BENCH_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let (_tmp, dir): (Option<tempfile::TempDir>, PathBuf) = match std::env::var("OFFICEBOX_BENCH_DIR") {
        Ok(d) => (None, PathBuf::from(d)),
        Err(_) => {
            let t = tempfile::tempdir().expect("tempdir");
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    std::fs::create_dir_all(&dir).expect("dir");
    let (user, convs, prepared) = prepare(&dir, total);

    // Start-up on a million messages: nothing may scan them. OFFICEBOX_BENCH_COLD=1 (root)
    // drops the page cache first, so the index and database are read from disk.
    let cold = std::env::var("OFFICEBOX_BENCH_COLD").is_ok_and(|v| v == "1") && drop_caches();
    let t = Instant::now();
    let (server, build_ms) = start(&dir);
    let c = http();
    wait("healthy", || c.get(format!("{}/healthz", server.2)).send().is_ok_and(|r| r.status().is_success()));
    let healthy_ms = t.elapsed().as_millis();
    wait("search ready", || server.0.search.status() == "ready");
    let search_ready_ms = t.elapsed().as_millis();

    let login = json!({"login": "admin", "password": PASSWORD});
    let r = c.post(format!("{}/api/v1/auth/login", server.2)).header("X-CSRF-Token", "1").json(&login).send();
    assert!(r.is_ok_and(|r| r.status().is_success()), "login");
    let qs = queries(&convs);
    let mut by_label: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    let (mut all, mut over_http, mut index_only, mut hits) = (Vec::new(), Vec::new(), Vec::new(), 0usize);
    for round in 0..ROUNDS + 1 {
        for (label, params) in &qs {
            let params_map = Params(params.iter().map(|(k, v)| (k.to_string(), v.clone())).collect());
            let t = Instant::now();
            let answer = officebox::search::service::run(&server.0, user, &params_map).expect("search");
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            let index_ms = (*label != "all_kinds").then(|| index_query(&server.0, user, &params_map));
            let url = format!("{}/api/v1/search", server.2);
            let t = Instant::now();
            let r = c.get(&url).query(params).send().expect("http search");
            assert!(r.status().is_success(), "{}", r.text().unwrap_or_default());
            let http_ms = t.elapsed().as_secs_f64() * 1000.0;
            if round == 0 {
                continue; // warm-up
            }
            hits += answer["items"].as_array().map_or(0, Vec::len);
            by_label.entry(label).or_default().push(ms);
            all.push(ms);
            over_http.push(http_ms);
            index_only.extend(index_ms);
        }
    }
    let lag = freshness(&c, &server.2, convs[0]);
    let labels: serde_json::Map<String, Value> = by_label.into_iter().map(|(k, v)| (k.to_owned(), pct(v))).collect();
    let segments = server.0.search.segments();
    println!(
        "{}",
        json!({
            "bench": "search", "prepared": prepared, "user_conversations": convs.len(),
            "startup": {"build_platform_ms": build_ms, "healthy_ms": healthy_ms, "search_ready_ms": search_ready_ms,
                        "cold_cache": cold},
            "send_to_searchable_ms": lag,
            "query_ms": pct(all), "query_ms_by_kind": labels, "index_only_ms": pct(index_only), "http_ms": pct(over_http),
            "avg_hits": hits / (ROUNDS * qs.len()), "segments": segments,
            "rss_mb": status_mb("VmRSS:"), "peak_rss_mb": status_mb("VmHWM:"),
        })
    );
    stop(server);
}
