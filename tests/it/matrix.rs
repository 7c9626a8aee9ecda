//! THE permission matrix (security.md §3.3): every admin endpoint × every role × an in-scope and
//! an out-of-scope target, as data, run in one loop. Each cell gets fresh objects (made by the
//! super admin), so cells are independent of order; after each cell the side effect is checked
//! too, so a handler that refuses after changing something is caught.

use crate::common::*;
use reqwest::Method;
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Super,
    BranchAll,
    BranchAudit,
    Member,
    Anonymous,
}

const ROLES: [Role; 5] = [Role::Super, Role::BranchAll, Role::BranchAudit, Role::Member, Role::Anonymous];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    /// 研发部 or a member in it: inside the branch admins' scope.
    In,
    /// 市场部 or a member in it.
    Out,
    /// The endpoint has no department-bound target.
    None,
}

#[derive(Clone, Copy, Debug)]
enum Expect {
    Status(u16),
    Error(u16, &'static str),
}

const OK: Expect = Expect::Status(200);
const CREATED: Expect = Expect::Status(201);
const NO_CONTENT: Expect = Expect::Status(204);
const UNAUTHORIZED: Expect = Expect::Error(401, "unauthorized");
const FORBIDDEN: Expect = Expect::Error(403, "forbidden");
const OUT_OF_SCOPE: Expect = Expect::Error(403, "out_of_scope");

#[derive(Clone, Copy, Debug)]
enum Op {
    DirectoryDepartments,
    DirectoryMember,
    DepartmentCreate,
    DepartmentPatch,
    DepartmentDelete,
    MemberCreate,
    MemberPatch,
    MemberDisable,
    MemberEnable,
    MemberOffboard,
    MemberInvite,
    MemberResetPassword,
    TagCreate,
    TagPatch,
    TagDelete,
    CustomFieldsPut,
    EnterpriseGet,
    EnterprisePut,
    EnterpriseVerify,
    EnterpriseLogo,
    EnterpriseLicence,
    AdminsList,
    AdminsPut,
    AdminsDelete,
    SecurityGet,
    SecurityPut,
    SmtpGet,
    SmtpPut,
    SmtpTest,
    AuditList,
    AuditExport,
}

struct Fixture {
    _server: TestServer,
    sup: Client,
    rd: u64,
    mk: u64,
    /// Active members who stay put: hand-over targets and tag members.
    anchor_rd: u64,
    anchor_mk: u64,
    clients: Vec<(Role, Client)>,
}

enum Body {
    None,
    Json(Value),
    Png,
}

/// Checks a cell's side effect given whether the request succeeded (`Err` explains a wrong state).
type Effect = Box<dyn Fn(&Fixture, bool) -> Result<(), String>>;

/// One prepared request and how to check its effect afterwards.
struct Prepared {
    method: Method,
    path: String,
    body: Body,
    effect: Effect,
}

fn no_effect() -> Effect {
    Box::new(|_, _| Ok(()))
}

fn fixture() -> Fixture {
    let s = TestServer::start();
    let sup = s.setup();
    let root = sup.root_department();
    let rd = sup.create_department("研发部", root);
    let mk = sup.create_department("市场部", root);
    let anchor_rd = sup.create_member("anchor_rd", "研发锚点", rd, MEMBER_PASSWORD);
    let anchor_mk = sup.create_member("anchor_mk", "市场锚点", mk, MEMBER_PASSWORD);
    let branch_all = sup.create_member("branch_all", "分级全权", rd, MEMBER_PASSWORD);
    sup.grant(
        branch_all,
        json!({ "kind": "branch", "department_ids": [rd], "permissions": ["members", "departments", "tags", "import", "apps", "audit"] }),
    );
    let branch_audit = sup.create_member("branch_audit", "分级审计", rd, MEMBER_PASSWORD);
    sup.grant(branch_audit, json!({ "kind": "branch", "department_ids": [rd], "permissions": ["audit"] }));
    sup.create_member("plain", "普通成员", rd, MEMBER_PASSWORD);
    let clients = vec![
        (Role::Super, Client::signed_in(&s.base, "admin", ADMIN_PASSWORD)),
        (Role::BranchAll, Client::signed_in(&s.base, "branch_all", MEMBER_PASSWORD)),
        (Role::BranchAudit, Client::signed_in(&s.base, "branch_audit", MEMBER_PASSWORD)),
        (Role::Member, Client::signed_in(&s.base, "plain", MEMBER_PASSWORD)),
        (Role::Anonymous, s.client()),
    ];
    Fixture { _server: s, sup, rd, mk, anchor_rd, anchor_mk, clients }
}

impl Fixture {
    fn dept(&self, t: Target) -> u64 {
        if t == Target::Out {
            self.mk
        } else {
            self.rd
        }
    }
    fn anchor(&self, t: Target) -> u64 {
        if t == Target::Out {
            self.anchor_mk
        } else {
            self.anchor_rd
        }
    }
    fn fresh_member(&self, t: Target) -> u64 {
        self.sup.create_inactive_member(&format!("m{}", unique()), self.dept(t))
    }
    fn member(&self, id: u64) -> Value {
        self.sup.get(&format!("/api/v1/members/{id}")).ok()
    }
    fn departments(&self) -> Vec<Value> {
        self.sup.get("/api/v1/departments").ok()["items"].as_array().unwrap().clone()
    }
    fn tag(&self, id: u64) -> Option<Value> {
        self.sup.get("/api/v1/tags").ok()["items"].as_array().unwrap().iter().find(|t| t["id"] == id).cloned()
    }
    fn role_of(&self, member: u64) -> Option<Value> {
        let list = self.sup.get("/api/v1/admin/admins").ok();
        list["items"].as_array().unwrap().iter().find(|a| a["member"]["id"] == member).map(|a| a["role"].clone())
    }
}

fn check(cond: bool, what: String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what)
    }
}

fn prepare(fx: &Fixture, op: Op, t: Target) -> Prepared {
    let n = unique();
    let json_req =
        |method: Method, path: String, body: Value, effect| Prepared { method, path, body: Body::Json(body), effect };
    match op {
        Op::DirectoryDepartments => {
            Prepared { method: Method::GET, path: "/api/v1/departments".into(), body: Body::None, effect: no_effect() }
        }
        Op::DirectoryMember => Prepared {
            method: Method::GET,
            path: format!("/api/v1/members/{}", fx.anchor(t)),
            body: Body::None,
            effect: no_effect(),
        },
        Op::DepartmentCreate => {
            let (parent, name) = (fx.dept(t), format!("新部门{n}"));
            let effect = Box::new(move |fx: &Fixture, ok: bool| {
                let exists = fx.departments().iter().any(|d| d["name"] == name.as_str() && d["parent_id"] == parent);
                check(exists == ok, format!("department created: {exists}"))
            });
            json_req(
                Method::POST,
                "/api/v1/admin/departments".into(),
                json!({ "name": format!("新部门{n}"), "parent_id": parent }),
                effect,
            )
        }
        Op::DepartmentPatch => {
            let id = fx.sup.create_department(&format!("改名前{n}"), fx.dept(t));
            let effect = Box::new(move |fx: &Fixture, ok: bool| {
                let renamed =
                    fx.departments().iter().any(|d| d["id"] == id && d["name"] == format!("改名后{n}").as_str());
                check(renamed == ok, format!("department renamed: {renamed}"))
            });
            json_req(
                Method::PATCH,
                format!("/api/v1/admin/departments/{id}"),
                json!({ "name": format!("改名后{n}") }),
                effect,
            )
        }
        Op::DepartmentDelete => {
            let id = fx.sup.create_department(&format!("待删{n}"), fx.dept(t));
            let effect = Box::new(move |fx: &Fixture, ok: bool| {
                let exists = fx.departments().iter().any(|d| d["id"] == id);
                check(exists != ok, format!("department still exists: {exists}"))
            });
            Prepared {
                method: Method::DELETE,
                path: format!("/api/v1/admin/departments/{id}"),
                body: Body::None,
                effect,
            }
        }
        Op::MemberCreate => {
            let userid = format!("new{n}");
            let body = json!({ "userid": userid, "name": "新人", "department_ids": [fx.dept(t)], "mobile": format!("136{n:08}") });
            let effect = Box::new(move |fx: &Fixture, ok: bool| {
                let found = fx.sup.get(&format!("/api/v1/members?q={userid}&status=inactive")).ok()["items"]
                    .as_array()
                    .unwrap()
                    .len();
                check((found == 1) == ok, format!("members created: {found}"))
            });
            json_req(Method::POST, "/api/v1/admin/members".into(), body, effect)
        }
        Op::MemberPatch => {
            let id = fx.fresh_member(t);
            let effect = Box::new(move |fx: &Fixture, ok: bool| {
                let pos = fx.member(id)["position"].clone();
                check((pos == "经理") == ok, format!("position is {pos}"))
            });
            json_req(Method::PATCH, format!("/api/v1/admin/members/{id}"), json!({ "position": "经理" }), effect)
        }
        Op::MemberDisable | Op::MemberEnable | Op::MemberOffboard => {
            let id = fx.fresh_member(t);
            let (path, body, wanted, before) = match op {
                Op::MemberDisable => ("disable", json!({}), "disabled", "inactive"),
                Op::MemberEnable => {
                    fx.sup.post(&format!("/api/v1/admin/members/{id}/disable"), json!({})).ok();
                    ("enable", json!({}), "inactive", "disabled")
                }
                _ => ("offboard", json!({ "handover_to": fx.anchor(t) }), "left", "inactive"),
            };
            let effect = Box::new(move |fx: &Fixture, ok: bool| {
                let status = fx.member(id)["status"].clone();
                check(status == if ok { wanted } else { before }, format!("status is {status}"))
            });
            json_req(Method::POST, format!("/api/v1/admin/members/{id}/{path}"), body, effect)
        }
        Op::MemberInvite | Op::MemberResetPassword => {
            let id = fx.fresh_member(t);
            let path = if matches!(op, Op::MemberInvite) { "invite" } else { "reset-password" };
            json_req(Method::POST, format!("/api/v1/admin/members/{id}/{path}"), json!({}), no_effect())
        }
        Op::TagCreate => {
            let name = format!("标签{n}");
            let effect = Box::new(move |fx: &Fixture, ok: bool| {
                let exists = fx.sup.get("/api/v1/tags").ok()["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x["name"] == name.as_str());
                check(exists == ok, format!("tag created: {exists}"))
            });
            json_req(Method::POST, "/api/v1/admin/tags".into(), json!({ "name": format!("标签{n}") }), effect)
        }
        Op::TagPatch => {
            let id = fx.sup.post("/api/v1/admin/tags", json!({ "name": format!("标签{n}") })).id();
            let who = fx.anchor(t);
            let effect = Box::new(move |fx: &Fixture, ok: bool| {
                let members = fx.tag(id).map(|t| t["member_ids"].clone()).unwrap_or_default();
                check((members == json!([who])) == ok, format!("tag members {members}"))
            });
            json_req(Method::PATCH, format!("/api/v1/admin/tags/{id}"), json!({ "member_ids": [who] }), effect)
        }
        Op::TagDelete => {
            let id = fx.sup.post("/api/v1/admin/tags", json!({ "name": format!("标签{n}") })).id();
            fx.sup.patch(&format!("/api/v1/admin/tags/{id}"), json!({ "member_ids": [fx.anchor(t)] })).ok();
            let effect = Box::new(move |fx: &Fixture, ok: bool| {
                let exists = fx.tag(id).is_some();
                check(exists != ok, format!("tag still exists: {exists}"))
            });
            Prepared { method: Method::DELETE, path: format!("/api/v1/admin/tags/{id}"), body: Body::None, effect }
        }
        Op::CustomFieldsPut => {
            let key = format!("f{n}");
            let effect = Box::new(move |fx: &Fixture, ok: bool| {
                let items = fx.sup.get("/api/v1/custom-fields").ok()["items"].clone();
                check((items[0]["key"] == key.as_str()) == ok, format!("custom fields {items}"))
            });
            json_req(
                Method::PUT,
                "/api/v1/admin/custom-fields".into(),
                json!({ "items": [{ "key": format!("f{n}"), "label": "字段" }] }),
                effect,
            )
        }
        Op::EnterpriseGet => Prepared {
            method: Method::GET,
            path: "/api/v1/admin/enterprise".into(),
            body: Body::None,
            effect: no_effect(),
        },
        Op::EnterprisePut => {
            let address = format!("深圳市南山区{n}号");
            let effect = Box::new(move |fx: &Fixture, ok: bool| {
                let got = fx.sup.get("/api/v1/enterprise").ok()["address"].clone();
                check((got == address.as_str()) == ok, format!("address {got}"))
            });
            json_req(
                Method::PUT,
                "/api/v1/admin/enterprise".into(),
                json!({ "address": format!("深圳市南山区{n}号") }),
                effect,
            )
        }
        Op::EnterpriseVerify => {
            json_req(Method::POST, "/api/v1/admin/enterprise/verify".into(), json!({ "verified": false }), no_effect())
        }
        Op::EnterpriseLogo | Op::EnterpriseLicence => {
            let path = if matches!(op, Op::EnterpriseLogo) { "logo" } else { "licence" };
            Prepared {
                method: Method::PUT,
                path: format!("/api/v1/admin/enterprise/{path}"),
                body: Body::Png,
                effect: no_effect(),
            }
        }
        Op::AdminsList => {
            Prepared { method: Method::GET, path: "/api/v1/admin/admins".into(), body: Body::None, effect: no_effect() }
        }
        Op::AdminsPut => {
            let id = fx.fresh_member(t);
            let effect = Box::new(move |fx: &Fixture, ok: bool| {
                let role = fx.role_of(id);
                check(role.is_some() == ok, format!("role {role:?}"))
            });
            let body = json!({ "kind": "branch", "department_ids": [fx.dept(t)], "permissions": ["tags"] });
            json_req(Method::PUT, format!("/api/v1/admin/admins/{id}"), body, effect)
        }
        Op::AdminsDelete => {
            let id = fx.fresh_member(t);
            fx.sup.grant(id, json!({ "kind": "branch", "department_ids": [fx.dept(t)], "permissions": ["tags"] }));
            let effect = Box::new(move |fx: &Fixture, ok: bool| {
                let role = fx.role_of(id);
                check(role.is_some() != ok, format!("role {role:?}"))
            });
            Prepared { method: Method::DELETE, path: format!("/api/v1/admin/admins/{id}"), body: Body::None, effect }
        }
        Op::SecurityGet => Prepared {
            method: Method::GET,
            path: "/api/v1/admin/security".into(),
            body: Body::None,
            effect: no_effect(),
        },
        Op::SecurityPut => {
            let minutes = 1000 + n as i64;
            let body = json!({ "password": { "min_length": 8, "require_lower": true, "require_digit": true }, "session_idle_minutes": minutes, "session_absolute_hours": 720 });
            let effect = Box::new(move |fx: &Fixture, ok: bool| {
                let got = fx.sup.get("/api/v1/admin/security").ok()["session_idle_minutes"].clone();
                check((got == minutes) == ok, format!("idle minutes {got}"))
            });
            json_req(Method::PUT, "/api/v1/admin/security".into(), body, effect)
        }
        Op::SmtpGet => {
            Prepared { method: Method::GET, path: "/api/v1/admin/smtp".into(), body: Body::None, effect: no_effect() }
        }
        Op::SmtpPut => {
            let host = format!("smtp{n}.example.cn");
            let body = json!({ "enabled": false, "host": host, "port": 587, "security": "starttls", "from_address": "noreply@example.cn" });
            let effect = Box::new(move |fx: &Fixture, ok: bool| {
                let got = fx.sup.get("/api/v1/admin/smtp").ok()["host"].clone();
                check((got == host.as_str()) == ok, format!("smtp host {got}"))
            });
            json_req(Method::PUT, "/api/v1/admin/smtp".into(), body, effect)
        }
        Op::SmtpTest => {
            json_req(Method::POST, "/api/v1/admin/smtp/test".into(), json!({ "to": "test@example.cn" }), no_effect())
        }
        Op::AuditList => {
            Prepared { method: Method::GET, path: "/api/v1/admin/audit".into(), body: Body::None, effect: no_effect() }
        }
        Op::AuditExport => Prepared {
            method: Method::GET,
            path: "/api/v1/admin/audit/export".into(),
            body: Body::None,
            effect: no_effect(),
        },
    }
}

/// The matrix: (endpoint, target, expected for [super, branch with all, branch with `audit` only,
/// member, anonymous]).
fn matrix() -> Vec<(Op, Target, [Expect; 5])> {
    use Target::{In, None as NA, Out};
    // SMTP is not configured in this fixture: a permitted test mail fails for that reason.
    const NOT_CONFIGURED: Expect = Expect::Error(409, "smtp_not_configured");
    let super_only = |ok: Expect| [ok, FORBIDDEN, FORBIDDEN, FORBIDDEN, UNAUTHORIZED];
    vec![
        (Op::DirectoryDepartments, NA, [OK, OK, OK, OK, UNAUTHORIZED]),
        (Op::DirectoryMember, In, [OK, OK, OK, OK, UNAUTHORIZED]),
        (Op::DirectoryMember, Out, [OK, OK, OK, OK, UNAUTHORIZED]),
        (Op::DepartmentCreate, In, [CREATED, CREATED, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::DepartmentCreate, Out, [CREATED, OUT_OF_SCOPE, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::DepartmentPatch, In, [OK, OK, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::DepartmentPatch, Out, [OK, OUT_OF_SCOPE, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::DepartmentDelete, In, [NO_CONTENT, NO_CONTENT, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::DepartmentDelete, Out, [NO_CONTENT, OUT_OF_SCOPE, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::MemberCreate, In, [CREATED, CREATED, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::MemberCreate, Out, [CREATED, OUT_OF_SCOPE, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::MemberPatch, In, [OK, OK, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::MemberPatch, Out, [OK, OUT_OF_SCOPE, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::MemberDisable, In, [OK, OK, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::MemberDisable, Out, [OK, OUT_OF_SCOPE, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::MemberEnable, In, [OK, OK, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::MemberEnable, Out, [OK, OUT_OF_SCOPE, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::MemberOffboard, In, [OK, OK, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::MemberOffboard, Out, [OK, OUT_OF_SCOPE, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::MemberInvite, In, [OK, OK, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::MemberInvite, Out, [OK, OUT_OF_SCOPE, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::MemberResetPassword, In, [OK, OK, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::MemberResetPassword, Out, [OK, OUT_OF_SCOPE, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::TagCreate, NA, [CREATED, CREATED, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::TagPatch, In, [OK, OK, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        (Op::TagPatch, Out, [OK, OUT_OF_SCOPE, FORBIDDEN, FORBIDDEN, UNAUTHORIZED]),
        // Tags are shared by the whole organisation: only super admins delete them.
        (Op::TagDelete, In, super_only(NO_CONTENT)),
        (Op::TagDelete, Out, super_only(NO_CONTENT)),
        (Op::CustomFieldsPut, NA, super_only(OK)),
        (Op::EnterpriseGet, NA, super_only(OK)),
        (Op::EnterprisePut, NA, super_only(OK)),
        (Op::EnterpriseVerify, NA, super_only(OK)),
        (Op::EnterpriseLogo, NA, super_only(OK)),
        (Op::EnterpriseLicence, NA, super_only(OK)),
        (Op::AdminsList, NA, super_only(OK)),
        (Op::AdminsPut, In, super_only(OK)),
        (Op::AdminsPut, Out, super_only(OK)),
        (Op::AdminsDelete, In, super_only(NO_CONTENT)),
        (Op::AdminsDelete, Out, super_only(NO_CONTENT)),
        (Op::SecurityGet, NA, super_only(OK)),
        (Op::SecurityPut, NA, super_only(OK)),
        (Op::SmtpGet, NA, super_only(OK)),
        (Op::SmtpPut, NA, super_only(OK)),
        (Op::SmtpTest, NA, super_only(NOT_CONFIGURED)),
        (Op::AuditList, NA, [OK, OK, OK, FORBIDDEN, UNAUTHORIZED]),
        (Op::AuditExport, NA, [OK, OK, OK, FORBIDDEN, UNAUTHORIZED]),
    ]
}

fn matches(e: Expect, r: &Resp) -> bool {
    match e {
        Expect::Status(s) => r.status.as_u16() == s,
        Expect::Error(s, code) => r.status.as_u16() == s && r.code() == code,
    }
}

fn describe(e: Expect) -> String {
    match e {
        Expect::Status(s) => s.to_string(),
        Expect::Error(s, code) => format!("{s} {code}"),
    }
}

#[test]
fn permission_matrix_every_admin_endpoint_role_and_scope() {
    let fx = fixture();
    let rows = matrix();
    let mut mismatches = Vec::new();
    let mut cells = 0;
    for (op, target, expected) in &rows {
        for (i, role) in ROLES.iter().enumerate() {
            cells += 1;
            let client = &fx.clients.iter().find(|(r, _)| r == role).unwrap().1;
            let p = prepare(&fx, *op, *target);
            let rb = client.raw(p.method.clone(), &p.path).header("X-CSRF-Token", client.csrf_token());
            let rb = match &p.body {
                Body::None => rb,
                Body::Json(v) => rb.json(v),
                Body::Png => rb.multipart(
                    reqwest::blocking::multipart::Form::new()
                        .part("file", reqwest::blocking::multipart::Part::bytes(png()).file_name("x.png")),
                ),
            };
            let r = client.send_built(rb);
            let want = expected[i];
            let body: String = r.body.to_string().chars().take(160).collect();
            if !matches(want, &r) {
                mismatches.push(format!(
                    "{role:?} | {:?} {} ({op:?}) | target {target:?} | expected {} | got {} {body}",
                    p.method,
                    p.path,
                    describe(want),
                    r.status.as_u16()
                ));
                continue;
            }
            if let Err(why) = (p.effect)(&fx, r.status.is_success()) {
                mismatches.push(format!(
                    "{role:?} | {:?} {} ({op:?}) | target {target:?} | answered {} but the effect is wrong: {why}",
                    p.method,
                    p.path,
                    r.status.as_u16()
                ));
            }
        }
    }
    if !mismatches.is_empty() {
        eprintln!("\n{} of {cells} permission cells are wrong:\n{}\n", mismatches.len(), mismatches.join("\n"));
    }
    assert!(mismatches.is_empty(), "{} permission matrix cells mismatched (listed above)", mismatches.len());
    assert!(cells >= 200, "the matrix shrank to {cells} cells");
}

/// Scope edges the table cannot express: branch admins may not move or delete the roots of
/// their own scope, pull departments or members in or out of it, or hand leadership of an
/// outside department to someone.
#[test]
fn branch_admins_cannot_escape_their_subtree() {
    let fx = fixture();
    let br = &fx.clients[1].1;
    let (rd, mk) = (fx.rd, fx.mk);
    let rd_child = fx.sup.create_department("研发一组", rd);
    let mk_child = fx.sup.create_department("市场一组", mk);
    br.patch(&format!("/api/v1/admin/departments/{rd}"), json!({ "parent_id": mk })).expect(403, "out_of_scope");
    br.delete(&format!("/api/v1/admin/departments/{rd}")).expect(403, "out_of_scope");
    br.patch(&format!("/api/v1/admin/departments/{rd_child}"), json!({ "parent_id": mk })).expect(403, "out_of_scope");
    br.patch(&format!("/api/v1/admin/departments/{mk_child}"), json!({ "parent_id": rd })).expect(403, "out_of_scope");
    // Renaming the scope root itself is allowed, and so is work below it.
    br.patch(&format!("/api/v1/admin/departments/{rd}"), json!({ "name": "研发中心" })).ok();
    br.patch(&format!("/api/v1/admin/departments/{rd_child}"), json!({ "order": 9 })).ok();
    // A member of both 研发部 and 市场部 is manageable, but not their 市场部 side.
    let dual = fx.sup.create_member_with(
        json!({ "userid": "dual", "name": "双岗", "department_ids": [rd, mk], "mobile": "13600000111" }),
    );
    let dual = dual["id"].as_u64().unwrap();
    br.patch(&format!("/api/v1/admin/members/{dual}"), json!({ "position": "组长" })).ok();
    br.patch(&format!("/api/v1/admin/members/{dual}"), json!({ "department_ids": [rd] })).expect(403, "out_of_scope");
    br.patch(&format!("/api/v1/admin/members/{dual}"), json!({ "department_ids": [rd, mk, rd_child] })).ok();
    br.patch(&format!("/api/v1/admin/members/{dual}"), json!({ "leader_of": [mk] })).expect(403, "out_of_scope");
    assert!(fx.sup.department_by_name("市场部")["leader_ids"].as_array().unwrap().is_empty(), "市场部 got no leader");
    br.patch(&format!("/api/v1/admin/members/{dual}"), json!({ "leader_of": [rd] })).ok();
    let created = br.post(
        "/api/v1/admin/members",
        json!({ "userid": "lead2", "name": "新组长", "department_ids": [rd], "mobile": "13600000112", "leader_of": [mk] }),
    );
    assert_eq!(created.status.as_u16(), 422, "leading a department one is not in: {}", created.body);
    // Someone who leads 市场部 (set by the super admin) keeps that when the branch admin edits them.
    fx.sup.patch(&format!("/api/v1/admin/members/{dual}"), json!({ "leader_of": [rd, mk] })).ok();
    br.patch(&format!("/api/v1/admin/members/{dual}"), json!({ "leader_of": [rd] })).expect(403, "out_of_scope");
    assert_eq!(fx.sup.department_by_name("市场部")["leader_ids"], json!([dual]));
    // Audit entries name the branch admin as the actor.
    let audit = fx.sup.audit("action=department.updated");
    assert!(audit.iter().any(|e| e["actor_name"] == "分级全权"), "{audit:?}");
}
