//! Organisation tables and the functions that keep their indexes in step, always inside the
//! caller's transaction.
//!
//! Tables:
//! - `departments`: id -> [`Department`]
//! - `members`: id -> [`Member`]
//! - `member_userids` / `member_mobiles` / `member_emails`: normalised value -> member id
//!   (unique; userid and email lower-cased, mobile via `normalise_mobile`)
//! - `department_members`: (department id, member id) -> () for listing a department
//! - `member_search`: member id -> lowercase search haystack (see `search.rs`)
//! - `tags`: id -> [`Tag`]; `tag_names`: lower-cased name -> id
//!
//! Invariant: every index row points at an existing member whose field has exactly that value.

use super::model::{normalise_mobile, Department, Member, Tag};
use super::search;
use super::tree::Tree;
use crate::error::{AppError, AppResult};
use crate::platform::store::{Table, Tx};

pub const DEPARTMENTS: Table<u64, Department> = Table::new("departments");
pub const MEMBERS: Table<u64, Member> = Table::new("members");
pub const MEMBER_USERIDS: Table<String, u64> = Table::new("member_userids");
pub const MEMBER_MOBILES: Table<String, u64> = Table::new("member_mobiles");
pub const MEMBER_EMAILS: Table<String, u64> = Table::new("member_emails");
pub const DEPARTMENT_MEMBERS: Table<(u64, u64), ()> = Table::new("department_members");
pub const MEMBER_SEARCH: Table<u64, String> = Table::new("member_search");
pub const TAGS: Table<u64, Tag> = Table::new("tags");
pub const TAG_NAMES: Table<String, u64> = Table::new("tag_names");

pub fn tree(txn: &redb::ReadTransaction) -> AppResult<Tree> {
    Ok(Tree::new(DEPARTMENTS.all_in(txn)?.into_iter().map(|(_, d)| d).collect()))
}

pub fn tree_in(tx: &Tx) -> AppResult<Tree> {
    let t = DEPARTMENTS.open(tx.txn)?;
    let rows: AppResult<Vec<_>> = t.iter()?.collect();
    Ok(Tree::new(rows?.into_iter().map(|(_, d)| d).collect()))
}

pub fn put_department(tx: &Tx, d: &Department) -> AppResult<()> {
    DEPARTMENTS.open(tx.txn)?.put(&d.id, d)
}

pub fn remove_department(tx: &Tx, id: u64) -> AppResult<()> {
    DEPARTMENTS.open(tx.txn)?.remove(&id).map(|_| ())
}

pub fn member_in(tx: &Tx, id: u64) -> AppResult<Option<Member>> {
    MEMBERS.open(tx.txn)?.get(&id)
}

pub fn department_has_members(txn: &redb::WriteTransaction, id: u64) -> AppResult<bool> {
    Ok(DEPARTMENT_MEMBERS.open(txn)?.range(&(id, 0), &(id, u64::MAX))?.next().is_some())
}

pub fn department_member_ids(txn: &redb::ReadTransaction, dept: u64) -> AppResult<Vec<u64>> {
    let Some(t) = DEPARTMENT_MEMBERS.read(txn)? else { return Ok(Vec::new()) };
    let ids = t.range(&(dept, 0), &(dept, u64::MAX))?.map(|r| r.map(|((_, m), ())| m)).collect();
    ids
}

/// Look up a member by account id, mobile or email, the way sign-in does.
pub fn find_by_login(txn: &redb::ReadTransaction, login: &str) -> AppResult<Option<Member>> {
    let login = login.trim();
    if login.is_empty() {
        return Ok(None);
    }
    let lower = login.to_lowercase();
    let mut id = MEMBER_USERIDS.get_in(txn, &lower)?;
    if id.is_none() && login.contains('@') {
        id = MEMBER_EMAILS.get_in(txn, &lower)?;
    }
    if id.is_none() && login.chars().any(|c| c.is_ascii_digit()) {
        id = MEMBER_MOBILES.get_in(txn, &normalise_mobile(login))?;
    }
    match id {
        Some(id) => MEMBERS.get_in(txn, &id),
        None => Ok(None),
    }
}

pub fn id_by_userid_in(tx: &Tx, userid: &str) -> AppResult<Option<u64>> {
    MEMBER_USERIDS.open(tx.txn)?.get(&userid.to_lowercase())
}

/// Point a unique index entry at `id`, refusing if another member holds the value.
fn claim(tx: &Tx, table: &Table<String, u64>, key: &str, id: u64, code: &'static str, field: &str) -> AppResult<()> {
    if key.is_empty() {
        return Ok(());
    }
    let mut t = table.open(tx.txn)?;
    match t.get(&key.to_owned())? {
        Some(other) if other != id => {
            Err(AppError::conflict(code, format!("Another member already uses this {field}"))
                .with_details(serde_json::json!({ "field": field })))
        }
        _ => t.put(&key.to_owned(), &id),
    }
}

fn release(tx: &Tx, table: &Table<String, u64>, key: &str, id: u64) -> AppResult<()> {
    if key.is_empty() {
        return Ok(());
    }
    let mut t = table.open(tx.txn)?;
    if t.get(&key.to_owned())? == Some(id) {
        t.remove(&key.to_owned())?;
    }
    Ok(())
}

/// Members who left keep their departments for the record but no longer appear in them.
fn indexed_departments(m: &Member) -> &[u64] {
    if m.status == super::model::MemberStatus::Left {
        &[]
    } else {
        &m.department_ids
    }
}

fn index_keys(m: &Member) -> (String, String, String) {
    let mobile = if m.mobile.is_empty() { String::new() } else { normalise_mobile(&m.mobile) };
    (m.userid.to_lowercase(), mobile, m.email.to_lowercase())
}

/// Write a member and bring every index in line with it. `old` is the stored version, if any.
pub fn put_member(tx: &Tx, old: Option<&Member>, m: &Member) -> AppResult<()> {
    let (uid, mobile, email) = index_keys(m);
    if let Some(old) = old {
        let (ouid, omobile, oemail) = index_keys(old);
        if ouid != uid {
            release(tx, &MEMBER_USERIDS, &ouid, m.id)?;
        }
        if omobile != mobile {
            release(tx, &MEMBER_MOBILES, &omobile, m.id)?;
        }
        if oemail != email {
            release(tx, &MEMBER_EMAILS, &oemail, m.id)?;
        }
        let mut dm = DEPARTMENT_MEMBERS.open(tx.txn)?;
        let keep = indexed_departments(m);
        for d in indexed_departments(old).iter().filter(|d| !keep.contains(d)) {
            dm.remove(&(*d, m.id))?;
        }
    }
    claim(tx, &MEMBER_USERIDS, &uid, m.id, "userid_taken", "userid")?;
    claim(tx, &MEMBER_MOBILES, &mobile, m.id, "mobile_taken", "mobile")?;
    claim(tx, &MEMBER_EMAILS, &email, m.id, "email_taken", "email")?;
    let mut dm = DEPARTMENT_MEMBERS.open(tx.txn)?;
    for d in indexed_departments(m) {
        dm.put(&(*d, m.id), &())?;
    }
    MEMBER_SEARCH.open(tx.txn)?.put(&m.id, &search::haystack(&m.name, &m.alias, &m.userid, &m.mobile, &m.email))?;
    super::search_api::index_member(tx, m)?;
    MEMBERS.open(tx.txn)?.put(&m.id, m)?;
    for hook in MEMBER_HOOKS.get().copied().unwrap_or(&[]) {
        hook(tx, old, m)?;
    }
    Ok(())
}

/// Called in the same transaction after every member write, with the old and the new version
/// (other features keep their own state in step: department group chats follow departments).
pub type MemberHook = fn(&Tx, Option<&Member>, &Member) -> AppResult<()>;

static MEMBER_HOOKS: std::sync::OnceLock<&'static [MemberHook]> = std::sync::OnceLock::new();

/// Set once at start by `app.rs` (later calls are ignored: the list is the same every time).
pub fn set_member_hooks(hooks: &'static [MemberHook]) {
    let _ = MEMBER_HOOKS.set(hooks);
}

pub fn put_tag(tx: &Tx, old: Option<&Tag>, t: &Tag) -> AppResult<()> {
    let key = t.name.to_lowercase();
    if let Some(old) = old {
        let okey = old.name.to_lowercase();
        if okey != key {
            TAG_NAMES.open(tx.txn)?.remove(&okey)?;
        }
    }
    let mut names = TAG_NAMES.open(tx.txn)?;
    if names.get(&key)?.is_some_and(|other| other != t.id) {
        return Err(AppError::conflict("tag_exists", "A tag with this name already exists"));
    }
    names.put(&key, &t.id)?;
    TAGS.open(tx.txn)?.put(&t.id, t)
}

pub fn remove_tag(tx: &Tx, t: &Tag) -> AppResult<()> {
    TAG_NAMES.open(tx.txn)?.remove(&t.name.to_lowercase())?;
    TAGS.open(tx.txn)?.remove(&t.id).map(|_| ())
}

pub fn all_tags(txn: &redb::ReadTransaction) -> AppResult<Vec<Tag>> {
    Ok(TAGS.all_in(txn)?.into_iter().map(|(_, t)| t).collect())
}

pub fn all_tags_in(tx: &Tx) -> AppResult<Vec<Tag>> {
    let t = TAGS.open(tx.txn)?;
    let rows: AppResult<Vec<_>> = t.iter()?.collect();
    Ok(rows?.into_iter().map(|(_, t)| t).collect())
}
