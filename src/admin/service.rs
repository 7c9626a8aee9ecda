//! Super-admin use cases: granting admin roles, security settings, SMTP settings, the audit
//! log view and export.

use crate::error::{AppError, AppResult};
use crate::org::service::{self as org, AdminCtx, MemberStatus};
use crate::platform::audit::{self, AuditEntry, AuditFilter};
use crate::platform::auth::roles::ADMINS;
use crate::platform::auth::session::SecuritySettings;
use crate::platform::auth::AdminRole;
use crate::platform::mail::SmtpSettings;
use crate::platform::settings::SettingsDoc;
use crate::platform::Platform;
use serde_json::json;

pub fn list_admins(p: &Platform) -> AppResult<Vec<serde_json::Value>> {
    let txn = p.store.begin_read()?;
    let mut out = Vec::new();
    for (id, role) in ADMINS.all_in(&txn)? {
        let m = org::get_member(&txn, id)?;
        out.push(json!({ "member": org::view_one(&txn, m)?, "role": role }));
    }
    Ok(out)
}

fn target(m: &org::Member) -> String {
    format!("member:{} ({})", m.userid, m.name)
}

fn super_count(tx: &crate::platform::store::Tx) -> AppResult<usize> {
    let t = ADMINS.open(tx.txn)?;
    let rows: AppResult<Vec<_>> = t.iter()?.collect();
    Ok(rows?.iter().filter(|(_, r)| r.is_super()).count())
}

pub async fn grant(p: &Platform, ctx: &AdminCtx, member_id: u64, role: AdminRole) -> AppResult<AdminRole> {
    let role = role.normalised()?;
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let m = crate::org::store::member_in(tx, member_id)?.ok_or_else(|| AppError::not_found("member"))?;
            if m.status != MemberStatus::Active && m.status != MemberStatus::Inactive {
                return Err(AppError::conflict("member_not_active", "Only active members can be administrators"));
            }
            let tree = crate::org::store::tree_in(tx)?;
            if let Some(bad) = role.department_ids.iter().find(|d| tree.get(**d).is_none()) {
                return Err(AppError::invalid(
                    "department_ids",
                    "unknown_department",
                    format!("Department {bad} does not exist"),
                ));
            }
            let previous = ADMINS.open(tx.txn)?.get(&member_id)?;
            if previous.as_ref().is_some_and(|r| r.is_super()) && !role.is_super() && super_count(tx)? <= 1 {
                return Err(AppError::conflict(
                    "last_super_admin",
                    "There must always be at least one super administrator",
                ));
            }
            ADMINS.open(tx.txn)?.put(&member_id, &role)?;
            audit::record(tx, &ctx.actor, "admin.granted", target(&m), json!({ "role": role, "previous": previous }))?;
            Ok(role.clone())
        })
        .await
}

pub async fn revoke(p: &Platform, ctx: &AdminCtx, member_id: u64) -> AppResult<()> {
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let m = crate::org::store::member_in(tx, member_id)?.ok_or_else(|| AppError::not_found("member"))?;
            let role = ADMINS.open(tx.txn)?.get(&member_id)?.ok_or_else(|| AppError::not_found("administrator"))?;
            if role.is_super() && super_count(tx)? <= 1 {
                return Err(AppError::conflict(
                    "last_super_admin",
                    "There must always be at least one super administrator",
                ));
            }
            ADMINS.open(tx.txn)?.remove(&member_id)?;
            audit::record(tx, &ctx.actor, "admin.revoked", target(&m), json!({ "role": role }))?;
            Ok(())
        })
        .await
}

pub async fn put_security(p: &Platform, ctx: &AdminCtx, s: SecuritySettings) -> AppResult<SecuritySettings> {
    s.validate()?;
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let old = SecuritySettings::load_in(tx)?;
            s.save(tx)?;
            audit::record(tx, &ctx.actor, "security.updated", "security", json!({ "from": old, "to": s }))?;
            Ok(s.clone())
        })
        .await
}

/// SMTP settings as shown: never the password.
pub fn smtp_view(s: &SmtpSettings) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("password");
        o.insert("has_password".into(), json!(!s.password.is_empty()));
    }
    v
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpInput {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    pub security: crate::platform::mail::SmtpSecurity,
    #[serde(default)]
    pub username: String,
    /// `None` keeps the stored password.
    pub password: Option<String>,
    pub from_address: String,
    #[serde(default)]
    pub from_name: String,
}

pub async fn put_smtp(p: &Platform, ctx: &AdminCtx, input: SmtpInput) -> AppResult<SmtpSettings> {
    let ctx = ctx.clone();
    p.store
        .write(move |tx| {
            let old = SmtpSettings::load_in(tx)?;
            let s = SmtpSettings {
                enabled: input.enabled,
                host: input.host.trim().to_owned(),
                port: input.port,
                security: input.security,
                username: input.username.trim().to_owned(),
                password: input.password.clone().unwrap_or(old.password),
                from_address: input.from_address.trim().to_owned(),
                from_name: input.from_name.trim().to_owned(),
            };
            s.validate()?;
            s.save(tx)?;
            audit::record(tx, &ctx.actor, "smtp.updated", "smtp", smtp_view(&s))?;
            Ok(s)
        })
        .await
}

pub async fn test_smtp(p: &Platform, ctx: &AdminCtx, to: &str) -> AppResult<()> {
    let s = SmtpSettings::load(&p.store.begin_read()?)?;
    let result = crate::platform::mail::send(
        &s,
        to,
        "OfficeBox 测试邮件 / test mail",
        "这是一封来自 OfficeBox 的测试邮件，邮件设置可以正常使用。\n\nThis is a test mail from OfficeBox: the mail settings work.\n",
    )
    .await;
    let ctx = ctx.clone();
    let (to, ok, err) = (to.to_owned(), result.is_ok(), result.as_ref().err().map(|e| e.message.clone()));
    p.store
        .write(move |tx| audit::record(tx, &ctx.actor, "smtp.tested", to.clone(), json!({ "ok": ok, "error": err })))
        .await?;
    result
}

/// Every audit entry matching the filter, newest first (for export; bounded).
pub fn audit_all(p: &Platform, f: &AuditFilter) -> AppResult<Vec<AuditEntry>> {
    Ok(audit::query(&p.store.begin_read()?, f, None, 100_000)?.0)
}

pub fn audit_xlsx(entries: &[AuditEntry], tz: &str) -> AppResult<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let bold = Format::new().set_bold();
    let xl = |e: rust_xlsxwriter::XlsxError| AppError::internal(e);
    for (c, h) in ["时间 Time", "操作人 Actor", "操作 Action", "对象 Target", "IP", "详情 Details"].iter().enumerate()
    {
        ws.write_with_format(0, c as u16, *h, &bold).map_err(xl)?;
    }
    for (i, e) in entries.iter().enumerate() {
        let r = i as u32 + 1;
        let when = chrono::DateTime::from_timestamp_millis(e.at)
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        ws.write(r, 0, when).map_err(xl)?;
        ws.write(r, 1, format!("{} (#{})", e.actor_name, e.actor_id)).map_err(xl)?;
        ws.write(r, 2, &e.action).map_err(xl)?;
        ws.write(r, 3, &e.target).map_err(xl)?;
        ws.write(r, 4, &e.ip).map_err(xl)?;
        ws.write(r, 5, e.details.to_string()).map_err(xl)?;
    }
    ws.set_column_width(0, 20).map_err(xl)?;
    ws.set_column_width(3, 36).map_err(xl)?;
    ws.set_column_width(5, 60).map_err(xl)?;
    wb.save_to_buffer().map_err(xl)
}
