//! The organisation through the API: department tree rules, member validation and uniqueness,
//! multi-department members, leaders and supervisors, transfers, directory search, offboarding,
//! tags, custom fields and avatars.

use crate::common::*;
use reqwest::Method;
use serde_json::{json, Value};

fn departments(c: &Client) -> Vec<Value> {
    c.get("/api/v1/departments").ok()["items"].as_array().unwrap().clone()
}

fn children_names(c: &Client, parent: u64) -> Vec<String> {
    departments(c)
        .into_iter()
        .filter(|d| d["parent_id"] == parent)
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}

fn dept(c: &Client, id: u64) -> Value {
    departments(c).into_iter().find(|d| d["id"] == id).unwrap_or_else(|| panic!("department {id} missing"))
}

fn member(c: &Client, id: u64) -> Value {
    c.get(&format!("/api/v1/members/{id}")).ok()
}

fn ids(v: &Value) -> Vec<u64> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}")).iter().map(|x| x.as_u64().unwrap()).collect()
}

fn search(c: &Client, q: &str) -> Vec<String> {
    let r = c.get(&format!("/api/v1/members?q={}", urlencode(q))).ok();
    r["items"].as_array().unwrap().iter().map(|m| m["userid"].as_str().unwrap().to_owned()).collect()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn department_names_are_unique_per_level_and_validated() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let rd = admin.create_department("研发部", root);
    let mk = admin.create_department("市场部", root);
    let r = admin.post("/api/v1/admin/departments", json!({ "name": "研发部", "parent_id": root }));
    assert_eq!(r.expect(409, "duplicate_name")["details"]["field"], "name");
    // The same name one level down is fine.
    let sub = admin.create_department("研发部", mk);
    // Renaming onto a sibling's name is refused too.
    admin.patch(&format!("/api/v1/admin/departments/{mk}"), json!({ "name": "研发部" })).expect(409, "duplicate_name");
    // Moving next to a same-named sibling is refused.
    admin
        .patch(&format!("/api/v1/admin/departments/{sub}"), json!({ "parent_id": root }))
        .expect(409, "duplicate_name");
    for bad in ["", "   ", "a/b", "x:y", "<script>", &"长".repeat(65)] {
        let r = admin.post("/api/v1/admin/departments", json!({ "name": bad, "parent_id": root }));
        assert_eq!(r.status.as_u16(), 422, "{bad:?}: {}", r.body);
        assert_eq!(r.code(), "invalid_department_name");
        assert_eq!(r.body["details"]["field"], "name");
        admin
            .patch(&format!("/api/v1/admin/departments/{rd}"), json!({ "name": bad }))
            .expect(422, "invalid_department_name");
    }
    admin
        .post("/api/v1/admin/departments", json!({ "name": "孤儿", "parent_id": 999_999 }))
        .expect(422, "unknown_department");
    let renamed = admin.patch(&format!("/api/v1/admin/departments/{rd}"), json!({ "name": " 研发中心 " })).ok();
    assert_eq!(renamed["name"], "研发中心");
    assert_eq!(children_names(&admin, root), vec!["研发中心", "市场部"]);
}

#[test]
fn departments_cannot_move_under_themselves_or_their_descendants() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let a = admin.create_department("A", root);
    let b = admin.create_department("B", a);
    let c = admin.create_department("C", b);
    for target in [a, b, c] {
        admin
            .patch(&format!("/api/v1/admin/departments/{a}"), json!({ "parent_id": target }))
            .expect(409, "department_cycle");
    }
    admin
        .patch(&format!("/api/v1/admin/departments/{root}"), json!({ "parent_id": a }))
        .expect(409, "cannot_move_root");
    admin
        .patch(&format!("/api/v1/admin/departments/{c}"), json!({ "parent_id": 424_242 }))
        .expect(422, "unknown_department");
    // A legal move re-parents the whole subtree.
    let moved = admin.patch(&format!("/api/v1/admin/departments/{b}"), json!({ "parent_id": root })).ok();
    assert_eq!(moved["parent_id"], root);
    assert_eq!(dept(&admin, c)["parent_id"], b);
    assert_eq!(dept(&admin, b)["parent_id"], root);
    assert!(admin.audit("action=department.moved").iter().any(|e| e["target"].as_str().unwrap().contains("B")));
}

#[test]
fn only_empty_non_root_departments_can_be_deleted() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let parent = admin.create_department("有子部门", root);
    let child = admin.create_department("子部门", parent);
    let staffed = admin.create_department("有成员", root);
    let mid = admin.create_member("staffer", "员工", staffed, MEMBER_PASSWORD);
    admin.delete(&format!("/api/v1/admin/departments/{root}")).expect(409, "cannot_delete_root");
    admin.delete(&format!("/api/v1/admin/departments/{parent}")).expect(409, "department_not_empty");
    admin.delete(&format!("/api/v1/admin/departments/{staffed}")).expect(409, "department_not_empty");
    admin.delete("/api/v1/admin/departments/777777").expect(404, "not_found");
    assert_eq!(departments(&admin).len(), 4, "nothing was deleted");
    assert_eq!(admin.delete(&format!("/api/v1/admin/departments/{child}")).status.as_u16(), 204);
    assert_eq!(admin.delete(&format!("/api/v1/admin/departments/{parent}")).status.as_u16(), 204);
    // Once its only member has moved away, the staffed department can go as well.
    admin.patch(&format!("/api/v1/admin/members/{mid}"), json!({ "department_ids": [root] })).ok();
    assert_eq!(admin.delete(&format!("/api/v1/admin/departments/{staffed}")).status.as_u16(), 204);
    let left: Vec<u64> = departments(&admin).iter().map(|d| d["id"].as_u64().unwrap()).collect();
    assert_eq!(left, vec![root]);
}

#[test]
fn departments_nest_at_most_fifteen_levels() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let mut parent = root;
    let mut chain = vec![root];
    for level in 2..=15 {
        parent = admin.create_department(&format!("L{level}"), parent);
        chain.push(parent);
    }
    admin.post("/api/v1/admin/departments", json!({ "name": "L16", "parent_id": parent })).expect(422, "too_deep");
    // Moving a two-level subtree under level 14 would make 16 levels.
    let top = admin.create_department("T1", root);
    admin.create_department("T2", top);
    admin.patch(&format!("/api/v1/admin/departments/{top}"), json!({ "parent_id": chain[13] })).expect(422, "too_deep");
    admin.patch(&format!("/api/v1/admin/departments/{top}"), json!({ "parent_id": chain[12] })).ok();
}

#[test]
fn siblings_are_listed_by_order_and_can_be_reordered() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let create = |name: &str, order: i64| {
        let r = admin.post("/api/v1/admin/departments", json!({ "name": name, "parent_id": root, "order": order }));
        assert_eq!(r.status.as_u16(), 201, "{}", r.body);
        assert_eq!(r.body["order"], order);
        r.id()
    };
    let a = create("甲", 20);
    create("乙", 10);
    create("丙", 30);
    assert_eq!(children_names(&admin, root), vec!["乙", "甲", "丙"]);
    admin.patch(&format!("/api/v1/admin/departments/{a}"), json!({ "order": 5 })).ok();
    assert_eq!(children_names(&admin, root), vec!["甲", "乙", "丙"]);
    // Without an order a new department goes last.
    admin.create_department("丁", root);
    assert_eq!(children_names(&admin, root), vec!["甲", "乙", "丙", "丁"]);
}

#[test]
fn member_fields_are_validated_with_stable_codes() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let base = || json!({ "userid": "valid.user", "name": "合法", "department_ids": [root], "mobile": "13600000001" });
    let cases: Vec<(&str, Value, u16, &str, &str)> = vec![
        ("userid", json!("_starts_with_underscore"), 422, "invalid_userid", "userid"),
        ("userid", json!("张三"), 422, "invalid_userid", "userid"),
        ("userid", json!("a".repeat(65)), 422, "invalid_userid", "userid"),
        ("userid", json!("has space"), 422, "invalid_userid", "userid"),
        ("name", json!(""), 422, "invalid_name", "name"),
        ("mobile", json!("138abc"), 422, "invalid_mobile", "mobile"),
        ("mobile", json!("12+34567"), 422, "invalid_mobile", "mobile"),
        ("email", json!("no-at-sign"), 422, "invalid_email", "email"),
        ("email", json!("a@b"), 422, "invalid_email", "email"),
        ("gender", json!(3), 422, "invalid_gender", "gender"),
        ("hire_date", json!("2024-02-30"), 422, "invalid_date", "hire_date"),
        ("hire_date", json!("30/01/2024"), 422, "invalid_date", "hire_date"),
        ("telephone", json!("call me"), 422, "invalid_telephone", "telephone"),
        ("department_ids", json!([]), 422, "department_required", "department_ids"),
        ("department_ids", json!([987_654]), 422, "unknown_department", "department_ids"),
        ("supervisor_ids", json!([987_654]), 422, "unknown_supervisor", "supervisor_ids"),
        ("custom", json!({ "nope": "x" }), 422, "unknown_custom_field", "custom"),
        ("position", json!("职".repeat(129)), 422, "too_long", "position"),
    ];
    let mut failures = Vec::new();
    for (field, value, status, code, detail) in &cases {
        let mut body = base();
        body[*field] = value.clone();
        let r = admin.post("/api/v1/admin/members", body);
        if r.status.as_u16() != *status || r.code() != *code || r.body["details"]["field"] != *detail {
            failures.push(format!(
                "{field}={value}: expected {status} {code} (field {detail}), got {} {}",
                r.status, r.body
            ));
        }
    }
    let mut body = base();
    body["mobile"] = json!("");
    let r = admin.post("/api/v1/admin/members", body);
    if r.status.as_u16() != 422 || r.code() != "mobile_or_email_required" {
        failures.push(format!("no mobile nor email: got {} {}", r.status, r.body));
    }
    let mut body = base();
    body["unknown_field"] = json!(1);
    if admin.post("/api/v1/admin/members", body).status.as_u16() != 400 {
        failures.push("unknown fields must be refused".into());
    }
    assert!(failures.is_empty(), "validation mismatches:\n{}", failures.join("\n"));
    // Nothing half-created: the valid body still works afterwards, once.
    admin.create_member_with(base());
    admin.post("/api/v1/admin/members", base()).expect(409, "userid_taken");
}

#[test]
fn userid_mobile_and_email_are_unique_in_every_notation() {
    let s = TestServer::start();
    let admin = s.setup(); // admin: mobile 13900000000, email admin@example.cn
    let root = admin.root_department();
    admin.create_member_with(
        json!({ "userid": "zhangsan", "name": "张三", "department_ids": [root], "mobile": "13500000000" }),
    );
    let try_create = |userid: &str, mobile: &str, email: &str| {
        admin.post(
            "/api/v1/admin/members",
            json!({ "userid": userid, "name": "重复", "department_ids": [root], "mobile": mobile, "email": email }),
        )
    };
    try_create("ZhangSan", "13500000001", "").expect(409, "userid_taken");
    try_create("ADMIN", "13500000002", "").expect(409, "userid_taken");
    let r = try_create("other1", "+86 139 0000 0000", "");
    assert_eq!(r.expect(409, "mobile_taken")["details"]["field"], "mobile");
    try_create("other2", "139-0000-0000", "").expect(409, "mobile_taken");
    try_create("other3", "+86-135-0000-0000", "").expect(409, "mobile_taken");
    try_create("other4", "", "ADMIN@Example.CN").expect(409, "email_taken");
    // Editing another member onto a taken value is refused the same way.
    let m = admin.create_member_with(
        json!({ "userid": "lisi", "name": "李四", "department_ids": [root], "email": "lisi@example.cn" }),
    );
    let id = m["id"].as_u64().unwrap();
    admin
        .patch(&format!("/api/v1/admin/members/{id}"), json!({ "mobile": "+86 135 0000 0000" }))
        .expect(409, "mobile_taken");
    admin.patch(&format!("/api/v1/admin/members/{id}"), json!({ "userid": "ZHANGSAN" })).expect(409, "userid_taken");
    // A member may keep their own value in another notation.
    admin.patch(&format!("/api/v1/admin/members/{id}"), json!({ "mobile": "13700000077" })).ok();
    let same = admin.patch(&format!("/api/v1/admin/members/{id}"), json!({ "mobile": "+86 137 0000 0077" })).ok();
    assert_eq!(same["mobile"], "+86 137 0000 0077");
    // A value freed by an edit can be taken by someone else.
    admin.patch(&format!("/api/v1/admin/members/{id}"), json!({ "email": "lisi2@example.cn" })).ok();
    try_create("wangwu", "", "lisi@example.cn").ok();
}

#[test]
fn members_belong_to_several_departments_with_a_main_one_leaders_and_supervisors() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let rd = admin.create_department("研发部", root);
    let mk = admin.create_department("市场部", root);
    let boss = admin.create_member("boss", "老板", root, MEMBER_PASSWORD);
    let m = admin.create_member_with(json!({
        "userid": "dual", "name": "双岗", "department_ids": [rd, mk], "main_department_id": mk,
        "mobile": "13600000002", "leader_of": [rd], "supervisor_ids": [boss], "position": "工程师",
        "gender": 2, "hire_date": "2024-3-1", "employee_no": "E001"
    }));
    let id = m["id"].as_u64().unwrap();
    let m = member(&admin, id);
    assert_eq!(ids(&m["department_ids"]), vec![rd, mk]);
    assert_eq!(m["main_department_id"], mk);
    assert_eq!(ids(&m["leader_of"]), vec![rd]);
    assert_eq!(ids(&m["supervisor_ids"]), vec![boss]);
    assert_eq!(m["hire_date"], "2024-03-01");
    assert_eq!(m["gender"], 2);
    assert_eq!(m["status"], "inactive", "no password yet: not activated");
    assert_eq!(ids(&dept(&admin, rd)["leader_ids"]), vec![id]);
    assert_eq!(dept(&admin, rd)["member_count"], 1);
    assert_eq!(dept(&admin, mk)["member_count"], 1);
    // Listed in both departments; the root lists them recursively but not directly.
    for (d, recursive, expected) in [(rd, true, 1), (mk, true, 1), (root, false, 2), (root, true, 3)] {
        let r = admin.get(&format!("/api/v1/members?department_id={d}&recursive={recursive}")).ok();
        assert_eq!(r["items"].as_array().unwrap().len(), expected, "department {d} recursive={recursive}: {r}");
    }
    // Leading a department one is not in is refused.
    let r = admin.patch(&format!("/api/v1/admin/members/{id}"), json!({ "leader_of": [root] }));
    r.expect(422, "validation_failed");
    // Self-supervision is refused.
    admin
        .patch(&format!("/api/v1/admin/members/{id}"), json!({ "supervisor_ids": [id] }))
        .expect(422, "validation_failed");
    // Leaders set from the department side show on the member.
    admin.patch(&format!("/api/v1/admin/departments/{mk}"), json!({ "leader_ids": [id] })).ok();
    assert_eq!(ids(&member(&admin, id)["leader_of"]), vec![rd, mk]);
    admin
        .patch(&format!("/api/v1/admin/departments/{mk}"), json!({ "leader_ids": [boss] }))
        .expect(422, "validation_failed");
}

#[test]
fn transferring_a_member_moves_lists_counts_and_drops_old_leadership() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let rd = admin.create_department("研发部", root);
    let mk = admin.create_department("市场部", root);
    let m = admin.create_member_with(json!({
        "userid": "mover", "name": "调岗", "department_ids": [rd], "mobile": "13600000003", "leader_of": [rd]
    }));
    let id = m["id"].as_u64().unwrap();
    let moved = admin.patch(&format!("/api/v1/admin/members/{id}"), json!({ "department_ids": [mk] })).ok();
    assert_eq!(ids(&moved["department_ids"]), vec![mk]);
    assert_eq!(moved["main_department_id"], mk);
    assert_eq!(ids(&moved["leader_of"]), Vec::<u64>::new(), "no longer leads the department they left");
    assert!(ids(&dept(&admin, rd)["leader_ids"]).is_empty());
    assert_eq!(dept(&admin, rd)["member_count"], 0);
    assert_eq!(dept(&admin, mk)["member_count"], 1);
    let in_rd = admin.get(&format!("/api/v1/members?department_id={rd}")).ok();
    assert!(in_rd["items"].as_array().unwrap().is_empty(), "{in_rd}");
    let in_mk = admin.get(&format!("/api/v1/members?department_id={mk}")).ok();
    assert_eq!(in_mk["items"][0]["id"], id);
    let audit = admin.audit("action=member.");
    assert!(
        audit.iter().any(|e| e["target"].as_str().unwrap().contains("mover") && e["action"] != "member.created"),
        "{audit:?}"
    );
}

#[test]
fn the_directory_finds_members_by_name_pinyin_initials_userid_mobile_and_email() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    admin.create_member_with(json!({
        "userid": "zs001", "name": "张三", "department_ids": [root], "mobile": "+86 138 0000 0001", "email": "zhang.san@corp.cn"
    }));
    admin.create_member_with(
        json!({ "userid": "ls002", "name": "李四", "department_ids": [root], "mobile": "13800000002", "alias": "Leo" }),
    );
    let (_, reader) = s.member(&admin, "reader", root);
    for (q, who) in [
        ("张三", "zs001"),
        ("zhangsan", "zs001"),
        ("ZhangSan", "zs001"),
        ("zs", "zs001"),
        ("zs001", "zs001"),
        ("13800000001", "zs001"),
        ("138 0000 0001", "zs001"),
        ("zhang.san@corp.cn", "zs001"),
        ("lisi", "ls002"),
        ("ls", "ls002"),
        ("leo", "ls002"),
    ] {
        let found = search(&reader, q);
        assert_eq!(found, vec![who.to_owned()], "q={q:?}");
    }
    assert!(search(&reader, "wangwu").is_empty());
    // Lists come in pinyin order and page with a cursor.
    let first = reader.get("/api/v1/members?limit=2").ok();
    let names: Vec<&str> = first["items"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["管理员", "李四"]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = reader.get(&format!("/api/v1/members?limit=2&cursor={cursor}")).ok();
    let names: Vec<&str> = second["items"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["reader", "张三"]);
    assert!(second["next_cursor"].is_null());
    reader.get("/api/v1/members?cursor=zzz").expect(400, "invalid_cursor");
    reader.get("/api/v1/members?department_id=999999").expect(404, "not_found");
    s.client().get("/api/v1/members?q=zs").expect(401, "unauthorized");
}

#[test]
fn offboarding_needs_an_active_heir_and_hides_the_member() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let rd = admin.create_department("研发部", root);
    let leaver = admin.create_member_with(json!({
        "userid": "leaver", "name": "离职者", "department_ids": [rd], "mobile": "13600000004", "leader_of": [rd]
    }))["id"]
        .as_u64()
        .unwrap();
    let heir = admin.create_member("heir", "接手人", rd, MEMBER_PASSWORD);
    let off = admin.create_member("off", "停用者", rd, MEMBER_PASSWORD);
    admin.post(&format!("/api/v1/admin/members/{off}/disable"), json!({})).ok();
    let tag = admin.post("/api/v1/admin/tags", json!({ "name": "骨干" })).id();
    admin.patch(&format!("/api/v1/admin/tags/{tag}"), json!({ "member_ids": [leaver, heir] })).ok();
    let url = format!("/api/v1/admin/members/{leaver}/offboard");
    admin.post(&url, json!({ "handover_to": leaver })).expect(422, "invalid_handover");
    admin.post(&url, json!({ "handover_to": off })).expect(422, "invalid_handover");
    admin.post(&url, json!({ "handover_to": 888_888 })).expect(422, "invalid_handover");
    admin.post(&url, json!({})).expect(400, "bad_request");
    assert_eq!(member(&admin, leaver)["status"], "inactive", "refused offboards change nothing");
    let m = admin.post(&url, json!({ "handover_to": heir })).ok();
    assert_eq!(m["status"], "left");
    assert_eq!(m["handover_to"], heir);
    assert!(ids(&m["leader_of"]).is_empty());
    assert!(ids(&m["tag_ids"]).is_empty());
    let tags = admin.get("/api/v1/tags").ok();
    assert_eq!(ids(&tags["items"][0]["member_ids"]), vec![heir]);
    admin.post(&url, json!({ "handover_to": heir })).expect(409, "member_left");
    // Hidden from the directory unless asked for.
    assert!(search(&admin, "leaver").is_empty());
    let listed = admin.get(&format!("/api/v1/members?department_id={rd}")).ok();
    assert!(!listed["items"].as_array().unwrap().iter().any(|x| x["id"] == leaver));
    let left = admin.get("/api/v1/members?status=left").ok();
    assert_eq!(
        ids(&Value::Array(left["items"].as_array().unwrap().iter().map(|x| x["id"].clone()).collect())),
        vec![leaver]
    );
    assert_eq!(dept(&admin, rd)["member_count"], 2);
    let entry = admin.audit("action=member.offboarded");
    assert_eq!(entry.len(), 1);
    assert_eq!(entry[0]["details"]["handover_to"], "heir");
    // The super admin cannot be offboarded while super admin, nor offboard themselves.
    let admin_id = admin.me()["user"]["id"].as_u64().unwrap();
    admin
        .post(&format!("/api/v1/admin/members/{admin_id}/offboard"), json!({ "handover_to": heir }))
        .expect(409, "cannot_offboard_self");
}

#[test]
fn tags_hold_members_and_departments() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let rd = admin.create_department("研发部", root);
    let a = admin.create_member("taga", "甲", rd, MEMBER_PASSWORD);
    let b = admin.create_member("tagb", "乙", rd, MEMBER_PASSWORD);
    let r = admin.post("/api/v1/admin/tags", json!({ "name": "值班" }));
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let tag = r.id();
    admin.post("/api/v1/admin/tags", json!({ "name": " 值班 " })).expect(409, "tag_exists");
    admin.post("/api/v1/admin/tags", json!({ "name": "" })).expect(422, "invalid_tag_name");
    let other = admin.post("/api/v1/admin/tags", json!({ "name": "OnCall" })).id();
    admin.post("/api/v1/admin/tags", json!({ "name": "oncall" })).expect(409, "tag_exists");
    admin.patch(&format!("/api/v1/admin/tags/{other}"), json!({ "name": "值班" })).expect(409, "tag_exists");
    let t = admin
        .patch(&format!("/api/v1/admin/tags/{tag}"), json!({ "member_ids": [b, a, a], "department_ids": [rd] }))
        .ok();
    assert_eq!(ids(&t["member_ids"]), vec![a, b]);
    assert_eq!(ids(&t["department_ids"]), vec![rd]);
    admin.patch(&format!("/api/v1/admin/tags/{tag}"), json!({ "member_ids": [999_999] })).expect(422, "unknown_member");
    admin
        .patch(&format!("/api/v1/admin/tags/{tag}"), json!({ "department_ids": [999_999] }))
        .expect(422, "unknown_department");
    admin.patch("/api/v1/admin/tags/999999", json!({ "name": "x" })).expect(404, "not_found");
    assert_eq!(ids(&member(&admin, a)["tag_ids"]), vec![tag]);
    let listed = admin.get("/api/v1/tags").ok();
    let mine = listed["items"].as_array().unwrap().iter().find(|t| t["id"] == tag).unwrap().clone();
    assert_eq!(mine["name"], "值班");
    assert_eq!(ids(&mine["member_ids"]), vec![a, b]);
    let renamed = admin.patch(&format!("/api/v1/admin/tags/{tag}"), json!({ "name": "夜班", "member_ids": [b] })).ok();
    assert_eq!(renamed["name"], "夜班");
    assert!(ids(&member(&admin, a)["tag_ids"]).is_empty());
    // The old name is free again.
    admin.post("/api/v1/admin/tags", json!({ "name": "值班" })).ok();
    assert_eq!(admin.delete(&format!("/api/v1/admin/tags/{tag}")).status.as_u16(), 204);
    admin.delete(&format!("/api/v1/admin/tags/{tag}")).expect(404, "not_found");
    assert!(ids(&member(&admin, b)["tag_ids"]).is_empty());
    assert!(!admin.get("/api/v1/tags").ok()["items"].as_array().unwrap().iter().any(|t| t["id"] == tag));
    // Deleting a department removes it from tags.
    let gone = admin.create_department("临时", root);
    admin.patch(&format!("/api/v1/admin/tags/{other}"), json!({ "department_ids": [gone, rd] })).ok();
    admin.delete(&format!("/api/v1/admin/departments/{gone}"));
    let t =
        admin.get("/api/v1/tags").ok()["items"].as_array().unwrap().iter().find(|t| t["id"] == other).unwrap().clone();
    assert_eq!(ids(&t["department_ids"]), vec![rd]);
}

#[test]
fn custom_fields_are_defined_by_the_super_admin_and_set_on_members() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let fields = json!({ "items": [ { "key": "wechat", "label": "微信号" }, { "key": "seat", "label": "工位" } ] });
    let saved = admin.put("/api/v1/admin/custom-fields", fields).ok();
    assert_eq!(saved["items"][0]["kind"], "text");
    let (mid, member_client) = s.member(&admin, "fields", root);
    let listed = member_client.get("/api/v1/custom-fields").ok();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    assert_eq!(listed["items"][1]["label"], "工位");
    let m = admin
        .patch(
            &format!("/api/v1/admin/members/{mid}"),
            json!({ "custom": { "wechat": "wx_fields", "seat": " A-12 " } }),
        )
        .ok();
    assert_eq!(m["custom"], json!({ "wechat": "wx_fields", "seat": "A-12" }));
    let r =
        admin.patch(&format!("/api/v1/admin/members/{mid}"), json!({ "custom": { "wechat": "x", "shoe_size": "42" } }));
    assert_eq!(r.expect(422, "unknown_custom_field")["details"]["field"], "custom");
    assert_eq!(member(&member_client, mid)["custom"]["wechat"], "wx_fields");
    for bad in [
        json!({ "items": [ { "key": "bad key", "label": "x" } ] }),
        json!({ "items": [ { "key": "k", "label": "" } ] }),
        json!({ "items": [ { "key": "k", "label": "a" }, { "key": "k", "label": "b" } ] }),
    ] {
        admin.put("/api/v1/admin/custom-fields", bad).expect(422, "validation_failed");
    }
    member_client.put("/api/v1/admin/custom-fields", json!({ "items": [] })).expect(403, "forbidden");
    assert_eq!(member_client.get("/api/v1/custom-fields").ok()["items"].as_array().unwrap().len(), 2);
}

#[test]
fn unknown_members_are_404() {
    let s = TestServer::start();
    let admin = s.setup();
    for path in ["/api/v1/members/987654", "/api/v1/members/987654/avatar", "/api/v1/members/not-a-number"] {
        admin.get(path).expect(404, "not_found");
    }
    admin.patch("/api/v1/admin/members/987654", json!({ "name": "x" })).expect(404, "not_found");
    admin.post("/api/v1/admin/members/987654/disable", json!({})).expect(404, "not_found");
    admin.post("/api/v1/admin/members/987654/invite", json!({})).expect(404, "not_found");
}

#[test]
fn avatars_accept_images_only_and_are_served_with_their_type() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let (mid, c) = s.member(&admin, "pic", root);
    admin.get(&format!("/api/v1/members/{mid}/avatar")).expect(404, "not_found");
    let r = c.upload(Method::PUT, "/api/v1/me/avatar", "notes.png", b"just some text, not an image".to_vec());
    assert_eq!(r.expect(422, "invalid_image")["details"]["field"], "file");
    assert_eq!(member(&admin, mid)["has_avatar"], false);
    let m = c.upload(Method::PUT, "/api/v1/me/avatar", "me.png", png()).ok();
    assert_eq!(m["has_avatar"], true);
    assert!(m.get("avatar").is_none_or(Value::is_null), "the blob hash is not exposed: {m}");
    let got = admin.get(&format!("/api/v1/members/{mid}/avatar"));
    assert_eq!(got.status.as_u16(), 200);
    assert_eq!(got.headers["content-type"], "image/png");
    assert_eq!(got.headers["x-content-type-options"], "nosniff");
    assert_eq!(got.bytes, png());
    s.client().get(&format!("/api/v1/members/{mid}/avatar")).expect(401, "unauthorized");
    // Too large: over 2 MiB.
    let mut big = png();
    big.resize(2 * 1024 * 1024 + 10, 0);
    let r = c.upload(Method::PUT, "/api/v1/me/avatar", "big.png", big);
    assert_eq!(r.status.as_u16(), 413, "{}", r.body);
    assert_eq!(admin.get(&format!("/api/v1/members/{mid}/avatar")).bytes, png(), "the old avatar stays");
}

#[test]
fn members_edit_only_alias_and_telephone_of_their_own_profile() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let (mid, c) = s.member(&admin, "selfedit", root);
    let m = c.patch("/api/v1/me/profile", json!({ "alias": "小自", "telephone": "010-1234 5678" })).ok();
    assert_eq!(m["alias"], "小自");
    assert_eq!(m["telephone"], "010-1234 5678");
    for sneaky in [
        json!({ "position": "CEO" }),
        json!({ "status": "active" }),
        json!({ "userid": "boss" }),
        json!({ "department_ids": [1] }),
    ] {
        assert_eq!(c.patch("/api/v1/me/profile", sneaky.clone()).status.as_u16(), 400, "{sneaky}");
    }
    c.patch("/api/v1/me/profile", json!({ "telephone": "call me" })).expect(422, "invalid_telephone");
    let after = member(&admin, mid);
    assert_eq!(after["position"], "");
    assert_eq!(after["userid"], "selfedit");
    assert_eq!(after["telephone"], "010-1234 5678");
    assert!(search(&c, "小自").contains(&"selfedit".to_owned()), "the alias is searchable");
}

#[test]
fn repeated_ids_are_stored_once_keeping_the_first_as_main() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let rd = admin.create_department("研发部", root);
    let mk = admin.create_department("市场部", root);
    let boss = admin.create_member("boss", "老板", root, MEMBER_PASSWORD);
    let m = admin.create_member_with(json!({
        "userid": "twice", "name": "重复", "department_ids": [mk, rd, mk], "mobile": "13600000005",
        "supervisor_ids": [boss, boss]
    }));
    assert_eq!(ids(&m["department_ids"]), vec![mk, rd]);
    assert_eq!(m["main_department_id"], mk);
    assert_eq!(ids(&m["supervisor_ids"]), vec![boss]);
    let id = m["id"].as_u64().unwrap();
    let d = admin.patch(&format!("/api/v1/admin/departments/{rd}"), json!({ "leader_ids": [id, boss, id] }));
    d.expect(422, "validation_failed"); // boss is not in 研发部
    let d = admin.patch(&format!("/api/v1/admin/departments/{rd}"), json!({ "leader_ids": [id, id] })).ok();
    assert_eq!(ids(&d["leader_ids"]), vec![id]);
    assert_eq!(ids(&member(&admin, id)["leader_of"]), vec![rd]);
}

#[test]
fn members_who_left_cannot_be_made_leaders_again() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let rd = admin.create_department("研发部", root);
    let gone = admin.create_member("gone", "已离职", rd, MEMBER_PASSWORD);
    let heir = admin.create_member("heir", "接手", rd, MEMBER_PASSWORD);
    admin.post(&format!("/api/v1/admin/members/{gone}/offboard"), json!({ "handover_to": heir })).ok();
    admin
        .patch(&format!("/api/v1/admin/departments/{rd}"), json!({ "leader_ids": [gone] }))
        .expect(422, "validation_failed");
    admin.patch(&format!("/api/v1/admin/departments/{rd}"), json!({ "leader_ids": [heir] })).ok();
    assert_eq!(ids(&dept(&admin, rd)["leader_ids"]), vec![heir]);
}
