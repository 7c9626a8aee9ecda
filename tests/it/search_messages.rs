//! Message and global search through `GET /api/v1/search`: Chinese words and partial words,
//! filters (conversation, sender, type, dates), permissions (non-members, hidden history,
//! removal), recall, freshness (< 2 s), cursor paging, rebuild after the index is deleted,
//! kill -9, people and group names by pinyin through the unified endpoint.

use crate::chat_support::*;
use crate::common::*;
use officebox::platform::clock::Clock;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The architecture's promise: an acknowledged message is searchable within 2 s.
const FRESH: Duration = Duration::from_secs(2);
/// After a restart the index may first be rebuilt.
const WAIT_START: Duration = Duration::from_secs(20);

fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// `GET /api/v1/search` with these parameters (values URL-encoded).
fn search(c: &Client, params: &[(&str, String)]) -> Resp {
    let qs: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
    c.get(&format!("/api/v1/search?{}", qs.join("&")))
}

fn msgs(q: &str) -> Vec<(&'static str, String)> {
    vec![("q", q.to_owned()), ("kinds", "message".to_owned())]
}

fn with(mut p: Vec<(&'static str, String)>, k: &'static str, v: impl ToString) -> Vec<(&'static str, String)> {
    p.push((k, v.to_string()));
    p
}

fn items(r: Resp) -> Vec<Value> {
    r.ok()["items"].as_array().cloned().unwrap_or_default()
}

/// Seqs of the message items, in the order returned.
fn seqs(items: &[Value]) -> Vec<u64> {
    items.iter().filter(|i| i["kind"] == "message").filter_map(|i| i["seq"].as_u64()).collect()
}

/// Poll until `pred` holds (503 while the index is built counts as "not yet").
#[track_caller]
fn wait_until(c: &Client, params: &[(&str, String)], within: Duration, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let r = search(c, params);
        if r.status == 200 {
            let items = r.body["items"].as_array().cloned().unwrap_or_default();
            if pred(&items) {
                return items;
            }
        }
        assert!(Instant::now() < deadline, "{params:?} not there within {within:?}: {} {}", r.status, r.body);
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[track_caller]
fn wait_seq(c: &Client, params: &[(&str, String)], seq: u64) -> Vec<Value> {
    wait_until(c, params, FRESH, |i| seqs(i).contains(&seq))
}

fn seq_of(m: &Value) -> u64 {
    m["seq"].as_u64().expect("seq")
}

#[track_caller]
fn wait_outbox_empty(s: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.platform.store.read(officebox::platform::search::outbox::depth).expect("depth") > 0 {
        assert!(Instant::now() < deadline, "the search outbox does not drain");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn send(c: &Client, conv: u64, body: Value) -> u64 {
    seq_of(&c.post(&format!("/api/v1/chat/conversations/{conv}/messages"), body).expect(201, ""))
}

#[test]
fn words_partial_words_and_every_filter() {
    let w = world();
    let (a, b) = (w.person("zhangsan", "张三"), w.person("lisi", "李四"));
    let g = group(&a.c, "项目讨论群", &[b.id]);
    let d = direct(&a.c, b.id);
    let meeting = seq_of(&say(&a.c, g, "明天上午十点开会讨论项目进度"));
    let expense = seq_of(&say(&b.c, g, "报销单已经提交给财务"));
    w.s.clock.advance_ms(86_400_000);
    let day3 = w.s.clock.now_ms();
    let budget = seq_of(&say(&a.c, d, "项目预算表今天发你"));
    let link = send(&b.c, g, json!({"kind": "link", "link": {"url": "https://example.cn/w", "title": "项目周报"}}));
    let file = seq_of(
        &a.c.upload(
            Method::POST,
            &format!("/api/v1/chat/conversations/{g}/files?kind=file"),
            "项目计划书.pdf",
            b"%PDF".to_vec(),
        )
        .expect(201, ""),
    );
    let all = wait_seq(&a.c, &msgs("项目"), file);
    assert_eq!(seqs(&all), [file, link, budget, meeting], "newest first; {all:?}");
    let hit = &all[3];
    assert_eq!((hit["conversation_id"].as_u64(), hit["title"].as_str()), (Some(g), Some("项目讨论群")));
    assert_eq!((hit["sender_name"].as_str(), hit["type"].as_str()), (Some("张三"), Some("text")));
    assert!(hit["snippet"].as_str().is_some_and(|s| s.contains("<b>")), "{hit}");
    assert_eq!(all[2]["title"], "李四", "a direct chat is titled after the peer");
    // words, partial words (across jieba words), one character
    assert_eq!(seqs(&items(search(&a.c, &msgs("开会")))), [meeting]);
    assert_eq!(seqs(&items(search(&a.c, &msgs("目进")))), [meeting]);
    assert_eq!(seqs(&items(search(&a.c, &msgs("销单")))), [expense]);
    assert_eq!(seqs(&items(search(&a.c, &msgs("项目 预算")))), [budget], "every word is required");
    assert!(items(search(&a.c, &msgs("天气预报"))).is_empty());
    // filters
    assert_eq!(seqs(&items(search(&a.c, &with(msgs("项目"), "conversation_id", d)))), [budget]);
    assert_eq!(seqs(&items(search(&a.c, &with(msgs("项目"), "sender_id", b.id)))), [link]);
    assert_eq!(seqs(&items(search(&a.c, &with(msgs("项目"), "type", "file")))), [file]);
    assert_eq!(seqs(&items(search(&a.c, &with(msgs("项目"), "type", "link,file")))), [file, link]);
    assert_eq!(seqs(&items(search(&a.c, &with(msgs("项目"), "to", day3)))), [meeting]);
    assert_eq!(seqs(&items(search(&a.c, &with(msgs("项目"), "from", day3)))), [file, link, budget]);
    // a filter without text lists (the files of a chat)
    assert_eq!(seqs(&items(search(&a.c, &[("conversation_id", g.to_string()), ("type", "file".into())]))), [file]);
    assert!(items(search(&a.c, &[("kinds", "message".to_owned())])).is_empty(), "no text, no filter: nothing");
    // bad input
    search(&a.c, &with(msgs("项目"), "type", "system")).expect(400, "invalid_parameter");
    search(&a.c, &with(msgs("项目"), "conversation_id", "x")).expect(400, "invalid_parameter");
    search(&a.c, &with(msgs("项目"), "from", "yesterday")).expect(400, "invalid_parameter");
    search(&a.c, &with(msgs("项目"), "cursor", "message:x")).expect(400, "invalid_parameter");
    search(&a.c, &[("q", "张三".into()), ("cursor", "person:1".into())]).expect(400, "invalid_parameter");
    search(&a.c, &[("q", "项目".into()), ("kinds", "message,bogus".into())]).expect(400, "invalid_kind");
    assert_eq!(search(&w.s.client(), &msgs("项目")).status, 401);
}

#[test]
fn only_members_find_messages_and_foreign_ids_are_404() {
    let w = world();
    let (a, b, x) = (w.person("zhangsan", "张三"), w.person("lisi", "李四"), w.person("wangwu", "王五"));
    let g = group(&a.c, "机密项目组", &[b.id, x.id]);
    let d = direct(&a.c, b.id);
    let secret = seq_of(&say(&a.c, d, "机密合同编号 HT2024"));
    let shared = seq_of(&say(&a.c, g, "机密会议纪要"));
    wait_seq(&b.c, &msgs("机密"), secret);
    let found = seqs(&wait_seq(&x.c, &msgs("机密"), shared));
    assert!(!found.contains(&secret), "x is not in the direct chat: {found:?}");
    search(&x.c, &with(msgs("机密"), "conversation_id", d)).expect(404, "not_found");
    search(&x.c, &with(msgs("机密"), "conversation_id", 999_999)).expect(404, "not_found");
    assert!(items(search(&x.c, &msgs("HT2024"))).is_empty());
    // removed from the group: nothing from it any more, and 404 for its id
    a.c.delete(&format!("/api/v1/chat/conversations/{g}/members/{}", x.id)).ok();
    assert!(items(search(&x.c, &msgs("机密"))).is_empty());
    search(&x.c, &with(msgs("机密"), "conversation_id", g)).expect(404, "not_found");
    // group hits follow membership too
    let groups = |c: &Client| items(search(c, &[("q", "jmxmz".into()), ("kinds", "group".into())]));
    assert_eq!(groups(&b.c).first().and_then(|i| i["id"].as_u64()), Some(g));
    assert!(groups(&x.c).is_empty());
}

#[test]
fn members_who_joined_with_history_hidden_do_not_find_older_messages() {
    let w = world();
    let (a, b, c) = (w.person("zhangsan", "张三"), w.person("lisi", "李四"), w.person("wangwu", "王五"));
    let g = group(&a.c, "季度复盘", &[b.id]);
    a.c.patch(&format!("/api/v1/chat/conversations/{g}"), json!({"rules": {"history_visible": false}})).ok();
    let old: Vec<u64> = (0..5).map(|i| seq_of(&say(&a.c, g, &format!("复盘材料 旧版{i}")))).collect();
    a.c.post(&format!("/api/v1/chat/conversations/{g}/members"), json!({"user_ids": [c.id]})).ok();
    let new = seq_of(&say(&a.c, g, "复盘材料 新版"));
    let seen = seqs(&wait_seq(&c.c, &msgs("复盘材料"), new));
    assert_eq!(seen, [new], "older messages stay hidden");
    assert!(items(search(&c.c, &msgs("旧版"))).is_empty());
    let mut all = old.clone();
    all.push(new);
    all.reverse();
    assert_eq!(seqs(&items(search(&b.c, &msgs("复盘材料")))), all, "members from before see everything");
}

#[test]
fn recalled_messages_are_never_found() {
    let w = world();
    let (a, b) = (w.person("zhangsan", "张三"), w.person("lisi", "李四"));
    let g = group(&a.c, "测试群", &[b.id]);
    let kept = seq_of(&say(&a.c, g, "撤回测试 保留"));
    let gone = seq_of(&say(&a.c, g, "撤回测试 密码是123"));
    wait_seq(&b.c, &msgs("撤回测试"), gone);
    a.c.post(&format!("/api/v1/chat/conversations/{g}/messages/{gone}/recall"), json!({})).ok();
    assert_eq!(seqs(&items(search(&b.c, &msgs("撤回测试")))), [kept], "dropped at once by the re-check");
    // recalled before the indexer saw it: the pending upsert goes with the recall
    let fast = seq_of(&say(&a.c, g, "撤回测试 立即撤回"));
    a.c.post(&format!("/api/v1/chat/conversations/{g}/messages/{fast}/recall"), json!({})).ok();
    wait_outbox_empty(&w.s);
    // ... and the index itself no longer holds either document
    let raw = w.s.platform.search.search("撤回测试", &["message"], 50).expect("search");
    let keys: Vec<&str> = raw.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys, [format!("message:{g}:{kept}")], "index: {keys:?}");
    assert_eq!(seqs(&items(search(&b.c, &msgs("撤回测试")))), [kept]);
}

#[test]
fn sent_messages_are_searchable_within_two_seconds_and_page_with_a_cursor() {
    let w = world();
    let (a, b) = (w.person("zhangsan", "张三"), w.person("lisi", "李四"));
    let g = group(&a.c, "通知群", &[b.id]);
    let mut sent = Vec::new();
    for i in 0..25 {
        let seq = seq_of(&say(&a.c, g, &format!("批量通知 第{i}条")));
        let started = Instant::now();
        wait_seq(&b.c, &msgs(&format!("第{i}条")), seq);
        assert!(started.elapsed() < FRESH);
        sent.push(seq);
    }
    sent.reverse();
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut p = with(msgs("批量通知"), "limit", 10);
        if let Some(c) = &cursor {
            p = with(p, "cursor", c);
        }
        let page = search(&b.c, &p).ok();
        pages.extend(seqs(page["items"].as_array().expect("items")));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages.len() <= 25, "paging does not end");
    }
    assert_eq!(pages, sent, "three pages, newest first, nothing twice");
}

#[test]
fn a_deleted_index_is_rebuilt_at_start_with_messages_and_groups() {
    let w = world();
    let (a, b) = (w.person("zhangsan", "张三"), w.person("lisi", "李四"));
    let g = group(&a.c, "重建测试群", &[b.id]);
    let m = seq_of(&say(&a.c, g, "索引重建之后还能找到"));
    wait_seq(&b.c, &msgs("重建"), m);
    let dir = w.s.stop();
    std::fs::remove_dir_all(dir.path().join("index")).expect("remove index");
    let s = TestServer::start_in(dir);
    let b = Client::signed_in(&s.base, "lisi", MEMBER_PASSWORD);
    wait_until(&b, &msgs("重建"), WAIT_START, |i| seqs(i) == [m]);
    let groups = items(search(&b, &[("q", "cjcsq".into()), ("kinds", "group".into())]));
    assert_eq!(groups.first().and_then(|i| i["id"].as_u64()), Some(g), "{groups:?}");
}

#[test]
fn people_and_groups_by_pinyin_through_the_unified_endpoint() {
    let w = world();
    let (a, b) = (w.person("zhangsan", "张三"), w.person("lisi", "李四"));
    let g = group(&a.c, "产品研发群", &[b.id]);
    // people: the legacy directory request keeps its shape
    let legacy = wait_until(&b.c, &[("q", "zhangsan".into()), ("kind", "person".into())], FRESH, |i| !i.is_empty());
    assert_eq!((legacy[0]["id"].as_u64(), legacy[0]["name"].as_str()), (Some(a.id), Some("张三")));
    assert!(legacy.iter().all(|i| i["kind"] == "person"), "{legacy:?}");
    assert!(legacy[0]["department_ids"].is_array() && legacy[0]["position"].is_string(), "{}", legacy[0]);
    // groups by initials, full pinyin prefix and characters; everything at once without kinds
    for q in ["cpyfq", "chanpin", "研发"] {
        let found = wait_until(&b.c, &[("q", q.into()), ("kinds", "group".into())], FRESH, |i| !i.is_empty());
        assert_eq!((found[0]["id"].as_u64(), found[0]["title"].as_str()), (Some(g), Some("产品研发群")), "{q}");
    }
    let m = seq_of(&say(&a.c, g, "张三 今天的研发例会取消"));
    let mixed = wait_until(&b.c, &[("q", "研发".into())], FRESH, |i| seqs(i).contains(&m));
    let kinds: Vec<&str> = mixed.iter().filter_map(|i| i["kind"].as_str()).collect();
    assert_eq!(kinds, ["group", "message"], "groups before messages: {mixed:?}");
    let people_first = wait_until(&b.c, &[("q", "张三".into())], FRESH, |i| seqs(i).contains(&m));
    assert_eq!(people_first[0]["kind"], "person", "{people_first:?}");
    // a renamed group is found under its new name only
    a.c.patch(&format!("/api/v1/chat/conversations/{g}"), json!({"name": "市场部"})).ok();
    wait_until(&b.c, &[("q", "scb".into()), ("kinds", "group".into())], FRESH, |i| !i.is_empty());
    let old = items(search(&b.c, &[("q", "cpyfq".into()), ("kinds", "group".into())]));
    assert!(old.is_empty(), "{old:?}");
}

#[test]
fn kill_9_loses_no_acknowledged_message_from_search() {
    use crate::crash::{chat_burst_then_kill, free_port, setup_real, spawn_server, wait_healthy};
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = spawn_server(dir.path(), port);
    wait_healthy(&base);
    let admin = setup_real(&base);
    let peer = admin.create_member("peer", "同事", admin.root_department(), MEMBER_PASSWORD);
    let g = group(&admin, "压测群", &[peer]);
    let mut acked =
        chat_burst_then_kill(&mut child, &admin, &base, g, 4, 300, |t, i| format!("耐久消息 标记t{t}n{i}z"));
    acked.sort();

    let mut child = spawn_server(dir.path(), port);
    wait_healthy(&base);
    let peer_client = Client::signed_in(&base, "peer", MEMBER_PASSWORD);
    // The newest acknowledged messages are the ones most likely still in the outbox at the kill.
    let mut lost = Vec::new();
    for (seq, text) in acked.iter().rev().take(40) {
        let marker = text.split(' ').nth(1).unwrap_or_default().to_owned();
        let p = msgs(&marker);
        let deadline = Instant::now() + WAIT_START;
        loop {
            let r = search(&peer_client, &p);
            if r.status == 200 && seqs(r.body["items"].as_array().expect("items")).contains(seq) {
                break;
            }
            if Instant::now() > deadline {
                lost.push(text.clone());
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let total = items(search(&peer_client, &with(msgs("耐久消息"), "limit", 50)));
    child.kill().ok();
    child.wait().ok();
    assert!(lost.is_empty(), "{} acknowledged messages not searchable, e.g. {:?}", lost.len(), lost.first());
    assert_eq!(total.len(), 50);
}
