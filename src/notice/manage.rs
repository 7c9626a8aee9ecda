//! The publisher's side: my announcements, read statistics (JSON and Excel), reminders,
//! withdrawal, and the list of members granted the publisher right.

use super::model::*;
use super::service::{can_publish, managed, managed_in, target, Caller};
use super::store::{self, NOTICES, NOTICE_BY_PUBLISHER};
use crate::error::{AppError, AppResult};
use crate::org::service::{self as org, AdminCtx};
use crate::platform::audit::{self, Actor};
use crate::platform::settings::SettingsDoc;
use crate::platform::Platform;
use serde_json::json;

#[derive(Debug, serde::Serialize)]
pub struct ManagePage {
    pub items: Vec<ManageItem>,
    pub next_cursor: Option<String>,
    /// Whether the caller may publish (the web app shows the button).
    pub can_publish: bool,
}

/// Newest first: the caller's own notices, or every notice for super admins. The cursor is
/// the last notice id shown.
pub fn list(txn: &redb::ReadTransaction, caller: &Caller, before: Option<u64>, limit: usize) -> AppResult<ManagePage> {
    let hi = before.map(|b| b.saturating_sub(1)).unwrap_or(u64::MAX);
    let mut ids = Vec::with_capacity(limit + 1);
    if caller.is_super {
        if let Some(t) = NOTICES.read(txn)? {
            for row in t.range(&0, &hi)?.rev().take(limit + 1) {
                ids.push(row?.0);
            }
        }
    } else if let Some(t) = NOTICE_BY_PUBLISHER.read(txn)? {
        for row in t.range(&(caller.user_id, 0), &(caller.user_id, hi))?.rev().take(limit + 1) {
            ids.push(row?.0 .1);
        }
    }
    let more = ids.len() > limit;
    ids.truncate(limit);
    let mut items = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(n) = NOTICES.get_in(txn, id)? {
            items.push(ManageItem { summary: NoticeSummary::of(&n, None), manage: ManageInfo::of(&n) });
        }
    }
    let next_cursor = if more { ids.last().map(u64::to_string) } else { None };
    Ok(ManagePage { items, next_cursor, can_publish: can_publish(txn, caller.user_id)? })
}

/// Who received the notice, who read and who confirmed it, with names and main departments.
pub fn stats(txn: &redb::ReadTransaction, caller: &Caller, id: u64, now: i64) -> AppResult<Stats> {
    let n = managed(txn, caller, id, now)?;
    let tree = org::department_tree(txn)?;
    let mut rows = Vec::new();
    for (user, d) in store::deliveries(txn, n.id)? {
        let (name, department) = match org::member(txn, user)? {
            Some(m) => {
                let dept = tree.get(m.main_department_id).map(|d| d.name.clone()).unwrap_or_default();
                (m.name, dept)
            }
            None => (String::new(), String::new()),
        };
        rows.push(PersonRow { user_id: user, name, department, read_at: d.read_at, confirmed_at: d.confirmed_at });
    }
    rows.sort_by(|a, b| {
        a.department.cmp(&b.department).then_with(|| a.name.cmp(&b.name)).then(a.user_id.cmp(&b.user_id))
    });
    let (read_users, unread_users): (Vec<_>, Vec<_>) = rows.iter().cloned().partition(|r| r.read_at.is_some());
    let confirmed_users: Vec<_> = rows.iter().filter(|r| r.confirmed_at.is_some()).cloned().collect();
    Ok(Stats {
        total: rows.len() as u64,
        read: read_users.len() as u64,
        unread: unread_users.len() as u64,
        confirmed: confirmed_users.len() as u64,
        read_users,
        unread_users,
        confirmed_users,
    })
}

/// The read list as an .xlsx: name, department, read at, confirmed at (enterprise time zone).
pub fn stats_xlsx(rows: &[PersonRow], tz: &str) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let when = |ms: Option<i64>| {
        ms.and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    };
    let xl = |e: rust_xlsxwriter::XlsxError| AppError::internal(e);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let bold = Format::new().set_bold();
    for (c, h) in ["姓名 Name", "部门 Department", "阅读时间 Read at", "确认时间 Confirmed at"].iter().enumerate()
    {
        ws.write_with_format(0, c as u16, *h, &bold).map_err(xl)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write(row, 0, &r.name).map_err(xl)?;
        ws.write(row, 1, &r.department).map_err(xl)?;
        ws.write(row, 2, when(r.read_at)).map_err(xl)?;
        ws.write(row, 3, when(r.confirmed_at)).map_err(xl)?;
    }
    for c in 0..4 {
        ws.set_column_width(c, 22).map_err(xl)?;
    }
    wb.save_to_buffer().map_err(xl)
}

/// Every recipient in the order of [`stats`] (read and unread together).
pub fn all_rows(s: &Stats) -> Vec<PersonRow> {
    let mut rows: Vec<PersonRow> = s.read_users.iter().chain(&s.unread_users).cloned().collect();
    rows.sort_by(|a, b| {
        a.department.cmp(&b.department).then_with(|| a.name.cmp(&b.name)).then(a.user_id.cmp(&b.user_id))
    });
    rows
}

fn remind_too_soon(wait_ms: i64) -> AppError {
    let secs = (wait_ms + 999) / 1000;
    let minutes = (secs + 59) / 60;
    let mut e = AppError::new(
        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        "remind_too_soon",
        format!("This announcement was reminded less than 10 minutes ago; you can remind again in {minutes} min"),
    );
    e.retry_after = Some(secs.max(1) as u64);
    e
}

/// Notify again the recipients who have not read the notice (at most every 10 minutes).
pub async fn remind(p: &Platform, caller: &Caller, actor: &Actor, id: u64) -> AppResult<usize> {
    let (caller, actor) = (caller.clone(), actor.clone());
    p.store
        .write(move |tx| {
            let mut n = managed_in(tx, &caller, id)?;
            if !n.is_published() {
                return Err(AppError::conflict("not_published", "The announcement has not been published yet"));
            }
            if let Some(last) = n.reminded_at {
                if tx.now - last < REMIND_INTERVAL_MS {
                    return Err(remind_too_soon(last + REMIND_INTERVAL_MS - tx.now));
                }
            }
            let mut users = Vec::new();
            for (user, old) in store::deliveries_in(tx, id)? {
                let active = org::member_in(tx, user)?.is_some_and(|m| m.status == org::MemberStatus::Active);
                if old.read_at.is_some() || !active {
                    continue;
                }
                let d = Delivery { reminded_at: Some(tx.now), ..old.clone() };
                store::put_delivery(tx, &n, user, &old, &d)?;
                users.push(user);
            }
            if !users.is_empty() {
                n.reminded_at = Some(tx.now);
                store::NOTICES.open(tx.txn)?.put(&n.id, &n)?;
                let event = json!({ "type": "notice", "notice": NoticeSummary::of(&n, None), "reminder": true });
                crate::platform::realtime::notify_users(tx, &users, event)?;
            }
            let details = json!({ "reminded": users.len() });
            audit::record_for(tx, &actor, "notice.reminded", target(&n), details, &n.audience.department_ids)?;
            Ok(users.len())
        })
        .await
}

/// Withdraw (or, before publication, delete) a notice: gone from every centre, a
/// `notice_removed` event to those who had it, its files released, its search entry removed.
pub async fn withdraw(p: &Platform, caller: &Caller, actor: &Actor, id: u64) -> AppResult<()> {
    let (caller, actor) = (caller.clone(), actor.clone());
    p.store
        .write(move |tx| {
            let n = managed_in(tx, &caller, id)?;
            let users = store::remove_notice(tx, &n)?;
            if n.is_published() {
                super::search::remove(tx, id)?;
            }
            if !users.is_empty() {
                let event = json!({ "type": "notice_removed", "notice_id": id });
                crate::platform::realtime::notify_users(tx, &users, event)?;
            }
            let details = json!({ "published": n.is_published(), "recipients": users.len() });
            audit::record_for(tx, &actor, "notice.withdrawn", target(&n), details, &n.audience.department_ids)?;
            Ok(())
        })
        .await
}

#[derive(Debug, serde::Serialize)]
pub struct PublisherView {
    pub user_ids: Vec<u64>,
    pub members: Vec<PersonRow>,
}

pub fn publishers(txn: &redb::ReadTransaction) -> AppResult<PublisherView> {
    let list = Publishers::load(txn)?;
    let tree = org::department_tree(txn)?;
    let mut members = Vec::new();
    for id in &list.user_ids {
        if let Some(m) = org::member(txn, *id)? {
            let department = tree.get(m.main_department_id).map(|d| d.name.clone()).unwrap_or_default();
            members.push(PersonRow { user_id: m.id, name: m.name, department, read_at: None, confirmed_at: None });
        }
    }
    Ok(PublisherView { user_ids: list.user_ids, members })
}

/// Replace the list of granted publishers (super admins).
pub async fn set_publishers(p: &Platform, ctx: &AdminCtx, mut user_ids: Vec<u64>) -> AppResult<()> {
    user_ids.sort_unstable();
    user_ids.dedup();
    if user_ids.len() > 1000 {
        return Err(AppError::invalid(
            "user_ids",
            "too_many_publishers",
            "At most 1,000 members may hold the publisher right",
        ));
    }
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            for id in &user_ids {
                if !org::member_in(tx, *id)?.is_some_and(|m| m.status != org::MemberStatus::Left) {
                    return Err(AppError::invalid("user_ids", "unknown_member", format!("Member {id} does not exist")));
                }
            }
            Publishers { user_ids: user_ids.clone() }.save(tx)?;
            audit::record(
                tx,
                &ctx.actor,
                "notice.publishers_updated",
                "notice_publishers",
                json!({ "user_ids": user_ids }),
            )?;
            Ok(())
        })
        .await
}
