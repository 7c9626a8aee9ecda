//! Writing and publishing: create, edit before publication, publish now or on schedule (the
//! background job), and the hourly clean-up of unused uploads.

use super::audience::{resolve, Mode, Org, TxOrg};
use super::html::{sanitise, with_id, Sanitised};
use super::model::*;
use super::service::{managed_in, target, Publisher};
use super::store;
use crate::error::{AppError, AppResult};
use crate::org::service::Scope;
use crate::platform::audit::{self, Actor};
use crate::platform::blobs;
use crate::platform::store::Tx;
use crate::platform::Platform;
use actix_web::web;
use serde_json::json;
use std::collections::HashMap;

/// Scheduled notices published per transaction (each may reach the whole organisation).
const DUE_BATCH: usize = 20;

/// Input checked before the write: the title and the sanitised body.
struct Prepared {
    input: NoticeInput,
    title: String,
    body: Sanitised,
}

/// Sanitising a long body takes milliseconds: done on the blocking pool, not in the writer.
async fn prepare(input: NoticeInput) -> AppResult<Prepared> {
    web::block(move || prepare_now(input)).await.map_err(AppError::internal)?
}

fn prepare_now(input: NoticeInput) -> AppResult<Prepared> {
    let title = validate_title(&input.title)?;
    let body = sanitise(&input.html)?;
    if input.attachments.len() > MAX_ATTACHMENTS {
        return Err(AppError::invalid(
            "attachments",
            "too_many_attachments",
            format!("An announcement has at most {MAX_ATTACHMENTS} attachments"),
        ));
    }
    Ok(Prepared { input, title, body })
}

pub async fn create(p: &Platform, who: &Publisher, input: NoticeInput) -> AppResult<Notice> {
    let prep = prepare(input).await?;
    let who = who.clone();
    p.store
        .write(move |tx| {
            let id = tx.next_seq()?;
            save(tx, &who, None, id, &prep)
        })
        .await
}

/// Edit a notice that is not published yet (`already_published` afterwards).
pub async fn update(p: &Platform, who: &Publisher, id: u64, patch: NoticePatch) -> AppResult<Notice> {
    // The patch is applied to a snapshot so the HTML can be sanitised outside the writer; the
    // write re-checks that the notice did not change in between.
    let (old, html) = {
        let txn = p.store.begin_read()?;
        let old = super::service::managed(&txn, &who.caller, id, p.now_ms())?;
        let body = store::NOTICE_BODIES.get_in(&txn, &id)?.unwrap_or_default();
        (old, body.html)
    };
    if old.is_published() {
        return Err(already_published());
    }
    let prep = prepare(patch.apply_to(&old, html)).await?;
    let who = who.clone();
    p.store
        .write(move |tx| {
            let current = managed_in(tx, &who.caller, id)?;
            if current.is_published() {
                return Err(already_published());
            }
            if current.updated_at != old.updated_at {
                return Err(AppError::conflict("edit_conflict", "The announcement changed meanwhile; reload it"));
            }
            save(tx, &who, Some(&current), id, &prep)
        })
        .await
}

fn already_published() -> AppError {
    AppError::conflict("already_published", "A published announcement cannot be edited; withdraw it instead")
}

/// The files a notice will hold: its own ones stay, new ones are taken from the publisher's
/// uploads (their blob references pass to the notice).
struct Files<'o> {
    owner: u64,
    old: Option<&'o Notice>,
    taken: HashMap<String, FileRef>,
}

impl Files<'_> {
    fn get(&mut self, tx: &Tx, sha: &str, field: &str) -> AppResult<FileRef> {
        if let Some(f) = self.old.and_then(|o| o.file(sha)).or_else(|| self.taken.get(sha)) {
            return Ok(f.clone());
        }
        let upload = store::take_upload(tx, self.owner, sha)?.ok_or_else(|| {
            AppError::invalid(
                field,
                "unknown_upload",
                "A file is not one of your uploads (or it expired); upload it again",
            )
        })?;
        self.taken.insert(sha.to_owned(), upload.file.clone());
        Ok(upload.file)
    }

    fn image(&mut self, tx: &Tx, sha: &str, field: &str) -> AppResult<FileRef> {
        let f = self.get(tx, sha, field)?;
        if !f.image {
            return Err(AppError::invalid(field, "invalid_image", "The file is not a PNG, JPEG, GIF or WebP image"));
        }
        Ok(f)
    }
}

/// Validate and store a new or edited notice; publishes it when it is due now.
fn save(tx: &Tx, who: &Publisher, old: Option<&Notice>, id: u64, prep: &Prepared) -> AppResult<Notice> {
    let input = &prep.input;
    // A time in the past means "now".
    let publish_at = input.publish_at.filter(|t| *t > tx.now);
    if input.expire_at.is_some_and(|e| e <= publish_at.unwrap_or(tx.now)) {
        return Err(AppError::invalid(
            "expire_at",
            "invalid_expiry",
            "The announcement would expire before it is published",
        ));
    }
    let mut files = Files { owner: who.caller.user_id, old, taken: HashMap::new() };
    let cover = match &input.cover_sha {
        Some(sha) => Some(files.image(tx, sha, "cover_sha")?),
        None => None,
    };
    let mut attachments: Vec<FileRef> = Vec::new();
    for a in &input.attachments {
        if attachments.iter().any(|f| f.sha == a.sha()) {
            continue;
        }
        let mut f = files.get(tx, a.sha(), "attachments")?;
        if let Some(name) = a.name() {
            f.name = clean_file_name(name);
        }
        attachments.push(f);
    }
    let mut images = Vec::new();
    for sha in &prep.body.images {
        images.push(files.image(tx, sha, "html")?);
    }
    let audience = input.audience.clone().normalised();
    let org = TxOrg::new(tx)?;
    let users = resolve(&org, &audience, &who.scope(org.tree()), Mode::Strict)?;
    let (publisher_id, publisher_name) = match old {
        Some(o) => (o.publisher_id, o.publisher_name.clone()),
        None => (who.actor.id, who.actor.name.clone()),
    };
    let mut n = Notice {
        id,
        publisher_id,
        publisher_name,
        title: prep.title.clone(),
        excerpt: excerpt(&prep.body.text),
        cover,
        attachments,
        images,
        audience,
        require_confirm: input.require_confirm,
        pinned: input.pinned,
        publish_at,
        expire_at: input.expire_at,
        published_at: None,
        created_at: old.map(|o| o.created_at).unwrap_or(tx.now),
        updated_at: tx.now,
        ..Notice::default()
    };
    if let Some(o) = old {
        let keep = n.shas();
        for sha in o.shas().difference(&keep) {
            blobs::release_ref(tx, sha)?;
        }
    }
    let body = NoticeBody { html: with_id(&prep.body.html, id), text: prep.body.text.clone() };
    store::put_body(tx, id, &body)?;
    let departments = n.audience.department_ids.clone();
    if publish_at.is_none() {
        publish(tx, &who.actor, old, &mut n, &users, &body)?;
    } else {
        store::put_notice(tx, old, &n)?;
        let action = if old.is_some() { "notice.updated" } else { "notice.scheduled" };
        let details = json!({ "publish_at": publish_at, "recipients_now": users.len() });
        audit::record_for(tx, &who.actor, action, target(&n), details, &departments)?;
    }
    Ok(n)
}

/// Publish `n` to `users`: their copies, the `notice` event, the search document, the audit
/// entry. `old` is the stored version (a scheduled notice), if any.
fn publish(
    tx: &Tx,
    actor: &Actor,
    old: Option<&Notice>,
    n: &mut Notice,
    users: &[u64],
    body: &NoticeBody,
) -> AppResult<()> {
    n.published_at = Some(tx.now);
    n.total = users.len() as u64;
    store::put_notice(tx, old, n)?;
    store::deliver(tx, n, users)?;
    if !users.is_empty() {
        let summary = NoticeSummary::of(n, None);
        crate::platform::realtime::notify_users(tx, users, json!({ "type": "notice", "notice": summary }))?;
    }
    super::search::index(tx, n, body)?;
    let details = json!({ "recipients": users.len(), "publisher_id": n.publisher_id, "scheduled": old.is_some() });
    audit::record_for(tx, actor, "notice.published", target(n), details, &n.audience.department_ids)?;
    Ok(())
}

/// Publish every scheduled notice that is due by the store's clock. Returns how many were
/// published. Called by the background job (and by tests, with a manual clock).
pub async fn publish_due(p: &Platform) -> AppResult<usize> {
    let mut total = 0;
    loop {
        let n = p.store.write(|tx| publish_due_in(tx, DUE_BATCH)).await?;
        total += n;
        if n < DUE_BATCH {
            return Ok(total);
        }
    }
}

fn publish_due_in(tx: &Tx, max: usize) -> AppResult<usize> {
    let system = Actor { id: 0, name: "system".into(), ip: String::new() };
    let due = store::due_in(tx, tx.now, max)?;
    for id in &due {
        let old = store::require_in(tx, *id)?;
        let body = store::body_in(tx, *id)?;
        // The audience was checked against the publisher's scope when it was written; the
        // organisation may have changed since, so what no longer exists is skipped.
        let users = resolve(&TxOrg::new(tx)?, &old.audience, &Scope::All, Mode::Lenient)?;
        let mut n = old.clone();
        publish(tx, &system, Some(&old), &mut n, &users, &body)?;
    }
    Ok(due.len())
}

/// The job: publish due notices every few seconds, drop expired uploads every hour.
pub fn start_jobs(p: &web::Data<Platform>) {
    use crate::platform::jobs::{every, First};
    use std::time::Duration;
    every(p, "scheduled announcements published", Duration::from_secs(5), First::AfterPeriod, |p| async move {
        publish_due(&p).await
    });
    every(p, "unused announcement uploads", Duration::from_secs(3600), First::AtStart, |p| async move {
        purge_uploads(&p).await
    });
}

/// Drop uploads older than a day that no notice took over.
pub async fn purge_uploads(p: &Platform) -> AppResult<usize> {
    p.store.write(|tx| store::purge_uploads(tx, tx.now - UPLOAD_TTL_MS)).await
}
