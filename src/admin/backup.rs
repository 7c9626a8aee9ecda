//! Backup and restore from the admin console (super admins), the daily schedule, and the local
//! control endpoint the CLI uses to back up a running server.

use crate::error::{AppError, AppResult};
use crate::org::service::admin_ctx;
use crate::platform::audit::{self, Actor};
use crate::platform::auth::extract::constant_time_eq;
use crate::platform::auth::Auth;
use crate::platform::backup;
use crate::platform::http::file_stream;
use crate::platform::settings::SettingsDoc;
use crate::platform::{Platform, Shutdown};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

type P = web::Data<Platform>;

/// `settings["backup"]`: the daily schedule.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct BackupSettings {
    pub daily_enabled: bool,
    /// Hour of the day (0–23) in the enterprise's time zone.
    pub hour: u32,
    /// How many daily backups to keep.
    pub keep: usize,
}

impl Default for BackupSettings {
    fn default() -> Self {
        BackupSettings { daily_enabled: true, hour: 3, keep: 7 }
    }
}

impl SettingsDoc for BackupSettings {
    const KEY: &'static str = "backup";
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/backup", web::post().to(download_now))
        .route("/admin/backups", web::get().to(list))
        .route("/admin/backups/{name}", web::get().to(download_stored))
        .route("/admin/backup-settings", web::put().to(put_settings))
        .route("/admin/restore", web::post().to(restore))
        .route("/local/backup", web::post().to(local_backup));
}

fn backups_dir(p: &Platform) -> PathBuf {
    p.config.data_dir.join("backups")
}

fn zip_response(file: std::fs::File, name: &str) -> AppResult<HttpResponse> {
    let len = file.metadata()?.len();
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")))
        .insert_header(("Cache-Control", "no-store"))
        .body(actix_web::body::SizedStream::new(len, file_stream(file))))
}

/// Write a fresh backup to an unlinked temp file and stream it (nothing is left on disk).
async fn fresh_backup(p: &P) -> AppResult<(std::fs::File, String)> {
    let p2 = p.clone();
    let name = backup::backup_name(p.now_ms());
    let file = web::block(move || -> AppResult<std::fs::File> {
        let dir = p2.config.data_dir.join("backups");
        std::fs::create_dir_all(&dir)?;
        let mut tmp = tempfile::tempfile_in(&dir)?;
        {
            let mut buffered = std::io::BufWriter::with_capacity(1 << 20, &mut tmp);
            backup::create_backup(&p2.store, &p2.blobs, &mut buffered)?;
            buffered.flush()?;
        }
        use std::io::Seek;
        tmp.rewind()?;
        Ok(tmp)
    })
    .await
    .map_err(AppError::internal)??;
    Ok((file, name))
}

async fn download_now(p: P, auth: Auth) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, None)?;
    let (file, name) = fresh_backup(&p).await?;
    let actor = ctx.actor.clone();
    let n = name.clone();
    p.store
        .write(move |tx| audit::record(tx, &actor, "backup.created", n.clone(), json!({ "via": "console" })))
        .await?;
    zip_response(file, &name)
}

async fn list(p: P, auth: Auth) -> AppResult<HttpResponse> {
    auth.require_super(&p)?;
    let items = backup::list_backups(&backups_dir(&p))?;
    let settings = BackupSettings::load(&p.store.begin_read()?)?;
    Ok(HttpResponse::Ok().json(json!({ "items": items, "settings": settings })))
}

async fn download_stored(p: P, auth: Auth, name: web::Path<String>) -> AppResult<HttpResponse> {
    auth.require_super(&p)?;
    let path = backup::backup_path(&backups_dir(&p), &name)?;
    zip_response(std::fs::File::open(path)?, &name)
}

async fn put_settings(p: P, auth: Auth, body: web::Json<BackupSettings>) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, None)?;
    let s = body.into_inner();
    if s.hour > 23 {
        return Err(AppError::invalid("hour", "validation_failed", "The hour is 0–23"));
    }
    if !(1..=365).contains(&s.keep) {
        return Err(AppError::invalid("keep", "validation_failed", "Keep between 1 and 365 backups"));
    }
    let saved = p
        .store
        .write(move |tx| {
            s.save(tx)?;
            audit::record(tx, &ctx.actor, "backup.settings_updated", "backup", json!(s))?;
            Ok(s.clone())
        })
        .await?;
    Ok(HttpResponse::Ok().json(saved))
}

/// Receive the archive into the data directory, verify and stage it, then restart to apply.
async fn restore(p: P, auth: Auth, mut mp: actix_multipart::Multipart) -> AppResult<HttpResponse> {
    let ctx = admin_ctx(&p, &auth, None)?;
    // A unique temp file inside the data directory (same disk as the restore), removed on drop.
    let upload = tempfile::Builder::new().prefix(".restore-upload-").suffix(".zip").tempfile_in(&p.config.data_dir)?;
    let path = upload.path().to_path_buf();
    let limit = backup::Limits::default().max_total_bytes;
    let mut size = 0u64;
    let mut received = false;
    while let Some(field) = mp.next().await {
        let mut field = field.map_err(|e| AppError::bad_request("bad_multipart", format!("Malformed upload: {e}")))?;
        if field.content_disposition().and_then(|c| c.get_name()) != Some("file") {
            continue;
        }
        let mut out = upload.reopen()?;
        while let Some(chunk) = field.next().await {
            let chunk =
                chunk.map_err(|e| AppError::bad_request("upload_failed", format!("upload interrupted: {e}")))?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(AppError::payload_too_large(limit));
            }
            out = web::block(move || out.write_all(&chunk).map(|_| out)).await.map_err(AppError::internal)??;
        }
        out.sync_all()?;
        received = true;
        break;
    }
    if !received {
        return Err(AppError::bad_request("file_missing", "The upload has no part named `file`"));
    }
    let (archive, dir) = (path.clone(), p.config.data_dir.clone());
    let manifest = web::block(move || backup::stage_restore(&archive, &dir)).await.map_err(AppError::internal)??;
    drop(upload);
    let actor = ctx.actor.clone();
    let created = manifest.created_at;
    p.store
        .write(move |tx| {
            audit::record(tx, &actor, "backup.restored", "restore", json!({ "archive_created_at": created }))
        })
        .await?;
    tracing::warn!("restore staged; restarting to apply it");
    let shutdown = p.shutdown.clone();
    actix_web::rt::spawn(async move {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
        let _ = shutdown.send(Some(Shutdown::Restart));
    });
    Ok(HttpResponse::Accepted().json(json!({ "status": "restarting" })))
}

/// The CLI's `officebox backup` against a running server; authorised by the control token in
/// `<data>/run.json` (readable only by the server's user).
async fn local_backup(p: P, req: HttpRequest) -> AppResult<HttpResponse> {
    let sent = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !constant_time_eq(sent.as_bytes(), p.control_token.as_bytes()) {
        return Err(AppError::unauthorized("A valid control token is required"));
    }
    let (file, name) = fresh_backup(&p).await?;
    let actor = Actor { id: 0, name: "officebox CLI".into(), ip: "local".into() };
    let n = name.clone();
    p.store.write(move |tx| audit::record(tx, &actor, "backup.created", n.clone(), json!({ "via": "cli" }))).await?;
    zip_response(file, &name)
}

/// Daily backups: checked every minute; runs once per local day at the configured hour.
pub fn start_schedule(p: &web::Data<Platform>) {
    let p = p.clone();
    actix_web::rt::spawn(async move {
        let mut last_day: Option<chrono::NaiveDate> = None;
        loop {
            actix_web::rt::time::sleep(std::time::Duration::from_secs(60)).await;
            if let Err(e) = scheduled_tick(&p, &mut last_day).await {
                tracing::error!(error = %e, "scheduled backup failed");
            }
        }
    });
}

/// One check of the schedule (public for tests): backs up when the enterprise-local hour is the
/// configured one and today's backup has not been made.
pub async fn scheduled_tick(p: &web::Data<Platform>, last_day: &mut Option<chrono::NaiveDate>) -> AppResult<()> {
    let (settings, tz) = {
        let txn = p.store.begin_read()?;
        (BackupSettings::load(&txn)?, crate::setup::service::enterprise(&txn)?.time_zone)
    };
    let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let now = chrono::DateTime::from_timestamp_millis(p.now_ms()).unwrap_or_default().with_timezone(&tz);
    use chrono::Timelike;
    if !settings.daily_enabled || now.hour() != settings.hour || *last_day == Some(now.date_naive()) {
        return Ok(());
    }
    *last_day = Some(now.date_naive());
    let p2 = p.clone();
    let path = web::block(move || {
        backup::run_scheduled(&p2.store, &p2.blobs, &p2.config.data_dir.join("backups"), settings.keep)
    })
    .await
    .map_err(AppError::internal)??;
    tracing::info!(path = %path.display(), "daily backup written");
    Ok(())
}
