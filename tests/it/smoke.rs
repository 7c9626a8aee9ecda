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
