//! Folder listings read from the stored name order (`drive_listing`): folders first, folded
//! Chinese and Latin names, both directions, key cursors across the folder/file boundary, an
//! uploader's view across pages, and the migration that builds the order for older data.

use super::*;

/// Every page of a listing, `limit` at a time; returns the names and the cursors seen.
fn all_pages(c: &Client, folder: u64, query: &str, limit: usize) -> (Vec<String>, Vec<String>) {
    let (mut out, mut cursors, mut cursor) = (Vec::new(), Vec::new(), String::new());
    for _ in 0..100 {
        let page = c.get(&format!("/api/v1/drive/nodes/{folder}/children?limit={limit}&cursor={cursor}{query}")).ok();
        let items = page["items"].as_array().cloned().unwrap_or_default();
        assert!(items.len() <= limit, "{page}");
        out.extend(names(&items));
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(items.len(), limit, "a page with a next cursor is full: {page}");
                cursors.push(next.to_owned());
                cursor = next.to_owned();
            }
            None => return (out, cursors),
        }
    }
    panic!("more than 100 pages");
}

/// Three folders and six files whose order needs case folding, NFC and code-point order.
fn mixed_folder(c: &Client) -> u64 {
    let root = my_root(c);
    let f = mkdir(c, root, "排序");
    for name in ["资料", "Zeta", "alpha"] {
        mkdir(c, f, name);
    }
    // "E\u{301}clair" arrives decomposed and is stored composed ("Éclair").
    for name in ["报价.xlsx", "b.txt", "E\u{301}clair.txt", "C.txt", "A.txt", "Café.txt"] {
        upload_ok(c, f, name, name.as_bytes());
    }
    f
}

const ASC: [&str; 9] = ["alpha", "Zeta", "资料", "A.txt", "b.txt", "C.txt", "Café.txt", "Éclair.txt", "报价.xlsx"];

fn desc() -> Vec<&'static str> {
    let (folders, files) = ASC.split_at(3);
    folders.iter().rev().chain(files.iter().rev()).copied().collect()
}

#[test]
fn names_sort_folders_first_folded_both_ways_and_page_across_the_boundary() {
    let w = world();
    let p = w.person("pai", "排序员");
    let f = mixed_folder(&p.c);
    assert_eq!(names(&children(&p.c, f)), ASC);
    let down = p.c.get(&format!("/api/v1/drive/nodes/{f}/children?order=desc")).ok();
    assert_eq!(names(down["items"].as_array().unwrap()), desc(), "folders stay first");
    assert!(down["next_cursor"].is_null());
    for limit in [1, 2, 3, 4, 8, 9] {
        let (got, cursors) = all_pages(&p.c, f, "", limit);
        assert_eq!(got, ASC, "limit {limit}");
        assert_eq!(cursors.len(), (ASC.len() - 1) / limit, "no empty last page (limit {limit})");
        let (got, _) = all_pages(&p.c, f, "&order=desc", limit);
        assert_eq!(got, desc(), "desc, limit {limit}");
    }
    // Offsets (the cursor before the stored order) still work, for every sort.
    let from3 = p.c.get(&format!("/api/v1/drive/nodes/{f}/children?cursor=3&limit=2")).ok();
    assert_eq!(names(from3["items"].as_array().unwrap()), ["A.txt", "b.txt"]);
    let by_size = p.c.get(&format!("/api/v1/drive/nodes/{f}/children?sort=size&limit=4")).ok();
    assert_eq!(by_size["next_cursor"], "4");
    // Junk, a name cursor under another sort or read the other way: 400.
    let (_, cursors) = all_pages(&p.c, f, "", 2);
    let bad = |q: String| p.c.get(&format!("/api/v1/drive/nodes/{f}/children?{q}")).expect(400, "invalid_cursor");
    bad(format!("cursor={}&sort=size", cursors[0]));
    bad(format!("cursor={}&order=desc", cursors[0]));
    bad("cursor=zzz".into());
    bad("cursor=a%E6%8A%A5".into());
    bad("cursor=-1".into());
}

#[test]
fn a_key_cursor_survives_changes_between_pages() {
    let w = world();
    let p = w.person("pai", "排序员");
    let f = mixed_folder(&p.c);
    let first = p.c.get(&format!("/api/v1/drive/nodes/{f}/children?limit=4")).ok();
    let items = first["items"].as_array().unwrap().clone();
    assert_eq!(names(&items), ["alpha", "Zeta", "资料", "A.txt"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    // The page's last item goes to the bin, a new file sorts before the cursor, one after it.
    p.c.delete(&format!("/api/v1/drive/nodes/{}", items[3]["id"])).expect_status(204);
    upload_ok(&p.c, f, "0.txt", b"0");
    upload_ok(&p.c, f, "bb.txt", b"bb");
    let next = p.c.get(&format!("/api/v1/drive/nodes/{f}/children?limit=100&cursor={cursor}")).ok();
    assert_eq!(
        names(next["items"].as_array().unwrap()),
        ["b.txt", "bb.txt", "C.txt", "Café.txt", "Éclair.txt", "报价.xlsx"]
    );
    // A rename moves the item in the order (a case-only rename keeps its place).
    let zeta = items[1]["id"].as_u64().unwrap();
    p.c.patch(&format!("/api/v1/drive/nodes/{zeta}"), json!({"name": "ZETA"})).ok();
    let c_txt = children(&p.c, f).iter().find(|n| n["name"] == "C.txt").unwrap()["id"].as_u64().unwrap();
    p.c.patch(&format!("/api/v1/drive/nodes/{c_txt}"), json!({"name": "一.txt"})).ok();
    assert_eq!(
        names(&children(&p.c, f)),
        ["alpha", "ZETA", "资料", "0.txt", "b.txt", "bb.txt", "Café.txt", "Éclair.txt", "一.txt", "报价.xlsx"]
    );
}

#[test]
fn an_uploader_pages_through_only_their_own_items() {
    let t = team();
    let up = t.w.person("up", "上传者");
    add_member(&t.boss.c, t.space, up.id, "uploader");
    // Interleaved names, others' items at both ends and between the uploader's.
    for (c, name) in [
        (&t.boss.c, "a-老板.txt"),
        (&up.c, "b-我的.txt"),
        (&t.boss.c, "c-老板.txt"),
        (&t.boss.c, "d-老板.txt"),
        (&up.c, "e-我的.txt"),
        (&t.boss.c, "f-老板.txt"),
        (&up.c, "g-我的.txt"),
        (&t.boss.c, "h-老板.txt"),
    ] {
        upload_ok(c, t.root, name, name.as_bytes());
    }
    mkdir(&t.boss.c, t.root, "老板的文件夹");
    mkdir(&up.c, t.root, "我的文件夹");
    let mine = ["我的文件夹", "b-我的.txt", "e-我的.txt", "g-我的.txt"];
    for limit in [1, 2, 3] {
        let (got, cursors) = all_pages(&up.c, t.root, "", limit);
        assert_eq!(got, mine, "limit {limit}");
        assert_eq!(cursors.len(), (mine.len() - 1) / limit, "the last page knows it is last (limit {limit})");
        let (got, _) = all_pages(&up.c, t.root, "&order=desc", limit);
        assert_eq!(got, ["我的文件夹", "g-我的.txt", "e-我的.txt", "b-我的.txt"], "desc, limit {limit}");
    }
    let (all, _) = all_pages(&t.boss.c, t.root, "", 3);
    assert_eq!(all.len(), 10, "the manager sees everything: {all:?}");
    assert_eq!(&all[..2], ["我的文件夹", "老板的文件夹"]);
}

#[test]
fn the_migration_builds_the_order_for_data_written_without_it() {
    let w = world();
    let p = w.person("pai", "排序员");
    let f = mixed_folder(&p.c);
    let World { s, .. } = w;
    let dir = s.stop();
    // Back to the schema before the migration: no drive_listing table at all.
    let migration = officebox::schema::MIGRATIONS.iter().find(|m| m.name.contains("drive_listing")).expect("migration");
    {
        let db = redb::Database::open(dir.path().join("data.redb")).expect("open");
        let txn = db.begin_write().expect("write");
        let listing: redb::TableDefinition<String, &[u8]> = redb::TableDefinition::new("drive_listing");
        assert!(txn.delete_table(listing).expect("delete"), "the table existed");
        officebox::platform::store::meta::set_schema_version(&txn, migration.version - 1).expect("version");
        txn.commit().expect("commit");
    }
    let s = TestServer::start_in(dir);
    let c = Client::signed_in(&s.base, "pai", MEMBER_PASSWORD);
    assert_eq!(names(&children(&c, f)), ASC, "built from drive_children");
    let (got, _) = all_pages(&c, f, "&order=desc", 2);
    assert_eq!(got, desc());
    assert!(names(&children(&c, my_root(&c))).contains(&"排序".to_owned()));
    // And kept up to date from then on.
    mkdir(&c, f, "Beta");
    assert_eq!(&names(&children(&c, f))[..4], ["alpha", "Beta", "Zeta", "资料"]);
    let txn = s.platform.store.begin_read().expect("read");
    assert_eq!(
        officebox::platform::store::meta::schema_version(&txn).expect("version"),
        Some(officebox::schema::SCHEMA_VERSION)
    );
}
