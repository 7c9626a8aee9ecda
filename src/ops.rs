//! Offline and maintenance operations behind the CLI: backup, restore, check, reindex,
//! password reset. Those that need exclusive access refuse while a server runs.

use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::platform::clock::SystemClock;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

fn open_offline(config: &Config) -> AppResult<crate::platform::Platform> {
    crate::app::build_platform(config.clone(), Arc::new(SystemClock))
}

/// `officebox backup --out FILE`: from the running server when there is one (online, while it
/// keeps serving), otherwise by opening the stopped data directory.
pub fn backup(config: &Config, out: &Path) -> AppResult<ExitCode> {
    if out.exists() {
        return Err(AppError::conflict(
            "file_exists",
            format!("{} already exists; choose another name", out.display()),
        ));
    }
    let note = match running_server(config) {
        Some((url, token)) => {
            let mut res = reqwest::blocking::Client::builder()
                .timeout(None)
                .build()
                .map_err(AppError::internal)?
                .post(format!("{url}/api/v1/local/backup"))
                .bearer_auth(token)
                .send()
                .map_err(|e| AppError::unavailable(format!("the running server at {url} did not answer: {e}")))?;
            if !res.status().is_success() {
                let body = res.text().unwrap_or_default();
                return Err(AppError::unavailable(format!("the running server refused the backup: {body}")));
            }
            let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(parent)?;
            res.copy_to(tmp.as_file_mut())
                .map_err(|e| AppError::unavailable(format!("backup download failed: {e}")))?;
            tmp.as_file().sync_all()?;
            tmp.persist_noclobber(out).map_err(|e| AppError::internal(e.error))?;
            std::fs::File::open(parent)?.sync_all()?;
            format!("from the running server at {url}")
        }
        None => {
            let p = open_offline(config)?;
            crate::platform::backup::backup_to_file(&p.store, &p.blobs, out)?;
            format!("from {}", config.data_dir.display())
        }
    };
    let size = std::fs::metadata(out)?.len();
    println!("Backup written to {} ({} bytes) {note}", out.display(), size);
    Ok(ExitCode::SUCCESS)
}

/// The URL and control token of a server running on this data directory, if any.
fn running_server(config: &Config) -> Option<(String, String)> {
    let text = std::fs::read_to_string(config.data_dir.join("run.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let url = v["url"].as_str()?.to_owned();
    let token = v["control_token"].as_str()?.to_owned();
    // A stale run.json (crashed server) has nobody listening.
    reqwest::blocking::get(format!("{url}/healthz")).ok()?.status().is_success().then_some((url, token))
}

/// `officebox restore FILE` with the server stopped.
pub fn restore(config: &Config, file: &Path) -> AppResult<ExitCode> {
    let m = crate::platform::backup::restore_offline(file, &config.data_dir)?;
    println!(
        "Restored {} tables and {} files from {} (made by OfficeBox {}) into {}",
        m.tables.len(),
        m.blobs.len(),
        file.display(),
        m.app_version,
        config.data_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `officebox check`: redb's own integrity check, then every row and every stored file.
pub fn check(config: &Config) -> AppResult<ExitCode> {
    let db = config.data_dir.join("data.redb");
    if !db.is_file() {
        return Err(AppError::not_found(&format!("database {}", db.display())));
    }
    {
        let _lock = crate::platform::store::lock_data_dir(&config.data_dir)?;
        let ok = crate::platform::backup::check_redb_integrity(&db)?;
        println!("database file: {}", if ok { "ok" } else { "repaired on open" });
    }
    let p = open_offline(config)?;
    let report = crate::platform::backup::check(&p.store, &p.blobs)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if report.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `officebox reindex` (server stopped): rebuild `index/` from the database.
pub fn reindex(config: &Config) -> AppResult<ExitCode> {
    let p = open_offline(config)?;
    let s = crate::platform::search::rebuild(&p.store, p.search.dir(), &crate::app::features_search_documents)?;
    println!(
        "Reindexed {} documents ({} skipped) through seq {} in {:.2} s; {} outbox rows trimmed.",
        s.docs,
        s.skipped,
        s.seq,
        s.elapsed.as_secs_f64(),
        s.trimmed
    );
    Ok(ExitCode::SUCCESS)
}

/// Set a new random password for a member and print it; they must change it at next sign-in.
pub fn reset_password(config: &Config, login: &str) -> AppResult<ExitCode> {
    use crate::platform::auth::{credentials, password, session};
    let p = open_offline(config)?;
    let m = crate::org::store::find_by_login(&p.store.begin_read()?, login)?
        .ok_or_else(|| AppError::not_found(&format!("member `{login}`")))?;
    let new_password = format!("Ob-{}", &session::random_token()[..12]);
    let hash = password::hash_blocking(&new_password, config.bcrypt_cost)?;
    let (user_id, target) = (m.id, format!("member:{}", m.userid));
    p.store.write_blocking(move |tx| {
        credentials::set(tx, user_id, &hash, true)?;
        session::remove_all_for_user(tx, user_id, None)?;
        let actor = crate::platform::audit::Actor { id: 0, name: "officebox CLI".into(), ip: "local".into() };
        crate::platform::audit::record(
            tx,
            &actor,
            "member.password_set",
            target.clone(),
            serde_json::json!({ "via": "cli" }),
        )?;
        Ok(())
    })?;
    println!(
        "New password for {} ({}): {new_password}\nThey must choose their own at the next sign-in.",
        m.name, m.userid
    );
    Ok(ExitCode::SUCCESS)
}
