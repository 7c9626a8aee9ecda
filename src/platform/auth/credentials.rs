//! Password credentials per member (`credentials`: member id -> [`Credential`]). Kept apart
//! from the member record so directory reads never carry hashes.

use crate::error::AppResult;
use crate::platform::store::{Table, Tx};
use serde::{Deserialize, Serialize};

pub const CREDENTIALS: Table<u64, Credential> = Table::new("credentials");

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credential {
    pub hash: String,
    /// Set when an admin chose the password: the member must pick their own at next sign-in.
    #[serde(default)]
    pub must_change: bool,
    pub changed_at: i64,
    /// Global sequence value of the change: orders it exactly against tokens issued around it.
    #[serde(default)]
    pub changed_seq: u64,
}

pub fn get(txn: &redb::ReadTransaction, user_id: u64) -> AppResult<Option<Credential>> {
    CREDENTIALS.get_in(txn, &user_id)
}

pub fn get_in(tx: &Tx, user_id: u64) -> AppResult<Option<Credential>> {
    CREDENTIALS.open(tx.txn)?.get(&user_id)
}

pub fn set(tx: &Tx, user_id: u64, hash: &str, must_change: bool) -> AppResult<()> {
    let changed_seq = tx.next_seq()?;
    CREDENTIALS
        .open(tx.txn)?
        .put(&user_id, &Credential { hash: hash.to_owned(), must_change, changed_at: tx.now, changed_seq })
}
