//! Names, conflicts, quotas, downloads (Range, Chinese names, active types), move, copy, zip,
//! thumbnails.

use super::*;

#[test]
fn names_are_refused_not_cleaned_and_chinese_names_work() {
    let w = world();
    let a = w.person("zhang", "张三");
    let root = my_root(&a.c);
    let long = "a".repeat(256);
    for bad in [
        "../",
        "a/b",
        "a\r\nb",
        "tab\there",
        "bell\u{7}",
        "..",
        ".",
        "结尾.",
        " lead",
        "trail ",
        long.as_str(),
        "a:b",
        "what?",
    ] {
        let r = a.c.post(&format!("/api/v1/drive/nodes/{root}/folders"), json!({"name": bad}));
        let body = r.expect(422, "name_invalid");
        assert_eq!(body["details"]["field"], "name", "{bad:?}");
        // Control characters cannot even travel in a multipart header: refused as malformed.
        let r = put_file(&a.c, root, bad, b"x");
        if bad.chars().any(char::is_control) {
            assert!(matches!(r.status.as_u16(), 400 | 422), "{bad:?}: {}", r.body);
        } else {
            r.expect(422, "name_invalid");
        }
    }
    assert!(children(&a.c, root).is_empty(), "nothing was stored");
    assert!(
        a.c.post(&format!("/api/v1/drive/nodes/{root}/folders"), json!({"name": "报".repeat(85)})).status.is_success(),
        "255 bytes of Chinese is fine"
    );
    let id = upload_ok(&a.c, root, "第一季度 报价单（终版）.xlsx", b"xlsx");
    let n = a.c.get(&format!("/api/v1/drive/nodes/{id}")).ok();
    assert_eq!(n["name"], "第一季度 报价单（终版）.xlsx");
    assert_eq!(n["path"][0]["id"], root);
    assert_eq!(n["created_by"]["name"], "张三");
}

#[test]
fn name_conflicts_error_rename_or_version() {
    let w = world();
    let a = w.person("li", "李四");
    let root = my_root(&a.c);
    let first = upload_ok(&a.c, root, "报价.xlsx", b"v1");
    let clash = put_file(&a.c, root, "报价.XLSX", b"v2").expect(409, "name_conflict");
    assert_eq!(clash["details"]["existing_id"], first);
    assert_eq!(clash["details"]["suggested"], "报价 (1).XLSX");
    let renamed =
        a.c.upload(
            Method::POST,
            &format!("/api/v1/drive/nodes/{root}/files?on_conflict=rename"),
            "报价.xlsx",
            b"v2".to_vec(),
        )
        .expect_status(201);
    assert_eq!(renamed["name"], "报价 (1).xlsx");
    let versioned =
        a.c.upload(
            Method::POST,
            &format!("/api/v1/drive/nodes/{root}/files?on_conflict=version"),
            "报价.xlsx",
            b"v3!".to_vec(),
        )
        .expect_status(201);
    assert_eq!(
        (versioned["id"].as_u64(), versioned["version"].as_u64(), versioned["size"].as_u64()),
        (Some(first), Some(2), Some(3))
    );
    // Folders: the same rules, case-insensitively.
    mkdir(&a.c, root, "资料");
    a.c.post(&format!("/api/v1/drive/nodes/{root}/folders"), json!({"name": "资料"})).expect(409, "name_conflict");
    let r = a.c.post(&format!("/api/v1/drive/nodes/{root}/folders"), json!({"name": "资料", "on_conflict": "rename"}));
    assert_eq!(r.expect_status(201)["name"], "资料 (1)");
    // Renaming onto a taken name conflicts; changing only the case does not.
    a.c.patch(&format!("/api/v1/drive/nodes/{first}"), json!({"name": "资料"})).expect(409, "name_conflict");
    assert_eq!(
        a.c.patch(&format!("/api/v1/drive/nodes/{first}"), json!({"name": "报价.XLSX"})).ok()["name"],
        "报价.XLSX"
    );
}

fn set_quota(admin: &Client, space: u64, quota: u64) {
    admin.patch(&format!("/api/v1/drive/spaces/{space}"), json!({"quota": quota})).ok();
}

#[test]
fn quotas_accept_exactly_the_limit_and_refuse_one_byte_more_before_storing() {
    let w = world();
    let space = team_space(&w.admin, "配额测试");
    let (id, root) = (space["id"].as_u64().unwrap(), space["root_id"].as_u64().unwrap());
    set_quota(&w.admin, id, 100);
    let blobs_before = w.s.platform.blobs.list().unwrap().len();
    let over = vec![7u8; 101];
    let r =
        w.admin.upload(Method::POST, &format!("/api/v1/drive/nodes/{root}/files?size=101"), "big.bin", over.clone());
    let body = r.expect(413, "quota_exceeded");
    assert_eq!(body["details"], json!({"scope": "space", "limit": 100, "used": 0}));
    // Without ?size= the request's Content-Length bounds the file (a little more than 101).
    put_file(&w.admin, root, "big.bin", &over).expect(413, "quota_exceeded");
    assert_eq!(w.s.platform.blobs.list().unwrap().len(), blobs_before, "no byte stored");
    let exact = vec![1u8; 100];
    let r = w.admin.upload(Method::POST, &format!("/api/v1/drive/nodes/{root}/files?size=100"), "exact.bin", exact);
    assert_eq!(r.expect_status(201)["size"], 100);
    let r = w.admin.upload(Method::POST, &format!("/api/v1/drive/nodes/{root}/files?size=1"), "one.bin", b"1".to_vec());
    assert_eq!(r.expect(413, "quota_exceeded")["details"]["used"], 100);
    assert_eq!(w.admin.get(&format!("/api/v1/drive/spaces/{id}")).ok()["used"], 100);
    // A lying ?size= cannot store more than it declared.
    set_quota(&w.admin, id, 1000);
    let r =
        w.admin.upload(Method::POST, &format!("/api/v1/drive/nodes/{root}/files?size=5"), "liar.bin", vec![0u8; 50]);
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(w.admin.get(&format!("/api/v1/drive/spaces/{id}")).ok()["used"], 100);
    // Members cannot set quotas; the enterprise quota applies to every space.
    let m = w.person("wang", "王五");
    let mine = my_space(&m.c)["id"].as_u64().unwrap();
    m.c.patch(&format!("/api/v1/drive/spaces/{mine}"), json!({"quota": 1})).expect(403, "forbidden");
    let mut settings = w.admin.get("/api/v1/admin/settings/drive").ok();
    assert_eq!(settings["versions_kept"], 20);
    settings["enterprise_quota"] = json!(150);
    w.admin.put("/api/v1/admin/settings/drive", settings).ok();
    let r = put_file(&m.c, my_root(&m.c), "大文件.bin", &[0u8; 60]);
    assert_eq!(r.expect(413, "quota_exceeded")["details"]["scope"], "enterprise");
    m.c.put("/api/v1/admin/settings/drive", json!({})).expect(403, "forbidden");
}

#[test]
fn downloads_support_ranges_chinese_names_and_sandbox_active_types() {
    let w = world();
    let a = w.person("zhao", "赵六");
    let root = my_root(&a.c);
    let id = upload_ok(&a.c, root, "会议纪要.txt", b"0123456789");
    let r =
        a.c.send_built(a.c.raw(Method::GET, &format!("/api/v1/drive/nodes/{id}/content")).header("Range", "bytes=2-5"));
    assert_eq!(r.status, 206);
    assert_eq!(r.bytes, b"2345");
    let full = content(&a.c, id);
    let cd = full.headers["content-disposition"].to_str().unwrap().to_owned();
    assert!(cd.starts_with("attachment") && cd.contains("filename*=UTF-8''%E4%BC%9A%E8%AE%AE"), "{cd}");
    assert_eq!(full.headers["x-content-type-options"], "nosniff");
    let html = upload_ok(&a.c, root, "页面.html", b"<script>alert(1)</script>");
    let r = a.c.get(&format!("/api/v1/drive/nodes/{html}/content?disposition=inline"));
    assert!(r.headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(r.headers["content-security-policy"], "sandbox");
    // A PDF shown inline may be framed by our own preview modal, and only by it; downloads keep
    // the app-wide refusal to be framed.
    let pdf = upload_ok(&a.c, root, "合同.pdf", b"%PDF-1.4\n%%EOF\n");
    let inline = a.c.get(&format!("/api/v1/drive/nodes/{pdf}/content?disposition=inline"));
    assert_eq!(inline.headers["content-security-policy"], "frame-ancestors 'self'");
    assert_eq!(inline.headers["x-frame-options"], "SAMEORIGIN");
    assert!(inline.headers["content-disposition"].to_str().unwrap().starts_with("inline"));
    let attached = content(&a.c, pdf);
    assert_eq!(attached.headers["x-frame-options"], "DENY");
    assert!(attached.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
}

#[test]
fn moves_change_one_row_and_refuse_a_folder_into_its_own_subtree() {
    let w = world();
    let a = w.person("qian", "钱七");
    let root = my_root(&a.c);
    let outer = mkdir(&a.c, root, "项目");
    let inner = mkdir(&a.c, outer, "子项目");
    let deep = mkdir(&a.c, inner, "更深");
    upload_ok(&a.c, deep, "a.txt", b"a");
    let mv = |id: u64, to: u64| a.c.post(&format!("/api/v1/drive/nodes/{id}/move"), json!({"parent_id": to}));
    mv(outer, deep).expect(409, "move_into_self");
    mv(outer, outer).expect(409, "move_into_self");
    let moved = mv(inner, root).ok();
    assert_eq!(moved["parent_id"], root);
    assert_eq!(moved["path"].as_array().unwrap().len(), 2);
    assert_eq!(names(&children(&a.c, deep)), vec!["a.txt"], "the subtree came along");
    assert!(children(&a.c, outer).is_empty());
    // Into another person's space: 404 (no role there).
    let b = w.person("sun", "孙八");
    mv(inner, my_root(&b.c)).expect(404, "not_found");
}

#[test]
fn copies_share_blobs_and_count_toward_quota() {
    let w = world();
    let a = w.person("zhou", "周九");
    let root = my_root(&a.c);
    let src = mkdir(&a.c, root, "原件");
    let f = upload_ok(&a.c, src, "合同.pdf", b"%PDF contract");
    let sha = sha256(b"%PDF contract");
    assert_eq!(refs(&w.s, &sha), 1);
    let copy =
        a.c.post(&format!("/api/v1/drive/nodes/{src}/copy"), json!({"parent_id": root, "on_conflict": "rename"}));
    let copy = copy.expect_status(201);
    assert_eq!(copy["name"], "原件 (1)");
    let inside = children(&a.c, copy["id"].as_u64().unwrap());
    assert_eq!(names(&inside), vec!["合同.pdf"]);
    assert_ne!(inside[0]["id"], f);
    assert_eq!(refs(&w.s, &sha), 2, "one more reference, no byte copied");
    assert_eq!(my_space(&a.c)["used"], 2 * 13);
    assert_eq!(content(&a.c, inside[0]["id"].as_u64().unwrap()).bytes, b"%PDF contract");
}

#[test]
fn zip_streams_folders_with_chinese_names_and_thumbnails_are_cached() {
    let w = world();
    let a = w.person("wu", "吴十");
    let root = my_root(&a.c);
    let dir = mkdir(&a.c, root, "资料");
    upload_ok(&a.c, dir, "说明.txt", b"hello");
    let img = upload_ok(&a.c, root, "图.png", &png());
    let r = a.c.get(&format!("/api/v1/drive/zip?ids={dir},{img}&name=资料"));
    assert_eq!(r.status, 200, "{}", r.body);
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(r.bytes.clone())).expect("a zip");
    let mut got: Vec<String> = (0..z.len()).map(|i| z.by_index(i).unwrap().name().to_owned()).collect();
    got.sort();
    assert_eq!(got, vec!["图.png", "资料/", "资料/说明.txt"]);
    let mut text = String::new();
    std::io::Read::read_to_string(&mut z.by_name("资料/说明.txt").unwrap(), &mut text).unwrap();
    assert_eq!(text, "hello");
    let other = w.person("zheng", "郑");
    other.c.get(&format!("/api/v1/drive/zip?ids={dir}")).expect(404, "not_found");
    let t1 = a.c.get(&format!("/api/v1/drive/nodes/{img}/thumbnail"));
    assert_eq!(t1.status, 200);
    assert_eq!(t1.headers["content-type"], "image/jpeg");
    let t2 = a.c.get(&format!("/api/v1/drive/nodes/{img}/thumbnail"));
    assert_eq!(t1.bytes, t2.bytes, "generated once");
}
