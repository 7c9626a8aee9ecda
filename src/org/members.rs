//! Member use cases for admins: onboard, edit (incl. department transfer, position and
//! supervisor changes), disable / enable, offboard with a hand-over target. Every change checks
//! the admin's scope inside the transaction and is audited in it.

use super::model::*;
use super::store::{self, MEMBERS};
use super::tree::{Scope, Tree};
use crate::error::{AppError, AppResult};
use crate::platform::audit::{self, Actor};
use crate::platform::auth::{credentials, session, AdminRole};
use crate::platform::settings::SettingsDoc;
use crate::platform::store::Tx;
use crate::platform::Platform;
use serde_json::json;

/// An admin acting: who, from where, with which role.
#[derive(Debug, Clone)]
pub struct AdminCtx {
    pub actor: Actor,
    pub role: AdminRole,
}

pub fn out_of_scope() -> AppError {
    AppError::new(actix_web::http::StatusCode::FORBIDDEN, "out_of_scope", "This is outside the departments you manage")
}

pub fn target(m: &Member) -> String {
    format!("member:{} ({})", m.userid, m.name)
}

/// Apply `input` to `m`, validating every field against the org. Used by create, update and
/// the Excel import. `scope` limits which departments may be added or removed.
/// Branch admins (a `Departments` scope) may not change an administrator's record.
pub fn apply_input(
    tx: &Tx,
    tree: &Tree,
    scope: &Scope,
    m: &mut Member,
    input: &MemberInput,
    fields: &CustomFields,
) -> AppResult<()> {
    let protected = m.id != 0
        && matches!(scope, Scope::Departments(_))
        && crate::platform::auth::roles::ADMINS.open(tx.txn)?.get(&m.id)?.is_some();
    let before = protected.then(|| m.clone());
    apply_fields(tx, tree, scope, m, input, fields)?;
    if before.is_some_and(|b| b != *m) {
        return Err(admin_protected());
    }
    Ok(())
}

/// Replace `dst` with the validated input when the input has the field (PATCH semantics).
fn set<S, T>(dst: &mut T, src: &Option<S>, parse: impl FnOnce(&S) -> AppResult<T>) -> AppResult<()> {
    if let Some(v) = src {
        *dst = parse(v)?;
    }
    Ok(())
}

/// A trimmed free-text field of at most `max` characters.
fn bounded(field: &'static str, max: usize) -> impl FnOnce(&String) -> AppResult<String> {
    move |v| {
        check_len(field, v.trim(), max)?;
        Ok(v.trim().to_owned())
    }
}

fn apply_fields(
    tx: &Tx,
    tree: &Tree,
    scope: &Scope,
    m: &mut Member,
    input: &MemberInput,
    fields: &CustomFields,
) -> AppResult<()> {
    set(&mut m.userid, &input.userid, |v| validate_userid(v))?;
    set(&mut m.name, &input.name, |v| validate_name(v))?;
    set(&mut m.alias, &input.alias, bounded("alias", 64))?;
    set(&mut m.position, &input.position, bounded("position", 128))?;
    set(&mut m.mobile, &input.mobile, |v| validate_mobile(v))?;
    set(&mut m.email, &input.email, |v| validate_email(v))?;
    set(&mut m.gender, &input.gender, |v| validate_gender(*v))?;
    set(&mut m.telephone, &input.telephone, |v| validate_telephone(v))?;
    set(&mut m.employee_no, &input.employee_no, bounded("employee_no", 64))?;
    if let Some(v) = &input.hire_date {
        m.hire_date = match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(d) => Some(validate_date("hire_date", d)?),
            None => None,
        };
    }
    if let Some(custom) = &input.custom {
        for (k, v) in custom {
            if !fields.items.iter().any(|f| &f.key == k) {
                return Err(AppError::invalid(
                    "custom",
                    "unknown_custom_field",
                    format!("There is no custom field `{k}`"),
                ));
            }
            check_len(k, v, 256)?;
        }
        m.custom = custom
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k.clone(), v.trim().to_owned()))
            .collect();
    }
    if m.mobile.is_empty() && m.email.is_empty() {
        return Err(AppError::invalid(
            "mobile",
            "mobile_or_email_required",
            "Enter a mobile number or an email address",
        ));
    }
    apply_departments(tree, scope, m, input)?;
    if let Some(sups) = &input.supervisor_ids {
        let mut sups = sups.clone();
        dedup_keep_order(&mut sups);
        if sups.len() > 5 {
            return Err(AppError::invalid("supervisor_ids", "validation_failed", "At most 5 direct supervisors"));
        }
        for s in &sups {
            if *s == m.id && m.id != 0 {
                return Err(AppError::invalid(
                    "supervisor_ids",
                    "validation_failed",
                    "A member cannot supervise themselves",
                ));
            }
            if store::member_in(tx, *s)?.is_none() {
                return Err(AppError::invalid("supervisor_ids", "unknown_supervisor", "A supervisor does not exist"));
            }
        }
        m.supervisor_ids = sups;
    }
    Ok(())
}

fn apply_departments(tree: &Tree, scope: &Scope, m: &mut Member, input: &MemberInput) -> AppResult<()> {
    if let Some(depts) = &input.department_ids {
        let mut depts = depts.clone();
        dedup_keep_order(&mut depts);
        if depts.is_empty() {
            return Err(AppError::invalid(
                "department_ids",
                "department_required",
                "A member belongs to at least one department",
            ));
        }
        if depts.len() > 20 {
            return Err(AppError::invalid(
                "department_ids",
                "validation_failed",
                "A member can belong to at most 20 departments",
            ));
        }
        for d in &depts {
            if tree.get(*d).is_none() {
                return Err(AppError::invalid(
                    "department_ids",
                    "unknown_department",
                    format!("Department {d} does not exist"),
                ));
            }
        }
        let changed = depts
            .iter()
            .filter(|d| !m.department_ids.contains(d))
            .chain(m.department_ids.iter().filter(|d| !depts.contains(d)));
        if changed.into_iter().any(|d| !scope.contains_department(*d)) {
            return Err(out_of_scope());
        }
        m.department_ids = depts;
    }
    if let Some(main) = input.main_department_id {
        m.main_department_id = main;
    }
    if !m.department_ids.contains(&m.main_department_id) {
        m.main_department_id = m.department_ids.first().copied().unwrap_or(0);
    }
    Ok(())
}

/// Remove repeated ids, keeping the first occurrence (the first department is the main one).
pub fn dedup_keep_order(ids: &mut Vec<u64>) {
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
}

fn check_leader_of(m: &Member, leader_of: &[u64]) -> AppResult<()> {
    if let Some(bad) = leader_of.iter().find(|d| !m.department_ids.contains(d)) {
        return Err(AppError::invalid(
            "leader_of",
            "validation_failed",
            format!("Department {bad} is not one of the member's departments"),
        ));
    }
    Ok(())
}

/// Leadership may only change in departments inside the admin's scope (a member of an inside
/// and an outside department must not be made, or unmade, leader of the outside one).
fn check_leader_scope(tree: &Tree, scope: &Scope, m: &Member, leader_of: Option<&[u64]>) -> AppResult<()> {
    let Some(l) = leader_of else { return Ok(()) };
    check_leader_of(m, l)?;
    let changes = tree
        .by_id
        .values()
        .any(|d| d.leader_ids.contains(&m.id) != l.contains(&d.id) && !scope.contains_department(d.id));
    if changes {
        return Err(out_of_scope());
    }
    Ok(())
}

/// Make department leader lists agree with `leader_of` (and drop departments the member left).
pub fn sync_leaders(tx: &Tx, tree: &Tree, m: &Member, leader_of: Option<&[u64]>) -> AppResult<()> {
    if let Some(l) = leader_of {
        check_leader_of(m, l)?;
    }
    for d in tree.by_id.values() {
        let is_leader = d.leader_ids.contains(&m.id);
        let should = match leader_of {
            Some(l) => l.contains(&d.id),
            None => is_leader && m.department_ids.contains(&d.id) && m.status != MemberStatus::Left,
        };
        if is_leader != should {
            let mut d = d.clone();
            if should {
                d.leader_ids.push(m.id);
            } else {
                d.leader_ids.retain(|x| *x != m.id);
            }
            d.updated_at = tx.now;
            store::put_department(tx, &d)?;
        }
    }
    Ok(())
}

pub async fn create(p: &Platform, ctx: &AdminCtx, input: MemberInput) -> AppResult<Member> {
    let password_hash = match input.initial_password.as_deref().filter(|s| !s.is_empty()) {
        Some(pw) => {
            let policy = p.store.read(crate::platform::auth::session::SecuritySettings::load)?.password;
            policy.check(pw, input.userid.as_deref().unwrap_or(""))?;
            Some(crate::platform::auth::password::hash(pw.to_owned(), p.config.bcrypt_cost).await?)
        }
        None => None,
    };
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let tree = store::tree_in(tx)?;
            let scope = Scope::of(&ctx.role, &tree);
            if input.userid.is_none() || input.name.is_none() || input.department_ids.is_none() {
                return Err(AppError::invalid("userid", "required", "Account id, name and department are required"));
            }
            let fields = CustomFields::load_in(tx)?;
            let mut m = Member { id: 0, created_at: tx.now, updated_at: tx.now, ..Member::default() };
            apply_input(tx, &tree, &scope, &mut m, &input, &fields)?;
            m.id = tx.next_seq()?;
            m.status = if password_hash.is_some() { MemberStatus::Active } else { MemberStatus::Inactive };
            check_leader_scope(&tree, &scope, &m, input.leader_of.as_deref())?;
            store::put_member(tx, None, &m)?;
            sync_leaders(tx, &tree, &m, input.leader_of.as_deref())?;
            if let Some(h) = &password_hash {
                credentials::set(tx, m.id, h, true)?;
            }
            audit::record_for(tx, &ctx.actor, "member.created", target(&m), json!({}), &m.department_ids)?;
            Ok(m)
        })
        .await
}

/// The one rule for which members an admin may manage: inside their scope, and never another
/// administrator unless they are a super admin.
fn check_manageable(tree: &Tree, role: &AdminRole, m: &Member, target_is_admin: bool) -> AppResult<()> {
    if !Scope::of(role, tree).contains_member(&m.department_ids) {
        return Err(out_of_scope());
    }
    if !role.is_super() && target_is_admin {
        return Err(admin_protected());
    }
    Ok(())
}

/// Load a member an admin may manage (404 if missing, 403 out of scope) inside a write.
pub fn managed(tx: &Tx, tree: &Tree, role: &AdminRole, id: u64) -> AppResult<Member> {
    let m = store::member_in(tx, id)?.ok_or_else(|| AppError::not_found("member"))?;
    let is_admin = crate::platform::auth::roles::ADMINS.open(tx.txn)?.get(&id)?.is_some();
    check_manageable(tree, role, &m, is_admin)?;
    Ok(m)
}

/// The same check against a read snapshot (for use cases that act outside the org tables).
pub fn managed_in_snapshot(txn: &redb::ReadTransaction, role: &AdminRole, id: u64) -> AppResult<Member> {
    let m = get(txn, id)?;
    let is_admin = crate::platform::auth::roles::role_of(txn, id)?.is_some();
    check_manageable(&store::tree(txn)?, role, &m, is_admin)?;
    Ok(m)
}

/// Branch admins never manage administrators' accounts: resetting a super admin's password or
/// changing their email would hand over the wider role.
pub fn admin_protected() -> AppError {
    AppError::forbidden("Only super administrators can manage the accounts of administrators")
}

pub async fn update(p: &Platform, ctx: &AdminCtx, id: u64, input: MemberInput) -> AppResult<Member> {
    if input.initial_password.is_some() || input.send_invite.is_some() {
        return Err(AppError::bad_request("bad_request", "Passwords and invitations have their own endpoints"));
    }
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let tree = store::tree_in(tx)?;
            let old = managed(tx, &tree, &ctx.role, id)?;
            let scope = Scope::of(&ctx.role, &tree);
            let mut m = old.clone();
            apply_input(tx, &tree, &scope, &mut m, &input, &CustomFields::load_in(tx)?)?;
            check_leader_scope(&tree, &scope, &m, input.leader_of.as_deref())?;
            m.updated_at = tx.now;
            store::put_member(tx, Some(&old), &m)?;
            sync_leaders(tx, &tree, &m, input.leader_of.as_deref())?;
            let action = if old.department_ids != m.department_ids { "member.transferred" } else { "member.updated" };
            let touched = [old.department_ids.as_slice(), m.department_ids.as_slice()].concat();
            audit::record_for(tx, &ctx.actor, action, target(&m), changed_fields(&old, &m), &touched)?;
            Ok(m)
        })
        .await
}

fn changed_fields(old: &Member, new: &Member) -> serde_json::Value {
    let (a, b) = (serde_json::to_value(old).unwrap_or_default(), serde_json::to_value(new).unwrap_or_default());
    let mut changed = serde_json::Map::new();
    if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
        for (k, v) in b {
            if a.get(k) != Some(v) && k != "updated_at" {
                changed.insert(k.clone(), json!({ "from": a.get(k), "to": v }));
            }
        }
    }
    serde_json::Value::Object(changed)
}

pub async fn set_enabled(p: &Platform, ctx: &AdminCtx, id: u64, enabled: bool) -> AppResult<Member> {
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let tree = store::tree_in(tx)?;
            let old = managed(tx, &tree, &ctx.role, id)?;
            if id == ctx.actor.id {
                return Err(AppError::conflict("cannot_disable_self", "You cannot disable your own account"));
            }
            let mut m = old.clone();
            m.status = match (enabled, old.status) {
                (_, MemberStatus::Left) => {
                    return Err(AppError::conflict("member_left", "This member has left; onboard them again instead"))
                }
                (true, MemberStatus::Disabled) => {
                    if credentials::get_in(tx, id)?.is_some() {
                        MemberStatus::Active
                    } else {
                        MemberStatus::Inactive
                    }
                }
                (true, s) => s,
                (false, _) => MemberStatus::Disabled,
            };
            m.updated_at = tx.now;
            store::put_member(tx, Some(&old), &m)?;
            if !enabled {
                session::remove_all_for_user(tx, id, None)?;
            }
            let action = if enabled { "member.enabled" } else { "member.disabled" };
            audit::record_for(tx, &ctx.actor, action, target(&m), json!({}), &m.department_ids)?;
            Ok(m)
        })
        .await
}

/// Offboard (离职): status `left`, sessions ended, removed from leader lists and tags, with a
/// hand-over member who inherits chats, files and customers in later features.
pub async fn offboard(p: &Platform, ctx: &AdminCtx, id: u64, handover_to: u64) -> AppResult<Member> {
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let tree = store::tree_in(tx)?;
            let old = managed(tx, &tree, &ctx.role, id)?;
            if id == ctx.actor.id {
                return Err(AppError::conflict("cannot_offboard_self", "You cannot offboard yourself"));
            }
            if old.status == MemberStatus::Left {
                return Err(AppError::conflict("member_left", "This member has already left"));
            }
            let heir = store::member_in(tx, handover_to)?
                .filter(|h| h.id != id && matches!(h.status, MemberStatus::Active | MemberStatus::Inactive))
                .ok_or_else(|| {
                    AppError::invalid("handover_to", "invalid_handover", "Pick an active colleague to hand over to")
                })?;
            if crate::platform::auth::roles::ADMINS.open(tx.txn)?.get(&id)?.is_some_and(|r| r.is_super()) {
                return Err(AppError::conflict("is_super_admin", "Revoke this member's super admin role first"));
            }
            let mut m = old.clone();
            m.status = MemberStatus::Left;
            m.handover_to = Some(heir.id);
            m.updated_at = tx.now;
            store::put_member(tx, Some(&old), &m)?;
            sync_leaders(tx, &tree, &m, Some(&[]))?;
            for mut t in store::all_tags_in(tx)?.into_iter().filter(|t| t.member_ids.contains(&id)) {
                let before = t.clone();
                t.member_ids.retain(|x| *x != id);
                store::put_tag(tx, Some(&before), &t)?;
            }
            session::remove_all_for_user(tx, id, None)?;
            crate::platform::auth::roles::ADMINS.open(tx.txn)?.remove(&id)?;
            audit::record_for(
                tx,
                &ctx.actor,
                "member.offboarded",
                target(&m),
                json!({ "handover_to": heir.userid }),
                &m.department_ids,
            )?;
            Ok(m)
        })
        .await
}

pub fn get(txn: &redb::ReadTransaction, id: u64) -> AppResult<Member> {
    MEMBERS.get_in(txn, &id)?.ok_or_else(|| AppError::not_found("member"))
}
