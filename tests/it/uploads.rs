//! Resumable uploads (tus 1.0) through the real server, against a test-only purpose registered
//! on the running server: creation, HEAD, PATCH in chunks, completion into the blob store, a cut
//! connection, a restart in the middle, concurrent PATCHes, termination, expiry, and the
//! protocol's refusals (412, 409, 415, 404 for another user's id, 400 for bad metadata).

use crate::common::*;
use base64::Engine;
use officebox::error::{AppError, AppResult};
use officebox::platform::blobs::BlobRef;
use officebox::platform::store::Tx;
use officebox::platform::uploads::{self, Metadata, UploadLimits, UploadPurpose, Uploader, Uploads};
use reqwest::blocking::Client as Http;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn test_max(_: &redb::ReadTransaction) -> AppResult<u64> {
    Ok(1 << 20)
}

/// Checked before any byte: a file name is required; "forbidden" is refused.
fn test_begin(_: &redb::ReadTransaction, _: &Uploader, meta: &Metadata, _: u64) -> AppResult<()> {
    match meta.get("filename") {
        None => Err(AppError::invalid("filename", "name_invalid", "A file name is required")),
        Some("forbidden") => Err(AppError::forbidden("No uploads here")),
        Some(_) => Ok(()),
    }
}

/// Takes a blob reference like a real purpose; "conflict.txt" fails as if the name were taken
/// meanwhile.
fn test_complete(tx: &Tx, who: &Uploader, meta: &Metadata, blob: &BlobRef) -> AppResult<Value> {
    if meta.get("filename") == Some("conflict.txt") {
        return Err(AppError::conflict("name_conflict", "The name was taken meanwhile"));
    }
    officebox::platform::blobs::add_ref(tx, &blob.sha256)?;
    Ok(json!({ "name": meta.get("filename"), "sha256": blob.sha256, "size": blob.size, "user": who.user_id }))
}

const PURPOSE: UploadPurpose =
    UploadPurpose { name: "test", max_size: test_max, begin: test_begin, complete: test_complete };

/// A signed-in user speaking tus with raw headers (cookie and CSRF token set by hand, so the
/// same user works across a restart on another port).
struct Tus {
    http: Http,
    base: String,
    cookie: String,
    csrf: String,
}

impl Tus {
    fn sign_in(s: &TestServer, login: &str, password: &str) -> Tus {
        let c = Client::new(&s.base);
        let r = c.login(login, password);
        let token = set_cookie_value(&r).expect("session cookie");
        let csrf = r.body["csrf_token"].as_str().expect("csrf").to_owned();
        Tus { http: Http::new(), base: s.base.clone(), cookie: format!("ob_session={token}"), csrf }
    }

    fn req(&self, method: Method, path: &str) -> reqwest::blocking::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("Cookie", &self.cookie)
            .header("X-CSRF-Token", &self.csrf)
            .header("Tus-Resumable", "1.0.0")
    }

    fn send(&self, rb: reqwest::blocking::RequestBuilder) -> Resp {
        let res = rb.send().expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().expect("body").to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp { status, body, headers, bytes }
    }

    fn create(&self, length: u64, meta: &[(&str, &str)]) -> Resp {
        self.send(
            self.req(Method::POST, "/api/v1/uploads")
                .header("Upload-Length", length)
                .header("Upload-Metadata", encode(meta)),
        )
    }

    /// Create and return the upload's path (`Location`).
    #[track_caller]
    fn start(&self, length: u64, name: &str) -> String {
        let r = self.create(length, &[("purpose", "test"), ("filename", name)]);
        assert_eq!(r.status.as_u16(), 201, "{}", r.body);
        header(&r, "location")
    }

    fn head(&self, path: &str) -> Resp {
        self.send(self.req(Method::HEAD, path))
    }

    fn patch(&self, path: &str, offset: u64, bytes: &[u8]) -> Resp {
        self.send(
            self.req(Method::PATCH, path)
                .header("Upload-Offset", offset)
                .header("Content-Type", "application/offset+octet-stream")
                .body(bytes.to_vec()),
        )
    }

    fn json(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let rb = self.req(method, path);
        self.send(match body {
            Some(b) => rb.json(&b),
            None => rb,
        })
    }

    fn offset(&self, path: &str) -> u64 {
        let r = self.head(path);
        assert_eq!(r.status.as_u16(), 200, "HEAD {path}");
        header(&r, "upload-offset").parse().expect("offset")
    }
}

fn encode(meta: &[(&str, &str)]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    meta.iter().map(|(k, v)| format!("{k} {}", b64.encode(v))).collect::<Vec<_>>().join(",")
}

#[track_caller]
fn header(r: &Resp, name: &str) -> String {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} in {:?}", r.headers))
        .to_owned()
}

/// `X-Officebox-Result`, decoded.
#[track_caller]
fn result(r: &Resp) -> Value {
    let raw =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header(r, "x-officebox-result")).expect("base64url");
    serde_json::from_slice(&raw).expect("json")
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Bytes that differ per position, so a misplaced chunk changes the hash.
fn content(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

fn service(s: &TestServer) -> Arc<Uploads> {
    uploads::service(&s.platform.store).expect("upload service")
}

struct World {
    s: TestServer,
    a: Tus,
    b: Tus,
    a_id: u64,
}

fn world() -> World {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let a_id = admin.create_member("uploader_a", "上传甲", root, MEMBER_PASSWORD);
    admin.create_member("uploader_b", "上传乙", root, MEMBER_PASSWORD);
    service(&s).register(PURPOSE);
    let a = Tus::sign_in(&s, "uploader_a", MEMBER_PASSWORD);
    let b = Tus::sign_in(&s, "uploader_b", MEMBER_PASSWORD);
    World { s, a, b, a_id }
}

fn part_file(s: &TestServer, path: &str) -> std::path::PathBuf {
    let id = path.rsplit('/').next().expect("id");
    s.dir.path().join("blobs/tmp/uploads").join(format!("{id}.part"))
}

#[test]
fn create_head_patch_in_three_chunks_and_complete() {
    let w = world();
    let data = content(300_000);
    let options = w.a.send(w.a.http.request(Method::OPTIONS, format!("{}/api/v1/uploads", w.a.base)));
    assert_eq!(options.status.as_u16(), 204);
    assert_eq!(header(&options, "tus-version"), "1.0.0");
    assert_eq!(header(&options, "tus-extension"), "creation,termination,expiration");
    // The largest any purpose takes: the drive's default `max_file_size`, 4 GiB.
    assert_eq!(header(&options, "tus-max-size"), (4u64 << 30).to_string());

    let created = w.a.create(
        data.len() as u64,
        &[("purpose", "test"), ("filename", "季度报告.pdf"), ("filetype", "application/pdf")],
    );
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    assert_eq!(header(&created, "tus-resumable"), "1.0.0");
    assert!(header(&created, "upload-expires").ends_with(" GMT"));
    let path = header(&created, "location");
    assert!(path.starts_with("/api/v1/uploads/"), "{path}");

    let head = w.a.head(&path);
    assert_eq!(head.status.as_u16(), 200);
    assert_eq!(header(&head, "upload-offset"), "0");
    assert_eq!(header(&head, "upload-length"), data.len().to_string());
    assert_eq!(header(&head, "cache-control"), "no-store");
    assert_eq!(Metadata::parse(&header(&head, "upload-metadata")).unwrap().get("filename"), Some("季度报告.pdf"));

    let (first, second) = (100_000, 200_000);
    let r = w.a.patch(&path, 0, &data[..first]);
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    assert_eq!(header(&r, "upload-offset"), first.to_string());
    assert!(r.headers.get("x-officebox-result").is_none());
    assert_eq!(w.a.patch(&path, first as u64, &data[first..second]).status.as_u16(), 204);
    assert_eq!(w.a.offset(&path), second as u64);
    let done = w.a.patch(&path, second as u64, &data[second..]);
    assert_eq!(done.status.as_u16(), 204, "{}", done.body);
    assert_eq!(header(&done, "upload-offset"), data.len().to_string());
    let res = result(&done);
    assert_eq!(res, json!({ "name": "季度报告.pdf", "sha256": sha(&data), "size": data.len(), "user": w.a_id }));

    // The file is in the blob store under its hash, the temp file and the upload are gone.
    let stored = std::fs::read(w.s.platform.blobs.path_of(&sha(&data)).unwrap()).unwrap();
    assert_eq!(stored, data);
    assert!(!part_file(&w.s, &path).exists());
    assert_eq!(w.a.head(&path).status.as_u16(), 404);
    assert_eq!(service(&w.s).live_count(), 0);
}

#[test]
fn an_empty_file_completes_at_creation() {
    let w = world();
    let r = w.a.create(0, &[("purpose", "test"), ("filename", "空.txt")]);
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    assert_eq!(result(&r)["sha256"], sha(b""));
    assert_eq!(w.a.head(&header(&r, "location")).status.as_u16(), 404);
}

/// Headers and half the body on a raw socket, then the connection is cut.
fn cut_patch(base: &str, t: &Tus, path: &str, offset: u64, total: usize, sent: &[u8]) {
    let addr = base.trim_start_matches("http://");
    let mut sock = std::net::TcpStream::connect(addr).expect("connect");
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nX-CSRF-Token: {}\r\nTus-Resumable: 1.0.0\r\n\
         Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {total}\r\n\r\n",
        t.cookie, t.csrf
    );
    sock.write_all(head.as_bytes()).expect("head");
    sock.write_all(sent).expect("body");
    sock.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(200));
    drop(sock);
}

/// Wait until HEAD reports `want` (the server notices a cut connection asynchronously).
#[track_caller]
fn wait_offset(t: &Tus, path: &str, want: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = t.offset(path);
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "offset stayed at {got}, wanted {want}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_cut_connection_keeps_what_arrived_and_the_upload_resumes() {
    let w = world();
    let data = content(400_000);
    let path = w.a.start(data.len() as u64, "cut.bin");
    let half = 150_000;
    cut_patch(&w.s.base, &w.a, &path, 0, data.len(), &data[..half]);
    wait_offset(&w.a, &path, half as u64);
    assert_eq!(std::fs::metadata(part_file(&w.s, &path)).unwrap().len(), half as u64);
    // A PATCH from the old offset is refused; from the durable one it completes.
    let stale = w.a.patch(&path, 0, &data);
    assert_eq!(stale.status.as_u16(), 409, "{}", stale.body);
    assert_eq!(stale.code(), "offset_mismatch");
    assert_eq!(stale.body["details"]["offset"], half);
    let done = w.a.patch(&path, half as u64, &data[half..]);
    assert_eq!(done.status.as_u16(), 204, "{}", done.body);
    assert_eq!(result(&done)["sha256"], sha(&data));
}

#[test]
fn a_restart_in_the_middle_rehashes_the_prefix_and_drops_unacknowledged_bytes() {
    let w = world();
    let data = content(250_000);
    let path = w.a.start(data.len() as u64, "restart.bin");
    assert_eq!(w.a.patch(&path, 0, &data[..100_000]).status.as_u16(), 204);
    let World { s, mut a, .. } = w;
    let part = part_file(&s, &path);
    let dir = s.stop();
    // Bytes written but never acknowledged (a crash between the write and the commit).
    std::fs::OpenOptions::new().append(true).open(&part).unwrap().write_all(b"garbage after a crash").unwrap();
    let s = TestServer::start_in(dir);
    service(&s).register(PURPOSE);
    a.base = s.base.clone();
    assert_eq!(a.offset(&path), 100_000);
    let done = a.patch(&path, 100_000, &data[100_000..]);
    assert_eq!(done.status.as_u16(), 204, "{}", done.body);
    assert_eq!(result(&done)["sha256"], sha(&data));
    assert!(s.platform.blobs.verify(&sha(&data)));
}

#[test]
fn concurrent_patches_on_one_upload_are_refused_with_423() {
    let w = world();
    service(&w.s).set_limits(UploadLimits { idle_timeout: Duration::from_secs(30), ..UploadLimits::default() });
    let data = content(10_000);
    let path = w.a.start(data.len() as u64, "busy.bin");
    // A PATCH that has sent its headers and part of its body, and is still open.
    let addr = w.s.base.trim_start_matches("http://").to_owned();
    let mut sock = std::net::TcpStream::connect(&addr).unwrap();
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nX-CSRF-Token: {}\r\nTus-Resumable: 1.0.0\r\n\
         Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
        w.a.cookie,
        w.a.csrf,
        data.len()
    );
    sock.write_all(head.as_bytes()).unwrap();
    sock.write_all(&data[..1000]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let second = w.a.patch(&path, 0, &data);
    assert_eq!((second.status.as_u16(), second.code()), (423, "upload_busy"), "{}", second.body);
    let delete = w.a.send(w.a.req(Method::DELETE, &path));
    assert_eq!(delete.status.as_u16(), 423);
    // The first one finishes its body normally.
    sock.write_all(&data[1000..]).unwrap();
    let mut reply = [0u8; 12];
    std::io::Read::read_exact(&mut sock, &mut reply).unwrap();
    assert_eq!(&reply, b"HTTP/1.1 204");
    assert_eq!(w.a.head(&path).status.as_u16(), 404, "completed");
}

#[test]
fn protocol_refusals() {
    let w = world();
    let a = &w.a;
    let path = a.start(1000, "rules.bin");

    // No or another Tus-Resumable: 412 with Tus-Version.
    let no_version = a.send(a.http.head(format!("{}{path}", a.base)).header("Cookie", &a.cookie));
    assert_eq!(no_version.status.as_u16(), 412);
    assert_eq!(header(&no_version, "tus-version"), "1.0.0");
    let old = a.send(
        a.http
            .post(format!("{}/api/v1/uploads", a.base))
            .header("Cookie", &a.cookie)
            .header("X-CSRF-Token", &a.csrf)
            .header("Tus-Resumable", "0.2.2")
            .header("Upload-Length", 5),
    );
    assert_eq!(old.status.as_u16(), 412, "{}", old.body);

    // Wrong content type: 415; wrong offset: 409; missing offset: 400.
    let wrong_type = a.send(
        a.req(Method::PATCH, &path).header("Upload-Offset", 0).header("Content-Type", "application/json").body("{}"),
    );
    assert_eq!((wrong_type.status.as_u16(), wrong_type.code()), (415, "content_type_unsupported"));
    assert_eq!(a.patch(&path, 10, b"abc").expect(409, "offset_mismatch")["details"]["offset"], 0);
    let no_offset =
        a.send(a.req(Method::PATCH, &path).header("Content-Type", "application/offset+octet-stream").body("abc"));
    no_offset.expect(400, "upload_offset_invalid");
    // More than Upload-Length: refused, nothing kept.
    a.patch(&path, 0, &content(1001)).expect(400, "upload_overflow");
    assert_eq!(a.offset(&path), 0);

    // Creation: metadata garbage, purposes, lengths, the purpose's own checks.
    let create = |length: &str, meta: &str| {
        a.send(a.req(Method::POST, "/api/v1/uploads").header("Upload-Length", length).header("Upload-Metadata", meta))
    };
    create("10", "filename !!!,purpose dGVzdA==").expect(400, "metadata_invalid");
    create("10", "filename YQ==,filename YQ==").expect(400, "metadata_invalid");
    create("10", &"k YQ==,".repeat(1000)).expect(400, "metadata_too_large");
    create("10", &encode(&[("filename", "a.txt")])).expect(400, "purpose_required");
    create("10", &encode(&[("purpose", "chat"), ("filename", "a.txt")])).expect(400, "purpose_unknown");
    create("-1", &encode(&[("purpose", "test"), ("filename", "a.txt")])).expect(400, "upload_length_invalid");
    create("2000000", &encode(&[("purpose", "test"), ("filename", "a.txt")])).expect(413, "file_too_large");
    create("10", &encode(&[("purpose", "test")])).expect(422, "name_invalid");
    create("10", &encode(&[("purpose", "test"), ("filename", "forbidden")])).expect(403, "forbidden");
    let deferred = a.send(
        a.req(Method::POST, "/api/v1/uploads")
            .header("Upload-Defer-Length", "1")
            .header("Upload-Metadata", encode(&[("purpose", "test"), ("filename", "a.txt")])),
    );
    deferred.expect(400, "defer_length_unsupported");
    a.send(a.req(Method::POST, "/api/v1/uploads").header("Upload-Metadata", encode(&[("purpose", "test")])))
        .expect(400, "upload_length_required");

    // CSRF and the session still apply.
    let no_csrf = a.send(
        a.http
            .patch(format!("{}{path}", a.base))
            .header("Cookie", &a.cookie)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Offset", 0)
            .header("Content-Type", "application/offset+octet-stream")
            .body("abc"),
    );
    no_csrf.expect(403, "csrf_failed");
    let anonymous = a.send(a.http.head(format!("{}{path}", a.base)).header("Tus-Resumable", "1.0.0"));
    assert_eq!(anonymous.status.as_u16(), 401);
    assert_eq!(header(&anonymous, "tus-resumable"), "1.0.0");
    assert_eq!(a.send(a.req(Method::HEAD, "/api/v1/uploads/not-a-number")).status.as_u16(), 404);
}

#[test]
fn another_users_upload_is_not_found() {
    let w = world();
    let path = w.a.start(10, "mine.txt");
    assert_eq!(w.a.patch(&path, 0, b"12345").status.as_u16(), 204);
    assert_eq!(w.b.head(&path).status.as_u16(), 404);
    w.b.patch(&path, 5, b"67890").expect(404, "not_found");
    w.b.send(w.b.req(Method::DELETE, &path)).expect(404, "not_found");
    // Untouched for its owner.
    assert_eq!(w.a.offset(&path), 5);
    let done = w.a.patch(&path, 5, b"67890");
    assert_eq!(result(&done)["sha256"], sha(b"1234567890"));
}

#[test]
fn termination_removes_the_upload_and_its_file() {
    let w = world();
    let path = w.a.start(100, "cancel.txt");
    assert_eq!(w.a.patch(&path, 0, b"some bytes").status.as_u16(), 204);
    assert!(part_file(&w.s, &path).exists());
    let r = w.a.send(w.a.req(Method::DELETE, &path));
    assert_eq!(r.status.as_u16(), 204, "{}", r.body);
    assert_eq!(header(&r, "tus-resumable"), "1.0.0");
    assert!(!part_file(&w.s, &path).exists());
    assert_eq!(w.a.head(&path).status.as_u16(), 404);
    w.a.patch(&path, 10, b"more").expect(404, "not_found");
    w.a.send(w.a.req(Method::DELETE, &path)).expect(404, "not_found");
    assert_eq!(service(&w.s).live_count(), 0);
}

#[test]
fn a_failed_completion_answers_the_purposes_error_and_removes_the_upload() {
    let w = world();
    let path = w.a.start(5, "conflict.txt");
    w.a.patch(&path, 0, b"hello").expect(409, "name_conflict");
    assert_eq!(w.a.head(&path).status.as_u16(), 404);
    assert!(!part_file(&w.s, &path).exists());
    assert_eq!(service(&w.s).live_count(), 0);
}

#[test]
fn expired_uploads_answer_410_and_the_job_removes_them() {
    let w = world();
    let svc = service(&w.s);
    svc.set_limits(UploadLimits { ttl_ms: 60_000, ..UploadLimits::default() });
    let path = w.a.start(100, "old.txt");
    let r = w.a.patch(&path, 0, b"partial");
    assert_eq!(r.status.as_u16(), 204);
    let kept = w.a.start(100, "recent.txt");
    w.s.clock.advance_ms(30_000);
    // Progress renews the expiry.
    assert_eq!(w.a.patch(&kept, 0, b"x").status.as_u16(), 204);
    w.s.clock.advance_ms(31_000);
    assert_eq!(w.a.head(&path).status.as_u16(), 410);
    w.a.patch(&path, 7, b"more").expect(410, "upload_expired");
    assert_eq!(w.a.offset(&kept), 1);
    assert_eq!(uploads::expiry::remove_expired(&w.s.platform).unwrap(), 1);
    assert_eq!(w.a.head(&path).status.as_u16(), 404);
    assert!(!part_file(&w.s, &path).exists());
    assert!(part_file(&w.s, &kept).exists());
}

#[test]
fn unfinished_uploads_per_user_are_capped() {
    let w = world();
    service(&w.s).set_limits(UploadLimits { max_pending: 2, ..UploadLimits::default() });
    w.a.start(10, "1.txt");
    let second = w.a.start(10, "2.txt");
    w.a.create(10, &[("purpose", "test"), ("filename", "3.txt")]).expect(429, "too_many_uploads");
    // Another user has their own allowance; finishing one frees a slot.
    w.b.start(10, "b.txt");
    assert_eq!(w.a.send(w.a.req(Method::DELETE, &second)).status.as_u16(), 204);
    w.a.start(10, "3.txt");
}

// ---- the drive's purpose ----

/// The admin's personal space (created on first listing): `(space id, root folder id)`.
fn my_space(t: &Tus) -> (u64, u64) {
    let spaces = t.json(Method::GET, "/api/v1/drive/spaces", None).ok();
    let mine = &spaces["items"][0];
    (mine["id"].as_u64().expect("space id"), mine["root_id"].as_u64().expect("root id"))
}

fn drive_meta(parent: u64, name: &str, on_conflict: &str) -> String {
    encode(&[
        ("purpose", "drive"),
        ("filename", name),
        ("parent_id", &parent.to_string()),
        ("on_conflict", on_conflict),
    ])
}

fn drive_create(t: &Tus, length: u64, meta: &str) -> Resp {
    t.send(t.req(Method::POST, "/api/v1/uploads").header("Upload-Length", length).header("Upload-Metadata", meta))
}

#[test]
fn a_drive_upload_becomes_a_file_in_the_folder() {
    let w = world();
    let admin = Tus::sign_in(&w.s, "admin", ADMIN_PASSWORD);
    let (_, root) = my_space(&admin);
    let data = content(200_000);
    let created = drive_create(&admin, data.len() as u64, &drive_meta(root, "季度报告.pdf", "error"));
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    let path = header(&created, "location");
    assert_eq!(admin.patch(&path, 0, &data[..120_000]).status.as_u16(), 204);
    let done = admin.patch(&path, 120_000, &data[120_000..]);
    assert_eq!(done.status.as_u16(), 204, "{}", done.body);
    let node = result(&done);
    assert_eq!((node["kind"].as_str(), node["name"].as_str()), (Some("file"), Some("季度报告.pdf")));
    assert_eq!(node["size"], data.len());
    assert_eq!(node["mime"], "application/pdf");
    assert_eq!(node["path"][0]["id"], root);
    let id = node["id"].as_u64().expect("node id");
    let bytes = admin.json(Method::GET, &format!("/api/v1/drive/nodes/{id}/content"), None).bytes;
    assert_eq!(bytes, data);
    let children = admin.json(Method::GET, &format!("/api/v1/drive/nodes/{root}/children"), None).ok();
    assert!(children["items"].as_array().expect("items").iter().any(|n| n["id"] == id), "{children}");

    // The same name again: refused at creation, before any byte; `rename` takes the suggestion.
    let clash = drive_create(&admin, 10, &drive_meta(root, "季度报告.pdf", "error"));
    assert_eq!((clash.status.as_u16(), clash.code()), (409, "name_conflict"), "{}", clash.body);
    assert!(clash.headers.get("location").is_none());
    let renamed = drive_create(&admin, 3, &drive_meta(root, "季度报告.pdf", "rename"));
    let done = admin.patch(&header(&renamed, "location"), 0, b"abc");
    assert_eq!(result(&done)["name"], "季度报告 (1).pdf");
}

#[test]
fn the_drive_checks_permission_quota_and_size_before_any_byte() {
    let w = world();
    let admin = Tus::sign_in(&w.s, "admin", ADMIN_PASSWORD);
    let (space, root) = my_space(&admin);
    // Someone without a role on the folder: 404, as for a missing folder.
    drive_create(&w.b, 10, &drive_meta(root, "a.txt", "error")).expect(404, "not_found");
    drive_create(&admin, 10, &drive_meta(root, "a/b.txt", "error")).expect(422, "name_invalid");
    drive_create(&admin, 10, &encode(&[("purpose", "drive"), ("filename", "a.txt")])).expect(422, "parent_invalid");
    // Quota from Upload-Length.
    admin.json(Method::PATCH, &format!("/api/v1/drive/spaces/{space}"), Some(json!({ "quota": 1000 }))).ok();
    let over = drive_create(&admin, 1001, &drive_meta(root, "big.bin", "error"));
    assert_eq!((over.status.as_u16(), over.code()), (413, "quota_exceeded"), "{}", over.body);
    // The drive's max_file_size lowers the limit.
    let settings = admin.json(Method::GET, "/api/v1/admin/settings/drive", None).ok();
    let mut lowered = settings.clone();
    lowered["max_file_size"] = json!(500);
    admin.json(Method::PUT, "/api/v1/admin/settings/drive", Some(lowered)).ok();
    drive_create(&admin, 501, &drive_meta(root, "big.bin", "error")).expect(413, "file_too_large");
    assert_eq!(drive_create(&admin, 500, &drive_meta(root, "ok.bin", "error")).status.as_u16(), 201);
}

#[test]
fn a_name_taken_during_the_upload_fails_the_completion() {
    let w = world();
    let admin = Tus::sign_in(&w.s, "admin", ADMIN_PASSWORD);
    let (_, root) = my_space(&admin);
    let created = drive_create(&admin, 5, &drive_meta(root, "会议纪要.txt", "error"));
    let path = header(&created, "location");
    // Meanwhile the same name arrives through another upload.
    let other = drive_create(&admin, 3, &drive_meta(root, "会议纪要.txt", "error"));
    assert_eq!(admin.patch(&header(&other, "location"), 0, b"abc").status.as_u16(), 204);
    let r = admin.patch(&path, 0, b"hello");
    assert_eq!((r.status.as_u16(), r.code()), (409, "name_conflict"), "{}", r.body);
    assert_eq!(admin.head(&path).status.as_u16(), 404);
}

#[test]
fn tus_max_size_follows_the_drive_setting() {
    let s = TestServer::start();
    s.setup();
    let admin = Tus::sign_in(&s, "admin", ADMIN_PASSWORD);
    let max = |t: &Tus| {
        header(&t.send(t.http.request(Method::OPTIONS, format!("{}/api/v1/uploads", t.base))), "tus-max-size")
    };
    assert_eq!(max(&admin), (4u64 << 30).to_string());
    let mut settings = admin.json(Method::GET, "/api/v1/admin/settings/drive", None).ok();
    settings["max_file_size"] = json!(1_000_000);
    admin.json(Method::PUT, "/api/v1/admin/settings/drive", Some(settings)).ok();
    assert_eq!(max(&admin), "1000000");
}
