//! Excel import / export of members: template, dry run with every problem listed, all-or-nothing
//! commit, re-import by account id, export round trip, branch-admin scope, permissions.

use crate::common::*;
use calamine::{Data, Reader, Xlsx};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const ROOT: &str = "示例科技";
const HEADER: [&str; 12] =
    ["账号", "姓名", "别名", "部门", "职务", "手机", "邮箱", "性别", "座机", "直属上级", "工号", "入职日期"];

/// A cell in a test workbook.
enum V {
    S(&'static str),
    O(String),
    N(f64),
    D(u16, u8, u8),
    E,
}

fn book(rows: &[Vec<V>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match v {
                V::S(s) => ws.write_string(r, c, *s).map(|_| ()),
                V::O(s) => ws.write_string(r, c, s).map(|_| ()),
                V::N(n) => ws.write_number(r, c, *n).map(|_| ()),
                V::D(y, m, d) => {
                    let dt = rust_xlsxwriter::ExcelDateTime::from_ymd(*y, *m, *d).expect("date");
                    ws.write_datetime_with_format(r, c, &dt, &date).map(|_| ())
                }
                V::E => Ok(()),
            }
            .expect("write cell");
        }
    }
    wb.save_to_buffer().expect("xlsx")
}

/// A workbook of text cells (empty strings are left blank).
fn text_book(rows: &[&[&str]]) -> Vec<u8> {
    let rows: Vec<Vec<V>> = rows
        .iter()
        .map(|r| r.iter().map(|s| if s.is_empty() { V::E } else { V::O((*s).to_owned()) }).collect())
        .collect();
    book(&rows)
}

fn sheet_rows(bytes: &[u8], index: usize) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("readable xlsx");
    let range = wb.worksheet_range_at(index).expect("sheet").expect("range");
    range
        .rows()
        .map(|r| r.iter().map(|c| if *c == Data::Empty { String::new() } else { c.to_string() }).collect())
        .collect()
}

fn sheet_names(bytes: &[u8]) -> Vec<String> {
    let wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("readable xlsx");
    wb.sheet_names()
}

fn dry_run(c: &Client, bytes: Vec<u8>) -> Resp {
    c.upload(Method::POST, "/api/v1/admin/import/dry-run", "members.xlsx", bytes)
}

fn commit(c: &Client, import_id: &str) -> Resp {
    c.post("/api/v1/admin/import/commit", json!({ "import_id": import_id }))
}

/// Dry run that must be clean, then commit; returns the commit answer.
#[track_caller]
fn import_ok(c: &Client, bytes: Vec<u8>) -> Value {
    let report = dry_run(c, bytes).ok();
    assert_eq!(report["errors"], json!([]), "{report}");
    commit(c, report["import_id"].as_str().expect("import_id")).ok()
}

fn errors(report: &Value) -> BTreeSet<(u64, String, String)> {
    let list = report["errors"].as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap_or(0),
                e["column"].as_str().unwrap_or("").to_owned(),
                e["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn department_count(c: &Client) -> usize {
    c.get("/api/v1/departments").ok()["items"].as_array().map_or(0, Vec::len)
}

fn department_paths(c: &Client) -> BTreeSet<String> {
    let items = c.get("/api/v1/departments").ok()["items"].as_array().cloned().unwrap_or_default();
    let name = |id: u64| items.iter().find(|d| d["id"] == id).cloned();
    items
        .iter()
        .map(|d| {
            let mut parts = vec![d["name"].as_str().unwrap_or("").to_owned()];
            let mut parent = d["parent_id"].as_u64().unwrap_or(0);
            while let Some(p) = name(parent) {
                parts.insert(0, p["name"].as_str().unwrap_or("").to_owned());
                parent = p["parent_id"].as_u64().unwrap_or(0);
            }
            parts.join("/")
        })
        .collect()
}

fn department_id(c: &Client, path: &str) -> u64 {
    let items = c.get("/api/v1/departments").ok()["items"].as_array().cloned().unwrap_or_default();
    let mut parent = 0u64;
    for part in path.split('/') {
        parent = items
            .iter()
            .find(|d| d["parent_id"] == parent && d["name"] == part)
            .and_then(|d| d["id"].as_u64())
            .unwrap_or_else(|| panic!("no department {path}"));
    }
    parent
}

fn members(c: &Client) -> Vec<Value> {
    c.get("/api/v1/members?limit=200").ok()["items"].as_array().cloned().unwrap_or_default()
}

fn member(c: &Client, userid: &str) -> Value {
    members(c).into_iter().find(|m| m["userid"] == userid).unwrap_or_else(|| panic!("no member {userid}"))
}

fn header() -> Vec<V> {
    HEADER.iter().map(|h| V::S(h)).collect()
}

#[test]
fn template_has_the_headers_and_instructions() {
    let s = TestServer::start();
    let admin = s.setup();
    admin.put("/api/v1/admin/custom-fields", json!({ "items": [{ "key": "seat", "label": "工位" }] })).ok();
    let r = admin.get("/api/v1/admin/import/template");
    assert_eq!(r.status, 200);
    let ct = r.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(ct.contains("spreadsheetml"), "{ct}");
    let rows = sheet_rows(&r.bytes, 0);
    let mut want: Vec<String> = HEADER.iter().map(|h| (*h).to_owned()).collect();
    want.push("工位".into());
    assert_eq!(rows[0], want);
    assert_eq!(rows[1][0], "zhangsan");
    assert!(rows[1][3].starts_with(ROOT), "sample path uses the root name: {:?}", rows[1]);
    assert_eq!(sheet_names(&r.bytes), vec!["成员 Members".to_owned(), "说明 Instructions".to_owned()]);
    let help = sheet_rows(&r.bytes, 1).concat().join(" ");
    assert!(help.contains("直属上级") && help.contains("Supervisor"), "instructions explain the columns");
}

#[test]
fn happy_path_creates_departments_and_members() {
    let s = TestServer::start();
    let admin = s.setup();
    let before = department_count(&admin);
    let bytes = book(&[
        header(),
        vec![
            V::S("zhangsan"),
            V::S("张三"),
            V::E,
            V::S("示例科技/研发部/后端组"),
            V::S("后端工程师"),
            V::S("13800000001"),
            V::S("zhangsan@example.cn"),
            V::S("男"),
        ],
        vec![
            V::S("lisi"),
            V::S("李四"),
            V::S("小李"),
            V::S("研发部/前端组"),
            V::E,
            V::E,
            V::S("lisi@example.cn"),
            V::S("female"),
            V::E,
            V::S("zhangsan"),
        ],
        vec![
            V::S("wangwu"),
            V::S("王五"),
            V::E,
            V::S(" 研发部 / 后端组 ;市场部"),
            V::E,
            V::N(13800000003.0),
            V::E,
            V::E,
            V::S("010-1234567"),
            V::S("zhangsan; lisi"),
            V::N(1003.0),
            V::D(2024, 3, 1),
        ],
        vec![],
        vec![
            V::S("zhaoliu"),
            V::S("赵六"),
            V::E,
            V::S("市场部"),
            V::E,
            V::S("+86 138-0000-0004"),
            V::E,
            V::E,
            V::E,
            V::E,
            V::E,
            V::S("2023-12-31"),
        ],
    ]);
    let report = dry_run(&admin, bytes).ok();
    assert_eq!(report["errors"], json!([]), "{report}");
    assert_eq!(report["total_rows"], 4, "the empty row is ignored");
    assert_eq!((report["creates"].as_u64(), report["updates"].as_u64()), (Some(4), Some(0)));
    let new: BTreeSet<String> =
        report["new_departments"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
    let want: BTreeSet<String> =
        ["示例科技/研发部", "示例科技/研发部/后端组", "示例科技/研发部/前端组", "示例科技/市场部"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    assert_eq!(new, want);
    assert_eq!(department_count(&admin), before, "a dry run changes nothing");

    let done = commit(&admin, report["import_id"].as_str().unwrap()).ok();
    assert_eq!(done["creates"], 4);
    assert_eq!(done["updates"], 0);
    assert_eq!(done["new_departments"].as_array().map(Vec::len), Some(4));
    assert!(department_paths(&admin).is_superset(&want));

    let found = admin.get("/api/v1/members?q=zs").ok();
    assert_eq!(found["items"][0]["name"], "张三", "findable by pinyin initials");
    let zs = member(&admin, "zhangsan");
    assert_eq!(zs["status"], "inactive");
    assert_eq!(zs["gender"], 1);
    assert_eq!(zs["main_department_id"], department_id(&admin, "示例科技/研发部/后端组"));
    let ls = member(&admin, "lisi");
    assert_eq!(ls["supervisor_ids"], json!([zs["id"]]));
    assert_eq!(ls["gender"], 2);
    let ww = member(&admin, "wangwu");
    assert_eq!(ww["mobile"], "13800000003", "a mobile typed as a number");
    assert_eq!(ww["employee_no"], "1003");
    assert_eq!(ww["hire_date"], "2024-03-01");
    assert_eq!(ww["supervisor_ids"], json!([zs["id"], ls["id"]]));
    assert_eq!(
        ww["department_ids"],
        json!([department_id(&admin, "示例科技/研发部/后端组"), department_id(&admin, "示例科技/市场部")])
    );
    assert_eq!(member(&admin, "zhaoliu")["hire_date"], "2023-12-31");
    // One audit entry for the whole import.
    let audit = admin.get("/api/v1/admin/audit?action=import.committed").ok();
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(audit["items"][0]["details"]["creates"], 4);
    // The import is used up.
    commit(&admin, report["import_id"].as_str().unwrap()).expect(404, "not_found");
}

#[test]
fn dry_run_reports_every_problem_at_once() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    admin
        .post(
            "/api/v1/admin/members",
            json!({ "userid": "old", "name": "老员工", "department_ids": [root], "mobile": "13911112222" }),
        )
        .ok();
    let bytes = text_book(&[
        &["账号", "姓名", "部门", "手机", "邮箱", "直属上级", "入职日期", "备注"],
        &["a1", "甲", "研发部", "13800000001", "", "", "", ""],
        &["a2", "乙", "研发部", "12ab", "", "", "", ""],
        &["a3", "丙", "研发部", "", "x@y", "", "", ""],
        &["A1", "丁", "研发部", "13800000004", "", "", "", ""],
        &["a5", "戊", "研发部", "13800000005", "", "nobody", "", ""],
        &["a6", "", "研发部", "13800000006", "", "", "", ""],
        &["a7", "庚", "研发部", "+86 139-1111-2222", "", "", "", ""],
        &["a8", "辛", "研发部", "13800000008", "", "", "2024-02-30", ""],
        &["a9", "壬", "研发部", "", "", "", "", ""],
        &["bad id!", "癸", "", "13800000010", "", "a1", "", ""],
    ]);
    let r = dry_run(&admin, bytes).ok();
    let want: BTreeSet<(u64, String, String)> = [
        (1, "备注", "unknown_column"),
        (3, "手机", "invalid_mobile"),
        (4, "邮箱", "invalid_email"),
        (5, "账号", "duplicate_userid"),
        (6, "直属上级", "unknown_supervisor"),
        (7, "姓名", "required"),
        (8, "手机", "mobile_taken"),
        (9, "入职日期", "invalid_date"),
        (10, "手机", "mobile_or_email_required"),
        (11, "账号", "invalid_userid"),
        (11, "部门", "required"),
    ]
    .iter()
    .map(|(r, c, k)| (*r, (*c).to_owned(), (*k).to_owned()))
    .collect();
    assert_eq!(errors(&r), want, "{r}");
    assert_eq!(r["error_count"], want.len());
    assert!(r["errors"].as_array().unwrap().iter().all(|e| !e["reason"].as_str().unwrap_or("").is_empty()));
    // Committing is refused and changes nothing.
    let (depts, people) = (department_count(&admin), members(&admin).len());
    let refused = commit(&admin, r["import_id"].as_str().unwrap()).expect(422, "import_has_errors");
    assert!(refused["details"]["errors"].as_array().is_some_and(|e| e.len() == want.len()), "{refused}");
    assert_eq!((department_count(&admin), members(&admin).len()), (depts, people));
}

#[test]
fn headers_in_english_and_custom_fields() {
    let s = TestServer::start();
    let admin = s.setup();
    admin.put("/api/v1/admin/custom-fields", json!({ "items": [{ "key": "seat", "label": "工位" }] })).ok();
    let bytes = text_book(&[
        &["userid", "NAME", "Department", "Email", "工位", "Gender"],
        &["emma", "Emma", "Sales", "emma@example.com", "A-12", "F"],
    ]);
    let done = import_ok(&admin, bytes);
    assert_eq!(done["creates"], 1);
    let m = member(&admin, "emma");
    assert_eq!(m["custom"], json!({ "seat": "A-12" }));
    assert_eq!(m["gender"], 2);
    assert_eq!(m["main_department_id"], department_id(&admin, "示例科技/Sales"));
    // Missing required columns are reported once, on the header row.
    let r = dry_run(&admin, text_book(&[&["账号", "工位"], &["x", "1"]])).ok();
    let want: BTreeSet<_> =
        [(1, "姓名", "missing_column"), (1, "部门", "missing_column"), (1, "手机", "missing_column")]
            .iter()
            .map(|(r, c, k)| (*r as u64, (*c).to_owned(), (*k).to_owned()))
            .collect();
    assert_eq!(errors(&r), want, "{r}");
}

#[test]
fn commit_is_all_or_nothing_against_the_org_as_it_is_then() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let bytes = text_book(&[
        &["账号", "姓名", "部门", "手机"],
        &["p1", "一", "新部门/一组", "13700000001"],
        &["p2", "二", "新部门/二组", "13700000002"],
        &["p3", "三", "新部门", "13700000003"],
    ]);
    let report = dry_run(&admin, bytes).ok();
    assert_eq!(report["errors"], json!([]));
    // Between the dry run and the commit someone takes row 4's mobile.
    admin
        .post(
            "/api/v1/admin/members",
            json!({ "userid": "late", "name": "后来者", "department_ids": [root], "mobile": "137-0000-0003" }),
        )
        .ok();
    let (depts, people) = (department_count(&admin), members(&admin).len());
    let r = commit(&admin, report["import_id"].as_str().unwrap()).expect(422, "import_has_errors");
    let errs = &r["details"]["errors"];
    assert_eq!(
        (errs[0]["row"].as_u64(), errs[0]["column"].as_str(), errs[0]["code"].as_str()),
        (Some(4), Some("手机"), Some("mobile_taken")),
        "{r}"
    );
    assert_eq!(department_count(&admin), depts, "no department was created");
    assert_eq!(members(&admin).len(), people, "no member was created");
    assert!(!members(&admin).iter().any(|m| m["userid"] == "p1"));
}

#[test]
fn reimport_updates_by_userid() {
    let s = TestServer::start();
    let admin = s.setup();
    let rows: &[&[&str]] = &[
        &["账号", "姓名", "部门", "手机", "职务", "直属上级"],
        &["r1", "甲一", "总部/一部", "13600000001", "工程师", "r2"],
        &["r2", "乙二", "总部", "13600000002", "经理", ""],
    ];
    let first = import_ok(&admin, text_book(rows));
    assert_eq!((first["creates"].as_u64(), first["updates"].as_u64()), (Some(2), Some(0)));
    let before = member(&admin, "r1");
    let depts = department_count(&admin);

    let again = dry_run(&admin, text_book(rows)).ok();
    assert_eq!((again["creates"].as_u64(), again["updates"].as_u64()), (Some(0), Some(2)));
    assert_eq!(again["new_departments"], json!([]));
    let done = commit(&admin, again["import_id"].as_str().unwrap()).ok();
    assert_eq!(done, json!({ "creates": 0, "updates": 2, "new_departments": [] }));
    assert_eq!(department_count(&admin), depts);
    assert_eq!(member(&admin, "r1"), before, "an unchanged row leaves the member untouched");

    // A changed position, a new department and an upper-case account id update the same member.
    let changed: &[&[&str]] =
        &[&["账号", "姓名", "部门", "手机", "职务"], &["R1", "甲一", "总部/二部;总部/一部", "13600000001", "架构师"]];
    let done = import_ok(&admin, text_book(changed));
    assert_eq!((done["creates"].as_u64(), done["updates"].as_u64()), (Some(0), Some(1)));
    let after = member(&admin, "r1");
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["position"], "架构师");
    assert_eq!(after["main_department_id"], department_id(&admin, "示例科技/总部/二部"));
    assert_eq!(after["supervisor_ids"], before["supervisor_ids"], "absent columns are left alone");
    assert_eq!(after["status"], "inactive");
}

#[test]
fn export_round_trip() {
    let s = TestServer::start();
    let admin = s.setup();
    admin.put("/api/v1/admin/custom-fields", json!({ "items": [{ "key": "seat", "label": "工位" }] })).ok();
    let bytes = book(&[
        {
            let mut h = header();
            h.push(V::S("工位"));
            h
        },
        vec![
            V::S("e1"),
            V::S("曾小明"),
            V::S("小明"),
            V::S("研发部/后端组;市场部"),
            V::S("工程师"),
            V::S("+86 13500000001"),
            V::S("e1@example.cn"),
            V::S("男"),
            V::S("(010) 8888"),
            V::E,
            V::S("007"),
            V::D(2020, 1, 2),
            V::S("B-3"),
        ],
        vec![
            V::S("e2"),
            V::S("钱二"),
            V::E,
            V::S("研发部"),
            V::E,
            V::E,
            V::S("e2@example.cn"),
            V::E,
            V::E,
            V::S("e1"),
            V::E,
            V::E,
            V::E,
        ],
    ]);
    import_ok(&admin, bytes);
    let before = members(&admin);

    let r = admin.get("/api/v1/admin/export/members");
    assert_eq!(r.status, 200);
    let rows = sheet_rows(&r.bytes, 0);
    assert_eq!(rows[0][..12], HEADER.map(String::from)[..]);
    assert_eq!(rows.len(), 1 + before.len());
    let e1 = rows.iter().find(|r| r[0] == "e1").expect("e1 exported");
    assert_eq!(e1[3], "示例科技/研发部/后端组;示例科技/市场部");
    assert_eq!(e1[10], "007");
    let e2 = rows.iter().find(|r| r[0] == "e2").expect("e2 exported");
    assert_eq!(e2[9], "e1");

    // The export imports again unchanged: all updates, nothing new, nobody changed.
    let report = dry_run(&admin, r.bytes.clone()).ok();
    assert_eq!(report["errors"], json!([]), "{report}");
    assert_eq!((report["creates"].as_u64(), report["updates"].as_u64()), (Some(0), Some(before.len() as u64)));
    assert_eq!(report["new_departments"], json!([]));
    commit(&admin, report["import_id"].as_str().unwrap()).ok();
    assert_eq!(members(&admin), before);

    // Filtered by department.
    let rd = department_id(&admin, "示例科技/市场部");
    let only = sheet_rows(&admin.get(&format!("/api/v1/admin/export/members?department_id={rd}")).bytes, 0);
    assert_eq!(only.iter().skip(1).map(|r| r[0].clone()).collect::<Vec<_>>(), vec!["e1".to_owned()]);
    admin.get("/api/v1/admin/export/members?department_id=999999").expect(404, "not_found");
}

#[test]
fn branch_admin_is_held_to_their_scope() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let rd = admin.create_department("研发部", root);
    let mk = admin.create_department("市场部", root);
    let boss = admin.create_member("boss", "分管", rd, "Tiger-pass-1");
    admin.create_member("mk1", "市场一", mk, "Lion-pass-1");
    admin.create_member("rd1", "研发一", rd, "Bear-pass-1");
    admin
        .put(
            &format!("/api/v1/admin/admins/{boss}"),
            json!({ "kind": "branch", "department_ids": [rd], "permissions": ["import", "members", "departments"] }),
        )
        .ok();
    let branch = Client::signed_in(&s.base, "boss", "Tiger-pass-1");
    let bytes = text_book(&[
        &["账号", "姓名", "部门", "邮箱"],
        &["n1", "新一", "研发部/新组", "n1@example.cn"],
        &["n2", "新二", "市场部", "n2@example.cn"],
        &["mk1", "市场一", "研发部", "mk1@example.cn"],
        &["n3", "新三", "市场部/新组", "n3@example.cn"],
        &["n4", "新四", "示例科技", "n4@example.cn"],
        &["rd1", "研发一", "研发部/新组", "rd1@example.cn"],
    ]);
    let r = dry_run(&branch, bytes).ok();
    let want: BTreeSet<_> = [
        (3, "部门", "out_of_scope"),
        (4, "账号", "out_of_scope"),
        (4, "部门", "out_of_scope"),
        (5, "部门", "out_of_scope"),
        (6, "部门", "out_of_scope"),
    ]
    .iter()
    .map(|(r, c, k)| (*r as u64, (*c).to_owned(), (*k).to_owned()))
    .collect();
    assert_eq!(errors(&r), want, "{r}");
    commit(&branch, r["import_id"].as_str().unwrap()).expect(422, "import_has_errors");

    // Inside the scope it works, including new sub-departments and moving a member within it.
    let ok = text_book(&[
        &["账号", "姓名", "部门", "邮箱"],
        &["n1", "新一", "研发部/新组", "n1@example.cn"],
        &["rd1", "研发一", "研发部/新组", "rd1@example.cn"],
    ]);
    let done = import_ok(&branch, ok);
    assert_eq!((done["creates"].as_u64(), done["updates"].as_u64()), (Some(1), Some(1)));

    // The export holds only their scope.
    let rows = sheet_rows(&branch.get("/api/v1/admin/export/members").bytes, 0);
    let ids: BTreeSet<String> = rows.iter().skip(1).map(|r| r[0].clone()).collect();
    assert_eq!(ids, ["boss", "n1", "rd1"].iter().map(|s| s.to_string()).collect());
    branch.get(&format!("/api/v1/admin/export/members?department_id={mk}")).expect(403, "out_of_scope");

    // Without the departments permission a file that needs new departments is refused.
    admin
        .put(
            &format!("/api/v1/admin/admins/{boss}"),
            json!({ "kind": "branch", "department_ids": [rd], "permissions": ["import", "members"] }),
        )
        .ok();
    let r = dry_run(
        &branch,
        text_book(&[&["账号", "姓名", "部门", "邮箱"], &["n5", "新五", "研发部/另一组", "n5@example.cn"]]),
    )
    .ok();
    commit(&branch, r["import_id"].as_str().unwrap()).expect(403, "forbidden");
}

#[test]
fn only_admins_with_the_import_permission() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    admin.create_member("plain", "普通", root, "Wolf-pass-1");
    let plain = Client::signed_in(&s.base, "plain", "Wolf-pass-1");
    let file = text_book(&[&["账号", "姓名", "部门", "手机"], &["x1", "某", "研发部", "13300000001"]]);
    plain.get("/api/v1/admin/import/template").expect(403, "forbidden");
    dry_run(&plain, file.clone()).expect(403, "forbidden");
    let report = dry_run(&admin, file.clone()).ok();
    let id = report["import_id"].as_str().unwrap().to_owned();
    commit(&plain, &id).expect(403, "forbidden");
    plain.get("/api/v1/admin/export/members").expect(403, "forbidden");
    s.client().get("/api/v1/admin/import/template").expect(401, "unauthorized");

    // Another admin cannot commit someone else's import; unknown ids are 404 too.
    let other = admin.create_member("other", "另一位", root, "Hawk-pass-1");
    admin.put(&format!("/api/v1/admin/admins/{other}"), json!({ "kind": "super" })).ok();
    let other = Client::signed_in(&s.base, "other", "Hawk-pass-1");
    commit(&other, &id).expect(404, "not_found");
    commit(&admin, "no-such-import").expect(404, "not_found");
    // An import expires after an hour.
    s.clock.advance_ms(61 * 60 * 1000);
    commit(&admin, &id).expect(404, "not_found");
}

#[test]
fn files_that_are_not_xlsx_are_refused_clearly() {
    let s = TestServer::start();
    let admin = s.setup();
    let r = admin.upload(
        Method::POST,
        "/api/v1/admin/import/dry-run",
        "members.csv",
        "userid,name\nzs,张三\n".as_bytes().to_vec(),
    );
    let body = r.expect(422, "invalid_file");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("xlsx")), "{body}");
    // A zip that is not a workbook.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("hello.txt", zip::write::SimpleFileOptions::default()).expect("zip entry");
    std::io::Write::write_all(&mut zip, b"hi").expect("zip write");
    let bytes = zip.finish().expect("zip").into_inner();
    dry_run(&admin, bytes).expect(422, "invalid_file");
    // An empty workbook.
    dry_run(&admin, book(&[])).expect(422, "invalid_file");
    // No file part at all.
    let r = admin.post("/api/v1/admin/import/dry-run", json!({}));
    assert!(r.status.is_client_error(), "{}", r.status);
}

#[test]
fn more_than_50000_rows_are_refused() {
    let s = TestServer::start();
    let admin = s.setup();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "账号").expect("header");
    for i in 0..50_001u32 {
        ws.write_string(i + 1, 0, format!("u{i}")).expect("cell");
    }
    let r = dry_run(&admin, wb.save_to_buffer().expect("xlsx"));
    r.expect(422, "too_many_rows");
}
