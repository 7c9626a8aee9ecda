//! Named settings documents (`settings` table: name -> JSON). Each feature owns its keys and
//! its typed struct; reading a missing key yields the struct's default.
//!
//! Hot paths (the session check on every request, the limits on every send) read through
//! [`SettingsDoc::cached`]: a per-store [`SettingsCache`] holds each decoded document until
//! [`SettingsDoc::save`] replaces it.

use crate::error::AppResult;
use crate::platform::store::{Store, Table, Tx};
use parking_lot::RwLock;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

pub const SETTINGS: Table<String, serde_json::Value> = Table::new("settings");

/// A typed settings document stored under one name.
pub trait SettingsDoc: Serialize + DeserializeOwned + Default {
    const KEY: &'static str;

    fn load(txn: &redb::ReadTransaction) -> AppResult<Self> {
        match SETTINGS.get_in(txn, &Self::KEY.to_owned())? {
            Some(v) => Ok(serde_json::from_value(v).unwrap_or_default()),
            None => Ok(Self::default()),
        }
    }

    fn load_in(tx: &Tx) -> AppResult<Self> {
        match SETTINGS.open(tx.txn)?.get(&Self::KEY.to_owned())? {
            Some(v) => Ok(serde_json::from_value(v).unwrap_or_default()),
            None => Ok(Self::default()),
        }
    }

    fn exists(txn: &redb::ReadTransaction) -> AppResult<bool> {
        Ok(SETTINGS.get_in(txn, &Self::KEY.to_owned())?.is_some())
    }

    /// The document as last committed, decoded once and kept in the store's [`SettingsCache`]
    /// (a fresh snapshot when the store has none, e.g. the CLI).
    fn cached(store: &Store) -> AppResult<Self>
    where
        Self: Clone + Send + Sync + 'static,
    {
        let Some(cache) = store.service::<SettingsCache>() else { return store.read(Self::load) };
        match cache.get::<Self>(Self::KEY) {
            Ok(doc) => Ok(doc),
            Err(generation) => {
                let doc = store.read(Self::load)?;
                cache.fill(generation, Self::KEY, doc.clone());
                Ok(doc)
            }
        }
    }

    /// Store the document; the cached copy is dropped once the transaction is durable.
    fn save(&self, tx: &Tx) -> AppResult<()> {
        SETTINGS.open(tx.txn)?.put(&Self::KEY.to_owned(), &serde_json::to_value(self)?)?;
        if let Some(cache) = tx.service::<SettingsCache>() {
            let key = Self::KEY;
            tx.after_commit(move || cache.forget(key));
        }
        Ok(())
    }
}

/// Decoded settings documents by key, for [`SettingsDoc::cached`].
///
/// `save` drops a document in an after-commit hook, which runs before the saving request is
/// answered. A reader that missed loads from a snapshot and puts the document back only if no
/// drop happened since its miss (the generation), so a copy read from a snapshot older than a
/// save never outlives that save's hook.
#[derive(Default)]
pub struct SettingsCache {
    state: RwLock<CacheState>,
}

#[derive(Default)]
struct CacheState {
    generation: u64,
    docs: HashMap<&'static str, Arc<dyn Any + Send + Sync>>,
}

impl SettingsCache {
    /// The cached document, or the generation to pass to [`SettingsCache::fill`].
    fn get<T: Clone + Send + Sync + 'static>(&self, key: &'static str) -> Result<T, u64> {
        let s = self.state.read();
        match s.docs.get(key).and_then(|d| d.downcast_ref::<T>()) {
            Some(doc) => Ok(doc.clone()),
            None => Err(s.generation),
        }
    }

    fn fill<T: Send + Sync + 'static>(&self, generation: u64, key: &'static str, doc: T) {
        let mut s = self.state.write();
        if s.generation == generation {
            s.docs.insert(key, Arc::new(doc));
        }
    }

    fn forget(&self, key: &'static str) {
        let mut s = self.state.write();
        s.generation += 1;
        s.docs.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fill_from_before_a_forget_is_refused() {
        let cache = SettingsCache::default();
        let g = cache.get::<u32>("k").unwrap_err();
        cache.forget("k"); // a save committed after the reader's miss
        cache.fill(g, "k", 1u32);
        assert!(cache.get::<u32>("k").is_err(), "a copy from an older snapshot must not come back");
        let g = cache.get::<u32>("k").unwrap_err();
        cache.fill(g, "k", 2u32);
        assert_eq!(cache.get::<u32>("k"), Ok(2));
        cache.forget("k");
        assert!(cache.get::<u32>("k").is_err());
    }
}
