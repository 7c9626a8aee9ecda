//! Backup and restore end to end: console download, CLI against the running server, offline
//! CLI restore, console restore (staged, applied on restart), hostile uploads, `check`.

use crate::common::*;
use serde_json::{json, Value};
use std::process::Command;

const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8,
    2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde, 0, 0, 0, 12, b'I', b'D', b'A', b'T', 8, 0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0, 0, 3,
    1, 1, 0, 0x18, 0xdd, 0x8d, 0xb0, 0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82,
];

/// Everything a user can see of the org, for before/after comparison.
fn snapshot(c: &Client) -> Value {
    let members = c.get("/api/v1/members?limit=200&status=active").ok()["items"].clone();
    let inactive = c.get("/api/v1/members?limit=200&status=inactive").ok()["items"].clone();
    json!({
        "departments": c.get("/api/v1/departments").ok(),
        "members": members,
        "inactive": inactive,
        "tags": c.get("/api/v1/tags").ok(),
        "enterprise": c.get("/api/v1/enterprise").ok(),
    })
}

fn populate(s: &TestServer) -> (Client, u64) {
    let admin = s.setup();
    let root = admin.root_department();
    let rd = admin.create_department("研发部", root);
    let be = admin.create_department("后端组", rd);
    let zs = admin.create_member("zhangsan", "张三", be, "Zhang-pass-1");
    admin.create_member("lisi", "李四", rd, "Li4-pass-42");
    let t = admin.post("/api/v1/admin/tags", json!({ "name": "骨干" })).id();
    admin.patch(&format!("/api/v1/admin/tags/{t}"), json!({ "member_ids": [zs] })).ok();
    let zs_client = Client::signed_in(&s.base, "zhangsan", "Zhang-pass-1");
    zs_client.upload(reqwest::Method::PUT, "/api/v1/me/avatar", "me.png", PNG.to_vec()).ok();
    (admin, zs)
}

fn officebox(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_officebox"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("OFFICEBOX_BCRYPT_COST", "4")
        .output()
        .expect("run officebox")
}

#[test]
fn cli_backup_of_a_running_server_restores_byte_for_byte_after_a_wipe() {
    let s = TestServer::start();
    let (admin, zs) = populate(&s);
    let before = snapshot(&admin);
    let out_dir = tempfile::tempdir().unwrap();
    let archive = out_dir.path().join("office.zip");
    let run = officebox(&["backup", "--out", archive.to_str().unwrap()], s.dir.path());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains("running server"), "online backup through the server");

    let dir = s.stop();
    // Wipe, then restore offline.
    std::fs::remove_file(dir.path().join("data.redb")).unwrap();
    std::fs::remove_dir_all(dir.path().join("blobs")).unwrap();
    let run = officebox(&["restore", archive.to_str().unwrap()], dir.path());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let run = officebox(&["check"], dir.path());
    let report = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "check failed: {report} {}", String::from_utf8_lossy(&run.stderr));
    assert!(report.contains("\"unregistered_tables\": []"), "every table is in the registry: {report}");

    let s = TestServer::start_in(dir);
    let admin = Client::signed_in(&s.base, "admin", ADMIN_PASSWORD);
    assert_eq!(snapshot(&admin), before);
    let avatar = admin.get(&format!("/api/v1/members/{zs}/avatar"));
    assert_eq!(avatar.bytes, PNG, "the stored file comes back byte for byte");
    // Sessions are data too: the member's password still works, the audit trail is intact.
    Client::signed_in(&s.base, "zhangsan", "Zhang-pass-1");
    let audit = admin.get("/api/v1/admin/audit?action=member.created").ok();
    assert_eq!(audit["items"].as_array().unwrap().len(), 2);
}

#[test]
fn console_restore_is_verified_staged_and_applied_on_restart() {
    let s = TestServer::start();
    let (admin, _) = populate(&s);
    let before = snapshot(&admin);
    // A session that exists when the backup is made.
    let signin = Client::new(&s.base).login("zhangsan", "Zhang-pass-1");
    let token = set_cookie_value(&signin).expect("session cookie");
    let zip = admin.send(reqwest::Method::POST, "/api/v1/admin/backup", None);
    assert_eq!(zip.status, 200);
    assert_eq!(zip.headers["content-type"], "application/zip");
    assert!(zip.bytes.starts_with(b"PK"), "a zip archive");

    // Change things after the backup.
    let root = admin.root_department();
    admin.create_department("市场部", root);
    admin.create_member("wangwu", "王五", root, "Wang-pass-55");
    assert_ne!(snapshot(&admin), before);

    // Hostile or broken uploads are refused and change nothing.
    let mut truncated = zip.bytes.clone();
    truncated.truncate(truncated.len() / 2);
    let r = admin.upload(reqwest::Method::POST, "/api/v1/admin/restore", "bad.zip", truncated);
    r.expect(422, "invalid_archive");
    let r = admin.upload(reqwest::Method::POST, "/api/v1/admin/restore", "x.zip", b"not a zip".to_vec());
    r.expect(422, "invalid_archive");
    let changed = snapshot(&admin);
    assert_ne!(changed, before);

    let r = admin.upload(reqwest::Method::POST, "/api/v1/admin/restore", "good.zip", zip.bytes.clone());
    assert_eq!(r.status, 202, "{}", r.body);
    Client::with_session(&s.base, &token).get("/api/v1/auth/me").ok();
    let dir = s.stop();
    let s = TestServer::start_in(dir);
    // Sessions are not restored: a session revoked after the backup must not come back to life.
    Client::with_session(&s.base, &token).get("/api/v1/auth/me").expect(401, "unauthorized");
    let admin = Client::signed_in(&s.base, "admin", ADMIN_PASSWORD);
    assert_eq!(snapshot(&admin), before, "the data is exactly what the backup held");
    let audit = admin.get("/api/v1/admin/audit?action=backup.restore_applied").ok();
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "the restore is in the restored audit log");
}

#[test]
fn only_super_admins_back_up_and_restore() {
    let s = TestServer::start();
    let (admin, _) = populate(&s);
    let member = Client::signed_in(&s.base, "lisi", "Li4-pass-42");
    member.send(reqwest::Method::POST, "/api/v1/admin/backup", None).expect(403, "forbidden");
    member.get("/api/v1/admin/backups").expect(403, "forbidden");
    member.upload(reqwest::Method::POST, "/api/v1/admin/restore", "x.zip", b"PK".to_vec()).expect(403, "forbidden");
    s.client().send(reqwest::Method::POST, "/api/v1/local/backup", None).expect(401, "unauthorized");
    admin.get("/api/v1/admin/backups/../../data.redb").expect(404, "not_found");
    admin.get("/api/v1/admin/backups/officebox-20260101-000000.zip").expect(404, "not_found");
    let list = admin.get("/api/v1/admin/backups").ok();
    assert_eq!(list["settings"]["keep"], 7);
    admin
        .put("/api/v1/admin/backup-settings", json!({"daily_enabled": true, "hour": 25, "keep": 3}))
        .expect(422, "validation_failed");
    let saved = admin.put("/api/v1/admin/backup-settings", json!({"daily_enabled": false, "hour": 2, "keep": 3})).ok();
    assert_eq!(saved["keep"], 3);
}

#[test]
fn cli_reindex_and_reset_password_work_on_a_stopped_server_and_refuse_a_running_one() {
    let s = TestServer::start();
    populate(&s);
    // While the server runs, offline commands are refused with a clear message.
    let run = officebox(&["reindex"], s.dir.path());
    assert!(!run.status.success());
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("already in use"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let dir = s.stop();

    let run = officebox(&["reindex"], dir.path());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let run = officebox(&["admin", "reset-password", "zhangsan"], dir.path());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let out = String::from_utf8_lossy(&run.stdout).to_string();
    let password =
        out.split(": ").nth(1).and_then(|rest| rest.split_whitespace().next()).expect("password printed").to_owned();
    let run = officebox(&["admin", "reset-password", "nobody"], dir.path());
    assert!(!run.status.success(), "an unknown login is an error");

    let s = TestServer::start_in(dir);
    Client::new(&s.base).login("zhangsan", "Zhang-pass-1").expect(401, "invalid_credentials");
    let c = Client::signed_in(&s.base, "zhangsan", &password);
    assert_eq!(c.me()["must_change_password"], true, "a CLI-set password must be changed at next sign-in");
    let hits = c.get("/api/v1/search?q=zs").ok();
    assert_eq!(hits["items"][0]["name"], "张三", "the rebuilt index finds people");
}

#[test]
fn version_flag_prints_the_version() {
    let out = Command::new(env!("CARGO_BIN_EXE_officebox")).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn the_daily_backup_runs_once_at_the_configured_local_hour_and_keeps_n() {
    let s = TestServer::start();
    let admin = s.setup();
    admin.put("/api/v1/admin/backup-settings", json!({"daily_enabled": true, "hour": 3, "keep": 2})).ok();
    let backups = s.dir.path().join("backups");
    let count = || std::fs::read_dir(&backups).map(|d| d.filter(|e| e.is_ok()).count()).unwrap_or(0);
    // 2026-01-05 02:30 in Asia/Shanghai (UTC+8) is 18:30 UTC the day before.
    let at = |day: u32, hour: u32, min: u32| {
        chrono::NaiveDate::from_ymd_opt(2026, 1, day)
            .unwrap()
            .and_hms_opt(hour, min, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis()
            - 8 * 3_600_000
    };
    let tick = |last: &mut Option<chrono::NaiveDate>| {
        let p = s.platform.clone();
        actix_web::rt::System::new()
            .block_on(async move { officebox::admin::backup::scheduled_tick(&p, last).await })
            .unwrap();
    };
    let mut last = None;
    s.clock.set_ms(at(5, 2, 30));
    tick(&mut last);
    assert_eq!(count(), 0, "not the configured hour yet");
    s.clock.set_ms(at(5, 3, 1));
    tick(&mut last);
    assert_eq!(count(), 1, "backed up at 03:00 local time");
    s.clock.set_ms(at(5, 3, 40));
    tick(&mut last);
    assert_eq!(count(), 1, "once a day");
    for day in 6..=8 {
        s.clock.set_ms(at(day, 3, 2));
        tick(&mut last);
    }
    assert_eq!(count(), 2, "only the newest `keep` are kept");
    let list = admin.get("/api/v1/admin/backups").ok();
    let names: Vec<&str> = list["items"].as_array().unwrap().iter().filter_map(|b| b["name"].as_str()).collect();
    assert_eq!(names, ["officebox-20260107-190200.zip", "officebox-20260106-190200.zip"], "named in UTC, newest first");
    let zip = admin.get(&format!("/api/v1/admin/backups/{}", names[0]));
    assert!(zip.bytes.starts_with(b"PK"));
}
