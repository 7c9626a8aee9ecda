//! Versions, the bin, blob lifetimes, offboarding and backups.

use super::*;

fn version(c: &Client, root: u64, name: &str, bytes: &[u8]) -> Value {
    c.upload(Method::POST, &format!("/api/v1/drive/nodes/{root}/files?on_conflict=version"), name, bytes.to_vec())
        .expect_status(201)
}

#[test]
fn versions_list_download_restore_and_keep_the_last_n() {
    let w = world();
    let a = w.person("ver", "版本");
    let root = my_root(&a.c);
    let id = upload_ok(&a.c, root, "方案.docx", b"one");
    version(&a.c, root, "方案.docx", b"two");
    version(&a.c, root, "方案.docx", b"three");
    let list = a.c.get(&format!("/api/v1/drive/nodes/{id}/versions")).ok();
    let vs: Vec<(u64, bool)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].as_u64().unwrap(), v["current"] == true))
        .collect();
    assert_eq!(vs, vec![(3, true), (2, false), (1, false)]);
    assert_eq!(a.c.get(&format!("/api/v1/drive/nodes/{id}/content?version=1")).bytes, b"one");
    let restored = a.c.post(&format!("/api/v1/drive/nodes/{id}/versions/1/restore"), json!({})).ok();
    assert_eq!((restored["version"].as_u64(), restored["size"].as_u64()), (Some(4), Some(3)));
    assert_eq!(content(&a.c, id).bytes, b"one");
    // Keep only two: older versions release their blobs.
    let mut s = w.admin.get("/api/v1/admin/settings/drive").ok();
    s["versions_kept"] = json!(2);
    w.admin.put("/api/v1/admin/settings/drive", s).ok();
    version(&a.c, root, "方案.docx", b"five");
    let kept = a.c.get(&format!("/api/v1/drive/nodes/{id}/versions")).ok();
    assert_eq!(kept["items"].as_array().unwrap().len(), 2);
    assert_eq!(refs(&w.s, &sha256(b"two")), 0);
    assert_eq!(refs(&w.s, &sha256(b"three")), 0);
    assert_eq!(refs(&w.s, &sha256(b"one")), 1, "version 4 still holds it");
    a.c.get(&format!("/api/v1/drive/nodes/{id}/content?version=2")).expect(404, "not_found");
    // Someone else's file: 404 on every version route.
    let b = w.person("ver2", "旁人");
    b.c.get(&format!("/api/v1/drive/nodes/{id}/versions")).expect(404, "not_found");
    b.c.post(&format!("/api/v1/drive/nodes/{id}/versions/1/restore"), json!({})).expect(404, "not_found");
}

#[test]
fn the_bin_restores_to_the_old_folder_or_the_root_and_purge_frees_blobs() {
    let w = world();
    let a = w.person("bin", "回收");
    let space = my_space(&a.c);
    let (sid, root) = (space["id"].as_u64().unwrap(), space["root_id"].as_u64().unwrap());
    let folder = mkdir(&a.c, root, "文件夹");
    let f = upload_ok(&a.c, folder, "留着.txt", b"keep me");
    let g = upload_ok(&a.c, folder, "删掉.txt", b"purge me");
    a.c.delete(&format!("/api/v1/drive/nodes/{f}")).expect_status(204);
    a.c.get(&format!("/api/v1/drive/nodes/{f}")).expect(404, "not_found");
    let bin = a.c.get(&format!("/api/v1/drive/spaces/{sid}/bin")).ok();
    assert_eq!(bin["items"][0]["node"]["id"], f);
    assert!(bin["items"][0]["purge_at"].as_i64().unwrap() > bin["items"][0]["deleted_at"].as_i64().unwrap());
    // The name is free again while the file is in the bin; restoring then needs "rename".
    upload_ok(&a.c, folder, "留着.txt", b"another");
    a.c.post(&format!("/api/v1/drive/bin/{f}/restore"), json!({})).expect(409, "name_conflict");
    let back = a.c.post(&format!("/api/v1/drive/bin/{f}/restore"), json!({"on_conflict": "rename"})).ok();
    assert_eq!((back["parent_id"].as_u64(), back["name"].as_str()), (Some(folder), Some("留着 (1).txt")));
    // The old folder is gone: restore goes to the root.
    a.c.delete(&format!("/api/v1/drive/nodes/{g}")).expect_status(204);
    a.c.delete(&format!("/api/v1/drive/nodes/{folder}")).expect_status(204);
    a.c.delete(&format!("/api/v1/drive/bin/{folder}")).expect_status(204);
    let back = a.c.post(&format!("/api/v1/drive/bin/{g}/restore"), json!({})).ok();
    assert_eq!(back["parent_id"], root);
    // Blob lifetime: kept while the bin references it, collected after the purge.
    let sha = sha256(b"purge me");
    a.c.delete(&format!("/api/v1/drive/nodes/{g}")).expect_status(204);
    assert_eq!(refs(&w.s, &sha), 1);
    collect_garbage(&w.s);
    assert!(w.s.platform.blobs.exists(&sha), "the bin still references it");
    a.c.delete(&format!("/api/v1/drive/bin/{g}")).expect_status(204);
    assert_eq!(refs(&w.s, &sha), 0);
    collect_garbage(&w.s);
    assert!(!w.s.platform.blobs.exists(&sha), "gone after the purge");
    assert_eq!(my_space(&a.c)["used"], 0, "only the purged/restored-and-purged files left: none live");
    let other = w.person("bin2", "外人");
    other.c.get(&format!("/api/v1/drive/spaces/{sid}/bin")).expect(404, "not_found");
}

#[test]
fn offboarding_hands_the_personal_space_to_the_successor() {
    let w = world();
    let leaver = w.person("leaver", "张三");
    let heir = w.person("heir", "李四");
    let root = my_root(&leaver.c);
    let dir = mkdir(&leaver.c, root, "客户资料");
    upload_ok(&leaver.c, dir, "名单.xlsx", b"customers");
    w.admin.post(&format!("/api/v1/admin/members/{}/offboard", leaver.id), json!({"handover_to": heir.id})).ok();
    let top = children(&heir.c, my_root(&heir.c));
    assert_eq!(names(&top), vec!["张三的文件"]);
    let moved = children(&heir.c, top[0]["id"].as_u64().unwrap());
    assert_eq!(names(&moved), vec!["客户资料"]);
    assert_eq!(my_space(&heir.c)["used"], 9);
}

#[test]
fn backup_and_restore_keep_files_byte_for_byte() {
    let w = world();
    let a = w.person("bak", "备份");
    let root = my_root(&a.c);
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let id = upload_ok(&a.c, root, "大文件.bin", &bytes);
    let zip = w.admin.send(Method::POST, "/api/v1/admin/backup", None);
    assert_eq!(zip.status, 200);
    a.c.delete(&format!("/api/v1/drive/nodes/{id}")).expect_status(204);
    let sid = my_space(&a.c)["id"].as_u64().unwrap();
    a.c.delete(&format!("/api/v1/drive/spaces/{sid}/bin")).expect_status(204);
    let r = w.admin.upload(Method::POST, "/api/v1/admin/restore", "b.zip", zip.bytes.clone());
    assert_eq!(r.status, 202, "{}", r.body);
    let World { s, .. } = w;
    let s = TestServer::start_in(s.stop());
    let c = Client::signed_in(&s.base, "bak", MEMBER_PASSWORD);
    let got = content(&c, id);
    assert_eq!(got.status, 200);
    assert_eq!(sha256(&got.bytes), sha256(&bytes));
}
