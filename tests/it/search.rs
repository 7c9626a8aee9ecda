//! People search over the tantivy index: names, pinyin, initials and parts of names; updates;
//! automatic rebuilds (deleted or corrupted index); outbox replay; escaped snippets; auth.

use crate::common::*;
use officebox::platform::search::outbox;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(3);
/// After a restart the index may first be rebuilt.
const WAIT_START: Duration = Duration::from_secs(10);

fn search(c: &Client, q: &str) -> Resp {
    c.get(&format!("/api/v1/search?q={}", urlencode(q)))
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Poll the search until `pred` holds for the items (answers other than 200, e.g. 503 while the
/// index is being rebuilt, count as "not yet").
#[track_caller]
fn wait_until(c: &Client, q: &str, within: Duration, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let r = search(c, q);
        if r.status == 200 {
            let items = r.body["items"].as_array().cloned().unwrap_or_default();
            if pred(&items) {
                return items;
            }
        }
        if Instant::now() > deadline {
            panic!("search for {q:?} did not get there within {within:?}: {} {}", r.status, r.body);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn has(items: &[Value], id: u64) -> bool {
    items.iter().any(|i| i["id"] == id)
}

#[track_caller]
fn wait_found(c: &Client, q: &str, id: u64) -> Vec<Value> {
    wait_until(c, q, WAIT, |items| has(items, id))
}

fn outbox_depth(s: &TestServer) -> u64 {
    s.platform.store.read(outbox::depth).expect("depth")
}

#[track_caller]
fn wait_outbox_empty(s: &TestServer) {
    let deadline = Instant::now() + WAIT;
    while outbox_depth(s) > 0 {
        assert!(Instant::now() < deadline, "outbox still has {} rows", outbox_depth(s));
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A set-up server with 张三 and 李四 in a department; returns (server, admin, 张三's id, dept).
fn org() -> (TestServer, Client, u64, u64) {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let dept = admin.create_department("研发部", root);
    let zs = admin.create_member("zhangsan", "张三", dept, MEMBER_PASSWORD);
    admin.create_member("lisi", "李四", dept, MEMBER_PASSWORD);
    (s, admin, zs, dept)
}

#[test]
fn people_by_name_pinyin_initials_and_part() {
    let (s, admin, zs, dept) = org();
    for q in ["张三", "zhangsan", "zs", "张", "zhangs", "ZhangSan"] {
        let items = wait_found(&admin, q, zs);
        assert_eq!(items[0]["id"], zs, "{q}: {items:?}");
        assert_eq!(items[0]["kind"], "person");
        assert_eq!(items[0]["name"], "张三");
        assert_eq!(items[0]["department_ids"], json!([dept]));
    }
    let items = wait_until(&admin, "李", WAIT, |i| !i.is_empty());
    assert!(items.iter().all(|i| i["name"] != "张三"), "{items:?}");
    // an ordinary member can search too
    let (_, member) = s.member(&admin, "wangwu", dept);
    wait_found(&member, "张三", zs);
    // empty query, bad kind, limit clamped
    assert_eq!(search(&admin, "  ").ok()["items"], json!([]));
    admin.get("/api/v1/search?q=x&kind=bogus").expect(400, "invalid_kind");
    admin.get("/api/v1/search?q=zhangsan&limit=100000").ok();
    wait_outbox_empty(&s);
}

#[test]
fn renamed_member_is_found_under_the_new_name_only() {
    let (_s, admin, zs, _) = org();
    wait_found(&admin, "张三", zs);
    admin.patch(&format!("/api/v1/admin/members/{zs}"), json!({ "name": "赵六" })).ok();
    wait_found(&admin, "zhaoliu", zs);
    let items = wait_found(&admin, "赵六", zs);
    assert_eq!(items[0]["name"], "赵六");
    for q in ["张三", "zs"] {
        assert!(!has(search(&admin, q).ok()["items"].as_array().expect("items"), zs), "{q} still finds the old name");
    }
}

#[test]
fn departed_members_are_not_returned() {
    let (s, admin, zs, _) = org();
    wait_found(&admin, "张三", zs);
    let admin_id = admin.me()["user"]["id"].as_u64().expect("admin id");
    admin.post(&format!("/api/v1/admin/members/{zs}/offboard"), json!({ "handover_to": admin_id })).ok();
    wait_until(&admin, "张三", WAIT, |items| !has(items, zs));
    wait_outbox_empty(&s);
}

/// `TestServer::stop` returns once the HTTP server stopped; the platform (and with it the
/// store) is dropped by the last worker shortly after. Wait until the database is free.
fn restart(dir: tempfile::TempDir) -> TestServer {
    TestServer::start_in(dir)
}

fn segment_files(index: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(index)
        .expect("index dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "term" || x == "idx" || x == "store"))
        .collect();
    files.sort();
    files
}

#[test]
fn deleted_index_is_rebuilt_at_start() {
    let (s, admin, zs, _) = org();
    wait_found(&admin, "张三", zs);
    let dir = s.stop();
    let index = dir.path().join("index");
    assert!(index.join("officebox-index.json").is_file());
    std::fs::remove_dir_all(&index).expect("remove index");
    let s = restart(dir);
    let admin = Client::signed_in(&s.base, "admin", ADMIN_PASSWORD);
    wait_until(&admin, "zs", WAIT_START, |items| has(items, zs));
    assert!(index.join("officebox-index.json").is_file());
}

#[test]
fn corrupted_index_is_rebuilt_at_start() {
    let (s, admin, zs, _) = org();
    wait_found(&admin, "张三", zs);
    let dir = s.stop();
    let index = dir.path().join("index");
    let files = segment_files(&index);
    assert!(!files.is_empty(), "no segment files in {}", index.display());
    for f in &files {
        let len = std::fs::metadata(f).expect("meta").len() as usize;
        std::fs::write(f, vec![0x5a; len.max(16)]).expect("overwrite");
    }
    let s = restart(dir);
    let admin = Client::signed_in(&s.base, "admin", ADMIN_PASSWORD);
    wait_until(&admin, "张三", WAIT_START, |items| has(items, zs));
    assert!(files.iter().all(|f| !f.exists()), "the damaged segments are gone");
}

#[test]
fn outbox_is_replayed_after_a_restart() {
    let (s, admin, zs, dept) = org();
    wait_found(&admin, "张三", zs);
    wait_outbox_empty(&s);
    let index = s.dir.path().join("index");
    let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).expect("index"));
    let before = inode(&index);
    // Stop the indexer: these changes stay in the outbox.
    s.platform.search.stop();
    let ww = admin.create_member("wangwu", "王五", dept, MEMBER_PASSWORD);
    admin.patch(&format!("/api/v1/admin/members/{zs}"), json!({ "position": "架构师" })).ok();
    assert!(outbox_depth(&s) >= 2, "outbox depth {}", outbox_depth(&s));
    let dir = s.stop();
    let s = restart(dir);
    let admin = Client::signed_in(&s.base, "admin", ADMIN_PASSWORD);
    wait_until(&admin, "王五", WAIT_START, |items| has(items, ww));
    let items = wait_until(&admin, "架构师", WAIT, |items| has(items, zs));
    assert_eq!(items[0]["position"], "架构师");
    wait_found(&admin, "zs", zs);
    wait_outbox_empty(&s);
    assert_eq!(inode(&index), before, "replayed, not rebuilt");
    // A plain restart keeps the results.
    let dir = s.stop();
    let s = restart(dir);
    let admin = Client::signed_in(&s.base, "admin", ADMIN_PASSWORD);
    wait_until(&admin, "wangwu", WAIT_START, |items| has(items, ww));
    assert_eq!(inode(&index), before);
}

#[test]
fn a_bad_outbox_row_is_skipped() {
    let (s, admin, zs, dept) = org();
    wait_found(&admin, "张三", zs);
    s.platform
        .store
        .write_blocking(|tx| {
            let raw: officebox::platform::store::Table<u64, Value> =
                officebox::platform::store::Table::new("search_outbox");
            raw.open(tx.txn)?.put(&tx.next_seq()?, &json!({ "bogus": 1 }))
        })
        .expect("write");
    let ww = admin.create_member("wangwu", "王五", dept, MEMBER_PASSWORD);
    wait_found(&admin, "王五", ww);
    wait_outbox_empty(&s);
    assert_eq!(s.platform.search.status(), "ready");
}

#[test]
fn snippets_are_escaped() {
    let (_s, admin, _, dept) = org();
    let id = admin.create_member("xss", "<script>x</script>张", dept, MEMBER_PASSWORD);
    for q in ["script", "张"] {
        let items = wait_found(&admin, q, id);
        let hit = items.iter().find(|i| i["id"] == id).expect("hit");
        let snippet = hit["snippet"].as_str().expect("snippet");
        assert!(snippet.contains("&lt;") && !snippet.contains("<script"), "{q}: {snippet}");
        let bare = snippet.replace("<b>", "").replace("</b>", "");
        assert!(!bare.contains(['<', '>']), "{q}: {snippet}");
        assert!(snippet.contains("<b>"), "{q}: {snippet}");
        assert_eq!(hit["name"], "<script>x</script>张", "names are JSON, not HTML");
    }
}

#[test]
fn anonymous_gets_401_and_metrics_show_the_outbox() {
    let (s, admin, zs, _) = org();
    let anon = s.client();
    assert_eq!(anon.get("/api/v1/search?q=zs").status, 401);
    wait_found(&admin, "zs", zs);
    wait_outbox_empty(&s);
    let m = anon.get("/metrics");
    let text = String::from_utf8_lossy(&m.bytes);
    assert!(text.contains("officebox_search_outbox_depth 0"), "{text}");
}

/// Numbers for the report: `cargo test --test it search::bench -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_10k_members() {
    use officebox::org::model::Member;
    const N: u64 = 10_000;
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let started = Instant::now();
    for chunk in 0..N / 1000 {
        s.platform
            .store
            .write_blocking(move |tx| {
                for i in chunk * 1000..(chunk + 1) * 1000 {
                    let id = tx.next_seq()?;
                    let m = Member {
                        id,
                        userid: format!("u{i}"),
                        name: name(i),
                        position: ["工程师", "产品经理", "设计师", "销售"][i as usize % 4].into(),
                        department_ids: vec![root],
                        main_department_id: root,
                        created_at: tx.now,
                        updated_at: tx.now,
                        ..Default::default()
                    };
                    officebox::org::store::put_member(tx, None, &m)?;
                }
                Ok(())
            })
            .expect("write");
    }
    let written = started.elapsed();
    wait_outbox_empty_within(&s, Duration::from_secs(120));
    let indexed = started.elapsed();
    println!("wrote {N} members in {written:?}; outbox drained (incrementally indexed) after {indexed:?}");

    s.platform.search.stop();
    let t = Instant::now();
    let st = officebox::platform::search::rebuild(
        &s.platform.store,
        s.platform.search.dir(),
        &officebox::app::features_search_documents,
    )
    .expect("rebuild");
    println!("rebuild: {} docs in {:?} (measured {:?})", st.docs, st.elapsed, t.elapsed());
    let size: u64 = std::fs::read_dir(s.platform.search.dir())
        .expect("index")
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!("index size after rebuild: {} KiB", size / 1024);
    let dir = s.stop();
    let s = restart(dir);
    let admin = Client::signed_in(&s.base, "admin", ADMIN_PASSWORD);
    wait_until(&admin, "张伟", WAIT_START, |items| !items.is_empty());
    let queries: Vec<String> = (0..200u64)
        .map(|i| match i % 5 {
            0 => name(i * 37),
            1 => SURNAMES[i as usize % 18].to_owned(),
            2 => ["zhangwei", "liqiang", "wangfang", "zhaomin", "chenjie"][i as usize % 5].to_owned(),
            3 => ["zw", "lq", "wf", "zm", "cj"][i as usize % 5].to_owned(),
            _ => ["工程师", "产品", "设计", "wangf", "zhaom"][i as usize % 5].to_owned(),
        })
        .collect();
    let pct = |mut v: Vec<Duration>| {
        v.sort();
        (v[v.len() / 2], v[v.len() * 99 / 100])
    };
    let mut http = Vec::new();
    let mut direct = Vec::new();
    let mut hits = 0;
    for q in &queries {
        let t = Instant::now();
        let r = search(&admin, q).ok();
        http.push(t.elapsed());
        hits += r["items"].as_array().map_or(0, Vec::len);
        let t = Instant::now();
        s.platform.search.search(q, &["person"], 20).expect("search");
        direct.push(t.elapsed());
    }
    let (p50, p99) = pct(http);
    let (d50, d99) = pct(direct);
    println!("200 people queries over HTTP (incl. redb re-check): p50 {p50:?} p99 {p99:?}; {hits} hits");
    println!("200 people queries in-process (index only): p50 {d50:?} p99 {d99:?}");
    let mut lag = Vec::new();
    for i in 0..20 {
        let userid = format!("lag{i}x");
        let body = json!({ "userid": userid, "name": format!("延迟{i}"), "department_ids": [root], "email": format!("{userid}@example.cn") });
        let id = admin.create_member_with(body)["id"].as_u64().expect("id");
        let t = Instant::now();
        wait_until(&admin, &userid, WAIT, |items| has(items, id));
        lag.push(t.elapsed());
    }
    let (l50, l99) = pct(lag);
    println!("acknowledged write -> searchable (20 creates on 10k members): p50 {l50:?} max {l99:?}");
}

const SURNAMES: [&str; 18] =
    ["张", "李", "王", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭", "何", "林"];
const GIVEN: [&str; 20] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀", "霞", "平",
    "刚",
];

fn name(i: u64) -> String {
    let i = i as usize;
    format!("{}{}{}", SURNAMES[i % 18], GIVEN[(i / 18) % 20], GIVEN[(i / 360) % 20])
}

fn wait_outbox_empty_within(s: &TestServer, within: Duration) {
    let deadline = Instant::now() + within;
    while outbox_depth(s) > 0 {
        assert!(Instant::now() < deadline, "outbox still has {} rows", outbox_depth(s));
        std::thread::sleep(Duration::from_millis(20));
    }
}
