//! First-run setup and the enterprise profile.

use super::model::*;
use crate::error::{AppError, AppResult};
use crate::org::model::{Department, Member, MemberInput, MemberStatus};
use crate::org::service::AdminCtx;
use crate::org::tree::{Scope, Tree};
use crate::platform::audit::{self, Actor};
use crate::platform::auth::{credentials, password, roles, AdminRole};
use crate::platform::blobs;
use crate::platform::settings::SettingsDoc;
use crate::platform::store::Store;
use crate::platform::Platform;
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::Ordering;

pub fn is_setup_done(store: &Store) -> AppResult<bool> {
    Enterprise::exists(&store.begin_read()?)
}

pub fn enterprise(txn: &redb::ReadTransaction) -> AppResult<Enterprise> {
    Enterprise::load(txn)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupAdmin {
    pub userid: String,
    pub name: String,
    pub password: String,
    pub mobile: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupInput {
    pub enterprise_name: String,
    pub time_zone: String,
    pub admin: SetupAdmin,
}

/// Create the enterprise, its root department and the first super admin. Returns the admin's
/// member id. Refused once setup has run (checked inside the transaction, so two racing wizards
/// cannot both succeed).
pub async fn run_setup(p: &Platform, input: SetupInput, ip: &str, base_url: String) -> AppResult<u64> {
    let name = validate_enterprise_name(&input.enterprise_name)?;
    let tz = validate_time_zone(&input.time_zone)?;
    crate::platform::auth::password::PasswordPolicy::default().check(&input.admin.password, &input.admin.userid)?;
    let hash = password::hash(input.admin.password.clone(), p.config.bcrypt_cost).await?;
    let ip = ip.to_owned();
    let id = p
        .store
        .write(move |tx| {
            if crate::platform::settings::SETTINGS.open(tx.txn)?.contains(&Enterprise::KEY.to_owned())? {
                return Err(AppError::conflict("already_set_up", "OfficeBox has already been set up"));
            }
            let ent = Enterprise {
                name: name.clone(),
                time_zone: tz.clone(),
                created_at: tx.now,
                base_url: base_url.clone(),
                ..Enterprise::default()
            };
            ent.save(tx)?;
            let root = Department {
                id: tx.next_seq()?,
                parent_id: 0,
                name: name.clone(),
                order: 0,
                leader_ids: Vec::new(),
                created_at: tx.now,
                updated_at: tx.now,
            };
            crate::org::store::put_department(tx, &root)?;
            let tree = Tree::new(vec![root.clone()]);
            let a = &input.admin;
            let member_input = MemberInput {
                userid: Some(a.userid.clone()),
                name: Some(a.name.clone()),
                mobile: a.mobile.clone(),
                email: a.email.clone(),
                department_ids: Some(vec![root.id]),
                ..MemberInput::default()
            };
            let mut m = Member { created_at: tx.now, updated_at: tx.now, ..Member::default() };
            crate::org::members::apply_input(tx, &tree, &Scope::All, &mut m, &member_input, &Default::default())?;
            m.id = tx.next_seq()?;
            m.status = MemberStatus::Active;
            crate::org::store::put_member(tx, None, &m)?;
            credentials::set(tx, m.id, &hash, false)?;
            roles::ADMINS.open(tx.txn)?.put(&m.id, &AdminRole::super_admin())?;
            let actor = Actor { id: m.id, name: m.name.clone(), ip: ip.clone() };
            audit::record(
                tx,
                &actor,
                "setup.completed",
                format!("enterprise:{name}"),
                json!({ "time_zone": tz, "admin": m.userid }),
            )?;
            Ok(m.id)
        })
        .await?;
    p.setup_done.store(true, Ordering::Release);
    Ok(id)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseInput {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub legal_name: Option<String>,
    pub credit_code: Option<String>,
    pub address: Option<String>,
}

pub async fn update(p: &Platform, ctx: &AdminCtx, input: EnterpriseInput) -> AppResult<Enterprise> {
    let mut patch = input;
    if let Some(n) = &patch.name {
        patch.name = Some(validate_enterprise_name(n)?);
    }
    if let Some(tz) = &patch.time_zone {
        patch.time_zone = Some(validate_time_zone(tz)?);
    }
    if let Some(c) = patch.credit_code.as_deref().filter(|c| !c.trim().is_empty()) {
        patch.credit_code = Some(validate_credit_code(c)?);
    }
    for (field, v, max) in [("legal_name", &patch.legal_name, 128), ("address", &patch.address, 256)] {
        if let Some(v) = v {
            crate::org::model::check_len(field, v, max)?;
        }
    }
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let old = Enterprise::load_in(tx)?;
            let mut e = old.clone();
            let p = patch.clone();
            e.name = p.name.unwrap_or(e.name);
            e.time_zone = p.time_zone.unwrap_or(e.time_zone);
            e.address = p.address.map(|s| s.trim().to_owned()).unwrap_or(e.address);
            let legal_changed = p.legal_name.as_ref().is_some_and(|l| l.trim() != e.legal_name);
            let code_changed = p.credit_code.as_ref().is_some_and(|c| c.trim() != e.credit_code);
            e.legal_name = p.legal_name.map(|s| s.trim().to_owned()).unwrap_or(e.legal_name);
            e.credit_code = p.credit_code.map(|s| s.trim().to_owned()).unwrap_or(e.credit_code);
            if legal_changed || code_changed {
                // Verified data changed: it must be verified again.
                e.verified = false;
                e.verified_at = None;
            }
            e.save(tx)?;
            if e.name != old.name {
                rename_root(tx, &e.name)?;
            }
            audit::record(
                tx,
                &ctx.actor,
                "enterprise.updated",
                "enterprise",
                json!({ "name": e.name, "verified": e.verified }),
            )?;
            Ok(e)
        })
        .await
}

/// The root department carries the enterprise's name.
fn rename_root(tx: &crate::platform::store::Tx, name: &str) -> AppResult<()> {
    let tree = crate::org::store::tree_in(tx)?;
    if let Some(mut root) = tree.root_id().and_then(|r| tree.get(r).cloned()) {
        root.name = name.to_owned();
        root.updated_at = tx.now;
        crate::org::store::put_department(tx, &root)?;
    }
    Ok(())
}

pub async fn set_verified(p: &Platform, ctx: &AdminCtx, verified: bool) -> AppResult<Enterprise> {
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let mut e = Enterprise::load_in(tx)?;
            if verified && (e.legal_name.is_empty() || e.credit_code.is_empty() || e.licence.is_none()) {
                return Err(AppError::conflict(
                    "verification_incomplete",
                    "Enter the legal name and credit code and upload the licence before verifying",
                ));
            }
            e.verified = verified;
            e.verified_at = verified.then_some(tx.now);
            e.save(tx)?;
            audit::record(tx, &ctx.actor, "enterprise.verified", "enterprise", json!({ "verified": verified }))?;
            Ok(e)
        })
        .await
}

#[derive(Debug, Clone, Copy)]
pub enum Image {
    Logo,
    Licence,
}

/// Replace the logo or licence image (already stored as a blob and sniffed as an image).
pub async fn set_image(p: &Platform, ctx: &AdminCtx, which: Image, sha: String) -> AppResult<Enterprise> {
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let mut e = Enterprise::load_in(tx)?;
            let slot = match which {
                Image::Logo => &mut e.logo,
                Image::Licence => &mut e.licence,
            };
            if let Some(prev) = slot.replace(sha.clone()) {
                blobs::release_ref(tx, &prev)?;
            }
            blobs::add_ref(tx, &sha)?;
            if matches!(which, Image::Licence) {
                e.verified = false;
                e.verified_at = None;
            }
            e.save(tx)?;
            let action = match which {
                Image::Logo => "enterprise.logo_updated",
                Image::Licence => "enterprise.licence_updated",
            };
            audit::record(tx, &ctx.actor, action, "enterprise", json!({ "sha256": sha }))?;
            Ok(e)
        })
        .await
}
