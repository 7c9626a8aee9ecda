//! Text inside files: the background extraction queue feeds file search (by content, re-checked
//! per searcher), previews of Office files come back as sections, a broken file is a clean
//! error that does not hold up the queue, and the queue survives a restart.

use super::*;
use officebox::drive::extraction::{self, Job, QUEUE, TEXTS};
use std::io::Write;
use std::time::{Duration, Instant};

fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The `kind=file` hits for `q`, waiting out the 503 answered while the index is first built.
#[track_caller]
fn search(c: &Client, q: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = c.get(&format!("/api/v1/search?kinds=file&q={}", enc(q)));
        if r.status == 200 {
            return r.body["items"].as_array().cloned().unwrap_or_default();
        }
        assert!(r.status == 503 && Instant::now() < deadline, "{} {}", r.status, r.body);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Poll content search until node `id` is among the hits; returns its hit.
#[track_caller]
fn wait_hit(c: &Client, q: &str, id: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(hit) = search(c, q).into_iter().find(|i| i["id"] == id) {
            return hit;
        }
        assert!(Instant::now() < deadline, "{q:?} never found node {id}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Wait until the extraction queue is empty.
#[track_caller]
fn wait_drained(s: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while extraction::pending(&s.platform.store.begin_read().expect("read")).expect("pending") > 0 {
        assert!(Instant::now() < deadline, "the extraction queue never drained");
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in parts {
        zip.start_file(*name, zip::write::SimpleFileOptions::default()).expect("start");
        zip.write_all(body).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

/// A minimal docx: one paragraph per string.
fn docx(paragraphs: &[&str]) -> Vec<u8> {
    let body: String = paragraphs.iter().map(|p| format!("<w:p><w:r><w:t>{p}</w:t></w:r></w:p>")).collect();
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
    );
    zip_of(&[("word/document.xml", xml.as_bytes())])
}

fn xlsx(sheet: &str, cells: &[&str]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet().set_name(sheet).expect("sheet name");
    for (row, text) in cells.iter().enumerate() {
        ws.write(row as u32, 0, *text).expect("write");
    }
    book.save_to_buffer().expect("save")
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, bad) = encoding_rs::GBK.encode(text);
    assert!(!bad);
    bytes.into_owned()
}

fn preview(c: &Client, id: u64) -> Resp {
    c.get(&format!("/api/v1/drive/nodes/{id}/preview"))
}

#[test]
fn office_and_text_files_are_found_by_their_content_and_only_by_people_who_may_see_them() {
    let w = world();
    let a = w.person("neirong", "内容");
    let b = w.person("waiketa", "外人");
    let root = my_root(&a.c);
    let d = upload_ok(&a.c, root, "周报.docx", &docx(&["本周完成里程碑评审", "下周计划：客户回访"]));
    let x = upload_ok(&a.c, root, "名录.xlsx", &xlsx("供应商", &["华东供应商名录", "联系人：王经理"]));
    let t = upload_ok(&a.c, root, "制度.txt", &gbk("差旅报销标准：高铁二等座"));

    let hit = wait_hit(&a.c, "里程碑", d);
    assert_eq!(hit["node"]["name"], "周报.docx");
    let snippet = hit["snippet"].as_str().unwrap_or("");
    assert!(snippet.contains("<b>里程碑</b>评审"), "a content snippet: {snippet}");
    wait_hit(&a.c, "客户回访", d);
    wait_hit(&a.c, "华东", x);
    wait_hit(&a.c, "王经理", x);
    let t_hit = wait_hit(&a.c, "报销", t);
    assert!(t_hit["snippet"].as_str().unwrap_or("").contains("差旅"), "GBK decoded: {t_hit}");

    // Someone without a role finds none of it: content hits go through the same re-check.
    for q in ["里程碑", "华东", "报销"] {
        let items = search(&b.c, q);
        assert!(!items.iter().any(|i| [d, x, t].contains(&i["id"].as_u64().unwrap_or(0))), "{q}: {items:?}");
    }
    // Given a role, they do (the document is the same; only the re-check changed).
    a.c.put(&format!("/api/v1/drive/nodes/{d}/grants"), json!({"kind": "user", "id": b.id, "role": "viewer"})).ok();
    wait_hit(&b.c, "里程碑", d);
}

#[test]
fn office_previews_are_sections_from_the_stored_text() {
    let w = world();
    let a = w.person("yulan", "预览");
    let root = my_root(&a.c);
    let d = upload_ok(&a.c, root, "纪要.docx", &docx(&["会议纪要", "决定采购新服务器"]));
    let x = upload_ok(&a.c, root, "预算.xlsx", &xlsx("一季度", &["办公用品", "差旅"]));

    let pv = preview(&a.c, d).ok();
    assert_eq!(pv["kind"], "office");
    assert_eq!(pv["truncated"], false);
    assert_eq!(pv["sections"][0]["text"].as_str().unwrap_or("").trim(), "会议纪要\n决定采购新服务器");
    assert!(pv["text"].as_str().unwrap_or("").contains("决定采购新服务器"), "{pv}");

    let pv = preview(&a.c, x).ok();
    assert_eq!(pv["kind"], "office");
    assert_eq!(pv["sections"][0]["title"], "一季度");
    assert!(pv["sections"][0]["text"].as_str().unwrap_or("").contains("办公用品"), "{pv}");

    // Once the worker stored the text, previews read it (and say the same).
    wait_drained(&w.s);
    let stored = TEXTS.all_in(&w.s.platform.store.begin_read().expect("read")).expect("texts");
    assert!(stored.iter().any(|(_, s)| s.plain().contains("办公用品")), "stored: {stored:?}");
    assert_eq!(preview(&a.c, x).ok(), pv);

    // Text files keep their shape, decoded from GBK.
    let t = upload_ok(&a.c, root, "说明.txt", &gbk("请假流程说明"));
    let pv = preview(&a.c, t).ok();
    assert_eq!(pv["kind"], "text");
    assert_eq!(pv["text"], "请假流程说明");
    assert_eq!(pv["truncated"], false);

    // Another member's file is 404, as for every drive id.
    let b = w.person("bieren", "别人");
    preview(&b.c, d).expect(404, "not_found");
}

#[test]
fn a_broken_docx_is_a_clean_error_and_does_not_hold_up_the_queue() {
    let w = world();
    let a = w.person("huaile", "坏了");
    let root = my_root(&a.c);
    let bad = upload_ok(&a.c, root, "损坏.docx", b"PK\x03\x04 this is not really a zip archive");
    let r = preview(&a.c, bad);
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.code(), "preview_failed");
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", r.body);

    let good = upload_ok(&a.c, root, "正常.docx", &docx(&["年终总结报告"]));
    wait_hit(&a.c, "年终总结", good);
    wait_drained(&w.s);
    // The failure is recorded, so the file is not tried again; its preview reads the record.
    let txn = w.s.platform.store.begin_read().expect("read");
    let failed: Vec<_> = TEXTS.all_in(&txn).expect("texts").into_iter().filter(|(_, s)| s.error.is_some()).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    drop(txn);
    preview(&a.c, bad).expect(422, "preview_failed");
    // The broken file is still found by name.
    wait_hit(&a.c, "损坏", bad);
}

#[test]
fn renamed_moved_and_copied_files_stay_findable_by_content() {
    let w = world();
    let a = w.person("gaiming", "改名");
    let root = my_root(&a.c);
    let id = upload_ok(&a.c, root, "草稿.docx", &docx(&["数据中心迁移方案"]));
    wait_hit(&a.c, "迁移方案", id);

    a.c.patch(&format!("/api/v1/drive/nodes/{id}"), json!({"name": "定稿.docx"})).ok();
    let folder = mkdir(&a.c, root, "归档");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let items = search(&a.c, "迁移方案");
        if items.iter().any(|i| i["id"] == id && i["node"]["name"] == "定稿.docx") {
            break;
        }
        assert!(Instant::now() < deadline, "renamed file lost its content: {items:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    a.c.post(&format!("/api/v1/drive/nodes/{id}/move"), json!({"parent_id": folder})).ok();
    wait_hit(&a.c, "迁移方案", id);
    let copy = a.c.post(&format!("/api/v1/drive/nodes/{id}/copy"), json!({"parent_id": root})).expect_status(201)["id"]
        .as_u64()
        .expect("copy id");
    wait_hit(&a.c, "迁移方案", copy);
    // A new version with other content replaces the old text.
    let copy_name = a.c.get(&format!("/api/v1/drive/nodes/{copy}")).ok()["name"].as_str().expect("name").to_owned();
    let v2 = a.c.upload(
        Method::POST,
        &format!("/api/v1/drive/nodes/{root}/files?on_conflict=version"),
        &copy_name,
        docx(&["机房搬迁预算"]),
    );
    assert_eq!(v2.expect_status(201)["id"], copy, "a new version of the copy");
    wait_hit(&a.c, "机房搬迁", copy);
    let deadline = Instant::now() + Duration::from_secs(20);
    while search(&a.c, "迁移方案").iter().any(|i| i["id"] == copy) {
        assert!(Instant::now() < deadline, "old text still indexed for the new version");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_queue_survives_a_restart() {
    let w = world();
    let a = w.person("chongqi", "重启");
    let root = my_root(&a.c);
    let id = upload_ok(&a.c, root, "交接.docx", &docx(&["服务器交接清单"]));
    wait_hit(&a.c, "交接清单", id);
    wait_drained(&w.s);
    // Let the worker settle into its wait (a wake-up that came during the last job is spent).
    std::thread::sleep(Duration::from_millis(300));
    // Forget the text and leave a job behind, as if the server stopped mid-queue (no wake-up:
    // the job is only picked up by the worker's start-up pass).
    let sha = w.s.platform.store.begin_read().expect("read");
    let sha = officebox::drive::store::NODES.get_in(&sha, &id).expect("node").expect("row").sha.expect("sha");
    let job = Job { sha: sha.clone(), node: id };
    w.s.platform
        .store
        .write_blocking(move |tx| {
            TEXTS.open(tx.txn)?.remove(&job.sha)?;
            QUEUE.open(tx.txn)?.put(&u64::MAX, &job)?;
            Ok(())
        })
        .expect("write");
    std::thread::sleep(Duration::from_millis(300));
    let pending = extraction::pending(&w.s.platform.store.begin_read().expect("read")).expect("pending");
    assert_eq!(pending, 1, "nothing woke the worker");
    let World { s, .. } = w;
    let s = TestServer::start_in(s.stop());
    wait_drained(&s);
    let txn = s.platform.store.begin_read().expect("read");
    let stored = TEXTS.get_in(&txn, &sha).expect("texts").expect("text stored again after the restart");
    assert!(stored.plain().contains("服务器交接清单"), "{stored:?}");
}

#[test]
fn texts_of_purged_files_are_pruned() {
    let w = world();
    let a = w.person("qingli", "清理");
    let root = my_root(&a.c);
    let keep = upload_ok(&a.c, root, "保留.docx", &docx(&["长期保存的合同"]));
    let gone = upload_ok(&a.c, root, "作废.docx", &docx(&["已经作废的草案"]));
    wait_hit(&a.c, "合同", keep);
    wait_hit(&a.c, "草案", gone);
    wait_drained(&w.s);
    a.c.delete(&format!("/api/v1/drive/nodes/{gone}")).expect_status(204);
    a.c.delete(&format!("/api/v1/drive/bin/{gone}")).expect_status(204);
    let removed = w.s.platform.store.write_blocking(extraction::prune_orphans).expect("prune");
    assert_eq!(removed, 1);
    let texts = TEXTS.all_in(&w.s.platform.store.begin_read().expect("read")).expect("texts");
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].1.plain().contains("长期保存的合同"));
}
