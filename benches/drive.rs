//! Drive bench: the real `officebox` release binary as a child process on a fresh data directory,
//! driven over HTTP like the SPA would (session cookie + CSRF header), compared with `dd` on the
//! same file system in the same run.
//!
//! `cargo bench --bench drive` prints ONE JSON line on stdout (human-readable lines on stderr).
//! Phases, in order (select with `DRIVE_BENCH_PHASES=disk,upload,download,rss,list,move,small`):
//!
//! - `disk`: `dd if=/dev/zero bs=1M count=<file> conv=fdatasync` into the bench's directory, then
//!   a plain sequential read of that file (`dd of=/dev/null`) after dropping the page cache;
//!   done again right after `upload` (the VM disk's speed drifts), ratios use the mean of both;
//! - `upload`: a `DRIVE_BENCH_FILE_MIB` (1024) MiB file through tus (`/api/v1/uploads`, one POST
//!   then PATCHes of `DRIVE_BENCH_CHUNK_MIB` (128) MiB streamed from memory) and, for reference, a
//!   64 MiB multipart upload; MB/s and the ratio to the `dd` write;
//! - `download`: that file through `GET /drive/nodes/{id}/content` after dropping the page cache;
//!   MB/s and the ratio to the plain read;
//! - `rss`: server RSS (VmRSS, sampled every 100 ms) during a `DRIVE_BENCH_BIG_MIB` (4096, the
//!   platform's tus ceiling; 0 skips) MiB tus upload: peak minus idle;
//! - `list`: a folder of `DRIVE_BENCH_FILES` (10,000) 64-byte files (multipart, 64 in flight),
//!   then its first page (`limit=200`, the contract's default) `DRIVE_BENCH_LIST_REPEAT` (30)
//!   times, and paging through all of it;
//! - `move`: that folder into another folder with one `POST /drive/nodes/{id}/move`, and back;
//! - `small`: `DRIVE_BENCH_SMALL_CONC` (100) concurrent 64 KiB multipart uploads (distinct
//!   content) for `DRIVE_BENCH_SMALL_SECS` (5) s: files/s and latency.
//!
//! Other knobs: `DRIVE_BENCH_DIR` (where the data directory and the `dd` file go; default the
//! system temp dir; both on the same file system), `DRIVE_BENCH_DROP_CACHES` (1: `echo 3 >
//! /proc/sys/vm/drop_caches` before each read when writable, 0: never), `DRIVE_BENCH_LOG`
//! (server log level, `info`), `DRIVE_BENCH_BIN` (server binary; default the one cargo built
//! with this bench), `DRIVE_BENCH_CLIENT_THREADS` (2).
//!
//! The client and the server share the machine (and, here, its 2 cores with other work): the
//! client's own HTTP work over loopback is taken from the server. The JSON line carries the load
//! average before and after, and ends with `targets`: each figure, its target and whether it was
//! met. Every file the bench creates is removed at the end (a temp dir).

#[path = "common/mod.rs"]
mod common;

use common::*;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ADMIN_PASSWORD: &str = "Secret-pass-1";
const MIB: u64 = 1024 * 1024;

struct Knobs {
    file_mib: u64,
    chunk_mib: u64,
    big_mib: u64,
    files: usize,
    list_repeat: usize,
    small_conc: usize,
    small_secs: f64,
    drop_caches: bool,
    dir: PathBuf,
    log: String,
    bin: PathBuf,
    phases: Vec<String>,
}

impl Knobs {
    fn read() -> Knobs {
        let phases = knob("DRIVE_BENCH_PHASES", "disk,upload,download,rss,list,move,small".to_owned());
        Knobs {
            file_mib: knob("DRIVE_BENCH_FILE_MIB", 1024u64).max(1),
            chunk_mib: knob("DRIVE_BENCH_CHUNK_MIB", 128u64).max(1),
            big_mib: knob("DRIVE_BENCH_BIG_MIB", 4096),
            files: knob("DRIVE_BENCH_FILES", 10_000),
            list_repeat: knob("DRIVE_BENCH_LIST_REPEAT", 30usize).max(1),
            small_conc: knob("DRIVE_BENCH_SMALL_CONC", 100usize).max(1),
            small_secs: knob("DRIVE_BENCH_SMALL_SECS", 5.0),
            drop_caches: knob("DRIVE_BENCH_DROP_CACHES", 1u8) == 1,
            dir: std::env::var_os("DRIVE_BENCH_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir),
            log: knob("DRIVE_BENCH_LOG", "info".to_owned()),
            bin: std::env::var_os("DRIVE_BENCH_BIN")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_officebox"))),
            phases: phases.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
        }
    }
    fn runs(&self, phase: &str) -> bool {
        self.phases.iter().any(|p| p == phase)
    }
}

macro_rules! say {
    ($($t:tt)*) => { eprintln!("drive: {}", format!($($t)*)) };
}

fn mb_per_s(bytes: u64, secs: f64) -> f64 {
    (bytes as f64 / 1e6 / secs * 10.0).round() / 10.0
}

// ---------------------------------------------------------------- the machine

/// `sync; echo 3 > /proc/sys/vm/drop_caches`; false when not allowed (not root, read-only /proc).
fn drop_caches(k: &Knobs) -> bool {
    if !k.drop_caches {
        return false;
    }
    let _ = Command::new("sync").status();
    std::fs::write("/proc/sys/vm/drop_caches", "3\n").is_ok()
}

/// The file system the directory is on (`df -P`): device, size and free space, for the report.
fn filesystem(dir: &Path) -> Value {
    let out = Command::new("df").arg("-P").arg("-T").arg(dir).output().ok();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    let f: Vec<&str> = text.lines().nth(1).unwrap_or("").split_whitespace().collect();
    let gib = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).map(|kb| (kb / 1048576.0).round());
    json!({"device": f.first(), "type": f.get(1), "size_gib": gib(2), "free_gib": gib(4)})
}

/// Samples the server's RSS every 100 ms on its own thread until stopped.
struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Vec<f64>>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut v = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                v.push(rss_mb_of(pid));
                std::thread::sleep(Duration::from_millis(100));
            }
            v
        });
        RssSampler { stop, handle }
    }
    /// (peak, samples)
    fn finish(self) -> (f64, usize) {
        self.stop.store(true, Ordering::Relaxed);
        let v = self.handle.join().unwrap_or_default();
        (v.iter().copied().fold(0.0, f64::max), v.len())
    }
}

// ---------------------------------------------------------------- HTTP client

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    headers: HeaderMap,
}

impl Api {
    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            // Below the server's 5 s keep-alive: a pooled connection the server is closing at
            // that moment fails the next request with IncompleteMessage.
            .pool_idle_timeout(Duration::from_secs(2))
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(1800))
            .build()
            .expect("client")
    }

    /// `POST /setup` signs the administrator in: the token from Set-Cookie, CSRF from the body.
    async fn set_up(base: &str) -> Api {
        let http = Api::client();
        let body = json!({
            "enterprise_name": "压测科技",
            "time_zone": "Asia/Shanghai",
            "admin": { "userid": "admin", "name": "管理员", "password": ADMIN_PASSWORD, "mobile": "13900000000" }
        });
        let res = http
            .post(format!("{base}/api/v1/setup"))
            .header("x-csrf-token", "1")
            .json(&body)
            .send()
            .await
            .expect("setup");
        let status = res.status().as_u16();
        let token = res
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.split(';').next().and_then(|kv| kv.trim().strip_prefix("ob_session=")).map(str::to_owned))
            .expect("session cookie");
        let v: Value = res.json().await.unwrap_or(Value::Null);
        assert!((200..300).contains(&status), "setup: {status} {v}");
        let csrf = v["csrf_token"].as_str().expect("csrf_token").to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(&format!("ob_session={token}")).expect("cookie"));
        headers.insert("x-csrf-token", HeaderValue::from_str(&csrf).expect("csrf"));
        Api { http, base: base.to_owned(), headers }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}/api/v1{path}", self.base)).headers(self.headers.clone())
    }

    async fn json(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut rb = self.req(method, path);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let res = rb.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = res.status().as_u16();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        assert!((200..300).contains(&status), "{path}: {status} {v}");
        v
    }

    async fn get(&self, path: &str) -> Value {
        self.json(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.json(reqwest::Method::POST, path, Some(body)).await
    }

    async fn mkdir(&self, parent: u64, name: &str) -> u64 {
        let v = self.post(&format!("/drive/nodes/{parent}/folders"), json!({ "name": name })).await;
        v["id"].as_u64().expect("folder id")
    }

    /// Multipart `POST /drive/nodes/{parent}/files`; returns the status.
    async fn multipart(&self, parent: u64, name: &str, bytes: Vec<u8>) -> u16 {
        let size = bytes.len();
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
        let form = reqwest::multipart::Form::new().part("file", part);
        let res = self
            .req(reqwest::Method::POST, &format!("/drive/nodes/{parent}/files?size={size}"))
            .multipart(form)
            .send()
            .await
            .expect("multipart upload");
        let status = res.status().as_u16();
        let body = res.bytes().await.unwrap_or_default();
        if status != 201 {
            say!("multipart {name}: {status} {}", String::from_utf8_lossy(&body));
        }
        status
    }

    /// A whole tus upload of `len` bytes, PATCHes of `chunk` bytes cut from `data` (repeated);
    /// returns the created node's id.
    async fn tus(&self, parent: u64, name: &str, len: u64, data: &bytes::Bytes) -> u64 {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let meta = format!("purpose {},filename {},parent_id {}", b64("drive"), b64(name), b64(&parent.to_string()));
        let res = self
            .req(reqwest::Method::POST, "/uploads")
            .header("tus-resumable", "1.0.0")
            .header("upload-length", len.to_string())
            .header("upload-metadata", meta)
            .send()
            .await
            .expect("tus create");
        let status = res.status().as_u16();
        let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(status, 201, "tus create: {}", res.text().await.unwrap_or_default());
        let location = location.expect("Location");
        let path = location.strip_prefix("/api/v1").unwrap_or(&location).to_owned();
        let mut offset = 0u64;
        loop {
            let n = (len - offset).min(data.len() as u64) as usize;
            let res = self
                .req(reqwest::Method::PATCH, &path)
                .header("tus-resumable", "1.0.0")
                .header("upload-offset", offset.to_string())
                .header("content-type", "application/offset+octet-stream")
                .body(data.slice(..n))
                .send()
                .await
                .expect("tus patch");
            let status = res.status().as_u16();
            let result = res.headers().get("x-officebox-result").and_then(|v| v.to_str().ok()).map(str::to_owned);
            assert_eq!(status, 204, "tus patch at {offset}: {}", res.text().await.unwrap_or_default());
            offset += n as u64;
            if offset == len {
                let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(result.expect("X-Officebox-Result"))
                    .expect("result base64");
                let node: Value = serde_json::from_slice(&raw).expect("result json");
                return node["id"].as_u64().expect("node id");
            }
        }
    }
}

/// `len` pseudo-random bytes (xorshift; `seed` makes each upload's content distinct).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

// ---------------------------------------------------------------- phases

/// `dd` write (fdatasync) and read (page cache dropped) of `file_mib` MiB next to the data dir.
fn phase_disk(k: &Knobs, work: &Path) -> Value {
    let file = work.join("dd.bin");
    let t = Instant::now();
    let ok = Command::new("dd")
        .arg("if=/dev/zero")
        .arg(format!("of={}", file.display()))
        .arg("bs=1M")
        .arg(format!("count={}", k.file_mib))
        .arg("conv=fdatasync")
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "dd write failed");
    let write_s = secs(t);
    let dropped = drop_caches(k);
    let t = Instant::now();
    let ok = Command::new("dd")
        .arg(format!("if={}", file.display()))
        .arg("of=/dev/null")
        .arg("bs=1M")
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "dd read failed");
    let read_s = secs(t);
    let _ = std::fs::remove_file(&file);
    let bytes = k.file_mib * MIB;
    let (w, r) = (mb_per_s(bytes, write_s), mb_per_s(bytes, read_s));
    say!(
        "disk: dd write {} MiB with fdatasync {w} MB/s; sequential read {r} MB/s ({})",
        k.file_mib,
        if dropped { "page cache dropped" } else { "page cache NOT dropped: probably cached" }
    );
    json!({"write_mb_s": w, "read_mb_s": r, "read_cache_dropped": dropped})
}

struct Drive {
    root: u64,
    big_file: Option<u64>,
    many: Option<u64>,
}

async fn phase_upload(api: &Api, srv: &Server, k: &Knobs, d: &mut Drive) -> Value {
    let len = k.file_mib * MIB;
    let data = bytes::Bytes::from(noise((k.chunk_mib * MIB).min(len) as usize, 1));
    let (cpu, client_cpu) = (srv.cpu_secs(), cpu_secs_of("self"));
    let rss = RssSampler::start(srv.pid());
    let (load, t) = (loadavg(), Instant::now());
    let id = api.tus(d.root, "大文件-1GiB.bin", len, &data).await;
    let took = secs(t);
    let (rss_peak, _) = rss.finish();
    // The client shares the 2 cores: its CPU (sending from one pre-filled buffer, no hashing or
    // copying per PATCH) says how much it takes from the server.
    let (server_cpu, client_cpu) = (srv.cpu_secs() - cpu, cpu_secs_of("self") - client_cpu);
    d.big_file = Some(id);
    let tus = mb_per_s(len, took);
    say!(
        "upload: tus {} MiB in {} PATCHes of {} MiB: {took:.2} s = {tus} MB/s (server CPU {server_cpu:.2} s, client CPU {client_cpu:.2} s, load average {load}, RSS peak {rss_peak} MB)",
        k.file_mib,
        len.div_ceil(data.len() as u64),
        k.chunk_mib
    );
    // The multipart reference: 64 MiB, the largest the endpoint takes.
    let small = noise(64 * MIB as usize, 2);
    let cpu = srv.cpu_secs();
    let t = Instant::now();
    let status = api.multipart(d.root, "multipart-64MiB.bin", small).await;
    let mp_s = secs(t);
    assert_eq!(status, 201);
    let mp = mb_per_s(64 * MIB, mp_s);
    say!("upload: multipart 64 MiB: {:.0} ms = {mp} MB/s (server CPU {:.2} s)", mp_s * 1000.0, srv.cpu_secs() - cpu);
    json!({"tus_mb_s": tus, "tus_s": r3(took), "chunk_mib": k.chunk_mib, "server_cpu_s": r3(server_cpu),
           "client_cpu_s": r3(client_cpu), "loadavg": load,
           "rss_mb_peak": rss_peak, "multipart_64mib_mb_s": mp, "multipart_64mib_ms": (mp_s * 1000.0).round()})
}

async fn phase_download(api: &Api, srv: &Server, k: &Knobs, d: &Drive) -> Value {
    let Some(id) = d.big_file else { return json!({"skipped": "needs the upload phase"}) };
    let mut runs = Vec::new();
    for warm in [false, true] {
        let dropped = if warm { false } else { drop_caches(k) };
        let cpu = srv.cpu_secs();
        let t = Instant::now();
        let res = api.req(reqwest::Method::GET, &format!("/drive/nodes/{id}/content")).send().await.expect("download");
        assert_eq!(res.status().as_u16(), 200);
        let mut stream = res.bytes_stream();
        let mut got = 0u64;
        while let Some(chunk) = stream.next().await {
            got += chunk.expect("download body").len() as u64;
        }
        let took = secs(t);
        assert_eq!(got, k.file_mib * MIB, "download length");
        let rate = mb_per_s(got, took);
        let what = if warm {
            "page cache warm"
        } else if dropped {
            "page cache dropped"
        } else {
            "cache state unknown"
        };
        say!(
            "download: {} MiB in {took:.2} s = {rate} MB/s ({what}; server CPU {:.1} s)",
            k.file_mib,
            srv.cpu_secs() - cpu
        );
        runs.push(json!({"mb_s": rate, "s": r3(took), "cache_dropped": dropped, "warm": warm}));
    }
    json!({"cold_mb_s": runs[0]["mb_s"], "warm_mb_s": runs[1]["mb_s"], "runs": runs})
}

async fn phase_rss(api: &Api, srv: &Server, k: &Knobs, d: &Drive) -> Value {
    if k.big_mib == 0 {
        return json!({"skipped": "DRIVE_BENCH_BIG_MIB=0"});
    }
    let len = k.big_mib * MIB;
    let data = bytes::Bytes::from(noise((k.chunk_mib * MIB).min(len) as usize, 3));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = srv.rss_mb();
    let rss = RssSampler::start(srv.pid());
    let t = Instant::now();
    let id = api.tus(d.root, "大文件-big.bin", len, &data).await;
    let took = secs(t);
    let (peak, n) = rss.finish();
    let growth = ((peak - idle) * 10.0).round() / 10.0;
    say!(
        "rss: tus {} MiB in {took:.1} s ({} MB/s): RSS idle {idle} MB, peak {peak} MB over {n} samples: +{growth} MB",
        k.big_mib,
        mb_per_s(len, took)
    );
    // Free the disk at once: to the bin, then purged from it.
    let del = |p: String| api.req(reqwest::Method::DELETE, &p).send();
    let a = del(format!("/drive/nodes/{id}")).await.expect("delete").status().as_u16();
    let b = del(format!("/drive/bin/{id}")).await.expect("purge").status().as_u16();
    assert_eq!((a, b), (204, 204), "delete and purge the big file");
    json!({"mib": k.big_mib, "idle_mb": idle, "peak_mb": peak, "growth_mb": growth, "samples": n,
           "mb_s": mb_per_s(len, took)})
}

async fn phase_list(api: &Api, srv: &Server, k: &Knobs, d: &mut Drive) -> Value {
    let folder = api.mkdir(d.root, "一万个文件").await;
    d.many = Some(folder);
    let next = Arc::new(AtomicU64::new(0));
    let cpu = srv.cpu_secs();
    let t = Instant::now();
    let workers: Vec<_> = (0..64)
        .map(|_| {
            let (api, next, n) = (api.clone(), next.clone(), k.files as u64);
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return;
                    }
                    let mut body = format!("文件 {i:05} ").into_bytes();
                    body.resize(64, b'.');
                    assert_eq!(api.multipart(folder, &format!("文件-{i:05}.txt"), body).await, 201);
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    let fill_s = secs(t);
    say!(
        "list: {} files of 64 bytes created in {fill_s:.1} s ({:.0}/s, 64 in flight; server CPU {:.1} s)",
        k.files,
        k.files as f64 / fill_s,
        srv.cpu_secs() - cpu
    );
    let first = format!("/drive/nodes/{folder}/children?limit=200");
    api.get(&first).await; // warm-up
    let mut s = Samples::default();
    for _ in 0..k.list_repeat {
        let t = Instant::now();
        let v = api.get(&first).await;
        s.push(t.elapsed());
        assert_eq!(v["items"].as_array().map(Vec::len), Some(200.min(k.files)));
    }
    // Page through everything, 200 at a time, three times.
    let mut all = Vec::new();
    let mut pages = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let (mut cursor, mut seen) = (String::new(), 0);
        pages = 0;
        loop {
            let v = api.get(&format!("{first}&cursor={cursor}")).await;
            seen += v["items"].as_array().map(Vec::len).unwrap_or(0);
            pages += 1;
            match v["next_cursor"].as_str() {
                Some(c) => cursor = c.to_owned(),
                None => break,
            }
        }
        assert_eq!(seen, k.files);
        all.push(secs(t) * 1000.0);
    }
    all.sort_by(f64::total_cmp);
    say!(
        "list: first page of 200 in a folder of {}: p50 {:.1} ms p99 {:.1} ms ({} runs); all {pages} pages: {:.0} ms (median of 3)",
        k.files,
        s.pct(50.0),
        s.pct(99.0),
        k.list_repeat,
        all[1]
    );
    json!({"files": k.files, "fill_s": r3(fill_s), "fill_per_s": (k.files as f64 / fill_s).round(),
           "first_page": s.summary(), "all_pages_ms": r3(all[1]), "pages": pages})
}

async fn phase_move(api: &Api, k: &Knobs, d: &Drive) -> Value {
    let Some(many) = d.many else { return json!({"skipped": "needs the list phase"}) };
    let target = api.mkdir(d.root, "归档").await;
    let mut times = Vec::new();
    for to in [target, d.root] {
        let t = Instant::now();
        let v = api.post(&format!("/drive/nodes/{many}/move"), json!({ "parent_id": to })).await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(v["parent_id"].as_u64(), Some(to));
    }
    say!("move: a folder of {} files into another folder {:.1} ms, and back {:.1} ms", k.files, times[0], times[1]);
    json!({"there_ms": r3(times[0]), "back_ms": r3(times[1]), "max_ms": r3(times[0].max(times[1]))})
}

async fn phase_small(api: &Api, srv: &Server, k: &Knobs, d: &Drive) -> Value {
    let folder = api.mkdir(d.root, "小文件").await;
    let base = Arc::new(noise(64 * 1024, 4));
    let lat = Arc::new(Mutex::new(Samples::default()));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let until = Instant::now() + Duration::from_secs_f64(k.small_secs);
    let cpu = srv.cpu_secs();
    let t = Instant::now();
    let workers: Vec<_> = (0..k.small_conc)
        .map(|w| {
            let (api, base, lat, ok, failed) = (api.clone(), base.clone(), lat.clone(), ok.clone(), failed.clone());
            tokio::spawn(async move {
                let mut i = 0u64;
                while Instant::now() < until {
                    let mut body = base.as_ref().clone();
                    body[..16].copy_from_slice(&[(w as u64).to_le_bytes(), i.to_le_bytes()].concat());
                    let t = Instant::now();
                    let status = api.multipart(folder, &format!("s-{w:03}-{i:06}.bin"), body).await;
                    lat.lock().expect("lat").push(t.elapsed());
                    if status == 201 { &ok } else { &failed }.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    let took = secs(t);
    let n = ok.load(Ordering::Relaxed);
    let rate = (n as f64 / took).round();
    let lat = lat.lock().expect("lat").clone();
    say!(
        "small: {} concurrent 64 KiB uploads for {took:.1} s: {n} files = {rate}/s ({} failed), latency p50 {:.1} ms p99 {:.1} ms (server CPU {:.1} s)",
        k.small_conc,
        failed.load(Ordering::Relaxed),
        lat.pct(50.0),
        lat.pct(99.0),
        srv.cpu_secs() - cpu
    );
    json!({"concurrency": k.small_conc, "files": n, "failed": failed.load(Ordering::Relaxed), "s": r3(took),
           "files_per_s": rate, "mb_s": mb_per_s(n * 64 * 1024, took), "latency": lat.summary()})
}

// ---------------------------------------------------------------- main

/// Each measured figure next to its target (absent phases are left out).
fn targets(out: &Value) -> Value {
    let checks: [(&str, &[&str], f64, bool); 6] = [
        ("tus_upload_vs_dd_write", &["ratios", "upload_vs_dd_write"], 0.70, true),
        ("download_vs_plain_read", &["ratios", "download_vs_plain_read"], 0.70, true),
        ("big_upload_rss_growth_mb", &["rss", "growth_mb"], 50.0, false),
        ("list_first_page_p99_ms", &["list", "first_page", "p99_ms"], 50.0, false),
        ("move_10000_ms", &["move", "max_ms"], 1000.0, false),
        ("small_uploads_per_s", &["small", "files_per_s"], 1000.0, true),
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

/// `a / mean(b over disk and disk_again)`.
fn ratio(out: &Value, a: &[&str], b: &str) -> Option<f64> {
    let get = |p: &[&str]| p.iter().try_fold(out, |v, k| v.get(*k)).and_then(Value::as_f64);
    let refs: Vec<f64> = ["disk", "disk_again"].iter().filter_map(|d| get(&[d, b])).collect();
    let mean = refs.iter().sum::<f64>() / refs.len() as f64;
    Some(r3(get(a)? / mean))
}

fn main() {
    let k = Knobs::read();
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` and friends
    }
    if !k.bin.exists() {
        eprintln!("drive: {} does not exist; build it with `cargo build --release`", k.bin.display());
        std::process::exit(2);
    }
    let threads: usize = knob("DRIVE_BENCH_CLIENT_THREADS", 2);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build().expect("runtime");
    std::fs::create_dir_all(&k.dir).expect("bench dir");
    let tmp = tempfile::Builder::new().prefix("drive-bench").tempdir_in(&k.dir).expect("tempdir");
    let dir = tmp.path().join("data");
    std::fs::create_dir_all(&dir).expect("data dir");
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mut out = json!({
        "bench": "drive", "cpus": cpus, "loadavg_before": loadavg(), "filesystem": filesystem(tmp.path()),
        "file_mib": k.file_mib, "server_log": k.log,
    });
    say!(
        "server {} on a fresh data directory in {} ({}), {cpus} CPUs shared by client and server; load average {}",
        k.bin.display(),
        tmp.path().display(),
        out["filesystem"],
        out["loadavg_before"]
    );
    if k.runs("disk") {
        out["disk"] = phase_disk(&k, tmp.path());
    }
    let (server, _) = Server::start(&k.bin, &k.log, &dir, free_port());
    rt.block_on(async {
        let api = Api::set_up(&server.base).await;
        // Unlimited quota before the personal space exists (it takes the default at creation).
        let mut s = api.get("/admin/settings/drive").await;
        s["default_user_quota"] = Value::Null;
        api.json(reqwest::Method::PUT, "/admin/settings/drive", Some(s)).await;
        let spaces = api.get("/drive/spaces").await;
        let root = spaces["items"][0]["root_id"].as_u64().expect("my space's root");
        let mut d = Drive { root, big_file: None, many: None };
        out["idle_rss_mb"] = json!(server.rss_mb());
        if k.runs("upload") {
            out["upload"] = phase_upload(&api, &server, &k, &mut d).await;
        }
        // The disk's write speed drifts (a VM's host cache): measure it again right after the
        // upload, and compare with the mean of both.
        if k.runs("disk") && k.runs("upload") {
            out["disk_again"] = phase_disk(&k, tmp.path());
        }
        if k.runs("download") {
            out["download"] = phase_download(&api, &server, &k, &d).await;
        }
        if k.runs("rss") {
            out["rss"] = phase_rss(&api, &server, &k, &d).await;
        }
        if k.runs("list") {
            out["list"] = phase_list(&api, &server, &k, &mut d).await;
        }
        if k.runs("move") {
            out["move"] = phase_move(&api, &k, &d).await;
        }
        if k.runs("small") {
            out["small"] = phase_small(&api, &server, &k, &d).await;
        }
        out["rss_mb_end"] = json!(server.rss_mb());
    });
    drop(server);
    let mut ratios = serde_json::Map::new();
    if let Some(r) = ratio(&out, &["upload", "tus_mb_s"], "write_mb_s") {
        ratios.insert("upload_vs_dd_write".into(), json!(r));
    }
    if let Some(r) = ratio(&out, &["download", "cold_mb_s"], "read_mb_s") {
        ratios.insert("download_vs_plain_read".into(), json!(r));
    }
    out["ratios"] = Value::Object(ratios);
    out["loadavg_after"] = json!(loadavg());
    out["targets"] = targets(&out);
    println!("{out}");
}
