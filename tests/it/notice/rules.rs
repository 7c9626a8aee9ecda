//! Input rules of announcements: stable codes for bad titles, audiences and times; tags as
//! audiences; members who join later.

use super::*;

#[test]
fn bad_input_is_refused_with_stable_codes() {
    let o = org();
    let ok = || to_users("标题", &[o.dev.id]);
    let with = |field: &str, value: Value| {
        let mut b = ok();
        b[field] = value;
        b
    };
    let now = o.s.clock.now_ms();
    let cases = [
        (with("title", json!("")), "invalid_title", "title"),
        (with("title", json!("   ")), "invalid_title", "title"),
        (with("title", json!("长".repeat(121))), "invalid_title", "title"),
        (with("html", json!("x".repeat(200 * 1024 + 1))), "content_too_long", "html"),
        (with("audience", json!({})), "empty_audience", "audience"),
        (with("audience", json!({ "department_ids": [987654] })), "unknown_department", "department_ids"),
        (with("audience", json!({ "tag_ids": [987654] })), "unknown_tag", "tag_ids"),
        (with("audience", json!({ "user_ids": [987654] })), "unknown_member", "user_ids"),
        (with("expire_at", json!(now - 1000)), "invalid_expiry", "expire_at"),
        (with("cover_sha", json!("0".repeat(64))), "unknown_upload", "cover_sha"),
    ];
    for (body, code, field) in cases {
        let r = o.admin.post("/api/v1/notices", body);
        assert_eq!(r.status.as_u16(), 422, "{code}: {}", r.body);
        assert_eq!((r.code(), r.body["details"]["field"].as_str()), (code, Some(field)), "{}", r.body);
    }
    let mut late = ok();
    late["publish_at"] = json!(now + 3_600_000);
    late["expire_at"] = json!(now + 1_800_000);
    o.admin.post("/api/v1/notices", late).expect(422, "invalid_expiry");
    let r = o
        .admin
        .post("/api/v1/notices", json!({ "title": "x", "audience": { "user_ids": [o.dev.id] }, "colour": "red" }));
    assert_eq!(r.status.as_u16(), 400, "unknown fields are refused: {}", r.body);
    // Nothing above was stored.
    assert!(o.admin.get("/api/v1/notices/manage").ok()["items"].as_array().unwrap().is_empty());
    // A publication time in the past means now.
    let n = publish(&o.admin, with("publish_at", json!(now - 3_600_000)));
    assert_eq!(n["manage"]["status"], "published");
    assert_eq!(centre(&o.dev.c), ["标题"]);
}

#[test]
fn tags_reach_their_members_and_departments_and_newcomers_get_nothing_old() {
    let o = org();
    let tag = o.admin.post("/api/v1/admin/tags", json!({ "name": "消防员" })).ok()["id"].as_u64().unwrap();
    o.admin
        .patch(&format!("/api/v1/admin/tags/{tag}"), json!({ "member_ids": [o.mk.id], "department_ids": [o.backend] }))
        .ok();
    let n = publish(&o.admin, json!({ "title": "消防演练", "audience": { "tag_ids": [tag] } }));
    assert_eq!(n["manage"]["total"], 2);
    assert_eq!(centre(&o.mk.c), ["消防演练"]);
    assert_eq!(centre(&o.be.c), ["消防演练"]);
    assert!(centre(&o.dev.c).is_empty());
    // Joining 后端组 afterwards does not deliver what was published before.
    let late = person(&o.s, &o.admin, "late1", "新人丁", o.backend);
    assert!(centre(&late.c).is_empty());
    // Disabled members are not addressed.
    o.admin.post(&format!("/api/v1/admin/members/{}/disable", o.be.id), json!({})).ok();
    let n = publish(&o.admin, json!({ "title": "第二次", "audience": { "department_ids": [o.backend] } }));
    assert_eq!(n["manage"]["total"], 1, "only the newcomer: {n}");
    assert_eq!(centre(&late.c), ["第二次"]);
}

#[test]
fn editing_is_for_managers_before_publication() {
    let o = org();
    o.admin.put("/api/v1/admin/notices/publishers", json!({ "user_ids": [o.dev.id, o.be.id] })).ok();
    let mut body = to_users("草稿", &[o.mk.id]);
    body["publish_at"] = json!(o.s.clock.now_ms() + 3_600_000);
    let id = publish(&o.dev.c, body)["id"].as_u64().unwrap();
    // Another publisher cannot see it; the author and the super admin can edit it.
    o.be.c.patch(&format!("/api/v1/notices/{id}"), json!({ "title": "改" })).expect(404, "not_found");
    o.dev.c.patch(&format!("/api/v1/notices/{id}"), json!({ "title": "" })).expect(422, "invalid_title");
    o.admin.patch(&format!("/api/v1/notices/{id}"), json!({ "colour": 1 })).expect(400, "bad_request");
    let edited = o.admin.patch(&format!("/api/v1/notices/{id}"), json!({ "publish_at": null })).ok();
    assert_eq!(edited["manage"]["status"], "published", "clearing the schedule publishes now");
    assert_eq!(edited["publisher_name"], "研发甲", "the author stays the publisher");
    assert_eq!(centre(&o.mk.c), ["草稿"]);
    o.dev.c.patch(&format!("/api/v1/notices/{id}"), json!({ "title": "改" })).expect(409, "already_published");
}
