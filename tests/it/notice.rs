//! Announcements through the real server: audiences through the department tree, the centre,
//! the `notice` event on a WebSocket, read/confirm statistics and their Excel export,
//! reminders, withdrawal, who may publish, sanitising, schedules with the manual clock.
//! Files and input validation: `notice/files.rs`, `notice/rules.rs`.

mod files;
mod rules;

use crate::common::*;
use futures_util::{SinkExt, StreamExt};
use officebox::platform::clock::Clock;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A signed-in member with the raw session token (for WebSockets).
pub struct Person {
    pub id: u64,
    pub c: Client,
    pub token: String,
}

/// Create an active member in `dept` and sign them in.
pub fn person(s: &TestServer, admin: &Client, userid: &str, name: &str, dept: u64) -> Person {
    let id = admin.create_member(userid, name, dept, MEMBER_PASSWORD);
    let c = Client::new(&s.base);
    let r = c.login(userid, MEMBER_PASSWORD);
    let token = set_cookie_value(&r).expect("session cookie");
    r.ok();
    Person { id, c, token }
}

/// 总公司 > 研发部 > 后端组, 总公司 > 市场部; 研发 in 研发部, 后端 in 后端组, 市场 in 市场部.
pub struct Org {
    pub s: TestServer,
    pub admin: Client,
    pub rd: u64,
    pub backend: u64,
    pub market: u64,
    pub dev: Person,
    pub be: Person,
    pub mk: Person,
}

pub fn org() -> Org {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let rd = admin.create_department("研发部", root);
    let backend = admin.create_department("后端组", rd);
    let market = admin.create_department("市场部", root);
    let dev = person(&s, &admin, "dev1", "研发甲", rd);
    let be = person(&s, &admin, "be1", "后端乙", backend);
    let mk = person(&s, &admin, "mk1", "市场丙", market);
    Org { s, admin, rd, backend, market, dev, be, mk }
}

/// Publish as `c`; asserts 201 and returns the notice.
#[track_caller]
pub fn publish(c: &Client, body: Value) -> Value {
    let r = c.post("/api/v1/notices", body);
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    r.body
}

pub fn to_users(title: &str, users: &[u64]) -> Value {
    json!({ "title": title, "html": "<p>正文</p>", "audience": { "user_ids": users } })
}

/// Titles in a member's centre, in order.
pub fn centre(c: &Client) -> Vec<String> {
    let page = c.get("/api/v1/notices").ok();
    page["items"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap().to_owned()).collect()
}

fn names(v: &Value) -> Vec<&str> {
    let mut out: Vec<&str> = v.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    out.sort_unstable();
    out
}

/// A WebSocket of one member, driven from a blocking test.
pub struct Ws {
    rt: tokio::runtime::Runtime,
    stream: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

impl Ws {
    /// Connect (with `?since=`) and return the socket with the backlog frames before `hello`.
    pub fn connect(base: &str, token: &str, since: Option<u64>) -> (Ws, Vec<Value>, u64) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let url = format!(
            "{}/ws{}",
            base.replacen("http", "ws", 1),
            since.map(|s| format!("?since={s}")).unwrap_or_default()
        );
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert("Cookie", format!("ob_session={token}").parse().unwrap());
        let (stream, _) = rt.block_on(tokio_tungstenite::connect_async(req)).expect("websocket");
        let mut ws = Ws { rt, stream };
        let mut backlog = Vec::new();
        loop {
            let f = ws.next(Duration::from_secs(5)).expect("hello");
            if f["type"] == "hello" {
                return (ws, backlog, f["seq"].as_u64().unwrap());
            }
            backlog.push(f);
        }
    }

    /// The next JSON frame within `within`.
    pub fn next(&mut self, within: Duration) -> Option<Value> {
        let stream = &mut self.stream;
        self.rt.block_on(async {
            let deadline = tokio::time::Instant::now() + within;
            loop {
                match tokio::time::timeout_at(deadline, stream.next()).await {
                    Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(t.as_str()).ok(),
                    Ok(Some(Ok(_))) => continue,
                    _ => return None,
                }
            }
        })
    }

    /// The next frame of `kind`, skipping others.
    pub fn next_of(&mut self, kind: &str, within: Duration) -> Option<Value> {
        let deadline = std::time::Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.next(left) {
                Some(f) if f["type"] == kind => return Some(f),
                Some(_) => continue,
                None => return None,
            }
        }
        None
    }

    pub fn close(mut self) {
        let stream = &mut self.stream;
        let _ = self.rt.block_on(stream.send(Message::Close(None)));
    }
}

/// The current event seq as a fresh socket of `p` sees it.
fn seq_now(s: &TestServer, p: &Person) -> u64 {
    let (ws, _, seq) = Ws::connect(&s.base, &p.token, None);
    ws.close();
    seq
}

/// The events `p` missed since `seq`, as a reconnecting socket gets them.
fn missed(s: &TestServer, p: &Person, seq: u64) -> Vec<Value> {
    let (ws, backlog, _) = Ws::connect(&s.base, &p.token, Some(seq));
    ws.close();
    backlog
}

#[test]
fn publishing_to_a_department_reaches_its_sub_departments_and_nobody_else() {
    let o = org();
    let (mut ws, _, _) = Ws::connect(&o.s.base, &o.be.token, None);
    let n = publish(
        &o.admin,
        json!({ "title": "研发部周会", "html": "<p>周五下午三点</p>", "audience": { "department_ids": [o.rd] } }),
    );
    let id = n["id"].as_u64().unwrap();
    assert_eq!(n["manage"]["total"], 2, "{n}");
    assert_eq!(n["manage"]["status"], "published");
    // The member of the sub-department gets the event live.
    let ev = ws.next_of("notice", Duration::from_secs(5)).expect("a notice event");
    assert_eq!(ev["notice"]["id"], id);
    assert_eq!(ev["notice"]["title"], "研发部周会");
    assert_eq!(ev["notice"]["read"], false);
    assert!(ev["seq"].as_u64().is_some() && ev.get("reminder").is_none(), "{ev}");
    ws.close();
    assert_eq!(centre(&o.dev.c), ["研发部周会"]);
    assert_eq!(centre(&o.be.c), ["研发部周会"]);
    assert!(centre(&o.mk.c).is_empty(), "市场部 is outside the audience");
    assert!(centre(&o.admin).is_empty(), "the publisher is in the root department, not in the audience");
    let item = &o.dev.c.get("/api/v1/notices").ok()["items"][0];
    for field in [
        "id",
        "title",
        "excerpt",
        "cover",
        "publisher_name",
        "published_at",
        "pinned",
        "read",
        "confirmed",
        "require_confirm",
    ] {
        assert!(item.get(field).is_some(), "{field} missing in {item}");
    }
    assert_eq!(item["excerpt"], "周五下午三点");
    assert_eq!(item["publisher_name"], "管理员");
    // Outsiders learn nothing: 404 everywhere, never 403.
    for path in [
        format!("/api/v1/notices/{id}"),
        format!("/api/v1/notices/{id}/stats"),
        format!("/api/v1/notices/{id}/stats.xlsx"),
    ] {
        o.mk.c.get(&path).expect(404, "not_found");
    }
    o.mk.c.post(&format!("/api/v1/notices/{id}/confirm"), json!({})).expect(404, "not_found");
    o.mk.c.post(&format!("/api/v1/notices/{id}/remind"), json!({})).expect(404, "not_found");
    o.mk.c.delete(&format!("/api/v1/notices/{id}")).expect(404, "not_found");
    o.mk.c.get("/api/v1/notices/987654").expect(404, "not_found");
    // A recipient sees the notice but may not manage it.
    o.dev.c.get(&format!("/api/v1/notices/{id}/stats")).expect(403, "forbidden");
    o.dev.c.delete(&format!("/api/v1/notices/{id}")).expect(403, "forbidden");
    // The publisher reads it without being a recipient.
    let mine = o.admin.get(&format!("/api/v1/notices/{id}")).ok();
    assert_eq!(mine["manage"]["audience"]["department_ids"], json!([o.rd]));
    let managed = o.admin.get("/api/v1/notices/manage").ok();
    assert_eq!(managed["items"][0]["id"], id);
    assert_eq!(managed["can_publish"], true);
    let audit = o.admin.audit("action=notice.published");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["details"]["recipients"], 2);
}

#[test]
fn reads_and_confirmations_are_counted_listed_and_exported() {
    let o = org();
    let mut body = to_users("安全培训", &[o.dev.id, o.be.id, o.mk.id]);
    body["require_confirm"] = json!(true);
    let id = publish(&o.admin, body)["id"].as_u64().unwrap();
    let opened = o.dev.c.get(&format!("/api/v1/notices/{id}")).ok();
    assert_eq!(opened["read"], true);
    assert!(opened["read_at"].as_i64().is_some());
    assert_eq!(opened["html"], "<p>正文</p>");
    assert!(opened.get("manage").is_none(), "members do not see the audience: {opened}");
    o.dev.c.get(&format!("/api/v1/notices/{id}")).ok();
    let confirmed = o.be.c.post(&format!("/api/v1/notices/{id}/confirm"), json!({})).ok();
    assert_eq!((confirmed["read"].clone(), confirmed["confirmed"].clone()), (json!(true), json!(true)));
    o.be.c.post(&format!("/api/v1/notices/{id}/confirm"), json!({})).ok();
    let stats = o.admin.get(&format!("/api/v1/notices/{id}/stats")).ok();
    assert_eq!(
        (stats["total"].clone(), stats["read"].clone(), stats["unread"].clone(), stats["confirmed"].clone()),
        (json!(3), json!(2), json!(1), json!(1)),
        "{stats}"
    );
    assert_eq!(names(&stats["read_users"]), ["后端乙", "研发甲"]);
    assert_eq!(names(&stats["unread_users"]), ["市场丙"]);
    assert_eq!(names(&stats["confirmed_users"]), ["后端乙"]);
    assert_eq!(stats["unread_users"][0], json!({ "user_id": o.mk.id, "name": "市场丙", "department": "市场部" }));
    let managed = o.admin.get("/api/v1/notices/manage").ok();
    assert_eq!(
        (managed["items"][0]["read_count"].clone(), managed["items"][0]["confirmed_count"].clone()),
        (json!(2), json!(1))
    );
    // Confirming what does not ask for it is refused.
    let plain = publish(&o.admin, to_users("无需确认", &[o.dev.id]))["id"].as_u64().unwrap();
    o.dev.c.post(&format!("/api/v1/notices/{plain}/confirm"), json!({})).expect(409, "confirm_not_required");

    let r = o.admin.get(&format!("/api/v1/notices/{id}/stats.xlsx"));
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(r.headers["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(r.bytes)).expect("xlsx");
    let sheet = wb.worksheet_range_at(0).expect("a sheet").expect("readable");
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows.len(), 4, "header + 3 recipients: {rows:?}");
    assert!(rows[0][0].contains("姓名") && rows[0][2].contains("阅读"), "{rows:?}");
    let row = |name: &str| rows.iter().find(|r| r[0] == name).unwrap_or_else(|| panic!("{name} in {rows:?}")).clone();
    let (be, dev, mk) = (row("后端乙"), row("研发甲"), row("市场丙"));
    assert_eq!((be[1].as_str(), dev[1].as_str(), mk[1].as_str()), ("后端组", "研发部", "市场部"));
    assert!(!be[2].is_empty() && !be[3].is_empty(), "{be:?}");
    assert!(!dev[2].is_empty() && dev[3].is_empty(), "{dev:?}");
    assert!(mk[2].is_empty() && mk[3].is_empty(), "{mk:?}");
}

#[test]
fn reminders_reach_only_unread_members_at_most_every_ten_minutes() {
    let o = org();
    let id = publish(&o.admin, to_users("季度总结", &[o.dev.id, o.be.id, o.mk.id]))["id"].as_u64().unwrap();
    o.dev.c.get(&format!("/api/v1/notices/{id}")).ok();
    let (dev_seq, mk_seq) = (seq_now(&o.s, &o.dev), seq_now(&o.s, &o.mk));
    let r = o.admin.post(&format!("/api/v1/notices/{id}/remind"), json!({})).ok();
    assert_eq!(r["reminded"], 2);
    let got = missed(&o.s, &o.mk, mk_seq);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0]["type"].clone(), got[0]["reminder"].clone(), got[0]["notice"]["id"].clone()),
        (json!("notice"), json!(true), json!(id))
    );
    assert!(missed(&o.s, &o.dev, dev_seq).is_empty(), "a member who read it is not reminded");
    let again = o.admin.post(&format!("/api/v1/notices/{id}/remind"), json!({}));
    assert_eq!(again.status.as_u16(), 429, "{}", again.body);
    assert_eq!(again.code(), "remind_too_soon");
    assert!(again.body["message"].as_str().unwrap().contains("10 minutes"));
    assert!(again.headers.get("retry-after").is_some());
    o.be.c.get(&format!("/api/v1/notices/{id}")).ok();
    o.s.clock.advance_ms(10 * 60_000);
    assert_eq!(o.admin.post(&format!("/api/v1/notices/{id}/remind"), json!({})).ok()["reminded"], 1);
    assert_eq!(o.admin.audit("action=notice.reminded").len(), 2);
}

#[test]
fn withdrawal_removes_the_notice_from_every_centre() {
    let o = org();
    let id = publish(&o.admin, to_users("撤回测试", &[o.dev.id, o.be.id]))["id"].as_u64().unwrap();
    o.dev.c.get(&format!("/api/v1/notices/{id}")).ok();
    let seq = seq_now(&o.s, &o.be);
    assert_eq!(o.admin.delete(&format!("/api/v1/notices/{id}")).status.as_u16(), 204);
    assert!(centre(&o.dev.c).is_empty() && centre(&o.be.c).is_empty());
    o.dev.c.get(&format!("/api/v1/notices/{id}")).expect(404, "not_found");
    o.admin.get(&format!("/api/v1/notices/{id}")).expect(404, "not_found");
    let got = missed(&o.s, &o.be, seq);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0]["type"].clone(), got[0]["notice_id"].clone()), (json!("notice_removed"), json!(id)));
    assert!(o.admin.get("/api/v1/notices/manage").ok()["items"].as_array().unwrap().is_empty());
    assert_eq!(o.admin.audit("action=notice.withdrawn").len(), 1);
}

#[test]
fn only_admins_and_granted_members_publish_and_branch_admins_stay_in_scope() {
    let o = org();
    let body = to_users("越权", &[o.mk.id]);
    o.dev.c.post("/api/v1/notices", body.clone()).expect(403, "forbidden");
    o.dev.c.upload(reqwest::Method::POST, "/api/v1/notices/uploads", "a.png", png()).expect(403, "forbidden");
    assert_eq!(o.dev.c.get("/api/v1/notices/manage").ok()["can_publish"], false);
    o.dev.c.put("/api/v1/admin/notices/publishers", json!({ "user_ids": [o.dev.id] })).expect(403, "forbidden");
    // The super admin grants the right; a plain publisher may address anyone.
    let granted = o.admin.put("/api/v1/admin/notices/publishers", json!({ "user_ids": [o.dev.id, o.dev.id] })).ok();
    assert_eq!(granted["user_ids"], json!([o.dev.id]));
    assert_eq!(granted["members"][0]["name"], "研发甲");
    o.admin.put("/api/v1/admin/notices/publishers", json!({ "user_ids": [424242] })).expect(422, "unknown_member");
    publish(&o.dev.c, body);
    assert_eq!(centre(&o.mk.c), ["越权"]);
    assert_eq!(o.admin.audit("action=notice.publishers_updated").len(), 1);
    // A branch admin of 研发部 reaches 研发部 and its members only.
    o.admin.grant(o.be.id, json!({ "kind": "branch", "department_ids": [o.rd], "permissions": ["members"] }));
    publish(&o.be.c, json!({ "title": "研发内部", "audience": { "department_ids": [o.backend] } }));
    for audience in [json!({ "all": true }), json!({ "department_ids": [o.market] }), json!({ "user_ids": [o.mk.id] })]
    {
        o.be.c.post("/api/v1/notices", json!({ "title": "越界", "audience": audience })).expect(403, "out_of_scope");
    }
    assert_eq!(o.be.c.get("/api/v1/admin/notices/publishers").ok()["user_ids"], json!([o.dev.id]));
    // A publisher manages their own notices only; the super admin manages all.
    let theirs = o.be.c.get("/api/v1/notices/manage").ok();
    assert_eq!(theirs["items"].as_array().unwrap().len(), 1, "{theirs}");
    assert_eq!(o.admin.get("/api/v1/notices/manage").ok()["items"].as_array().unwrap().len(), 2);
}

#[test]
fn html_is_sanitised_before_it_is_stored() {
    let o = org();
    let html = r#"<h2 onclick="steal()">通知</h2><script>alert(1)</script><p>正文<img src="x" onerror="alert(2)"></p><a href="javascript:alert(3)">点我</a><a href="https://example.com/">官网</a>"#;
    let n = publish(&o.admin, json!({ "title": "净化", "html": html, "audience": { "user_ids": [o.dev.id] } }));
    let got = o.dev.c.get(&format!("/api/v1/notices/{}", n["id"])).ok();
    let stored = got["html"].as_str().unwrap();
    for bad in ["<script", "alert(1)", "onerror", "onclick", "javascript:"] {
        assert!(!stored.contains(bad), "{bad} survived: {stored}");
    }
    assert!(
        stored.contains(r#"<a href="https://example.com/" target="_blank" rel="noopener noreferrer">官网</a>"#),
        "{stored}"
    );
    assert!(stored.contains("<h2>通知</h2>"));
    assert_eq!(got["excerpt"], "通知 正文 点我官网");
}

/// Run an async platform call from a blocking test.
pub fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    actix_web::rt::System::new().block_on(f)
}

#[test]
fn scheduled_notices_publish_when_the_clock_reaches_them() {
    let o = org();
    let at = o.s.clock.now_ms() + 3_600_000;
    let mut body = to_users("明日停电", &[o.dev.id]);
    body["publish_at"] = json!(at);
    let n = publish(&o.admin, body);
    let id = n["id"].as_u64().unwrap();
    assert_eq!((n["manage"]["status"].clone(), n["published_at"].clone()), (json!("scheduled"), Value::Null));
    assert!(centre(&o.dev.c).is_empty());
    o.dev.c.get(&format!("/api/v1/notices/{id}")).expect(404, "not_found");
    // Still editable before it is published.
    let edited =
        o.admin.patch(&format!("/api/v1/notices/{id}"), json!({ "title": "明日停电（更新）", "pinned": true })).ok();
    assert_eq!(edited["title"], "明日停电（更新）");
    let p = o.s.platform.clone();
    assert_eq!(block_on(async move { officebox::notice::publish::publish_due(&p).await }).unwrap(), 0, "not due yet");
    o.s.clock.advance_ms(3_600_000 + 1000);
    let p = o.s.platform.clone();
    // The server's own job (every 5 s) may get there first; either way it is published once.
    assert!(block_on(async move { officebox::notice::publish::publish_due(&p).await }).unwrap() <= 1);
    assert_eq!(centre(&o.dev.c), ["明日停电（更新）"]);
    let item = &o.dev.c.get("/api/v1/notices").ok()["items"][0];
    assert_eq!(item["pinned"], true);
    assert!(item["published_at"].as_i64().unwrap() >= at);
    o.admin.patch(&format!("/api/v1/notices/{id}"), json!({ "title": "改不了" })).expect(409, "already_published");
    let p = o.s.platform.clone();
    assert_eq!(
        block_on(async move { officebox::notice::publish::publish_due(&p).await }).unwrap(),
        0,
        "published once"
    );
    assert_eq!(o.admin.audit("action=notice.published")[0]["details"]["scheduled"], true);
}

#[test]
fn the_centre_lists_unread_first_then_pinned_then_newest() {
    let o = org();
    let mut ids = Vec::new();
    for (title, pinned) in [("一", false), ("二", true), ("三", false), ("四", false)] {
        let mut body = to_users(title, &[o.dev.id]);
        body["pinned"] = json!(pinned);
        ids.push(publish(&o.admin, body)["id"].as_u64().unwrap());
        o.s.clock.advance_ms(1000);
    }
    assert_eq!(centre(&o.dev.c), ["二", "四", "三", "一"]);
    o.dev.c.get(&format!("/api/v1/notices/{}", ids[3])).ok();
    o.dev.c.get(&format!("/api/v1/notices/{}", ids[1])).ok();
    assert_eq!(centre(&o.dev.c), ["三", "一", "二", "四"]);
    assert_eq!(o.dev.c.get("/api/v1/notices").ok()["unread"], 2);
    // Cursor pages walk the same order.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = o.dev.c.get(&format!("/api/v1/notices?limit=1&cursor={cursor}")).ok();
        seen.extend(page["items"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, ["三", "一", "二", "四"]);
    o.dev.c.get("/api/v1/notices?cursor=bogus").expect(400, "invalid_cursor");
}

#[test]
fn expired_notices_leave_the_centre_but_the_publisher_still_reads_them() {
    let o = org();
    let mut body = to_users("限时活动", &[o.dev.id]);
    body["expire_at"] = json!(o.s.clock.now_ms() + 3_600_000);
    let id = publish(&o.admin, body)["id"].as_u64().unwrap();
    assert_eq!(centre(&o.dev.c), ["限时活动"]);
    o.s.clock.advance_ms(2 * 3_600_000);
    assert!(centre(&o.dev.c).is_empty());
    o.dev.c.get(&format!("/api/v1/notices/{id}")).expect(404, "notice_expired");
    assert_eq!(o.admin.get(&format!("/api/v1/notices/{id}")).ok()["title"], "限时活动");
    assert_eq!(o.admin.get(&format!("/api/v1/notices/{id}/stats")).ok()["total"], 1);
}

#[test]
fn published_notices_are_searchable_and_rechecked_per_member() {
    let o = org();
    let n = publish(
        &o.admin,
        json!({ "title": "年会报名通知", "html": "<p>请在周五前报名参加年会</p>", "audience": { "user_ids": [o.dev.id] } }),
    );
    let id = n["id"].as_u64().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let hits = o.s.platform.search.search("年会", &["notice"], 10);
        if hits.as_ref().is_ok_and(|h| h.iter().any(|h| h.key == format!("notice:{id}"))) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not indexed: {hits:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let now = o.s.clock.now_ms();
    let visible =
        |user: u64| o.s.platform.store.read(|txn| officebox::notice::visible_summary_at(txn, user, id, now)).unwrap();
    assert_eq!(visible(o.dev.id).map(|s| s.title), Some("年会报名通知".to_owned()));
    assert!(visible(o.mk.id).is_none());
    // Through the global search: the recipient finds it, someone outside the audience does not.
    let found = |c: &Client| -> Vec<Value> {
        c.get("/api/v1/search?q=年会报名&kinds=notice").ok()["items"].as_array().cloned().unwrap_or_default()
    };
    let hits = found(&o.dev.c);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["notice"]["title"], "年会报名通知");
    assert!(hits[0]["snippet"].as_str().unwrap_or("").contains("<b>"), "{hits:?}");
    assert!(found(&o.mk.c).is_empty());
    o.admin.delete(&format!("/api/v1/notices/{id}")).ok();
    assert!(visible(o.dev.id).is_none());
    assert!(found(&o.dev.c).is_empty(), "withdrawn notices are not found");
}
