//! The member's announcement centre: the list (unread first, then pinned, then newest),
//! reading a notice (marks it read), confirming it, and the visibility check global search
//! uses for its hits.

use super::model::{Delivery, FileView, ManageInfo, Notice, NoticeDetail, NoticeSummary};
use super::service::{seen, seen_in, Caller};
use super::store::{self, NOTICES, NOTICE_BODIES, NOTICE_DELIVERIES, NOTICE_INBOX};
use crate::error::{AppError, AppResult};
use crate::platform::Platform;

/// A page of the centre.
#[derive(Debug, serde::Serialize)]
pub struct CentrePage {
    pub items: Vec<NoticeSummary>,
    pub next_cursor: Option<String>,
    /// Unread notices that have not expired, for the badge (capped at 100: show "99+").
    pub unread: u64,
}

const MAX_UNREAD: u64 = 100;

/// Cursors are `{rank}-{notice id}` of the last item shown.
fn parse_cursor(c: Option<&str>) -> AppResult<Option<(u64, u64)>> {
    let Some(c) = c.filter(|c| !c.is_empty()) else { return Ok(None) };
    let bad = || AppError::bad_request("invalid_cursor", "The cursor is not valid");
    let (rank, id) = c.split_once('-').ok_or_else(bad)?;
    Ok(Some((rank.parse().map_err(|_| bad())?, id.parse().map_err(|_| bad())?)))
}

/// The key just below `(rank, id)` in the inbox of `user`.
fn below(user: u64, (rank, id): (u64, u64)) -> Option<(u64, u64, u64)> {
    match (rank, id) {
        (0, 0) => None,
        (r, 0) => Some((user, r - 1, u64::MAX)),
        (r, i) => Some((user, r, i - 1)),
    }
}

pub fn list(
    txn: &redb::ReadTransaction,
    user: u64,
    cursor: Option<&str>,
    limit: usize,
    now: i64,
) -> AppResult<CentrePage> {
    let hi = match parse_cursor(cursor)? {
        Some(c) => below(user, c),
        None => Some((user, u64::MAX, u64::MAX)),
    };
    let (Some(inbox), Some(notices), Some(deliveries), Some(hi)) =
        (NOTICE_INBOX.read(txn)?, NOTICES.read(txn)?, NOTICE_DELIVERIES.read(txn)?, hi)
    else {
        return Ok(CentrePage { items: Vec::new(), next_cursor: None, unread: 0 });
    };
    let mut items: Vec<(u64, NoticeSummary)> = Vec::new();
    let mut next_cursor = None;
    for row in inbox.range(&(user, 0, 0), &hi)?.rev() {
        let ((_, rank, id), ()) = row?;
        // Expired notices stay in the inbox table but are no longer listed.
        let Some(n) = notices.get(&id)?.filter(|n| !n.is_expired(now)) else { continue };
        if items.len() == limit {
            next_cursor = items.last().map(|(r, s)| format!("{r}-{}", s.id));
            break;
        }
        let d = deliveries.get(&(id, user))?;
        items.push((rank, NoticeSummary::of(&n, d.as_ref())));
    }
    let mut unread = 0;
    for row in inbox.range(&(user, 1 << 63, 0), &(user, u64::MAX, u64::MAX))? {
        let ((_, _, id), ()) = row?;
        if notices.get(&id)?.is_some_and(|n| !n.is_expired(now)) {
            unread += 1;
            if unread == MAX_UNREAD {
                break;
            }
        }
    }
    Ok(CentrePage { items: items.into_iter().map(|(_, s)| s).collect(), next_cursor, unread })
}

fn detail(n: &Notice, d: Option<&Delivery>, html: String, manages: bool) -> NoticeDetail {
    NoticeDetail {
        summary: NoticeSummary::of(n, d),
        html,
        attachments: n.attachments.iter().map(|f| FileView::of(n, f)).collect(),
        read_at: d.and_then(|d| d.read_at),
        confirmed_at: d.and_then(|d| d.confirmed_at),
        manage: manages.then(|| ManageInfo::of(n)),
    }
}

/// The full notice as the caller may see it, without side effects.
pub fn view(txn: &redb::ReadTransaction, caller: &Caller, id: u64, now: i64) -> AppResult<NoticeDetail> {
    Ok(view_unread(txn, caller, id, now)?.0)
}

/// [`view`], and whether the caller holds an unread copy.
fn view_unread(txn: &redb::ReadTransaction, caller: &Caller, id: u64, now: i64) -> AppResult<(NoticeDetail, bool)> {
    let s = seen(txn, caller, id, now)?;
    let html = NOTICE_BODIES.get_in(txn, &id)?.unwrap_or_default().html;
    let unread = s.delivery.as_ref().is_some_and(|d| d.read_at.is_none());
    Ok((detail(&s.notice, s.delivery.as_ref(), html, s.manages), unread))
}

/// `GET /notices/{id}`: the full notice; the caller's copy becomes read (once).
pub async fn open(p: &Platform, caller: &Caller, id: u64) -> AppResult<NoticeDetail> {
    let (shown, unread) = view_unread(&p.store.begin_read()?, caller, id, p.now_ms())?;
    if !unread {
        return Ok(shown);
    }
    let c = caller.clone();
    let (n, d) = p.store.write(move |tx| mark(tx, &c, id, false)).await?;
    Ok(NoticeDetail {
        summary: NoticeSummary::of(&n, Some(&d)),
        read_at: d.read_at,
        confirmed_at: d.confirmed_at,
        ..shown
    })
}

/// `POST /notices/{id}/confirm`: confirmed (and read); idempotent.
pub async fn confirm(p: &Platform, caller: &Caller, id: u64) -> AppResult<NoticeSummary> {
    let c = caller.clone();
    let (n, d) = p.store.write(move |tx| mark(tx, &c, id, true)).await?;
    Ok(NoticeSummary::of(&n, Some(&d)))
}

/// Mark the caller's copy read (and confirmed), keeping the counters in step.
fn mark(tx: &crate::platform::store::Tx, caller: &Caller, id: u64, confirm: bool) -> AppResult<(Notice, Delivery)> {
    let s = seen_in(tx, caller, id)?;
    let Some(old) = s.delivery else {
        return Err(AppError::conflict("not_a_recipient", "You did not receive this announcement"));
    };
    if confirm && !s.notice.require_confirm {
        return Err(AppError::conflict("confirm_not_required", "This announcement does not ask for confirmation"));
    }
    let mut n = s.notice;
    let mut d = old.clone();
    if d.read_at.is_none() {
        d.read_at = Some(tx.now);
        n.read += 1;
    }
    if confirm && d.confirmed_at.is_none() {
        d.confirmed_at = Some(tx.now);
        n.confirmed += 1;
    }
    if d != old {
        store::put_delivery(tx, &n, caller.user_id, &old, &d)?;
        store::NOTICES.open(tx.txn)?.put(&n.id, &n)?;
    }
    Ok((n, d))
}

/// For global search: the summary of notice `id` if `user` may see it now (a recipient while
/// it has not expired, the publisher, a super admin), else `None`. Expiry is judged by the
/// system clock; [`visible_summary_at`] takes the time (the store's clock, in tests).
pub fn visible_summary(txn: &redb::ReadTransaction, user: u64, id: u64) -> AppResult<Option<NoticeSummary>> {
    visible_summary_at(txn, user, id, chrono::Utc::now().timestamp_millis())
}

pub fn visible_summary_at(
    txn: &redb::ReadTransaction,
    user: u64,
    id: u64,
    now: i64,
) -> AppResult<Option<NoticeSummary>> {
    let is_super = crate::platform::auth::roles::role_of(txn, user)?.is_some_and(|r| r.is_super());
    let caller = Caller { user_id: user, is_super };
    match seen(txn, &caller, id, now) {
        Ok(s) if s.notice.is_published() => Ok(Some(NoticeSummary::of(&s.notice, s.delivery.as_ref()))),
        Ok(_) => Ok(None),
        Err(e) if e.status == actix_web::http::StatusCode::NOT_FOUND => Ok(None),
        Err(e) => Err(e),
    }
}
