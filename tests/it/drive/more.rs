//! Search (kind `file`), the activity log, the single-file limit.

use super::*;
use std::time::{Duration, Instant};

fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Poll `kind=file` search until `pred` holds.
#[track_caller]
fn wait_search(c: &Client, q: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = c.get(&format!("/api/v1/search?kinds=file&q={}", enc(q)));
        let items = r.body["items"].as_array().cloned().unwrap_or_default();
        if r.status == 200 && pred(&items) {
            return items;
        }
        assert!(Instant::now() < deadline, "search {q:?}: {} {}", r.status, r.body);
        std::thread::sleep(Duration::from_millis(30));
    }
}

#[test]
fn files_are_found_by_name_and_pinyin_and_only_by_people_who_may_see_them() {
    let w = world();
    let a = w.person("sou", "搜索");
    let b = w.person("pang", "旁人");
    let root = my_root(&a.c);
    let id = upload_ok(&a.c, root, "年度预算表.xlsx", b"budget");
    let hit = |items: &[Value]| items.iter().any(|i| i["id"] == id);
    let items = wait_search(&a.c, "预算", hit);
    let item = items.iter().find(|i| i["id"] == id).unwrap();
    assert_eq!(item["kind"], "file");
    assert_eq!(item["node"]["name"], "年度预算表.xlsx");
    assert_eq!(item["path"][0]["id"], root);
    wait_search(&a.c, "ndysb", hit);
    // Someone without a role never sees it, even once it is indexed.
    let r = b.c.get(&format!("/api/v1/search?kinds=file&q={}", enc("预算")));
    assert!(!r.body["items"].as_array().is_some_and(|a| a.iter().any(|i| i["id"] == id)), "{}", r.body);
    // Deleted files leave the results.
    a.c.delete(&format!("/api/v1/drive/nodes/{id}")).expect_status(204);
    wait_search(&a.c, "预算", |items| !hit(items));
}

#[test]
fn managers_read_the_activity_log_and_single_files_have_a_limit() {
    let t = team();
    let viewer = t.w.person("av", "看客");
    add_member(&t.boss.c, t.space, viewer.id, "viewer");
    let f = upload_ok(&t.boss.c, t.root, "计划.txt", b"plan");
    t.boss.c.patch(&format!("/api/v1/drive/nodes/{f}"), json!({"name": "计划v2.txt"})).ok();
    content(&viewer.c, f);
    let log = t.boss.c.get(&format!("/api/v1/drive/spaces/{}/activity", t.space)).ok();
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["download", "rename", "upload"]);
    assert_eq!(log["items"][0]["actor"]["name"], "看客");
    viewer.c.get(&format!("/api/v1/drive/spaces/{}/activity", t.space)).expect(403, "forbidden");
    let mut s = t.w.admin.get("/api/v1/admin/settings/drive").ok();
    s["max_file_size"] = json!(10);
    t.w.admin.put("/api/v1/admin/settings/drive", s.clone()).ok();
    put_file(&t.boss.c, t.root, "big.bin", &[0u8; 11]).expect(413, "file_too_large");
    s["bin_days"] = json!(0);
    t.w.admin.put("/api/v1/admin/settings/drive", s).expect(422, "invalid_setting");
    let audit = t.w.admin.audit("action=drive.settings");
    assert_eq!(audit.len(), 1);
}

#[test]
fn previews_return_text_to_preview_only_readers() {
    let t = team();
    let reader = t.w.person("pv", "预览者");
    add_member(&t.boss.c, t.space, reader.id, "preview");
    let md = upload_ok(&t.boss.c, t.root, "说明.md", "# 标题\n内容".as_bytes());
    let bin = upload_ok(&t.boss.c, t.root, "数据.bin", b"\x00\x01");
    let v = reader.c.get(&format!("/api/v1/drive/nodes/{md}/preview")).ok();
    assert_eq!(v, json!({"kind": "text", "text": "# 标题\n内容", "truncated": false, "language": "markdown"}));
    assert_eq!(reader.c.get(&format!("/api/v1/drive/nodes/{bin}/preview")).ok(), json!({"kind": null}));
    let x = t.w.person("px", "外人");
    x.c.get(&format!("/api/v1/drive/nodes/{md}/preview")).expect(404, "not_found");
}
