//! Department use cases: create, rename, move (no cycles, depth ≤ 15), reorder, set leaders,
//! delete when empty. Branch admins act only inside their subtrees and cannot move or delete
//! the roots of their own scope.

use super::members::{out_of_scope, AdminCtx};
use super::model::{validate_department_name, Department, MAX_DEPTH};
use super::store;
use super::tree::{Scope, Tree};
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::store::Tx;
use crate::platform::Platform;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDepartment {
    pub name: String,
    pub parent_id: u64,
    pub order: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DepartmentPatch {
    pub name: Option<String>,
    pub parent_id: Option<u64>,
    pub order: Option<i64>,
    pub leader_ids: Option<Vec<u64>>,
}

fn target(d: &Department) -> String {
    format!("department:{} ({})", d.id, d.name)
}

fn unique_sibling_name(tree: &Tree, parent: u64, name: &str, except: u64) -> AppResult<()> {
    match tree.child_named(parent, name) {
        Some(other) if other != except => {
            Err(AppError::conflict("duplicate_name", "A department with this name already exists at this level")
                .with_details(json!({ "field": "name" })))
        }
        _ => Ok(()),
    }
}

/// Create a department under `parent` inside the caller's transaction (also used by import).
pub fn insert(tx: &Tx, tree: &Tree, parent: u64, name: &str, order: Option<i64>) -> AppResult<Department> {
    let name = validate_department_name(name)?;
    if tree.get(parent).is_none() {
        return Err(AppError::invalid("parent_id", "unknown_department", "The parent department does not exist"));
    }
    if tree.depth(parent) + 1 > MAX_DEPTH {
        return Err(AppError::invalid(
            "parent_id",
            "too_deep",
            format!("Departments can be nested at most {MAX_DEPTH} levels"),
        ));
    }
    unique_sibling_name(tree, parent, &name, 0)?;
    let order = order.unwrap_or_else(|| {
        tree.children(parent).iter().filter_map(|c| tree.get(*c)).map(|d| d.order).max().map_or(0, |m| m + 1)
    });
    let d = Department {
        id: tx.next_seq()?,
        parent_id: parent,
        name,
        order,
        leader_ids: Vec::new(),
        created_at: tx.now,
        updated_at: tx.now,
    };
    store::put_department(tx, &d)?;
    Ok(d)
}

pub async fn create(p: &Platform, ctx: &AdminCtx, input: NewDepartment) -> AppResult<Department> {
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let tree = store::tree_in(tx)?;
            if tree.get(input.parent_id).is_some() && !Scope::of(&ctx.role, &tree).contains_department(input.parent_id)
            {
                return Err(out_of_scope());
            }
            let d = insert(tx, &tree, input.parent_id, &input.name, input.order)?;
            audit::record_for(
                tx,
                &ctx.actor,
                "department.created",
                target(&d),
                json!({ "path": format!("{}/{}", tree.path_name(d.parent_id), d.name) }),
                &[d.id, d.parent_id],
            )?;
            Ok(d)
        })
        .await
}

fn managed(tree: &Tree, ctx: &AdminCtx, id: u64) -> AppResult<Department> {
    let d = tree.get(id).cloned().ok_or_else(|| AppError::not_found("department"))?;
    if !Scope::of(&ctx.role, tree).contains_department(id) {
        return Err(out_of_scope());
    }
    Ok(d)
}

fn is_scope_root(ctx: &AdminCtx, id: u64) -> bool {
    !ctx.role.is_super() && ctx.role.department_ids.contains(&id)
}

pub async fn update(p: &Platform, ctx: &AdminCtx, id: u64, patch: DepartmentPatch) -> AppResult<Department> {
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let tree = store::tree_in(tx)?;
            let old = managed(&tree, &ctx, id)?;
            let mut d = old.clone();
            let mut action = "department.updated";
            if let Some(parent) = patch.parent_id.filter(|p| *p != old.parent_id) {
                move_checks(&tree, &ctx, &old, parent)?;
                d.parent_id = parent;
                action = "department.moved";
            }
            if let Some(name) = &patch.name {
                d.name = validate_department_name(name)?;
            }
            if d.parent_id != 0 && (d.name != old.name || d.parent_id != old.parent_id) {
                unique_sibling_name(&tree, d.parent_id, &d.name, id)?;
            }
            if let Some(order) = patch.order {
                d.order = order;
            }
            if let Some(leaders) = &patch.leader_ids {
                let mut leaders = leaders.clone();
                super::members::dedup_keep_order(&mut leaders);
                for l in &leaders {
                    let m = store::member_in(tx, *l)?.ok_or_else(|| AppError::invalid("leader_ids", "unknown_member", "A leader does not exist"))?;
                    if !m.department_ids.contains(&id) || m.status == super::model::MemberStatus::Left {
                        return Err(AppError::invalid("leader_ids", "validation_failed", format!("{} is not a member of this department", m.name)));
                    }
                }
                d.leader_ids = leaders;
            }
            d.updated_at = tx.now;
            store::put_department(tx, &d)?;
            let details = json!({ "from": { "name": old.name, "parent_id": old.parent_id, "order": old.order }, "to": { "name": d.name, "parent_id": d.parent_id, "order": d.order } });
            audit::record_for(tx, &ctx.actor, action, target(&d), details, &[d.id, old.parent_id, d.parent_id])?;
            Ok(d)
        })
        .await
}

fn move_checks(tree: &Tree, ctx: &AdminCtx, d: &Department, parent: u64) -> AppResult<()> {
    if d.parent_id == 0 {
        return Err(AppError::conflict("cannot_move_root", "The root department cannot be moved"));
    }
    if is_scope_root(ctx, d.id) {
        return Err(out_of_scope());
    }
    if tree.get(parent).is_none() {
        return Err(AppError::invalid("parent_id", "unknown_department", "The new parent department does not exist"));
    }
    if !Scope::of(&ctx.role, tree).contains_department(parent) {
        return Err(out_of_scope());
    }
    if tree.is_within(parent, d.id) {
        return Err(AppError::conflict(
            "department_cycle",
            "A department cannot be moved under itself or its own sub-department",
        ));
    }
    if tree.depth(parent) + tree.height(d.id) > MAX_DEPTH {
        return Err(AppError::invalid(
            "parent_id",
            "too_deep",
            format!("Departments can be nested at most {MAX_DEPTH} levels"),
        ));
    }
    Ok(())
}

pub async fn delete(p: &Platform, ctx: &AdminCtx, id: u64) -> AppResult<()> {
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let tree = store::tree_in(tx)?;
            let d = managed(&tree, &ctx, id)?;
            if d.parent_id == 0 {
                return Err(AppError::conflict("cannot_delete_root", "The root department cannot be deleted"));
            }
            if is_scope_root(&ctx, id) {
                return Err(out_of_scope());
            }
            if !tree.children(id).is_empty() {
                return Err(AppError::conflict("department_not_empty", "Move or delete the sub-departments first"));
            }
            if store::department_has_members(tx.txn, id)? {
                return Err(AppError::conflict("department_not_empty", "Move the members to another department first"));
            }
            store::remove_department(tx, id)?;
            for mut t in store::all_tags_in(tx)?.into_iter().filter(|t| t.department_ids.contains(&id)) {
                let before = t.clone();
                t.department_ids.retain(|x| *x != id);
                store::put_tag(tx, Some(&before), &t)?;
            }
            audit::record_for(
                tx,
                &ctx.actor,
                "department.deleted",
                target(&d),
                json!({ "path": tree.path_name(id) }),
                &[id, d.parent_id],
            )?;
            Ok(())
        })
        .await
}
