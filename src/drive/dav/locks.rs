//! One lock table for everybody, so a lock taken by one member protects a team-space file
//! against every other member too. The same WebDAV path means different spaces for different
//! members ("我的空间" is each member's own), so each request's view translates its paths to a
//! canonical form before they reach the shared `MemLs`: the first segment (a space's top-level
//! name) becomes `s{space id}`; names below are the same for everyone. Anything that is not a
//! space (the top level itself, unknown names) is kept in a per-member namespace `u{member}`.
//! Locks on the way out (discovery, conflicts) are translated back. In memory only: locks end
//! with a restart.

use dav_server::davpath::DavPath;
use dav_server::ls::{DavLock, DavLockSystem, LsFuture};
use dav_server::memls::MemLs;
use futures_util::FutureExt;
use std::collections::HashMap;
use std::time::Duration;
use xmltree::Element;

/// The server's lock table (one per running server, in the store's services).
pub struct DavLocks {
    inner: Box<MemLs>,
}

impl Default for DavLocks {
    fn default() -> Self {
        DavLocks { inner: MemLs::new() }
    }
}

impl DavLocks {
    /// A member's view: `spaces` maps their top-level names to space ids.
    pub fn view(&self, user: u64, spaces: &[(String, u64)]) -> Box<dyn DavLockSystem> {
        let to_id = spaces.iter().map(|(n, id)| (crate::drive::names::fold(n), *id)).collect();
        let to_name = spaces.iter().map(|(n, id)| (*id, n.clone())).collect();
        Box::new(View { inner: self.inner.clone(), user, to_id, to_name })
    }
}

#[derive(Debug, Clone)]
struct View {
    inner: Box<MemLs>,
    user: u64,
    to_id: HashMap<String, u64>,
    to_name: HashMap<u64, String>,
}

/// A path segment percent-encoded as RFC 3986 "unreserved" allows (what clients send).
fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, super::UNRESERVED).to_string()
}

impl View {
    fn canonical(&self, p: &DavPath) -> DavPath {
        let url = p.as_url_string();
        let mut parts = url.splitn(3, '/').skip(1);
        let rest = parts.nth(1);
        let name = p.as_bytes().split(|b| *b == b'/').nth(1).map(|b| String::from_utf8_lossy(b).into_owned());
        let id = name.filter(|n| !n.is_empty()).and_then(|n| self.to_id.get(&crate::drive::names::fold(&n)).copied());
        let text = match (id, rest) {
            (Some(id), Some(rest)) => format!("/s{id}/{rest}"),
            (Some(id), None) => format!("/s{id}"),
            (None, _) => format!("/u{}{url}", self.user),
        };
        DavPath::new(&text).unwrap_or_else(|_| p.clone())
    }

    fn local(&self, original: &DavPath, mut lock: DavLock) -> DavLock {
        let url = lock.path.as_url_string();
        let mut parts = url.splitn(3, '/').skip(1);
        let (first, rest) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let name = first.strip_prefix('s').and_then(|id| id.parse::<u64>().ok()).and_then(|id| self.to_name.get(&id));
        let text = match name {
            Some(n) => format!("{}/{}/{rest}", original.prefix(), encode(n)),
            // Another member's namespace or an unknown space: shown as the requested path.
            None => return DavLock { path: Box::new(original.clone()), ..lock },
        };
        if let Ok(mut p) = DavPath::new(&text) {
            if p.set_prefix(original.prefix()).is_ok() {
                lock.path = Box::new(p);
            }
        }
        lock
    }
}

impl DavLockSystem for View {
    fn lock(
        &self,
        path: &DavPath,
        principal: Option<&str>,
        owner: Option<&Element>,
        timeout: Option<Duration>,
        shared: bool,
        deep: bool,
    ) -> LsFuture<'_, Result<DavLock, DavLock>> {
        let (c, original) = (self.canonical(path), path.clone());
        let principal = principal.map(str::to_owned);
        let owner = owner.cloned();
        async move {
            let r = self.inner.lock(&c, principal.as_deref(), owner.as_ref(), timeout, shared, deep).await;
            r.map(|l| self.local(&original, l)).map_err(|l| self.local(&original, l))
        }
        .boxed()
    }

    fn unlock(&self, path: &DavPath, token: &str) -> LsFuture<'_, Result<(), ()>> {
        let (c, token) = (self.canonical(path), token.to_owned());
        async move { self.inner.unlock(&c, &token).await }.boxed()
    }

    fn refresh(&self, path: &DavPath, token: &str, timeout: Option<Duration>) -> LsFuture<'_, Result<DavLock, ()>> {
        let (c, original, token) = (self.canonical(path), path.clone(), token.to_owned());
        async move { self.inner.refresh(&c, &token, timeout).await.map(|l| self.local(&original, l)) }.boxed()
    }

    fn check(
        &self,
        path: &DavPath,
        principal: Option<&str>,
        ignore_principal: bool,
        deep: bool,
        submitted_tokens: &[String],
    ) -> LsFuture<'_, Result<(), DavLock>> {
        let (c, original) = (self.canonical(path), path.clone());
        let principal = principal.map(str::to_owned);
        let tokens = submitted_tokens.to_vec();
        async move {
            let r = self.inner.check(&c, principal.as_deref(), ignore_principal, deep, &tokens).await;
            r.map_err(|l| self.local(&original, l))
        }
        .boxed()
    }

    fn discover(&self, path: &DavPath) -> LsFuture<'_, Vec<DavLock>> {
        let (c, original) = (self.canonical(path), path.clone());
        async move { self.inner.discover(&c).await.into_iter().map(|l| self.local(&original, l)).collect() }.boxed()
    }

    fn delete(&self, path: &DavPath) -> LsFuture<'_, Result<(), ()>> {
        let c = self.canonical(path);
        async move { self.inner.delete(&c).await }.boxed()
    }
}
