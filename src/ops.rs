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

pub fn backup(_config: &Config, _out: &Path) -> AppResult<ExitCode> {
    Err(AppError::unavailable("backup is not wired yet"))
}

pub fn restore(_config: &Config, _file: &Path) -> AppResult<ExitCode> {
    Err(AppError::unavailable("restore is not wired yet"))
}

pub fn apply_pending_restore(_config: &Config) -> AppResult<()> {
    Ok(())
}

pub fn check(_config: &Config) -> AppResult<ExitCode> {
    Err(AppError::unavailable("check is not wired yet"))
}

pub fn reindex(_config: &Config) -> AppResult<ExitCode> {
    Err(AppError::unavailable("reindex is not wired yet"))
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
        crate::platform::audit::record(tx, &actor, "member.password_set", target.clone(), serde_json::json!({ "via": "cli" }))?;
        Ok(())
    })?;
    println!("New password for {} ({}): {new_password}\nThey must choose their own at the next sign-in.", m.name, m.userid);
    Ok(ExitCode::SUCCESS)
}
