//! What the load benches share (`#[path = "common/mod.rs"] mod common;`): knobs from the
//! environment, latency samples, the server child process, and readings of `/proc`.
// Each bench uses a subset of these helpers.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An environment knob, or its default when unset or unparsable.
pub fn knob<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Latency samples in microseconds.
#[derive(Default, Clone)]
pub struct Samples(pub Vec<u64>);

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.0.push(d.as_micros() as u64);
    }
    /// The `p`th percentile in ms (0 without samples).
    pub fn pct(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let mut v = self.0.clone();
        v.sort_unstable();
        let i = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
        v[i.min(v.len() - 1)] as f64 / 1000.0
    }
    /// p50 / p99 / max in ms, and the count.
    pub fn summary(&self) -> Value {
        json!({"n": self.0.len(), "p50_ms": r3(self.pct(50.0)), "p99_ms": r3(self.pct(99.0)), "max_ms": r3(self.pct(100.0))})
    }
}

/// Rounded to three decimals.
pub fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

/// The 1-minute load average: other work on the machine skews every figure here.
pub fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

/// CPU time (user + system) of a process (`self` or a pid) so far, in seconds.
pub fn cpu_secs_of(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, s)| s).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields after the command: state is index 0, utime index 11, stime index 12.
    (ticks(11) + ticks(12)) / 100.0
}

/// Resident set size of a process in MB (VmRSS), one decimal.
pub fn rss_mb_of(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    (kb / 1024.0 * 10.0).round() / 10.0
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// `GET /healthz` with a raw socket (no client set-up in the measured start-up time).
pub fn healthy(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    matches!(s.read(&mut buf), Ok(n) if n >= 12 && &buf[9..12] == b"200")
}

/// The `officebox` binary as a child process on its own data directory (its log next to it).
pub struct Server {
    pub child: Child,
    pub base: String,
    pub port: u16,
}

impl Server {
    /// Start `bin` on `dir` with cheap bcrypt and the given log level; returns it with the time
    /// to a healthy `/healthz`.
    pub fn start(bin: &Path, log_level: &str, dir: &Path, port: u16) -> (Server, Duration) {
        let log_path = dir.with_extension("log");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).expect("server log");
        let started = Instant::now();
        let child = Command::new(bin)
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .current_dir(dir.parent().expect("parent"))
            .env("OFFICEBOX_BCRYPT_COST", "4")
            .env("OFFICEBOX_LOG_LEVEL", log_level)
            .env_remove("OFFICEBOX_CONFIG")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e} (build it with cargo build --release)", bin.display()));
        let mut server = Server { child, base: format!("http://127.0.0.1:{port}"), port };
        let deadline = Instant::now() + Duration::from_secs(120);
        while !healthy(port) {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server exited with {status}; see {}", log_path.display());
            }
            assert!(Instant::now() < deadline, "the server did not become healthy");
            std::thread::sleep(Duration::from_millis(2));
        }
        (server, started.elapsed())
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn rss_mb(&self) -> f64 {
        rss_mb_of(self.pid())
    }

    /// CPU time (user + system) the server used so far, in seconds.
    pub fn cpu_secs(&self) -> f64 {
        cpu_secs_of(&self.pid().to_string())
    }

    /// SIGTERM and wait (killed after 60 s); returns how long the graceful stop took.
    pub fn stop(mut self) -> Duration {
        self.terminate(Duration::from_secs(60))
    }

    fn terminate(&mut self, patience: Duration) -> Duration {
        let t = Instant::now();
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill").arg("-TERM").arg(self.pid().to_string()).status();
            let deadline = Instant::now() + patience;
            while !matches!(self.child.try_wait(), Ok(Some(_))) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        t.elapsed()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.terminate(Duration::from_secs(30));
    }
}
