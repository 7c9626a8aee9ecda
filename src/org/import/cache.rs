//! Parsed uploads waiting for their commit: in memory only, keyed by a random `import_id`,
//! bound to the uploader and the data directory, dropped after an hour (or when committed).
//!
//! actix builds the app once per worker thread, so the cache is one process-wide instance
//! handed to every worker as `web::Data`; several servers in one process (tests) are kept apart
//! by their data directory.

use super::parse::Sheet;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

pub const TTL_MS: i64 = 60 * 60 * 1000;
/// Pending imports kept at once (each holds a parsed sheet); the oldest go first.
const MAX_ENTRIES: usize = 8;
const MAX_PER_OWNER: usize = 3;

#[derive(Clone)]
pub struct Pending {
    pub owner: u64,
    pub data_dir: PathBuf,
    pub created_at: i64,
    pub file_name: String,
    pub sheet: Arc<Sheet>,
}

#[derive(Default)]
pub struct ImportCache {
    entries: Mutex<HashMap<String, Pending>>,
}

impl ImportCache {
    /// The process-wide cache.
    pub fn shared() -> actix_web::web::Data<ImportCache> {
        static CACHE: OnceLock<actix_web::web::Data<ImportCache>> = OnceLock::new();
        CACHE.get_or_init(|| actix_web::web::Data::new(ImportCache::default())).clone()
    }

    pub fn insert(&self, pending: Pending, now: i64) -> String {
        let id = crate::platform::auth::session::random_token();
        let mut map = self.entries.lock();
        map.retain(|_, p| now - p.created_at < TTL_MS);
        let mut mine: Vec<(i64, String)> = map
            .iter()
            .filter(|(_, p)| p.owner == pending.owner && p.data_dir == pending.data_dir)
            .map(|(k, p)| (p.created_at, k.clone()))
            .collect();
        mine.sort();
        while mine.len() >= MAX_PER_OWNER {
            let (_, k) = mine.remove(0);
            map.remove(&k);
        }
        while map.len() >= MAX_ENTRIES {
            let Some(oldest) = map.iter().min_by_key(|(_, p)| p.created_at).map(|(k, _)| k.clone()) else { break };
            map.remove(&oldest);
        }
        map.insert(id.clone(), pending);
        id
    }

    /// The pending import if it exists, is fresh, and belongs to `owner` in `data_dir`.
    pub fn get(&self, id: &str, owner: u64, data_dir: &std::path::Path, now: i64) -> Option<Pending> {
        let map = self.entries.lock();
        map.get(id).filter(|p| p.owner == owner && p.data_dir == data_dir && now - p.created_at < TTL_MS).cloned()
    }

    pub fn remove(&self, id: &str) {
        self.entries.lock().remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(owner: u64, at: i64) -> Pending {
        Pending {
            owner,
            data_dir: "/d".into(),
            created_at: at,
            file_name: "f.xlsx".into(),
            sheet: Arc::new(Sheet::default()),
        }
    }

    #[test]
    fn owner_and_expiry() {
        let c = ImportCache::default();
        let id = c.insert(pending(1, 0), 0);
        assert!(c.get(&id, 1, "/d".as_ref(), 10).is_some());
        assert!(c.get(&id, 2, "/d".as_ref(), 10).is_none());
        assert!(c.get(&id, 1, "/other".as_ref(), 10).is_none());
        assert!(c.get(&id, 1, "/d".as_ref(), TTL_MS).is_none());
        for i in 0..10 {
            c.insert(pending(1, i), i);
        }
        assert_eq!(c.entries.lock().len(), MAX_PER_OWNER);
    }
}
