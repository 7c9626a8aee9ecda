//! Prometheus text metrics: requests by status class, request latency histogram, open sockets,
//! database size and the writer queue.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Latency bucket upper bounds in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
pub struct Metrics {
    by_class: [AtomicU64; 5],
    buckets: [AtomicU64; 12],
    latency_sum_us: AtomicU64,
    latency_count: AtomicU64,
    pub open_connections: AtomicI64,
}

/// Held in a connection's extensions; dropping it (connection closed) decrements the gauge.
pub struct ConnectionGuard(pub std::sync::Arc<Metrics>);

impl ConnectionGuard {
    pub fn new(m: std::sync::Arc<Metrics>) -> Self {
        m.open_connections.fetch_add(1, Ordering::Relaxed);
        ConnectionGuard(m)
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.open_connections.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub fn observe(&self, status: u16, seconds: f64) {
        let class = (status / 100).clamp(1, 5) as usize - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_sum_us.fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
    }

    /// Render with the store figures passed in (so this module knows nothing of the store).
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP officebox_http_requests_total HTTP requests by status class.");
        let _ = writeln!(out, "# TYPE officebox_http_requests_total counter");
        for (i, c) in self.by_class.iter().enumerate() {
            let _ =
                writeln!(out, "officebox_http_requests_total{{class=\"{}xx\"}} {}", i + 1, c.load(Ordering::Relaxed));
        }
        let _ = writeln!(out, "# HELP officebox_http_request_duration_seconds HTTP request latency.");
        let _ = writeln!(out, "# TYPE officebox_http_request_duration_seconds histogram");
        for (i, le) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "officebox_http_request_duration_seconds_bucket{{le=\"{le}\"}} {}",
                self.buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "officebox_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "officebox_http_request_duration_seconds_sum {sum}");
        let _ = writeln!(out, "officebox_http_request_duration_seconds_count {count}");
        let mut gauges: Vec<(&str, &str, f64)> = gauges.to_vec();
        gauges.push((
            "officebox_open_connections",
            "Open HTTP connections (incl. WebSockets).",
            self.open_connections.load(Ordering::Relaxed) as f64,
        ));
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}
