//! Typed tables. Every table maps a fixed-shape key (integer ids, tuples of them, or a string for
//! unique lookups) to a JSON value. Declaring tables through [`Table`] keeps the name, the key
//! shape and the value type together, and lets backup, restore and `officebox check` iterate any
//! registered table without knowing its value type.

use crate::error::{AppError, AppResult};
use redb::{Key, ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as Json;
use std::marker::PhantomData;

/// The key shapes we allow. Keys are never hand-concatenated strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    U64,
    U64x2,
    U64x3,
    Str,
}

/// A key type usable in a [`Table`]; knows how to cross the redb borrow boundary and how to
/// appear in a backup (JSON).
pub trait TableKey: Key + 'static + Clone + Send + Sync {
    const KIND: KeyKind;
    fn as_self(&self) -> <Self as redb::Value>::SelfType<'_>;
    fn from_self(v: <Self as redb::Value>::SelfType<'_>) -> Self;
    fn to_json(&self) -> Json;
    fn from_json(v: &Json) -> Option<Self>;
}

impl TableKey for u64 {
    const KIND: KeyKind = KeyKind::U64;
    fn as_self(&self) -> u64 {
        *self
    }
    fn from_self(v: u64) -> u64 {
        v
    }
    fn to_json(&self) -> Json {
        Json::from(*self)
    }
    fn from_json(v: &Json) -> Option<Self> {
        v.as_u64()
    }
}

impl TableKey for (u64, u64) {
    const KIND: KeyKind = KeyKind::U64x2;
    fn as_self(&self) -> (u64, u64) {
        *self
    }
    fn from_self(v: (u64, u64)) -> Self {
        v
    }
    fn to_json(&self) -> Json {
        serde_json::json!([self.0, self.1])
    }
    fn from_json(v: &Json) -> Option<Self> {
        let a = v.as_array()?;
        match a.as_slice() {
            [x, y] => Some((x.as_u64()?, y.as_u64()?)),
            _ => None,
        }
    }
}

impl TableKey for (u64, u64, u64) {
    const KIND: KeyKind = KeyKind::U64x3;
    fn as_self(&self) -> (u64, u64, u64) {
        *self
    }
    fn from_self(v: (u64, u64, u64)) -> Self {
        v
    }
    fn to_json(&self) -> Json {
        serde_json::json!([self.0, self.1, self.2])
    }
    fn from_json(v: &Json) -> Option<Self> {
        let a = v.as_array()?;
        match a.as_slice() {
            [x, y, z] => Some((x.as_u64()?, y.as_u64()?, z.as_u64()?)),
            _ => None,
        }
    }
}

impl TableKey for String {
    const KIND: KeyKind = KeyKind::Str;
    fn as_self(&self) -> String {
        self.clone()
    }
    fn from_self(v: String) -> Self {
        v
    }
    fn to_json(&self) -> Json {
        Json::from(self.as_str())
    }
    fn from_json(v: &Json) -> Option<Self> {
        v.as_str().map(str::to_owned)
    }
}

/// Registry entry: what backup/restore/check need to know about a table.
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    pub name: &'static str,
    pub key: KeyKind,
}

type Raw<K> = TableDefinition<'static, K, &'static [u8]>;

/// A table open for writing / reading, with typed access.
pub type WriteHandle<'t, K, V> = Handle<redb::Table<'t, K, &'static [u8]>, K, V>;
pub type ReadHandle<K, V> = Handle<redb::ReadOnlyTable<K, &'static [u8]>, K, V>;

/// A table declared once: `pub const MEMBERS: Table<u64, Member> = Table::new("members");`
pub struct Table<K, V> {
    name: &'static str,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K: TableKey, V: Serialize + DeserializeOwned> Table<K, V> {
    pub const fn new(name: &'static str) -> Self {
        Table { name, _types: PhantomData }
    }
    pub const fn spec(&self) -> TableSpec {
        TableSpec { name: self.name, key: K::KIND }
    }
    pub fn name(&self) -> &'static str {
        self.name
    }
    fn def(&self) -> Raw<K> {
        TableDefinition::new(self.name)
    }

    /// Open for reading and writing inside a write transaction.
    pub fn open<'t>(&self, txn: &'t redb::WriteTransaction) -> AppResult<WriteHandle<'t, K, V>> {
        super::registry::debug_assert_registered(self.name);
        Ok(Handle { inner: txn.open_table(self.def())?, _types: PhantomData })
    }

    /// Open a snapshot for reading. A table that was never written reads as empty.
    pub fn read(&self, txn: &redb::ReadTransaction) -> AppResult<Option<ReadHandle<K, V>>> {
        match txn.open_table(self.def()) {
            Ok(t) => Ok(Some(Handle { inner: t, _types: PhantomData })),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Convenience: one lookup in a snapshot.
    pub fn get_in(&self, txn: &redb::ReadTransaction, key: &K) -> AppResult<Option<V>> {
        match self.read(txn)? {
            Some(t) => t.get(key),
            None => Ok(None),
        }
    }

    /// Convenience: every row of a snapshot, in key order.
    pub fn all_in(&self, txn: &redb::ReadTransaction) -> AppResult<Vec<(K, V)>> {
        match self.read(txn)? {
            Some(t) => t.iter()?.collect(),
            None => Ok(Vec::new()),
        }
    }
}

/// An open table with typed access.
pub struct Handle<T, K, V> {
    inner: T,
    _types: PhantomData<fn() -> (K, V)>,
}

fn decode<V: DeserializeOwned>(bytes: &[u8]) -> AppResult<V> {
    serde_json::from_slice(bytes).map_err(|e| AppError::internal(format!("corrupt row: {e}")))
}

impl<T, K, V> Handle<T, K, V>
where
    T: ReadableTable<K, &'static [u8]>,
    K: TableKey,
    V: Serialize + DeserializeOwned,
{
    pub fn get(&self, key: &K) -> AppResult<Option<V>> {
        match self.inner.get(key.as_self())? {
            Some(g) => Ok(Some(decode(g.value())?)),
            None => Ok(None),
        }
    }

    pub fn contains(&self, key: &K) -> AppResult<bool> {
        Ok(self.inner.get(key.as_self())?.is_some())
    }

    pub fn len(&self) -> AppResult<u64> {
        Ok(self.inner.len()?)
    }

    pub fn is_empty(&self) -> AppResult<bool> {
        Ok(self.inner.is_empty()?)
    }

    /// All rows in key order.
    pub fn iter(&self) -> AppResult<impl DoubleEndedIterator<Item = AppResult<(K, V)>> + '_> {
        Ok(self.inner.iter()?.map(row::<K, V>))
    }

    /// Rows with `lo <= key <= hi`, in key order (`.rev()` for newest first).
    pub fn range(&self, lo: &K, hi: &K) -> AppResult<impl DoubleEndedIterator<Item = AppResult<(K, V)>> + '_> {
        Ok(self.inner.range(lo.as_self()..=hi.as_self())?.map(row::<K, V>))
    }

    /// The keys with `lo <= key <= hi`, in key order, without decoding the values.
    pub fn keys(&self, lo: &K, hi: &K) -> AppResult<impl DoubleEndedIterator<Item = AppResult<K>> + '_> {
        Ok(self.inner.range(lo.as_self()..=hi.as_self())?.map(|r| Ok(K::from_self(r?.0.value()))))
    }
}

type RawRow<'a, K> = Result<(redb::AccessGuard<'a, K>, redb::AccessGuard<'a, &'static [u8]>), redb::StorageError>;

fn row<K: TableKey, V: DeserializeOwned>(r: RawRow<'_, K>) -> AppResult<(K, V)> {
    let (k, v) = r?;
    Ok((K::from_self(k.value()), decode(v.value())?))
}

impl<K, V> Handle<redb::Table<'_, K, &'static [u8]>, K, V>
where
    K: TableKey,
    V: Serialize + DeserializeOwned,
{
    pub fn put(&mut self, key: &K, value: &V) -> AppResult<()> {
        let bytes = serde_json::to_vec(value)?;
        self.inner.insert(key.as_self(), bytes.as_slice())?;
        Ok(())
    }

    /// Removes the row; returns whether it existed.
    pub fn remove(&mut self, key: &K) -> AppResult<bool> {
        Ok(self.inner.remove(key.as_self())?.is_some())
    }
}

/// Untyped access used by backup/restore/check: rows as (JSON key, raw JSON value bytes).
pub(crate) mod raw {
    use super::*;

    pub fn export<K: TableKey>(
        txn: &redb::ReadTransaction,
        name: &'static str,
        mut sink: impl FnMut(Json, &[u8]) -> AppResult<()>,
    ) -> AppResult<u64> {
        let def: Raw<K> = TableDefinition::new(name);
        let table = match txn.open_table(def) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        let mut n = 0;
        for r in table.iter()? {
            let (k, v) = r?;
            sink(K::from_self(k.value()).to_json(), v.value())?;
            n += 1;
        }
        Ok(n)
    }

    pub fn import<K: TableKey>(
        txn: &redb::WriteTransaction,
        name: &'static str,
        key: &Json,
        value: &[u8],
    ) -> AppResult<()> {
        let def: Raw<K> = TableDefinition::new(name);
        let k = K::from_json(key)
            .ok_or_else(|| AppError::bad_request("invalid_archive", format!("bad key in table {name}")))?;
        let mut table = txn.open_table(def)?;
        table.insert(k.as_self(), value)?;
        Ok(())
    }

    pub fn create<K: TableKey>(txn: &redb::WriteTransaction, name: &'static str) -> AppResult<()> {
        let def: Raw<K> = TableDefinition::new(name);
        txn.open_table(def)?;
        Ok(())
    }
}
