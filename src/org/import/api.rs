//! HTTP handlers: template download, dry run, commit, export. Every endpoint needs the
//! `import` permission; the commit also needs `members` (and `departments` when it creates
//! departments, checked inside the transaction).

use super::cache::{ImportCache, Pending};
use super::plan::{self, Org};
use super::{apply, export, parse, template};
use crate::error::{AppError, AppResult};
use crate::org::service::admin_ctx;
use crate::org::store;
use crate::org::tree::Scope;
use crate::platform::auth::{Auth, Permission};
use crate::platform::http::{receive_file, xlsx_response};
use crate::platform::settings::SettingsDoc;
use crate::platform::Platform;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

type P = web::Data<Platform>;
type Cache = web::Data<ImportCache>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(ImportCache::shared())
        .route("/admin/import/template", web::get().to(download_template))
        .route("/admin/import/dry-run", web::post().to(dry_run))
        .route("/admin/import/commit", web::post().to(commit))
        .route("/admin/export/members", web::get().to(export_members));
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> AppResult<T> + Send + 'static) -> AppResult<T> {
    web::block(f).await.map_err(AppError::internal)?
}

async fn download_template(p: P, auth: Auth) -> AppResult<HttpResponse> {
    admin_ctx(&p, &auth, Some(Permission::Import))?;
    let p2 = p.clone();
    let bytes = blocking(move || {
        let txn = p2.store.begin_read()?;
        let fields = crate::org::model::CustomFields::load(&txn)?;
        let tree = store::tree(&txn)?;
        let root = tree.root_id().and_then(|r| tree.get(r)).map(|d| d.name.clone()).unwrap_or_default();
        template::template_xlsx(&fields, &root)
    })
    .await?;
    Ok(xlsx_response(bytes, "officebox-import-template.xlsx"))
}

async fn dry_run(p: P, auth: Auth, cache: Cache, mp: actix_multipart::Multipart) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, Some(Permission::Import))?;
    let upload = receive_file(&p, mp, p.config.max_upload_bytes()).await?;
    let path = p.blobs.path_of(&upload.blob.sha256)?;
    let p2 = p.clone();
    let role = ctx.role.clone();
    let (sheet, report) = blocking(move || {
        let sheet = parse::read_xlsx(&path)?;
        let txn = p2.store.begin_read()?;
        let org = Org::load(&txn, &sheet)?;
        let plan = plan::build(&sheet, &org, &Scope::of(&role, &org.tree));
        let report = json!({
            "total_rows": plan.total_rows,
            "creates": plan.creates(),
            "updates": plan.updates(),
            "new_departments": plan.new_department_paths(),
            "errors": plan.errors,
            "error_count": plan.error_count,
        });
        Ok((sheet, report))
    })
    .await?;
    let pending = Pending {
        owner: auth.user_id,
        data_dir: p.config.data_dir.clone(),
        created_at: p.now_ms(),
        file_name: upload.filename,
        sheet: Arc::new(sheet),
    };
    let import_id = cache.insert(pending, p.now_ms());
    let mut report = report;
    report["import_id"] = json!(import_id);
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommitBody {
    import_id: String,
}

async fn commit(p: P, auth: Auth, cache: Cache, body: web::Json<CommitBody>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, Some(Permission::Import))?;
    if !ctx.role.has(Permission::Members) {
        return Err(AppError::forbidden("Importing members needs the members permission"));
    }
    let id = body.into_inner().import_id;
    let pending =
        cache.get(&id, auth.user_id, &p.config.data_dir, p.now_ms()).ok_or_else(|| AppError::not_found("import"))?;
    let sheet = pending.sheet.clone();
    let name = pending.file_name.clone();
    let out = p.store.write(move |tx| apply::commit(tx, &sheet, &ctx, &name)).await?;
    cache.remove(&id);
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Deserialize)]
struct ExportQuery {
    department_id: Option<u64>,
}

async fn export_members(p: P, auth: Auth, q: web::Query<ExportQuery>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, Some(Permission::Import))?;
    let p2 = p.clone();
    let department_id = q.department_id;
    let bytes = blocking(move || export::members_xlsx(&p2.store.begin_read()?, &ctx.role, department_id)).await?;
    Ok(xlsx_response(bytes, "officebox-members.xlsx"))
}
