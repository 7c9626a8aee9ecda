//! Chat through the API and WebSocket: 1:1 and groups, the group rules, receipts, recall,
//! reconnect backlogs, forwarding, favourites, attachments, department groups and limits.

use crate::chat_support::*;
use crate::common::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

#[test]
fn a_direct_chat_delivers_counts_unread_and_flips_to_read() {
    let w = world();
    let (a, b) = (w.person("zhangsan", "张三"), w.person("lisi", "李四"));
    let conv = direct(&a.c, b.id);
    assert_eq!(direct(&b.c, a.id), conv, "one 1:1 chat per pair");
    let sent = say(&a.c, conv, "你好，李四 <script>alert(1)</script>");
    assert_eq!(sent["unread_count"], 1, "{sent}");
    let seen = conv_in_list(&b.c, conv).expect("in the peer's list");
    assert_eq!(seen["me"]["unread"], 1);
    assert_eq!(seen["name"], "张三", "a direct chat is named after the peer");
    assert_eq!(seen["last_message"]["text"], "你好，李四 <script>alert(1)</script>", "stored as plain text");
    b.c.post(&format!("/api/v1/chat/conversations/{conv}/read"), json!({"seq": sent["seq"]})).ok();
    assert_eq!(conv_in_list(&b.c, conv).unwrap()["me"]["unread"], 0);
    let mine = history(&a.c, conv);
    assert_eq!(mine.last().unwrap()["unread_count"], 0, "已读 for the sender");
}

#[test]
fn outsiders_get_404_for_everything_in_a_conversation() {
    let w = world();
    let (a, b, x) = (w.person("a1", "甲"), w.person("b1", "乙"), w.person("x1", "外人"));
    let g = group(&a.c, "项目组", &[b.id]);
    let m = say(&a.c, g, "机密");
    let seq = m["seq"].as_u64().unwrap();
    for path in [
        format!("/api/v1/chat/conversations/{g}"),
        format!("/api/v1/chat/conversations/{g}/messages"),
        format!("/api/v1/chat/conversations/{g}/members"),
        format!("/api/v1/chat/conversations/{g}/messages/{seq}/receipts"),
        format!("/api/v1/chat/conversations/{g}/messages/{seq}/file"),
    ] {
        x.c.get(&path).expect(404, "not_found");
    }
    x.c.post(&format!("/api/v1/chat/conversations/{g}/messages"), json!({"text": "hi"})).expect(404, "not_found");
    x.c.post(&format!("/api/v1/chat/conversations/{g}/read"), json!({"seq": seq})).expect(404, "not_found");
    x.c.post(&format!("/api/v1/chat/conversations/{g}/messages/{seq}/recall"), json!({})).expect(404, "not_found");
    x.c.post(&format!("/api/v1/chat/conversations/{g}/members"), json!({"user_ids": [x.id]})).expect(404, "not_found");
    x.c.post("/api/v1/chat/favorites", json!({"conversation_id": g, "seq": seq})).expect(404, "not_found");
    x.c.post("/api/v1/chat/forward", json!({"from": g, "seqs": [seq], "to": [g]})).expect(404, "not_found");
    let r =
        x.c.upload(Method::POST, &format!("/api/v1/chat/conversations/{g}/files?kind=file"), "a.txt", b"x".to_vec());
    assert_eq!(r.status, 404);
    // Their socket never hears of it, typing included.
    let mut ws = Ws::connect(&w.s.base, &x.token, None);
    ws.expect("hello");
    let mut ws_a = Ws::connect(&w.s.base, &a.token, None);
    ws_a.expect("hello");
    ws.send(json!({"type": "typing", "conversation_id": g}));
    say(&b.c, g, "第二条");
    assert!(ws.drain(Duration::from_millis(600)).iter().all(|f| f["conversation_id"] != g));
    assert!(
        ws_a.drain(Duration::from_millis(300)).iter().all(|f| f["type"] != "typing"),
        "typing by a non-member is dropped"
    );
}

#[test]
fn group_rules_invite_approval_at_all_and_muting() {
    let w = world();
    let (owner, m1, m2, m3) =
        (w.person("o", "群主"), w.person("m1", "成员一"), w.person("m2", "成员二"), w.person("m3", "成员三"));
    let g = group(&owner.c, "规则群", &[m1.id]);
    let rules = |r: Value| owner.c.patch(&format!("/api/v1/chat/conversations/{g}"), json!({"rules": r})).ok();
    // Only the owner sets rules.
    m1.c.patch(&format!("/api/v1/chat/conversations/{g}"), json!({"rules": {"mute_all": true}}))
        .expect(403, "not_allowed");
    rules(json!({"invite": "admins"}));
    m1.c.post(&format!("/api/v1/chat/conversations/{g}/members"), json!({"user_ids": [m2.id]}))
        .expect(403, "not_allowed");
    rules(json!({"invite": "anyone", "approval": true}));
    let r = m1.c.post(&format!("/api/v1/chat/conversations/{g}/members"), json!({"user_ids": [m2.id]}));
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(conv_in_list(&m2.c, g).is_none(), "not in before approval");
    m1.c.get(&format!("/api/v1/chat/conversations/{g}/requests")).expect(403, "not_allowed");
    let reqs = owner.c.get(&format!("/api/v1/chat/conversations/{g}/requests")).ok();
    let rid = reqs["items"][0]["id"].as_u64().unwrap();
    assert_eq!(reqs["items"][0]["inviter_name"], "成员一");
    owner.c.post(&format!("/api/v1/chat/conversations/{g}/requests/{rid}"), json!({"approve": true})).ok();
    assert!(conv_in_list(&m2.c, g).is_some(), "in after approval");
    // @all for admins only.
    rules(json!({"at_all": "admins"}));
    m1.c.post(&format!("/api/v1/chat/conversations/{g}/messages"), json!({"text": "@所有人 开会", "at_all": true}))
        .expect(403, "not_allowed");
    owner
        .c
        .post(&format!("/api/v1/chat/conversations/{g}/messages"), json!({"text": "@所有人 开会", "at_all": true}))
        .expect(201, "");
    assert_eq!(conv_in_list(&m1.c, g).unwrap()["me"]["mentioned"], true, "@all marks everyone");
    // Mute one member, then everyone.
    owner.c.post(&format!("/api/v1/chat/conversations/{g}/mute"), json!({"user_id": m1.id, "muted": true})).ok();
    m1.c.post(&format!("/api/v1/chat/conversations/{g}/messages"), json!({"text": "x"})).expect(403, "not_allowed");
    say(&m2.c, g, "我还能说话");
    rules(json!({"mute_all": true}));
    m2.c.post(&format!("/api/v1/chat/conversations/{g}/messages"), json!({"text": "x"})).expect(403, "not_allowed");
    say(&owner.c, g, "群主可以");
    // Admins: set by the owner only; an admin can then speak under mute-all.
    m2.c.post(&format!("/api/v1/chat/conversations/{g}/admins"), json!({"user_id": m2.id, "admin": true}))
        .expect(403, "not_allowed");
    owner.c.post(&format!("/api/v1/chat/conversations/{g}/admins"), json!({"user_id": m2.id, "admin": true})).ok();
    say(&m2.c, g, "管理员可以");
    // History visibility: a newcomer does not see earlier messages when it is off.
    rules(json!({"history_visible": false}));
    owner.c.post(&format!("/api/v1/chat/conversations/{g}/members"), json!({"user_ids": [m3.id]})).ok();
    let seen = texts(&history(&m3.c, g));
    assert!(seen.is_empty(), "newcomer saw {seen:?}");
    say(&owner.c, g, "欢迎");
    assert_eq!(texts(&history(&m3.c, g)), vec!["欢迎"]);
}

#[test]
fn owner_transfer_leave_remove_and_dissolve() {
    let w = world();
    let (o, a, b) = (w.person("o2", "老板"), w.person("a2", "阿甲"), w.person("b2", "阿乙"));
    let g = group(&o.c, "转让群", &[a.id, b.id]);
    o.c.delete(&format!("/api/v1/chat/conversations/{g}/members/{}", o.id)).expect(403, "not_allowed");
    a.c.delete(&format!("/api/v1/chat/conversations/{g}/members/{}", b.id)).expect(403, "not_allowed");
    o.c.post(&format!("/api/v1/chat/conversations/{g}/transfer"), json!({"user_id": a.id})).ok();
    let v = a.c.get(&format!("/api/v1/chat/conversations/{g}")).ok();
    assert_eq!(v["owner_id"], a.id);
    assert_eq!(v["me"]["role"], "owner");
    o.c.delete(&format!("/api/v1/chat/conversations/{g}/members/{}", o.id)).ok();
    o.c.get(&format!("/api/v1/chat/conversations/{g}")).expect(404, "not_found");
    a.c.delete(&format!("/api/v1/chat/conversations/{g}/members/{}", b.id)).ok();
    assert!(conv_in_list(&b.c, g).is_none());
    b.c.get(&format!("/api/v1/chat/conversations/{g}/messages")).expect(404, "not_found");
    a.c.post(&format!("/api/v1/chat/conversations/{g}/dissolve"), json!({})).ok();
    a.c.post(&format!("/api/v1/chat/conversations/{g}/messages"), json!({"text": "x"})).expect(409, "dissolved");
    let sys: Vec<String> = history(&a.c, g)
        .iter()
        .filter(|m| m["kind"] == "system")
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(sys.iter().any(|t| t.contains("解散了群聊")), "{sys:?}");
}

#[test]
fn recall_within_the_window_removes_content_everywhere() {
    let w = world();
    let (a, b) = (w.person("ra", "撤回甲"), w.person("rb", "撤回乙"));
    let g = group(&a.c, "撤回群", &[b.id]);
    let mut ws_b = Ws::connect(&w.s.base, &b.token, None);
    ws_b.expect("hello");
    let m = say(&a.c, g, "发错了的机密内容");
    let seq = m["seq"].as_u64().unwrap();
    a.c.post("/api/v1/chat/favorites", json!({"conversation_id": g, "seq": seq})).expect(201, "");
    b.c.post(&format!("/api/v1/chat/conversations/{g}/messages/{seq}/recall"), json!({})).expect(403, "not_allowed");
    let t = a.c.post(&format!("/api/v1/chat/conversations/{g}/messages/{seq}/recall"), json!({})).ok();
    assert_eq!(t["recalled"]["by_name"], "撤回甲");
    assert_eq!(t["text"], "");
    let frame = ws_b.expect("recall");
    assert_eq!(frame["message_seq"], seq);
    let items = history(&b.c, g);
    let tomb = items.iter().find(|m| m["seq"] == seq).unwrap();
    assert!(tomb["recalled"].is_object() && tomb["text"] == "", "{tomb}");
    let favs = a.c.get("/api/v1/chat/favorites").ok();
    assert_eq!(favs["items"][0]["message"]["text"], "", "favourites keep no copy");
    // Outside the window the sender cannot recall; the owner of the group still can.
    let old = say(&b.c, g, "昨天的话");
    let old_seq = old["seq"].as_u64().unwrap();
    w.s.clock.advance_ms(25 * 3600 * 1000);
    b.c.post(&format!("/api/v1/chat/conversations/{g}/messages/{old_seq}/recall"), json!({}))
        .expect(403, "recall_window_passed");
    a.c.post(&format!("/api/v1/chat/conversations/{g}/messages/{old_seq}/recall"), json!({})).ok();
    // Gone from backups: no table in the archive holds the text any more.
    let zip = w.admin.post("/api/v1/admin/backup", json!({}));
    assert_eq!(zip.status, 200);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.bytes)).unwrap();
    let mut tables = 0;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut text = String::new();
        if entry.name().ends_with(".jsonl") {
            tables += 1;
            std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
            assert!(!text.contains("发错了的机密内容"), "recalled text in {}", entry.name());
        }
    }
    assert!(tables > 10, "the archive has its tables");
}

#[test]
fn read_receipts_list_who_has_read_and_update_live() {
    let w = world();
    let (a, b, c) = (w.person("ea", "回执甲"), w.person("eb", "回执乙"), w.person("ec", "回执丙"));
    let g = group(&a.c, "回执群", &[b.id, c.id]);
    let mut ws_a = Ws::connect(&w.s.base, &a.token, None);
    ws_a.expect("hello");
    let m = say(&a.c, g, "请查收");
    let seq = m["seq"].as_u64().unwrap();
    assert_eq!(m["unread_count"], 2);
    b.c.post(&format!("/api/v1/chat/conversations/{g}/read"), json!({"seq": seq})).ok();
    let r = ws_a.expect("read");
    assert_eq!(r["user_id"], b.id);
    let rec = a.c.get(&format!("/api/v1/chat/conversations/{g}/messages/{seq}/receipts")).ok();
    assert_eq!(rec["read"][0]["name"], "回执乙");
    assert_eq!(rec["unread"][0]["name"], "回执丙");
    assert_eq!(history(&a.c, g).last().unwrap()["unread_count"], 1);
    // Only the sender (or a manager) sees the lists.
    c.c.get(&format!("/api/v1/chat/conversations/{g}/messages/{seq}/receipts")).expect(403, "not_allowed");
}

#[test]
fn reconnecting_with_the_last_seq_delivers_exactly_what_was_missed() {
    let w = world();
    let (a, b) = (w.person("wa", "断线甲"), w.person("wb", "断线乙"));
    let g = group(&a.c, "断线群", &[b.id]);
    let mut ws = Ws::connect(&w.s.base, &b.token, None);
    let hello = ws.expect("hello")["seq"].as_u64().unwrap();
    let first = say(&a.c, g, "一");
    let got = ws.expect("message");
    assert_eq!(got["seq"], first["seq"]);
    let last_seen = got["seq"].as_u64().unwrap();
    assert!(last_seen > hello);
    drop(ws); // network blip
    let two = say(&a.c, g, "二");
    let three = say(&a.c, g, "三");
    a.c.post(&format!("/api/v1/chat/conversations/{g}/messages/{}/recall", two["seq"]), json!({})).ok();
    let mut ws = Ws::connect(&w.s.base, &b.token, Some(last_seen));
    let frames: Vec<Value> = ws.drain(Duration::from_millis(800));
    let seqs: Vec<u64> = frames.iter().filter(|f| f["type"] != "hello").filter_map(|f| f["seq"].as_u64()).collect();
    let mut sorted = seqs.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(seqs, sorted, "in order, no duplicates: {frames:?}");
    assert!(seqs.iter().all(|s| *s > last_seen), "nothing already seen");
    let msg_seqs: Vec<&Value> = frames.iter().filter(|f| f["type"] == "message").map(|f| &f["seq"]).collect();
    assert_eq!(msg_seqs, vec![&two["seq"], &three["seq"]]);
    assert!(frames.iter().any(|f| f["type"] == "recall" && f["message_seq"] == two["seq"]));
    assert_eq!(frames.last().unwrap()["type"], "hello");
    // Live after the backlog; a restart keeps the cursor meaningful.
    let four = say(&a.c, g, "四");
    assert_eq!(ws.expect("message")["seq"], four["seq"]);
}

#[test]
fn a_foreign_origin_cannot_open_the_socket() {
    let w = world();
    let a = w.person("oa", "来源");
    assert_eq!(Ws::try_connect(&w.s.base, &a.token, None, Some("https://evil.example")).err(), Some(403));
    let own = w.s.base.clone();
    assert!(Ws::try_connect(&w.s.base, &a.token, None, Some(&own)).is_ok());
    assert_eq!(Ws::try_connect(&w.s.base, "bogus", None, None).err(), Some(401));
}

#[test]
fn forward_single_and_merged_and_favourites_search() {
    let w = world();
    let (a, b, c) = (w.person("fa", "转发甲"), w.person("fb", "转发乙"), w.person("fc", "转发丙"));
    let src = group(&a.c, "来源群", &[b.id]);
    let dst = direct(&a.c, c.id);
    let s1 = say(&b.c, src, "季度报表已上传")["seq"].as_u64().unwrap();
    let s2 = say(&a.c, src, "收到，谢谢")["seq"].as_u64().unwrap();
    a.c.post("/api/v1/chat/forward", json!({"from": src, "seqs": [s1, s2], "to": [dst], "mode": "single"})).ok();
    let got = texts(&history(&c.c, dst));
    assert_eq!(got, vec!["季度报表已上传", "收到，谢谢"]);
    a.c.post("/api/v1/chat/forward", json!({"from": src, "seqs": [s1, s2], "to": [dst], "mode": "merged"})).ok();
    let card = history(&c.c, dst).into_iter().last().unwrap();
    assert_eq!(card["kind"], "merged");
    assert_eq!(card["merged"]["title"], "来源群的聊天记录");
    assert_eq!(card["merged"]["items"][0]["sender_name"], "转发乙");
    // Forwarding into a conversation you are not in: 404.
    c.c.post("/api/v1/chat/forward", json!({"from": dst, "seqs": [card["seq"]], "to": [src]})).expect(404, "not_found");
    // Favourites with search.
    c.c.post("/api/v1/chat/favorites", json!({"conversation_id": dst, "seq": card["seq"]})).expect(201, "");
    let first = history(&c.c, dst)[0]["seq"].clone();
    c.c.post("/api/v1/chat/favorites", json!({"conversation_id": dst, "seq": first})).expect(201, "");
    let hits = c.c.get("/api/v1/chat/favorites?q=报表").ok();
    assert_eq!(hits["items"].as_array().unwrap().len(), 2, "text and record title/contents match: {hits}");
    let hits = c.c.get("/api/v1/chat/favorites?q=谢谢").ok();
    assert_eq!(hits["items"].as_array().unwrap().len(), 1);
    let fid = hits["items"][0]["id"].as_u64().unwrap();
    a.c.delete(&format!("/api/v1/chat/favorites/{fid}")).expect(404, "not_found");
    c.c.delete(&format!("/api/v1/chat/favorites/{fid}")).status.is_success().then_some(()).expect("removed");
}

#[test]
fn images_files_and_downloads() {
    let w = world();
    let (a, b) = (w.person("ia", "图甲"), w.person("ib", "图乙"));
    let conv = direct(&a.c, b.id);
    let img =
        a.c.upload(Method::POST, &format!("/api/v1/chat/conversations/{conv}/files?kind=image"), "截图.png", png());
    assert_eq!(img.status, 201, "{}", img.body);
    let seq = img.body["seq"].as_u64().unwrap();
    assert_eq!(img.body["file"]["mime"], "image/png");
    assert!(img.body["file"]["width"].as_u64().unwrap() > 0);
    let thumb = b.c.get(&format!("/api/v1/chat/conversations/{conv}/messages/{seq}/file?thumb=1"));
    assert_eq!(thumb.status, 200);
    assert_eq!(thumb.headers["content-type"], "image/jpeg");
    // Not an image: refused as an image.
    let bad = a.c.upload(
        Method::POST,
        &format!("/api/v1/chat/conversations/{conv}/files?kind=image"),
        "x.png",
        b"not an image".to_vec(),
    );
    bad.expect(422, "invalid_image");
    // A file with a Chinese name, ranges, and HTML never inline.
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let f = a.c.upload(
        Method::POST,
        &format!("/api/v1/chat/conversations/{conv}/files?kind=file"),
        "季度报告.pdf",
        body.clone(),
    );
    let fseq = f.body["seq"].as_u64().unwrap();
    let url = format!("/api/v1/chat/conversations/{conv}/messages/{fseq}/file?download=1");
    let full = b.c.get(&url);
    assert_eq!(full.bytes, body);
    let cd = full.headers["content-disposition"].to_str().unwrap().to_owned();
    assert!(cd.starts_with("attachment") && cd.contains("filename*=UTF-8''%E5%AD%A3"), "{cd}");
    assert_eq!(full.headers["x-content-type-options"], "nosniff");
    let part = b.c.send_built(b.c.raw(Method::GET, &url).header("Range", "bytes=10-19"));
    assert_eq!(part.status, 206);
    assert_eq!(part.bytes, body[10..20].to_vec());
    let etag = full.headers["etag"].to_str().unwrap().to_owned();
    let again = b.c.send_built(b.c.raw(Method::GET, &url).header("If-None-Match", etag));
    assert_eq!(again.status, 304);
    let html = a.c.upload(
        Method::POST,
        &format!("/api/v1/chat/conversations/{conv}/files?kind=file"),
        "x.html",
        b"<script>alert(1)</script>".to_vec(),
    );
    let hseq = html.body["seq"].as_u64().unwrap();
    let served = b.c.get(&format!("/api/v1/chat/conversations/{conv}/messages/{hseq}/file"));
    assert!(served.headers["content-disposition"].to_str().unwrap().starts_with("attachment"), "HTML is never inline");
}

#[test]
fn limits_are_enforced_with_clear_errors() {
    let w = world();
    let (a, b) = (w.person("la", "限甲"), w.person("lb", "限乙"));
    w.admin
        .put(
            "/api/v1/admin/chat/settings",
            json!({"max_group_members": 2, "max_text_chars": 10, "max_attachment_mb": 1, "recall_window_minutes": 5}),
        )
        .ok();
    w.admin
        .put(
            "/api/v1/admin/chat/settings",
            json!({"max_group_members": 1, "max_text_chars": 10, "max_attachment_mb": 1, "recall_window_minutes": 5}),
        )
        .expect(422, "validation_failed");
    a.c.put("/api/v1/admin/chat/settings", json!({})).expect(403, "forbidden");
    let c = w.person("lc", "限丙");
    a.c.post("/api/v1/chat/groups", json!({"name": "太多", "member_ids": [b.id, c.id]})).expect(400, "group_full");
    let g = group(&a.c, "两人", &[b.id]);
    a.c.post(&format!("/api/v1/chat/conversations/{g}/messages"), json!({"text": "一二三四五六七八九十十一"}))
        .expect(422, "message_too_long");
    a.c.post(&format!("/api/v1/chat/conversations/{g}/messages"), json!({"text": "   "})).expect(422, "empty_message");
    a.c.post(
        &format!("/api/v1/chat/conversations/{g}/messages"),
        json!({"kind": "link", "link": {"url": "javascript:alert(1)"}}),
    )
    .expect(422, "invalid_link");
    let big = a.c.upload(
        Method::POST,
        &format!("/api/v1/chat/conversations/{g}/files?kind=file"),
        "big.bin",
        vec![0u8; 1024 * 1024 + 1],
    );
    assert_eq!(big.status, 413, "{}", big.body);
    a.c.post(&format!("/api/v1/chat/conversations/{g}/members"), json!({"user_ids": [c.id]})).expect(400, "group_full");
}

#[test]
fn conversation_list_settings_sync_and_ordering() {
    let w = world();
    let (a, b, c) = (w.person("setter1", "设甲"), w.person("sb", "设乙"), w.person("sc", "设丙"));
    let d1 = direct(&a.c, b.id);
    let d2 = direct(&a.c, c.id);
    say(&b.c, d1, "先");
    say(&c.c, d2, "后");
    let order: Vec<u64> = conversations(&a.c).iter().map(|v| v["id"].as_u64().unwrap()).collect();
    assert_eq!(order[..2], [d2, d1], "by activity");
    // Pin on one device; the other device's socket hears it.
    let other_device = Client::new(&w.s.base);
    let r = other_device.login("setter1", MEMBER_PASSWORD);
    let token2 = set_cookie_value(&r).unwrap();
    let mut ws2 = Ws::connect(&w.s.base, &token2, None);
    ws2.expect("hello");
    a.c.put(&format!("/api/v1/chat/conversations/{d1}/settings"), json!({"pinned": true, "muted": true})).ok();
    let ev = ws2.expect("conversation");
    assert_eq!(ev["conversation_id"], d1);
    let list = conversations(&other_device);
    assert_eq!(list[0]["id"], d1, "pinned first");
    assert_eq!(list[0]["me"]["muted"], true);
    // Mark unread, hide; a new message brings a hidden chat back.
    a.c.put(&format!("/api/v1/chat/conversations/{d2}/settings"), json!({"hidden": true})).ok();
    assert!(conv_in_list(&a.c, d2).is_none());
    say(&c.c, d2, "又来了");
    assert!(conv_in_list(&a.c, d2).is_some());
    a.c.put(&format!("/api/v1/chat/conversations/{d1}/settings"), json!({"marked_unread": true})).ok();
    assert_eq!(conv_in_list(&a.c, d1).unwrap()["me"]["marked_unread"], true);
    // Reading on one device clears unread on the others (read event to every device).
    let last = say(&b.c, d1, "新消息")["seq"].as_u64().unwrap();
    a.c.post(&format!("/api/v1/chat/conversations/{d1}/read"), json!({"seq": last})).ok();
    let read = ws2.expect("read");
    assert_eq!(read["user_id"], a.id);
    let v = conv_in_list(&other_device, d1).unwrap();
    assert_eq!(v["me"]["unread"], 0);
    assert_eq!(v["me"]["marked_unread"], false);
}

#[test]
fn mentions_quotes_pins_and_paging() {
    let w = world();
    let (a, b) = (w.person("pa", "页甲"), w.person("pb", "页乙"));
    let g = group(&a.c, "分页群", &[b.id]);
    let mut seqs = Vec::new();
    for i in 0..120 {
        seqs.push(say(&a.c, g, &format!("第{i}条"))["seq"].as_u64().unwrap());
    }
    let page = b.c.get(&format!("/api/v1/chat/conversations/{g}/messages?limit=50")).ok();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 50);
    assert_eq!(items.last().unwrap()["text"], "第119条");
    assert_eq!(page["has_more_before"], true);
    let before = items[0]["seq"].as_u64().unwrap();
    let older = b.c.get(&format!("/api/v1/chat/conversations/{g}/messages?before={before}&limit=50")).ok();
    assert_eq!(older["items"].as_array().unwrap().last().unwrap()["seq"].as_u64().unwrap(), seqs[69]);
    let around = b.c.get(&format!("/api/v1/chat/conversations/{g}/messages?around={}&limit=10", seqs[30])).ok();
    let ar: Vec<u64> = around["items"].as_array().unwrap().iter().map(|m| m["seq"].as_u64().unwrap()).collect();
    assert!(
        ar.contains(&seqs[30])
            && ar.len() == 10
            && around["has_more_after"] == true
            && around["has_more_before"] == true
    );
    let after = b.c.get(&format!("/api/v1/chat/conversations/{g}/messages?after={}&limit=5", seqs[30])).ok();
    assert_eq!(after["items"][0]["seq"].as_u64().unwrap(), seqs[31]);
    // Mention and quote.
    let q =
        b.c.post(
            &format!("/api/v1/chat/conversations/{g}/messages"),
            json!({"text": "@页甲 看这条", "mentions": [a.id, 999_999], "quote_seq": seqs[5]}),
        )
        .expect(201, "");
    assert_eq!(q["mentions"], json!([a.id]), "unknown mentions dropped");
    assert_eq!(q["quote"]["preview"], "第5条");
    assert_eq!(conv_in_list(&a.c, g).unwrap()["me"]["mentioned"], true);
    // Idempotent retries with client_id.
    let body = json!({"text": "只发一次", "client_id": "c-42"});
    let one = b.c.post(&format!("/api/v1/chat/conversations/{g}/messages"), body.clone()).expect(201, "");
    let two = b.c.post(&format!("/api/v1/chat/conversations/{g}/messages"), body).expect(201, "");
    assert_eq!(one["seq"], two["seq"]);
    // Pin: owner yes, member no.
    b.c.post(&format!("/api/v1/chat/conversations/{g}/pin"), json!({"seq": seqs[1]})).expect(403, "not_allowed");
    let v = a.c.post(&format!("/api/v1/chat/conversations/{g}/pin"), json!({"seq": seqs[1]})).ok();
    assert_eq!(v["pinned_message"]["text"], "第1条");
    // Bad input.
    b.c.get(&format!("/api/v1/chat/conversations/{g}/messages?before=abc")).expect(400, "bad_request");
}

#[test]
fn a_retried_send_is_recognised_for_a_day_then_its_key_is_trimmed() {
    let w = world();
    let (a, b) = (w.person("rid_a", "重试甲"), w.person("rid_b", "重试乙"));
    let g = group(&a.c, "重试群", &[b.id]);
    let url = format!("/api/v1/chat/conversations/{g}/messages");
    let body = json!({"text": "只发一次", "client_id": "0mfx2k3ab-1f2e"});
    let first = a.c.post(&url, body.clone()).expect(201, "");
    // The same key from another sender or in another conversation is another send.
    let other = b.c.post(&url, body.clone()).expect(201, "");
    assert_ne!(other["seq"], first["seq"]);
    // Up to a day later (whatever the time of day, so across a day boundary) the retry still
    // returns the original: keys are kept for today and yesterday.
    w.s.clock.advance_ms(23 * 3_600_000 + 59 * 60_000);
    let retry = a.c.post(&url, body.clone()).expect(201, "");
    assert_eq!(retry["seq"], first["seq"], "{retry}");
    // Two days later the key is trimmed: the same id now starts a new message.
    w.s.clock.advance_ms(24 * 3_600_000 + 2 * 60_000);
    let removed = actix_web::rt::System::new()
        .block_on(officebox::chat::housekeeping::trim_send_ids(&w.s.platform))
        .expect("trim");
    assert!(removed >= 2, "both keys of the first day go: {removed}");
    let fresh = a.c.post(&url, body).expect(201, "");
    assert_ne!(fresh["seq"], first["seq"]);
    let history = a.c.get(&format!("{url}?limit=10")).ok();
    let texts = history["items"].as_array().map_or(0, |i| i.iter().filter(|m| m["text"] == "只发一次").count());
    assert_eq!(texts, 3, "one per accepted send: {history}");
}

#[test]
fn a_department_group_follows_the_department() {
    let w = world();
    let sales = w.admin.create_department("销售部", w.dept);
    let east = w.admin.create_department("华东组", sales);
    let lead = w.s.person(&w.admin, "lead", "组长", sales);
    let rep = w.s.person(&w.admin, "rep", "业务员", east);
    let outsider = w.person("out", "局外人");
    lead.c.post("/api/v1/chat/groups", json!({"department_id": sales})).expect(403, "not_allowed");
    let g = w.admin.post("/api/v1/chat/groups", json!({"department_id": sales})).expect(201, "");
    let g = g["id"].as_u64().unwrap();
    assert_eq!(conv_in_list(&rep.c, g).unwrap()["name"], "销售部");
    assert!(conv_in_list(&lead.c, g).is_some());
    assert!(conv_in_list(&outsider.c, g).is_none());
    // A newcomer to a sub-department joins; a transfer out leaves; offboarding leaves.
    let newbie = w.s.person(&w.admin, "newbie", "新人", east);
    assert!(conv_in_list(&newbie.c, g).is_some(), "joined with the department");
    w.admin
        .patch(
            &format!("/api/v1/admin/members/{}", newbie.id),
            json!({"department_ids": [w.dept], "main_department_id": w.dept}),
        )
        .ok();
    assert!(conv_in_list(&newbie.c, g).is_none(), "left with the transfer");
    let members = w.admin.get(&format!("/api/v1/chat/conversations/{g}/members")).ok();
    let n = members["items"].as_array().unwrap().len();
    let r = w.admin.post(&format!("/api/v1/admin/members/{}/offboard", rep.id), json!({"handover_to": lead.id}));
    assert!(r.status.is_success(), "{}", r.body);
    let after = w.admin.get(&format!("/api/v1/chat/conversations/{g}/members")).ok();
    assert_eq!(after["items"].as_array().unwrap().len(), n - 1, "offboarded member removed");
    // Manual invites do not apply to department groups.
    w.admin
        .post(&format!("/api/v1/chat/conversations/{g}/members"), json!({"user_ids": [outsider.id]}))
        .expect(403, "not_allowed");
}

#[test]
fn typing_and_presence_reach_only_who_should_see_them() {
    let w = world();
    let (a, b) = (w.person("ta", "打字甲"), w.person("tb", "打字乙"));
    let conv = direct(&a.c, b.id);
    let mut ws_b = Ws::connect(&w.s.base, &b.token, None);
    ws_b.expect("hello");
    ws_b.send(json!({"type": "watch_presence", "user_ids": [a.id]}));
    let mut saw_offline = false;
    for f in ws_b_frames_with_presence(&mut ws_b) {
        if f["type"] == "presence" && f["user_id"] == a.id && f["online"] == false {
            saw_offline = true;
        }
    }
    assert!(saw_offline, "current presence is answered at once");
    let mut ws_a = Ws::connect(&w.s.base, &a.token, None);
    ws_a.expect("hello");
    assert!(ws_b_frames_with_presence(&mut ws_b).iter().any(|f| f["type"] == "presence" && f["online"] == true));
    ws_a.send(json!({"type": "typing", "conversation_id": conv}));
    let t = ws_b.expect("typing");
    assert_eq!(t["user_id"], a.id);
    assert!(t.get("seq").is_none(), "typing is not persisted");
    ws_a.send(json!({"type": "ping"}));
    // Garbage closes only that socket.
    ws_a.sock.send(tungstenite::Message::Text("not json".into())).unwrap();
    assert!(ws_a.next(Duration::from_millis(500)).is_none());
}

/// Frames within half a second, presence included (Ws::next skips them).
fn ws_b_frames_with_presence(ws: &mut Ws) -> Vec<Value> {
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_millis(500);
    while std::time::Instant::now() < deadline {
        match ws.sock.read() {
            Ok(tungstenite::Message::Text(t)) => out.push(serde_json::from_str(t.as_str()).unwrap()),
            Ok(_) => {}
            Err(_) => {}
        }
    }
    out
}

#[test]
fn group_avatar_and_notice_by_managers_only() {
    let w = world();
    let (o, m) = (w.person("av1", "头像主"), w.person("av2", "头像员"));
    let g = group(&o.c, "头像群", &[m.id]);
    let r = m.c.upload(Method::POST, &format!("/api/v1/chat/conversations/{g}/avatar"), "a.png", png());
    assert_eq!(r.status, 403, "{}", r.body);
    let r = o.c.upload(Method::POST, &format!("/api/v1/chat/conversations/{g}/avatar"), "a.png", png());
    assert_eq!(r.status, 200, "{}", r.body);
    let img = m.c.get(&format!("/api/v1/chat/conversations/{g}/avatar"));
    assert_eq!(img.headers["content-type"], "image/png");
    m.c.patch(&format!("/api/v1/chat/conversations/{g}"), json!({"notice": "明天放假"})).expect(403, "not_allowed");
    let v = o.c.patch(&format!("/api/v1/chat/conversations/{g}"), json!({"notice": "明天放假", "name": "新群名"})).ok();
    assert_eq!(v["notice"]["text"], "明天放假");
    assert_eq!(v["name"], "新群名");
    o.c.patch(&format!("/api/v1/chat/conversations/{g}"), json!({"name": "  "})).expect(422, "invalid_name");
    let outsider = w.person("av3", "外");
    outsider.c.get(&format!("/api/v1/chat/conversations/{g}/avatar")).expect(404, "not_found");
}

#[test]
fn signing_out_closes_that_sessions_sockets_at_once() {
    let w = world();
    let a = w.person("so1", "退出甲");
    let mut ws = Ws::connect(&w.s.base, &a.token, None);
    ws.expect("hello");
    a.c.post("/api/v1/auth/logout", json!({})).status.is_success().then_some(()).expect("logout");
    assert_eq!(ws.expect("session_ended")["type"], "session_ended");
    assert!(ws.next(Duration::from_millis(500)).is_none(), "closed");
}

#[test]
fn offboarding_leaves_groups_and_hands_owned_ones_to_the_successor() {
    let w = world();
    let (leaver, heir, other) = (w.person("lv1", "离职者"), w.person("lv2", "继任者"), w.person("lv3", "同事"));
    let owned = group(&leaver.c, "他的群", &[other.id]);
    let dm = direct(&other.c, leaver.id);
    say(&other.c, dm, "交接一下");
    let joined = group(&other.c, "别人的群", &[leaver.id]);
    let r = w.admin.post(&format!("/api/v1/admin/members/{}/offboard", leaver.id), json!({"handover_to": heir.id}));
    assert!(r.status.is_success(), "{}", r.body);
    let v = heir.c.get(&format!("/api/v1/chat/conversations/{owned}")).ok();
    assert_eq!(v["owner_id"], heir.id, "the successor owns the group");
    let members: Vec<u64> = other.c.get(&format!("/api/v1/chat/conversations/{joined}/members")).ok()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_u64().unwrap())
        .collect();
    assert!(!members.contains(&leaver.id), "left the groups they were in");
    // Their 1:1 chats stay readable but take no new messages.
    assert_eq!(texts(&history(&other.c, dm)), vec!["交接一下"]);
    other
        .c
        .post(&format!("/api/v1/chat/conversations/{dm}/messages"), json!({"text": "在吗"}))
        .expect(409, "peer_left");
}

#[test]
fn a_removed_member_stops_hearing_the_group_and_oversized_frames_close_the_socket() {
    let w = world();
    let (o, m) = (w.person("rm1", "移除甲"), w.person("rm2", "移除乙"));
    let g = group(&o.c, "移除群", &[m.id]);
    let mut ws = Ws::connect(&w.s.base, &m.token, None);
    ws.expect("hello");
    say(&o.c, g, "在吗");
    ws.expect("message");
    o.c.delete(&format!("/api/v1/chat/conversations/{g}/members/{}", m.id)).ok();
    assert_eq!(ws.expect("conversation_removed")["conversation_id"], g);
    say(&o.c, g, "你已经不在了");
    assert!(ws.drain(Duration::from_millis(500)).iter().all(|f| f["type"] != "message"), "no more messages");
    // A frame over 64 KiB ends the connection (1009).
    let big = "x".repeat(70 * 1024);
    let _ = ws.sock.send(tungstenite::Message::Text(big.into()));
    let mut code = None;
    for _ in 0..20 {
        match ws.sock.read() {
            Ok(tungstenite::Message::Close(Some(f))) => {
                code = Some(u16::from(f.code));
                break;
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(_)) => {}
            Err(_) => break,
        }
    }
    assert_eq!(code, Some(1009));
}
