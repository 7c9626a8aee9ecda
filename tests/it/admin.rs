//! The admin console's back end: admin roles and scopes, the last-super-admin rule, security
//! settings and their effect, and the append-only audit log (security.md §3.8).

use crate::common::*;
use reqwest::Method;
use serde_json::{json, Value};

fn branch(depts: &[u64], perms: &[&str]) -> Value {
    json!({ "kind": "branch", "department_ids": depts, "permissions": perms })
}

#[test]
fn a_branch_admin_role_shows_in_me_and_revoking_removes_it() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let rd = admin.create_department("研发部", root);
    let (id, c) = s.member(&admin, "lead", rd);
    assert!(c.me()["admin"].is_null());
    c.get("/api/v1/admin/audit").expect(403, "forbidden");
    let role =
        admin.put(&format!("/api/v1/admin/admins/{id}"), branch(&[rd, rd], &["members", "audit", "members"])).ok();
    assert_eq!(role, json!({ "kind": "branch", "department_ids": [rd], "permissions": ["members", "audit"] }));
    let me = c.me();
    assert_eq!(me["admin"]["kind"], "branch");
    assert_eq!(me["admin"]["department_ids"], json!([rd]));
    c.get("/api/v1/admin/audit").ok();
    let list = admin.get("/api/v1/admin/admins").ok();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().any(|a| a["member"]["userid"] == "lead" && a["role"]["kind"] == "branch"));
    assert!(items.iter().any(|a| a["member"]["userid"] == "admin" && a["role"]["kind"] == "super"));
    // The role takes effect on the next request; no new sign-in needed either way.
    assert_eq!(admin.delete(&format!("/api/v1/admin/admins/{id}")).status.as_u16(), 204);
    assert!(c.me()["admin"].is_null());
    c.get("/api/v1/admin/audit").expect(403, "forbidden");
    admin.delete(&format!("/api/v1/admin/admins/{id}")).expect(404, "not_found");
    let audit = admin.audit("action=admin.");
    let actions: Vec<&str> = audit.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["admin.revoked", "admin.granted"]);
}

#[test]
fn admin_roles_are_validated() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let (id, _) = s.member(&admin, "candidate", root);
    let url = format!("/api/v1/admin/admins/{id}");
    admin.put(&url, branch(&[], &["members"])).expect(422, "validation_failed");
    admin.put(&url, branch(&[root], &[])).expect(422, "validation_failed");
    admin.put(&url, branch(&[987_654], &["members"])).expect(422, "unknown_department");
    assert_eq!(admin.put(&url, branch(&[root], &["root_access"])).status.as_u16(), 400);
    admin.put("/api/v1/admin/admins/987654", branch(&[root], &["members"])).expect(404, "not_found");
    assert_eq!(admin.get("/api/v1/admin/admins").ok()["items"].as_array().unwrap().len(), 1, "nothing was granted");
    // A super admin role ignores submitted scopes and has every permission.
    let role = admin.put(&url, json!({ "kind": "super", "department_ids": [root], "permissions": ["tags"] })).ok();
    assert_eq!(role["department_ids"], json!([]));
    assert_eq!(role["permissions"].as_array().unwrap().len(), 6);
    // Members who left cannot become admins.
    let heir = admin.create_member("heir", "接手", root, MEMBER_PASSWORD);
    let gone = admin.create_member("gone", "离开", root, MEMBER_PASSWORD);
    admin.post(&format!("/api/v1/admin/members/{gone}/offboard"), json!({ "handover_to": heir })).ok();
    admin.put(&format!("/api/v1/admin/admins/{gone}"), branch(&[root], &["tags"])).expect(409, "member_not_active");
}

#[test]
fn the_last_super_admin_can_be_neither_revoked_nor_downgraded() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let admin_id = admin.me()["user"]["id"].as_u64().unwrap();
    admin.delete(&format!("/api/v1/admin/admins/{admin_id}")).expect(409, "last_super_admin");
    admin
        .put(&format!("/api/v1/admin/admins/{admin_id}"), branch(&[root], &["members"]))
        .expect(409, "last_super_admin");
    assert_eq!(admin.me()["admin"]["kind"], "super");
    // With a second super admin, the first may step down; then the second is the last one.
    let (second, second_client) = s.member(&admin, "second", root);
    admin.grant(second, json!({ "kind": "super" }));
    // A super admin cannot be offboarded while they hold the role.
    second_client
        .post(&format!("/api/v1/admin/members/{admin_id}/offboard"), json!({ "handover_to": second }))
        .expect(409, "is_super_admin");
    admin.put(&format!("/api/v1/admin/admins/{admin_id}"), branch(&[root], &["audit"])).ok();
    assert_eq!(admin.me()["admin"]["kind"], "branch");
    admin.get("/api/v1/admin/admins").expect(403, "forbidden");
    second_client.delete(&format!("/api/v1/admin/admins/{second}")).expect(409, "last_super_admin");
    second_client
        .put(&format!("/api/v1/admin/admins/{second}"), branch(&[root], &["audit"]))
        .expect(409, "last_super_admin");
    second_client.delete(&format!("/api/v1/admin/admins/{admin_id}")).ok();
    assert!(admin.me()["admin"].is_null());
    let gone = second_client
        .post(&format!("/api/v1/admin/members/{admin_id}/offboard"), json!({ "handover_to": second }))
        .ok();
    assert_eq!(gone["status"], "left");
    assert_eq!(second_client.me()["admin"]["kind"], "super");
}

#[test]
fn branch_admins_cannot_take_over_administrators_accounts() {
    let s = TestServer::start();
    let admin = s.setup(); // the super admin sits in the root department
    let root = admin.root_department();
    let rd = admin.create_department("研发部", root);
    let admin_id = admin.me()["user"]["id"].as_u64().unwrap();
    let (hr, hr_client) = s.member(&admin, "hr", root);
    admin.grant(hr, branch(&[root], &["members"]));
    let (other, _) = s.member(&admin, "other_lead", rd);
    admin.grant(other, branch(&[rd], &["members", "departments"]));
    for target in [admin_id, other] {
        let attempts = [
            (
                Method::POST,
                format!("/api/v1/admin/members/{target}/reset-password"),
                json!({ "password": "Taken-over-pw-1" }),
            ),
            (Method::POST, format!("/api/v1/admin/members/{target}/reset-password"), json!({})),
            (Method::POST, format!("/api/v1/admin/members/{target}/invite"), json!({})),
            (Method::PATCH, format!("/api/v1/admin/members/{target}"), json!({ "email": "attacker@example.cn" })),
            (Method::PATCH, format!("/api/v1/admin/members/{target}"), json!({ "mobile": "13011112222" })),
            (Method::POST, format!("/api/v1/admin/members/{target}/disable"), json!({})),
            (Method::POST, format!("/api/v1/admin/members/{target}/offboard"), json!({ "handover_to": hr })),
        ];
        for (method, path, body) in attempts {
            let r = hr_client.send(method.clone(), &path, Some(body));
            assert_eq!((r.status.as_u16(), r.code()), (403, "forbidden"), "{method} {path}: {}", r.body);
        }
    }
    Client::signed_in(&s.base, "admin", ADMIN_PASSWORD);
    Client::signed_in(&s.base, "other_lead", MEMBER_PASSWORD);
    let a = admin.get(&format!("/api/v1/members/{admin_id}")).ok();
    assert_eq!((a["email"].as_str(), a["status"].as_str()), (Some("admin@example.cn"), Some("active")));
    // Ordinary members in scope are still managed, and super admins manage branch admins.
    let (plain, _) = s.member(&admin, "plain", rd);
    hr_client.patch(&format!("/api/v1/admin/members/{plain}"), json!({ "position": "工程师" })).ok();
    admin.patch(&format!("/api/v1/admin/members/{other}"), json!({ "position": "组长" })).ok();
}

fn security(min_length: u32, upper: bool, symbol: bool, idle: i64, absolute: i64) -> Value {
    json!({
        "password": { "min_length": min_length, "require_upper": upper, "require_lower": true, "require_digit": true, "require_symbol": symbol },
        "session_idle_minutes": idle, "session_absolute_hours": absolute
    })
}

#[test]
fn security_settings_are_validated_and_enforced() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let original = admin.get("/api/v1/admin/security").ok();
    assert_eq!(original["password"]["min_length"], 8);
    for (bad, field) in [
        (security(3, false, false, 60, 24), "min_length"),
        (security(200, false, false, 60, 24), "min_length"),
        (security(8, false, false, 1, 24), "session_idle_minutes"),
        (security(8, false, false, 60, 0), "session_absolute_hours"),
        (security(8, false, false, 24 * 60 + 1, 24), "session_idle_minutes"),
    ] {
        let r = admin.put("/api/v1/admin/security", bad);
        assert_eq!(r.expect(422, "validation_failed")["details"]["field"], field);
    }
    assert_eq!(admin.get("/api/v1/admin/security").ok(), original, "refused settings are not stored");
    let (_, c) = s.member(&admin, "policy", root);
    let saved = admin.put("/api/v1/admin/security", security(12, true, true, 60, 24)).ok();
    assert_eq!(saved["password"]["min_length"], 12);
    let public = s.client().get("/api/v1/auth/password-policy").ok();
    assert_eq!(
        public,
        json!({ "min_length": 12, "require_upper": true, "require_lower": true, "require_digit": true, "require_symbol": true })
    );
    let r = c.post("/api/v1/auth/password", json!({ "old_password": MEMBER_PASSWORD, "new_password": "abcdefgh12" }));
    let rules = r.expect(422, "weak_password")["details"]["rules"].clone();
    assert_eq!(rules, json!(["min_length", "upper", "symbol"]));
    // Admin-chosen passwords follow the new policy too.
    let r = admin.post(
        "/api/v1/admin/members",
        json!({ "userid": "late", "name": "晚到", "department_ids": [root], "mobile": "13600000009", "initial_password": "Abcdefg-123" }),
    );
    assert_eq!(r.expect(422, "weak_password")["details"]["rules"], json!(["min_length"]));
    // A strong one is accepted.
    let r =
        c.post("/api/v1/auth/password", json!({ "old_password": MEMBER_PASSWORD, "new_password": "Abcdefgh-1234" }));
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    Client::signed_in(&s.base, "policy", "Abcdefgh-1234");
    let entry = &admin.audit("action=security.updated")[0];
    assert_eq!(entry["details"]["to"]["password"]["min_length"], 12);
    assert_eq!(entry["details"]["from"]["password"]["min_length"], 8);
}

fn actions(entries: &[Value]) -> Vec<String> {
    entries.iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn audit_records_sign_ins_failures_and_org_changes_with_actor_and_ip() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let admin_id = admin.me()["user"]["id"].as_u64().unwrap();
    let (alice, _) = s.member(&admin, "alice", root);
    s.client().login("alice", "Wrong-pass-1").expect(401, "invalid_credentials");
    s.client().login("nobody", "Wrong-pass-1").expect(401, "invalid_credentials");
    let rd = admin.create_department("审计部", root);
    admin.patch(&format!("/api/v1/admin/members/{alice}"), json!({ "department_ids": [rd] })).ok();
    admin.delete(&format!("/api/v1/admin/departments/{}", admin.create_department("临时部", root)));
    let all = admin.audit("");
    for e in &all {
        assert_eq!(e["ip"], "127.0.0.1", "{e}");
        assert!(e["at"].as_i64().unwrap() > 0);
    }
    let find = |action: &str| all.iter().filter(|e| e["action"] == action).cloned().collect::<Vec<_>>();
    let setup = find("setup.completed");
    assert_eq!(setup.len(), 1);
    let logins = find("auth.login");
    assert!(logins.iter().any(|e| e["actor_id"] == alice && e["target"] == "member:alice"), "{logins:?}");
    let failed = find("auth.login_failed");
    assert_eq!(failed.len(), 2, "{failed:?}");
    for f in &failed {
        assert_eq!(f["actor_id"], 0);
        assert!(!f.to_string().contains("Wrong-pass-1"), "passwords never reach the log: {f}");
    }
    assert!(failed.iter().any(|f| f["details"]["login"] == "nobody" && f["target"] == "unknown"));
    assert!(failed.iter().any(|f| f["details"]["login"] == "alice" && f["target"] == "member:alice"));
    let created = find("department.created");
    assert!(created.iter().any(|e| e["actor_id"] == admin_id
        && e["actor_name"] == "管理员"
        && e["target"].as_str().unwrap().contains("审计部")));
    assert_eq!(find("department.deleted").len(), 1);
    let member_created = find("member.created");
    assert!(member_created.iter().any(|e| e["target"].as_str().unwrap().contains("alice")));
    // Ids grow, newest first.
    let ids: Vec<u64> = all.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
}

#[test]
fn audit_filters_by_action_prefix_actor_time_and_text() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let admin_id = admin.me()["user"]["id"].as_u64().unwrap();
    let (alice, alice_client) = s.member(&admin, "alice", root);
    admin.grant(alice, branch(&[root], &["members", "departments", "audit"]));
    let t1 = s.platform.now_ms() + 3_600_000;
    s.clock.set_ms(t1);
    let alice_client = {
        drop(alice_client);
        Client::signed_in(&s.base, "alice", MEMBER_PASSWORD)
    };
    alice_client.create_department("爱丽丝的部门", root);
    admin.create_department("管理员的部门", root);
    let members = admin.audit("action=member.");
    assert!(!members.is_empty());
    assert!(members.iter().all(|e| e["action"].as_str().unwrap().starts_with("member.")), "{members:?}");
    let exact = admin.audit("action=department.created");
    assert_eq!(exact.len(), 2);
    assert!(admin.audit("action=department").is_empty(), "without a dot the action is matched exactly");
    let by_alice = admin.audit(&format!("actor_id={alice}"));
    assert!(!by_alice.is_empty());
    assert!(by_alice.iter().all(|e| e["actor_id"] == alice), "{by_alice:?}");
    assert!(actions(&by_alice).contains(&"department.created".to_owned()));
    let by_admin_dept = admin.audit(&format!("actor_id={admin_id}&action=department."));
    assert_eq!(by_admin_dept.len(), 1);
    assert!(by_admin_dept[0]["target"].as_str().unwrap().contains("管理员的部门"));
    s.client().login("alice", "Wrong-pass-1").expect(401, "invalid_credentials");
    let failed = admin.audit("actor_id=0");
    assert_eq!(actions(&failed), vec!["auth.login_failed"]);
    let later = admin.audit(&format!("from={t1}"));
    assert!(!later.is_empty() && later.iter().all(|e| e["at"].as_i64().unwrap() >= t1));
    assert!(actions(&later).contains(&"department.created".to_owned()));
    assert!(!actions(&later).contains(&"setup.completed".to_owned()));
    let earlier = admin.audit(&format!("to={}", t1 - 1));
    assert!(earlier.iter().all(|e| e["at"].as_i64().unwrap() < t1));
    assert!(actions(&earlier).contains(&"setup.completed".to_owned()));
    assert_eq!(later.len() + earlier.len(), admin.audit("").len());
    let q = admin.audit("q=%E7%88%B1%E4%B8%BD%E4%B8%9D%E7%9A%84"); // 爱丽丝的
    assert_eq!(actions(&q), vec!["department.created"]);
    // A branch admin with `audit` reads the log too, with the same filters.
    assert_eq!(alice_client.audit("action=department.created").len(), 2);
    admin.get("/api/v1/admin/audit?actor_id=abc").expect(400, "bad_request");
    admin.get("/api/v1/admin/audit?cursor=abc").expect(400, "invalid_cursor");
}

#[test]
fn audit_pages_with_a_cursor_without_gaps_or_repeats() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    for i in 0..7 {
        admin.create_department(&format!("部门{i}"), root);
    }
    let all = admin.audit("");
    assert_eq!(all.len(), 8, "setup + 7 departments");
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let url = match &cursor {
            Some(c) => format!("/api/v1/admin/audit?limit=2&cursor={c}"),
            None => "/api/v1/admin/audit?limit=2".to_owned(),
        };
        let page = admin.get(&url).ok();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        paged.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(items.len(), 2, "only the last page may be short");
                cursor = Some(c.to_owned());
            }
            None => break,
        }
    }
    assert_eq!(paged, all, "pages joined equal the whole log");
    // With a filter, pages hold only matching entries and still end.
    let page = admin.get("/api/v1/admin/audit?limit=3&action=department.created").ok();
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let next = page["next_cursor"].as_str().unwrap().to_owned();
    let rest = admin.get(&format!("/api/v1/admin/audit?limit=200&action=department.created&cursor={next}")).ok();
    assert_eq!(rest["items"].as_array().unwrap().len(), 4);
    assert!(rest["next_cursor"].is_null());
}

#[test]
fn audit_export_is_an_xlsx_with_the_filtered_entries() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    admin.create_department("导出部", root);
    let admin_id = admin.me()["user"]["id"].as_u64().unwrap();
    assert_eq!(admin.get(&format!("/api/v1/admin/audit/export?actor_id={}", admin_id + 1000)).status.as_u16(), 200);
    let r = admin.get(&format!("/api/v1/admin/audit/export?action=department.&actor_id={admin_id}"));
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(r.headers["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert!(r.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(&r.bytes[..4], b"PK\x03\x04", "an xlsx is a zip");
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(r.bytes)).expect("xlsx");
    let sheet = wb.worksheet_range_at(0).expect("a sheet").expect("readable");
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows.len(), 2, "header + the one department entry: {rows:?}");
    assert_eq!(rows[1][2], "department.created");
    assert!(rows[1][3].contains("导出部"));
    assert_eq!(rows[1][4], "127.0.0.1");
}

#[test]
fn the_audit_log_has_no_way_to_change_or_delete_entries_and_only_grows() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    admin.create_department("留痕", root);
    let before = admin.audit("");
    let first = before.last().unwrap()["id"].as_u64().unwrap();
    let mut attempts = Vec::new();
    for path in [
        "/api/v1/admin/audit".to_owned(),
        format!("/api/v1/admin/audit/{first}"),
        "/api/v1/admin/audit/export".to_owned(),
    ] {
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let r = admin.send(method.clone(), &path, Some(json!({ "action": "tampered", "items": [] })));
            attempts.push((method, path.clone(), r.status.as_u16()));
        }
    }
    let bad: Vec<_> = attempts.iter().filter(|(_, _, st)| !matches!(st, 404 | 405)).collect();
    assert!(bad.is_empty(), "audit changes must be 404/405: {bad:?}");
    admin.get(&format!("/api/v1/admin/audit/{first}")).expect(404, "not_found");
    let after = admin.audit("");
    assert!(after.len() >= before.len());
    for e in &before {
        assert!(after.contains(e), "entry {} changed or vanished", e["id"]);
    }
    // The next action appends.
    admin.create_department("再留痕", root);
    let grown = admin.audit("");
    assert_eq!(grown.len(), after.len() + 1);
    assert_eq!(&grown[1..], &after[..]);
}

#[test]
fn a_branch_admin_sees_only_audit_entries_about_their_departments() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let rd = admin.create_department("研发部", root);
    let mk = admin.create_department("市场部", root);
    let (auditor_id, _) = s.member(&admin, "auditor", rd);
    admin.create_member("inrd", "研发小王", rd, "Wang-pass-77");
    admin.create_member("inmk", "市场小李", mk, "Li-pass-88");
    admin.grant(auditor_id, json!({ "kind": "branch", "department_ids": [rd], "permissions": ["audit"] }));
    let auditor = Client::signed_in(&s.base, "auditor", MEMBER_PASSWORD);

    let targets = |c: &Client| -> Vec<String> {
        c.audit("action=member.created").iter().filter_map(|e| e["target"].as_str().map(str::to_owned)).collect()
    };
    let seen = targets(&auditor);
    assert!(seen.iter().any(|t| t.contains("inrd")), "{seen:?}");
    assert!(!seen.iter().any(|t| t.contains("inmk")), "an entry outside the scope leaked: {seen:?}");
    let all = targets(&admin);
    assert!(all.iter().any(|t| t.contains("inmk")) && all.iter().any(|t| t.contains("inrd")), "{all:?}");
    // Organisation-wide events (settings, setup) are for super admins only.
    assert!(auditor.audit("action=setup.completed").is_empty());
    assert_eq!(admin.audit("action=setup.completed").len(), 1);
    let xlsx = auditor.get("/api/v1/admin/audit/export?action=member.created");
    assert_eq!(xlsx.status, 200);
    assert!(xlsx.bytes.starts_with(b"PK"));
}
