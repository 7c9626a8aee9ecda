//! Named settings documents (`settings` table: name -> JSON). Each feature owns its keys and
//! its typed struct; reading a missing key yields the struct's default.

use crate::error::AppResult;
use crate::platform::store::{Table, Tx};
use serde::de::DeserializeOwned;
use serde::Serialize;

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

    fn save(&self, tx: &Tx) -> AppResult<()> {
        SETTINGS.open(tx.txn)?.put(&Self::KEY.to_owned(), &serde_json::to_value(self)?)
    }
}
