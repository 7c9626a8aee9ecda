use crate::common::*;
use serde_json::json;

#[test]
fn setup_then_login_then_directory() {
    let s = TestServer::start();
    let anon = s.client();
    anon.get("/api/v1/departments").expect(409, "setup_required");
    let st = anon.get("/api/v1/system/status").ok();
    assert_eq!(st["setup_done"], false);
    let admin = s.setup();
    assert_eq!(anon.get("/api/v1/system/status").ok()["setup_done"], true);
    anon.post("/api/v1/setup", json!({"enterprise_name": "x", "time_zone": "Asia/Shanghai", "admin": {"userid": "b", "name": "b", "password": "abcdefg1", "mobile": "13800000001"}}))
        .expect(409, "already_set_up");
    let root = admin.root_department();
    let rd = admin.create_department("研发部", root);
    admin.create_member("zhangsan", "张三", rd, "Zhang-pass-1");
    let found = admin.get("/api/v1/members?q=zs").ok();
    assert_eq!(found["items"][0]["name"], "张三");
    let me = Client::signed_in(&s.base, "zhangsan", "Zhang-pass-1");
    let info = me.get("/api/v1/auth/me").ok();
    assert_eq!(info["must_change_password"], true);
}

#[test]
fn metrics_are_local_only_unless_the_scraper_has_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_with(dir, |mut c| {
        c.metrics_token = "scrape-token-0123456789".into();
        c
    });
    let http = reqwest::blocking::Client::new();
    let get = |headers: &[(&str, &str)]| {
        let mut rb = http.get(format!("{}/metrics", s.base));
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let r = rb.send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    };
    let (status, body) = get(&[]);
    assert_eq!(status, 200);
    assert!(body.contains("officebox_writer_queue_depth"));
    // Through a reverse proxy the peer is loopback but the client is not.
    assert_eq!(get(&[("x-forwarded-for", "203.0.113.9")]).0, 403);
    assert_eq!(get(&[("x-forwarded-for", "203.0.113.9"), ("authorization", "Bearer wrong-token-0123456789")]).0, 403);
    assert_eq!(get(&[("x-forwarded-for", "203.0.113.9"), ("authorization", "Bearer scrape-token-0123456789")]).0, 200);
}

#[test]
fn department_counts_are_direct_and_whole_branch() {
    let s = TestServer::start();
    let admin = s.setup();
    let root = admin.root_department();
    let rd = admin.create_department("研发部", root);
    let be = admin.create_department("后端组", rd);
    let fe = admin.create_department("前端组", rd);
    let zs = admin.create_member("zhangsan", "张三", be, "Zhang-pass-1");
    admin.create_member("lisi", "李四", fe, "Li4-pass-42");
    // 张三 is in both groups: the branch counts him once.
    admin.patch(&format!("/api/v1/admin/members/{zs}"), json!({ "department_ids": [be, fe] })).ok();
    let deps = admin.get("/api/v1/departments").ok();
    let find = |id: u64| deps["items"].as_array().unwrap().iter().find(|d| d["id"] == id).cloned().unwrap();
    assert_eq!((find(rd)["member_count"].as_u64(), find(rd)["total_count"].as_u64()), (Some(0), Some(2)));
    assert_eq!(find(fe)["total_count"], 2);
    assert_eq!(find(root)["total_count"], 3, "admin + 张三 + 李四");
}
