//! Share-link tables (分享链接) and the checks every public request runs: is the link live, is
//! the requested node inside its subtree, is the caller's unlock grant valid.
//!
//! Tables (ids from the global sequence):
//! - `drive_links: link -> Link`
//! - `drive_link_tokens: token_hash -> link` (the token itself is never stored)
//! - `drive_node_links: (node, link) -> ()` (the links of a node, for the manager's list)
//! - `drive_link_log: (link, seq) -> LinkEvent` (access log)
//! - `drive_link_unlocks: grant_hash -> Unlock` and its per-link mirror
//!   `drive_link_unlock_index: (link, seq) -> grant_hash` (revoking a link drops its grants)

use super::model::Node;
use super::store::{self, Rd};
use crate::error::{AppError, AppResult};
use crate::platform::store::{Table, Tx};
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const LINKS: Table<u64, Link> = Table::new("drive_links");
pub const LINK_TOKENS: Table<String, u64> = Table::new("drive_link_tokens");
pub const NODE_LINKS: Table<(u64, u64), ()> = Table::new("drive_node_links");
pub const LINK_LOG: Table<(u64, u64), LinkEvent> = Table::new("drive_link_log");
pub const LINK_UNLOCKS: Table<String, Unlock> = Table::new("drive_link_unlocks");
pub const LINK_UNLOCK_INDEX: Table<(u64, u64), String> = Table::new("drive_link_unlock_index");

/// How long an unlocked link stays open in one browser (capped by the link's own expiry).
pub const UNLOCK_TTL_MS: i64 = 12 * 3600 * 1000;
/// Longest parent chain we follow (the same guard as `perm`).
const MAX_DEPTH: usize = 256;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct Link {
    pub id: u64,
    pub node_id: u64,
    pub space_id: u64,
    /// SHA-256 of the token, base64url.
    pub token_hash: String,
    /// bcrypt (over the SHA-256 pre-hash, `platform::auth::password`).
    pub password_hash: Option<String>,
    pub expires_at: Option<i64>,
    pub max_downloads: Option<u64>,
    pub downloads: u64,
    pub preview_only: bool,
    pub created_by: u64,
    pub created_at: i64,
    pub revoked: bool,
}

impl Link {
    /// Revoked, expired or out of downloads: the public side answers 404 for all three.
    pub fn is_live(&self, now: i64) -> bool {
        !self.revoked
            && self.expires_at.is_none_or(|t| now < t)
            && self.max_downloads.is_none_or(|m| self.downloads < m)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct LinkEvent {
    pub at: i64,
    pub ip: String,
    /// `open`, `preview`, `download`, `wrong_password`.
    pub action: String,
    pub node_id: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct Unlock {
    pub link_id: u64,
    pub expires_at: i64,
    /// Key in `drive_link_unlock_index`.
    pub seq: u64,
}

/// A new link token: 128 random bits, base64url. Returns (token, its hash).
pub fn new_token() -> (String, String) {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let hash = hash_token(&token);
    (token, hash)
}

/// SHA-256, base64url: the only form in which tokens and grants are stored.
pub fn hash_token(token: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// The one answer for unknown, revoked, expired and exhausted links (nothing to tell apart).
pub fn gone() -> AppError {
    AppError::not_found("link")
}

pub fn link(r: &impl Rd, id: u64) -> AppResult<Link> {
    r.get(&LINKS, &id)?.ok_or_else(|| AppError::not_found("link"))
}

pub fn put_link(tx: &Tx, l: &Link) -> AppResult<()> {
    LINKS.open(tx.txn)?.put(&l.id, l)
}

/// Store a new link with its indexes.
pub fn insert(tx: &Tx, l: &Link) -> AppResult<()> {
    put_link(tx, l)?;
    LINK_TOKENS.open(tx.txn)?.put(&l.token_hash, &l.id)?;
    NODE_LINKS.open(tx.txn)?.put(&(l.node_id, l.id), &())
}

pub fn of_node(r: &impl Rd, node: u64) -> AppResult<Vec<Link>> {
    let mut out = Vec::new();
    for ((_, id), ()) in r.range(&NODE_LINKS, &(node, 0), &(node, u64::MAX), usize::MAX)? {
        out.push(link(r, id)?);
    }
    Ok(out)
}

/// Does the node have a link that still works? (its `shared` icon)
pub fn has_live(r: &impl Rd, node: u64, now: i64) -> AppResult<bool> {
    Ok(of_node(r, node)?.iter().any(|l| l.is_live(now)))
}

pub fn log(tx: &Tx, link: u64, ip: &str, action: &str, node_id: u64) -> AppResult<()> {
    let seq = tx.next_seq()?;
    let e = LinkEvent { at: tx.now, ip: ip.to_owned(), action: action.to_owned(), node_id };
    LINK_LOG.open(tx.txn)?.put(&(link, seq), &e)
}

/// Newest first, at most `limit`, before `before` (a seq) when given.
pub fn events(r: &impl Rd, link: u64, before: Option<u64>, limit: usize) -> AppResult<Vec<(u64, LinkEvent)>> {
    let hi = before.map(|b| b.saturating_sub(1)).unwrap_or(u64::MAX);
    let mut rows = r.range(&LINK_LOG, &(link, 0), &(link, hi), usize::MAX)?;
    rows.reverse();
    Ok(rows.into_iter().take(limit).map(|((_, s), e)| (s, e)).collect())
}

/// The live link behind a public token, with its shared node (which must not be in the bin,
/// nor under anything that is).
pub fn resolve(r: &impl Rd, token: &str, now: i64) -> AppResult<(Link, Node)> {
    if token.is_empty() || token.len() > 64 {
        return Err(gone());
    }
    let id = r.get(&LINK_TOKENS, &hash_token(token))?.ok_or_else(gone)?;
    let l = link(r, id)?;
    if !l.is_live(now) {
        return Err(gone());
    }
    let chain = chain_to(r, l.node_id, None).map_err(|_| gone())?;
    let root = chain.into_iter().next().ok_or_else(gone)?;
    Ok((l, root))
}

/// Node `id` if it lies in the link's subtree and nothing between it and the shared node is in
/// the bin; 404 otherwise (ids outside the subtree look exactly like missing ones).
pub fn inside(r: &impl Rd, l: &Link, id: u64) -> AppResult<Node> {
    let chain = chain_to(r, id, Some(l.node_id)).map_err(|_| AppError::not_found("file"))?;
    chain.into_iter().next().ok_or_else(|| AppError::not_found("file"))
}

/// `id` and its ancestors (the node first), up to and including `stop`, or to the root when
/// `stop` is `None`. Fails on a trashed node on the way, or when `stop` is never reached.
fn chain_to(r: &impl Rd, id: u64, stop: Option<u64>) -> AppResult<Vec<Node>> {
    let mut out = Vec::new();
    let mut next = Some(id);
    while let Some(cur) = next {
        if out.len() >= MAX_DEPTH {
            return Err(AppError::internal(format!("drive node {id}: parent chain too deep")));
        }
        let n = store::node(r, cur)?;
        if n.trashed.is_some() {
            return Err(AppError::not_found("file"));
        }
        next = n.parent_id;
        let reached = stop == Some(n.id);
        out.push(n);
        if reached {
            return Ok(out);
        }
    }
    if stop.is_some() {
        return Err(AppError::not_found("file"));
    }
    Ok(out)
}

/// Record an unlock grant (the cookie holds `grant`, we keep its hash); drops the link's
/// expired grants on the way so the table does not grow without bound.
pub fn add_unlock(tx: &Tx, l: &Link, grant: &str) -> AppResult<i64> {
    let mut expires = tx.now + UNLOCK_TTL_MS;
    if let Some(e) = l.expires_at {
        expires = expires.min(e);
    }
    let seq = tx.next_seq()?;
    let hash = hash_token(grant);
    let mut unlocks = LINK_UNLOCKS.open(tx.txn)?;
    let mut index = LINK_UNLOCK_INDEX.open(tx.txn)?;
    let old: Vec<((u64, u64), String)> = index.range(&(l.id, 0), &(l.id, u64::MAX))?.collect::<AppResult<_>>()?;
    for (key, h) in old {
        if unlocks.get(&h)?.is_none_or(|u| u.expires_at <= tx.now) {
            unlocks.remove(&h)?;
            index.remove(&key)?;
        }
    }
    unlocks.put(&hash, &Unlock { link_id: l.id, expires_at: expires, seq })?;
    index.put(&(l.id, seq), &hash)?;
    Ok(expires)
}

/// Drop every unlock grant of a link (on revoke).
pub fn drop_unlocks(tx: &Tx, link: u64) -> AppResult<()> {
    let mut unlocks = LINK_UNLOCKS.open(tx.txn)?;
    let mut index = LINK_UNLOCK_INDEX.open(tx.txn)?;
    let rows: Vec<((u64, u64), String)> = index.range(&(link, 0), &(link, u64::MAX))?.collect::<AppResult<_>>()?;
    for (key, h) in rows {
        unlocks.remove(&h)?;
        index.remove(&key)?;
    }
    Ok(())
}

/// Is `grant` (the cookie's value) a valid unlock of link `l` now?
pub fn unlocked(r: &impl Rd, l: &Link, grant: Option<&str>, now: i64) -> AppResult<bool> {
    let Some(g) = grant.filter(|g| !g.is_empty() && g.len() <= 128) else { return Ok(false) };
    Ok(r.get(&LINK_UNLOCKS, &hash_token(g))?.is_some_and(|u| u.link_id == l.id && now < u.expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_128_bits_and_stored_hashed() {
        let (t, h) = new_token();
        assert_eq!(t.len(), 22, "16 bytes base64url without padding");
        assert_ne!(t, h);
        assert_eq!(hash_token(&t), h);
        assert_ne!(new_token().0, t);
    }

    #[test]
    fn liveness() {
        let mut l = Link { expires_at: Some(100), max_downloads: Some(1), ..Link::default() };
        assert!(l.is_live(99));
        assert!(!l.is_live(100), "expired at the instant");
        l.downloads = 1;
        assert!(!l.is_live(0), "exhausted");
        l.downloads = 0;
        l.revoked = true;
        assert!(!l.is_live(0));
    }
}
