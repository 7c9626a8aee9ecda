//! Roles on a team space, node-level grants, departments and foreign ids.

use super::*;

#[test]
fn the_permission_matrix_per_role() {
    let t = team();
    let w = &t.w;
    let file = upload_ok(&t.boss.c, t.root, "报价.txt", b"price list");
    let people: Vec<(&str, Person)> =
        ["editor", "uploader", "viewer", "preview"].into_iter().map(|r| (r, w.person(&format!("u_{r}"), r))).collect();
    for (role, p) in &people {
        add_member(&t.boss.c, t.space, p.id, role);
    }
    let outsider = w.person("outsider", "外人");
    let by = |r: &str| &people.iter().find(|(n, _)| *n == r).expect("role").1.c;
    let all = [
        ("manager", &t.boss.c),
        ("editor", by("editor")),
        ("uploader", by("uploader")),
        ("viewer", by("viewer")),
        ("preview", by("preview")),
        ("outsider", &outsider.c),
    ];
    for (role, c) in all {
        let list = c.get(&format!("/api/v1/drive/nodes/{}/children", t.root));
        let get = c.get(&format!("/api/v1/drive/nodes/{file}"));
        let download = content(c, file);
        let inline = c.get(&format!("/api/v1/drive/nodes/{file}/content?disposition=inline"));
        let upload = put_file(c, t.root, &format!("{role}.txt"), b"x");
        let grants = c.get(&format!("/api/v1/drive/nodes/{file}/grants"));
        let got = (
            list.status.as_u16(),
            list.body["items"].as_array().map(|a| a.iter().any(|n| n["id"] == file)),
            get.status.as_u16(),
            download.status.as_u16(),
            inline.status.as_u16(),
            upload.status.as_u16(),
            grants.status.as_u16(),
        );
        let want = match role {
            "manager" => (200, Some(true), 200, 200, 200, 201, 200),
            "editor" => (200, Some(true), 200, 200, 200, 201, 403),
            "uploader" => (200, Some(false), 404, 404, 404, 201, 404),
            "viewer" => (200, Some(true), 200, 200, 200, 403, 403),
            "preview" => (200, Some(true), 200, 403, 200, 403, 403),
            _ => (404, None, 404, 404, 404, 404, 404),
        };
        assert_eq!(got, want, "role {role}");
        if role == "preview" {
            assert_eq!(download.code(), "download_forbidden");
        }
        if role == "outsider" {
            assert_eq!(get.body, c.get("/api/v1/drive/nodes/999999999").body, "same body as a missing id");
        }
    }
    // Renames: editors yes; viewers no; an uploader cannot even see the file.
    let rename = |c: &Client, name: &str| c.patch(&format!("/api/v1/drive/nodes/{file}"), json!({"name": name}));
    by("viewer").patch(&format!("/api/v1/drive/nodes/{file}"), json!({"name": "v.txt"})).expect(403, "forbidden");
    rename(by("preview"), "p.txt").expect(403, "forbidden");
    rename(by("uploader"), "u.txt").expect(404, "not_found");
    rename(&outsider.c, "o.txt").expect(404, "not_found");
    assert_eq!(rename(by("editor"), "报价-终版.txt").ok()["name"], "报价-终版.txt");
    // Uploaders see and delete their own items only, and may not rename them.
    let own = children(by("uploader"), t.root);
    assert_eq!(names(&own), vec!["uploader.txt"], "only what they created");
    let own_id = own[0]["id"].as_u64().unwrap();
    by("uploader").patch(&format!("/api/v1/drive/nodes/{own_id}"), json!({"name": "x.txt"})).expect(403, "forbidden");
    by("uploader").delete(&format!("/api/v1/drive/nodes/{own_id}")).expect_status(204);
    // Deletes: viewers no, editors yes; grants only by managers.
    by("viewer").delete(&format!("/api/v1/drive/nodes/{file}")).expect(403, "forbidden");
    let grant = json!({"kind": "user", "id": outsider.id, "role": "viewer"});
    by("editor").put(&format!("/api/v1/drive/nodes/{file}/grants"), grant.clone()).expect(403, "forbidden");
    outsider.c.put(&format!("/api/v1/drive/nodes/{file}/grants"), grant).expect(404, "not_found");
    by("editor").delete(&format!("/api/v1/drive/nodes/{file}")).expect_status(204);
    t.boss.c.get(&format!("/api/v1/drive/nodes/{file}")).expect(404, "not_found");
}

#[test]
fn grants_raise_and_lower_roles_below_the_node() {
    let t = team();
    let editor = t.w.person("ed", "编辑");
    let guest = t.w.person("guest", "访客");
    add_member(&t.boss.c, t.space, editor.id, "editor");
    let shared = mkdir(&t.boss.c, t.root, "对外");
    let secret = mkdir(&t.boss.c, t.root, "机密");
    let inside = upload_ok(&t.boss.c, shared, "说明.pdf", b"%PDF-1.4 test");
    let hidden = upload_ok(&t.boss.c, secret, "工资.xlsx", b"salaries");
    // Share one folder with a guest: they see it and what is in it, nothing else.
    t.boss
        .c
        .put(&format!("/api/v1/drive/nodes/{shared}/grants"), json!({"kind": "user", "id": guest.id, "role": "viewer"}))
        .ok();
    assert_eq!(content(&guest.c, inside).status, 200);
    content(&guest.c, hidden).expect(404, "not_found");
    guest.c.get(&format!("/api/v1/drive/nodes/{}", t.root)).expect(404, "not_found");
    let mine = guest.c.get("/api/v1/drive/shared").ok();
    assert_eq!(
        mine["items"].as_array().unwrap().iter().map(|n| n["id"].as_u64().unwrap()).collect::<Vec<_>>(),
        vec![shared]
    );
    assert_eq!(t.boss.c.get(&format!("/api/v1/drive/nodes/{shared}")).ok()["shared"], true);
    // Lower the editor to preview-only on the secret folder: the nearest grant wins.
    t.boss
        .c
        .put(
            &format!("/api/v1/drive/nodes/{secret}/grants"),
            json!({"kind": "user", "id": editor.id, "role": "preview"}),
        )
        .ok();
    content(&editor.c, hidden).expect(403, "download_forbidden");
    editor.c.delete(&format!("/api/v1/drive/nodes/{hidden}")).expect(403, "forbidden");
    assert_eq!(content(&editor.c, inside).status, 200, "elsewhere still an editor");
    let grants = t.boss.c.get(&format!("/api/v1/drive/nodes/{secret}/grants")).ok();
    assert_eq!(grants["items"][0]["role"], "preview");
    t.boss.c.delete(&format!("/api/v1/drive/nodes/{secret}/grants/user/{}", editor.id)).expect_status(204);
    assert_eq!(content(&editor.c, hidden).status, 200);
}

#[test]
fn department_membership_reaches_sub_departments_and_the_last_manager_stays() {
    let t = team();
    let market = t.w.admin.create_department("市场部", t.w.dept);
    let east = t.w.admin.create_department("华东区", market);
    let p = t.w.s.person(&t.w.admin, "east1", "华东一号", east);
    let file = upload_ok(&t.boss.c, t.root, "季度计划.docx", b"plan");
    content(&p.c, file).expect(404, "not_found");
    t.boss
        .c
        .put(
            &format!("/api/v1/drive/spaces/{}/members", t.space),
            json!({"kind": "department", "id": market, "role": "viewer"}),
        )
        .ok();
    assert_eq!(content(&p.c, file).status, 200, "through an ancestor department");
    let spaces = p.c.get("/api/v1/drive/spaces").ok();
    assert!(
        spaces["items"].as_array().unwrap().iter().any(|s| s["id"] == t.space && s["role"] == "viewer"),
        "{spaces}"
    );
    put_file(&p.c, t.root, "x.txt", b"x").expect(403, "forbidden");
    // The only manager cannot be removed or demoted.
    let me = format!("/api/v1/drive/spaces/{}/members/user/{}", t.space, t.boss.id);
    t.boss.c.delete(&me).expect(409, "last_manager");
    t.boss
        .c
        .put(
            &format!("/api/v1/drive/spaces/{}/members", t.space),
            json!({"kind": "user", "id": t.boss.id, "role": "editor"}),
        )
        .expect(409, "last_manager");
    p.c.delete(&me).expect(403, "forbidden");
    // A space with content cannot be deleted; an empty one can.
    t.boss.c.delete(&format!("/api/v1/drive/spaces/{}", t.space)).expect(409, "space_not_empty");
    t.boss.c.delete(&format!("/api/v1/drive/nodes/{file}")).expect_status(204);
    t.boss.c.delete(&format!("/api/v1/drive/spaces/{}/bin", t.space)).expect_status(204);
    t.boss.c.delete(&format!("/api/v1/drive/spaces/{}", t.space)).expect_status(204);
    t.boss.c.get(&format!("/api/v1/drive/spaces/{}", t.space)).expect(404, "not_found");
}
