//! Covers, attachments and inline images: uploads belong to their uploader, downloads go to
//! recipients and managers only, with safe headers.

use super::*;
use reqwest::Method;

fn upload(c: &Client, name: &str, bytes: Vec<u8>) -> Value {
    let r = c.upload(Method::POST, "/api/v1/notices/uploads", name, bytes);
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    r.body
}

#[test]
fn covers_attachments_and_images_are_served_to_recipients_only() {
    let o = org();
    let cover = upload(&o.admin, "封面.png", png());
    assert_eq!((cover["mime"].clone(), cover["size"].clone()), (json!("image/png"), json!(png().len())));
    let doc = upload(&o.admin, "../季度报告 \"终版\".html", b"<script>alert(1)</script>".to_vec());
    assert_eq!(doc["name"], "季度报告 \"终版\".html");
    let sha = |v: &Value| v["sha"].as_str().unwrap().to_owned();
    // The editor previews its own upload; nobody else can fetch it.
    assert_eq!(o.admin.get(&format!("/api/v1/notices/uploads/{}", sha(&cover))).bytes, png());
    o.dev.c.get(&format!("/api/v1/notices/uploads/{}", sha(&cover))).expect(404, "not_found");
    let html = format!(r#"<p>见图<img src="/api/v1/notices/uploads/{}" alt="图"></p>"#, sha(&cover));
    let n = publish(
        &o.admin,
        json!({
            "title": "带附件", "html": html, "cover_sha": sha(&cover),
            "attachments": [sha(&doc), { "sha": sha(&doc), "name": "重复.txt" }],
            "audience": { "user_ids": [o.dev.id] }
        }),
    );
    let id = n["id"].as_u64().unwrap();
    let cover_url = format!("/api/v1/notices/{id}/files/{}", sha(&cover));
    assert_eq!(n["cover"], cover_url);
    assert_eq!(n["attachments"].as_array().unwrap().len(), 1, "the same file once: {n}");
    assert!(n["html"].as_str().unwrap().contains(&format!(r#"src="{cover_url}""#)), "{}", n["html"]);
    // The uploads were used up: the pending preview is gone.
    o.admin.get(&format!("/api/v1/notices/uploads/{}", sha(&cover))).expect(404, "not_found");

    let file = o.dev.c.get(n["attachments"][0]["url"].as_str().unwrap());
    assert_eq!(file.status.as_u16(), 200);
    assert_eq!(file.bytes, b"<script>alert(1)</script>");
    assert_eq!(file.headers["content-type"], "application/octet-stream", "never rendered as HTML");
    assert_eq!(file.headers["x-content-type-options"], "nosniff");
    let cd = file.headers["content-disposition"].to_str().unwrap();
    assert!(cd.starts_with("attachment") && cd.contains("filename*=UTF-8''%E5%AD%A3"), "{cd}");
    let img = o.dev.c.get(&cover_url);
    assert_eq!((img.headers["content-type"].to_str().unwrap(), img.bytes.clone()), ("image/png", png()));
    assert!(img.headers["content-disposition"].to_str().unwrap().starts_with("inline"));
    // Outsiders, unknown files of a visible notice, unsigned visitors: 404 / 401.
    o.mk.c.get(&cover_url).expect(404, "not_found");
    o.dev.c.get(&format!("/api/v1/notices/{id}/files/{}", "0".repeat(64))).expect(404, "not_found");
    o.s.client().get(&cover_url).expect(401, "unauthorized");
    // Withdrawal releases the files.
    o.admin.delete(&format!("/api/v1/notices/{id}")).ok();
    let refs = o.s.platform.store.read(|txn| officebox::platform::blobs::BLOB_REFS.get_in(txn, &sha(&cover))).unwrap();
    assert_eq!(refs, None);
}

#[test]
fn only_your_own_fresh_uploads_can_be_used() {
    let o = org();
    o.admin.put("/api/v1/admin/notices/publishers", json!({ "user_ids": [o.dev.id] })).ok();
    let theirs = upload(&o.admin, "a.png", png());
    let body =
        |cover: &Value| json!({ "title": "t", "cover_sha": cover["sha"], "audience": { "user_ids": [o.mk.id] } });
    o.dev.c.post("/api/v1/notices", body(&theirs)).expect(422, "unknown_upload");
    let text = upload(&o.dev.c, "readme.txt", b"plain".to_vec());
    assert_eq!(text["mime"], "text/plain");
    let r = o.dev.c.post("/api/v1/notices", body(&text));
    assert_eq!(r.expect(422, "invalid_image")["details"]["field"], "cover_sha");
    // Nothing was used by the failed attempts: the upload is still there.
    publish(&o.dev.c, json!({ "title": "t", "attachments": [text["sha"]], "audience": { "user_ids": [o.mk.id] } }));
    // A day later unused uploads (this one and the admin's) are dropped.
    let stale = upload(&o.dev.c, "b.png", png());
    o.s.clock.advance_ms(25 * 3_600_000);
    let p = o.s.platform.clone();
    // (The server's hourly job may have dropped them first.)
    assert!(block_on(async move { officebox::notice::publish::purge_uploads(&p).await }).unwrap() <= 2);
    o.dev.c.post("/api/v1/notices", body(&stale)).expect(422, "unknown_upload");
}

#[test]
fn uploads_are_limited_to_twenty_megabytes() {
    let o = org();
    let mut big = png();
    big.resize(20 * 1024 * 1024 + 1, 0);
    let r = o.admin.upload(Method::POST, "/api/v1/notices/uploads", "big.png", big);
    assert_eq!(r.status.as_u16(), 413, "{}", r.body);
    assert_eq!(r.code(), "payload_too_large");
}

#[test]
fn twenty_attachments_at_most_and_edits_swap_files() {
    let o = org();
    let files: Vec<String> = (0..21)
        .map(|i| {
            upload(&o.admin, &format!("{i}.txt"), format!("file {i}").into_bytes())["sha"].as_str().unwrap().to_owned()
        })
        .collect();
    let mut body = to_users("附件太多", &[o.dev.id]);
    body["attachments"] = json!(files);
    o.admin.post("/api/v1/notices", body.clone()).expect(422, "too_many_attachments");
    body["attachments"] = json!(files[..2]);
    body["publish_at"] = json!(o.s.clock.now_ms() + 60_000);
    let n = publish(&o.admin, body);
    let id = n["id"].as_u64().unwrap();
    // Replace the second attachment by the third: the second's reference is released.
    let edited = o.admin.patch(&format!("/api/v1/notices/{id}"), json!({ "attachments": [files[0], files[2]] })).ok();
    let shas: Vec<&str> =
        edited["attachments"].as_array().unwrap().iter().map(|a| a["sha"].as_str().unwrap()).collect();
    assert_eq!(shas, [files[0].as_str(), files[2].as_str()]);
    let refs = |sha: &str| {
        o.s.platform.store.read(|txn| officebox::platform::blobs::BLOB_REFS.get_in(txn, &sha.to_owned())).unwrap()
    };
    assert_eq!((refs(&files[0]), refs(&files[1]), refs(&files[2])), (Some(1), None, Some(1)));
}
