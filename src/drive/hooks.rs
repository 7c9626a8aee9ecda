//! What the drive does when the organisation changes, and its periodic job.
//!
//! Offboarding (离职): when a member leaves with a successor (`handover_to`), everything in
//! their personal space moves into a folder "张三的文件" in the successor's personal space, in
//! the same transaction as the member change: same node ids and blobs, no byte copied (only
//! the moved subtrees' `space_id` and the two spaces' `used` change). Without a successor the
//! space stays as it is. The bin stays with the old space.

use super::model::{Node, NodeKind, OnConflict};
use super::service::{personal_space, place_new};
use super::store::{self, Rd as _};
use crate::error::AppResult;
use crate::org::model::{Member, MemberStatus};
use crate::platform::jobs::{self, First};
use crate::platform::store::Tx;
use crate::platform::Platform;
use actix_web::web;

/// Member hook (see `org::store::set_member_hooks`).
pub fn on_member_changed(tx: &Tx, old: Option<&Member>, new: &Member) -> AppResult<()> {
    let left_now = new.status == MemberStatus::Left && old.is_some_and(|o| o.status != MemberStatus::Left);
    let Some(successor) = new.handover_to.filter(|s| left_now && *s != new.id) else { return Ok(()) };
    let Some(space_id) = tx.get(&store::PERSONAL, &new.id)? else { return Ok(()) };
    let from = store::space(tx, space_id)?;
    let items = store::child_ids(tx, from.root_id)?;
    if items.is_empty() {
        return Ok(());
    }
    let to = personal_space(tx, successor)?;
    let name = place_new(tx, to.root_id, &format!("{}的文件", new.name), OnConflict::Rename, true)?;
    let folder = Node {
        id: tx.next_seq()?,
        space_id: to.id,
        parent_id: Some(to.root_id),
        kind: NodeKind::Folder,
        name,
        created_by: successor,
        created_at: tx.now,
        updated_by: successor,
        updated_at: tx.now,
        ..Node::default()
    };
    store::put_node(tx, &folder)?;
    store::link(tx, &folder)?;
    super::search::index(tx, &folder)?;
    let mut bytes = 0u64;
    for id in items {
        let mut n = store::node(tx, id)?;
        store::unlink(tx, &n)?;
        for mut d in store::descendants(tx, id)? {
            bytes += d.size;
            d.space_id = to.id;
            store::put_node(tx, &d)?;
            super::search::index(tx, &d)?;
        }
        bytes += n.size;
        n.parent_id = Some(folder.id);
        n.space_id = to.id;
        store::put_node(tx, &n)?;
        store::link(tx, &n)?;
        super::search::index(tx, &n)?;
    }
    // A handover is not refused for quota: the files exist already; the successor may be over.
    store::add_used(tx, from.id, -(bytes as i64))?;
    store::add_used(tx, to.id, bytes as i64)?;
    store::log(tx, to.id, successor, "move", &folder, serde_json::json!({"handover_from": new.id}))
}

/// The bin purge, checked hourly (entries older than `drive.bin_days` go).
pub fn start_jobs(p: &web::Data<Platform>) {
    let hourly = std::time::Duration::from_secs(3600);
    jobs::every(p, "drive bin purge", hourly, First::AfterPeriod, |p| async move {
        p.store.write(|tx| super::bin::purge_expired(tx)).await
    });
}
