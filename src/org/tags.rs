//! Tags (标签): named groups of members and departments, used for permissions and messaging.

use super::members::{out_of_scope, AdminCtx};
use super::model::{validate_tag_name, Tag};
use super::store;
use super::tree::Scope;
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::Platform;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TagInput {
    pub name: Option<String>,
    pub member_ids: Option<Vec<u64>>,
    pub department_ids: Option<Vec<u64>>,
}

fn target(t: &Tag) -> String {
    format!("tag:{} ({})", t.id, t.name)
}

pub async fn create(p: &Platform, ctx: &AdminCtx, name: String) -> AppResult<Tag> {
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let t = Tag {
                id: tx.next_seq()?,
                name: validate_tag_name(&name)?,
                member_ids: Vec::new(),
                department_ids: Vec::new(),
            };
            store::put_tag(tx, None, &t)?;
            audit::record(tx, &ctx.actor, "tag.created", target(&t), json!({}))?;
            Ok(t)
        })
        .await
}

pub async fn update(p: &Platform, ctx: &AdminCtx, id: u64, input: TagInput) -> AppResult<Tag> {
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let old = store::TAGS.open(tx.txn)?.get(&id)?.ok_or_else(|| AppError::not_found("tag"))?;
            let tree = store::tree_in(tx)?;
            let scope = Scope::of(&ctx.role, &tree);
            let mut t = old.clone();
            if let Some(n) = &input.name {
                t.name = validate_tag_name(n)?;
            }
            if let Some(ids) = &input.member_ids {
                let mut ids = ids.clone();
                ids.sort_unstable();
                ids.dedup();
                if ids.len() > 10_000 {
                    return Err(AppError::invalid(
                        "member_ids",
                        "validation_failed",
                        "A tag holds at most 10,000 members",
                    ));
                }
                for id in ids
                    .iter()
                    .filter(|i| !old.member_ids.contains(i))
                    .chain(old.member_ids.iter().filter(|i| !ids.contains(i)))
                {
                    let m = store::member_in(tx, *id)?.ok_or_else(|| {
                        AppError::invalid("member_ids", "unknown_member", format!("Member {id} does not exist"))
                    })?;
                    if !scope.contains_member(&m.department_ids) {
                        return Err(out_of_scope());
                    }
                }
                t.member_ids = ids;
            }
            if let Some(ids) = &input.department_ids {
                let mut ids = ids.clone();
                ids.sort_unstable();
                ids.dedup();
                for d in ids
                    .iter()
                    .filter(|i| !old.department_ids.contains(i))
                    .chain(old.department_ids.iter().filter(|i| !ids.contains(i)))
                {
                    if tree.get(*d).is_none() {
                        return Err(AppError::invalid(
                            "department_ids",
                            "unknown_department",
                            format!("Department {d} does not exist"),
                        ));
                    }
                    if !scope.contains_department(*d) {
                        return Err(out_of_scope());
                    }
                }
                t.department_ids = ids;
            }
            store::put_tag(tx, Some(&old), &t)?;
            audit::record(
                tx,
                &ctx.actor,
                "tag.updated",
                target(&t),
                json!({ "members": t.member_ids.len(), "departments": t.department_ids.len() }),
            )?;
            Ok(t)
        })
        .await
}

pub async fn delete(p: &Platform, ctx: &AdminCtx, id: u64) -> AppResult<()> {
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let t = store::TAGS.open(tx.txn)?.get(&id)?.ok_or_else(|| AppError::not_found("tag"))?;
            if !ctx.role.is_super() {
                return Err(AppError::forbidden("Only super administrators may delete tags"));
            }
            store::remove_tag(tx, &t)?;
            audit::record(tx, &ctx.actor, "tag.deleted", target(&t), json!({}))?;
            Ok(())
        })
        .await
}
