//! Login throttling, per account key and per client IP, in memory. Unknown accounts are
//! throttled exactly like real ones, so the answer never reveals whether an account exists.
//! A restart forgets the counters; that is acceptable because each window is short.

use parking_lot::Mutex;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Consecutive failures for one account before it is locked.
    pub account_failures: u32,
    /// First lock length in ms; doubles with every further failure, up to `max_lock_ms`.
    pub base_lock_ms: i64,
    pub max_lock_ms: i64,
    /// Failures from one IP within `ip_window_ms` before that IP is refused for the window.
    pub ip_failures: u32,
    pub ip_window_ms: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            account_failures: 5,
            base_lock_ms: 60_000,
            max_lock_ms: 15 * 60_000,
            ip_failures: 30,
            ip_window_ms: 15 * 60_000,
        }
    }
}

#[derive(Default)]
struct Counter {
    failures: u32,
    locked_until: i64,
    window_start: i64,
}

#[derive(Default)]
pub struct Throttle {
    limits: Limits,
    accounts: Mutex<HashMap<String, Counter>>,
    ips: Mutex<HashMap<String, Counter>>,
}

impl Throttle {
    pub fn new(limits: Limits) -> Self {
        Throttle { limits, ..Default::default() }
    }

    /// `Some(seconds)` to wait when this attempt must be refused before checking the password.
    pub fn check(&self, account: &str, ip: &str, now: i64) -> Option<u64> {
        let wait_account = self.accounts.lock().get(account).map(|c| c.locked_until - now).unwrap_or(0);
        let wait_ip = self
            .ips
            .lock()
            .get(ip)
            .filter(|c| c.failures >= self.limits.ip_failures && now - c.window_start < self.limits.ip_window_ms)
            .map(|c| c.window_start + self.limits.ip_window_ms - now)
            .unwrap_or(0);
        let wait = wait_account.max(wait_ip);
        (wait > 0).then(|| ((wait + 999) / 1000) as u64)
    }

    pub fn failed(&self, account: &str, ip: &str, now: i64) {
        {
            let mut accounts = self.accounts.lock();
            let c = accounts.entry(account.to_owned()).or_default();
            c.failures += 1;
            if c.failures >= self.limits.account_failures {
                let extra = (c.failures - self.limits.account_failures).min(16);
                let lock = (self.limits.base_lock_ms << extra).min(self.limits.max_lock_ms);
                c.locked_until = now + lock;
            }
        }
        let mut ips = self.ips.lock();
        let c = ips.entry(ip.to_owned()).or_default();
        if now - c.window_start >= self.limits.ip_window_ms {
            c.window_start = now;
            c.failures = 0;
        }
        c.failures += 1;
        if ips.len() > 100_000 {
            let window = self.limits.ip_window_ms;
            ips.retain(|_, c| now - c.window_start < window);
        }
    }

    pub fn succeeded(&self, account: &str) {
        self.accounts.lock().remove(account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_locks_after_limit_and_grows() {
        let t = Throttle::new(Limits { account_failures: 3, ..Default::default() });
        for _ in 0..3 {
            assert_eq!(t.check("a", "ip", 0), None);
            t.failed("a", "ip", 0);
        }
        assert_eq!(t.check("a", "ip", 0), Some(60));
        assert_eq!(t.check("b", "ip", 0), None, "other accounts unaffected");
        t.failed("a", "ip", 61_000);
        assert_eq!(t.check("a", "ip", 61_000), Some(120));
        t.succeeded("a");
        assert_eq!(t.check("a", "ip", 61_000), None);
    }

    #[test]
    fn ip_is_limited_across_accounts() {
        let t = Throttle::new(Limits { ip_failures: 4, ..Default::default() });
        for i in 0..4 {
            t.failed(&format!("user{i}"), "1.2.3.4", 1000);
        }
        assert!(t.check("fresh", "1.2.3.4", 2000).is_some());
        assert!(t.check("fresh", "5.6.7.8", 2000).is_none());
        assert!(t.check("fresh", "1.2.3.4", 1000 + 15 * 60_000).is_none(), "window passes");
    }
}
