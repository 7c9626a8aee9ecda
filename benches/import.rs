//! Excel import benchmark: 10,000 members (Chinese names, ~65 departments in 3-level paths,
//! unique mobiles and emails, supervisors from the same file) through the real server over
//! HTTP: dry run + commit, then the same file again (all updates).
//!
//! `cargo bench --bench import` prints one JSON line.

use officebox::config::Config;
use officebox::platform::clock::SystemClock;
use officebox::platform::Shutdown;
use reqwest::blocking::{multipart, Client};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

const ROWS: usize = 10_000;

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config { data_dir: dir.path().to_path_buf(), bcrypt_cost: 4, workers: 2, ..Config::default() };
    let platform =
        actix_web::web::Data::new(officebox::app::build_platform(config, Arc::new(SystemClock)).expect("platform"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let p = platform.clone();
    let server = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(officebox::app::run(p, listener)).expect("server");
    });
    let http =
        Client::builder().cookie_store(true).timeout(std::time::Duration::from_secs(300)).build().expect("client");
    wait_ready(&http, &base);
    let setup = json!({
        "enterprise_name": "示例科技",
        "time_zone": "Asia/Shanghai",
        "admin": { "userid": "admin", "name": "管理员", "password": "Secret-pass-1", "mobile": "19900000000" }
    });
    let me: Value = http
        .post(format!("{base}/api/v1/setup"))
        .header("X-CSRF-Token", "1")
        .json(&setup)
        .send()
        .expect("setup")
        .json()
        .expect("me");
    let csrf = me["csrf_token"].as_str().expect("csrf").to_owned();

    let file = workbook();
    let started = Instant::now();
    let (dry_run_ms, commit_ms, first) = import(&http, &base, &csrf, &file);
    assert_eq!(first["creates"], ROWS, "{first}");
    let reimport = Instant::now();
    let (_, _, again) = import(&http, &base, &csrf, &file);
    assert_eq!(again["updates"], ROWS, "{again}");
    let reimport_ms = reimport.elapsed().as_millis();
    let total_ms = started.elapsed().as_millis();
    println!(
        "{}",
        json!({ "bench": "import", "rows": ROWS, "dry_run_ms": dry_run_ms, "commit_ms": commit_ms, "reimport_ms": reimport_ms, "total_ms": total_ms })
    );

    let _ = platform.shutdown.send(Some(Shutdown::Restart));
    let _ = server.join();
}

fn wait_ready(http: &Client, base: &str) {
    for _ in 0..200 {
        if http.get(format!("{base}/healthz")).send().is_ok_and(|r| r.status().is_success()) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("server did not start");
}

/// Dry run + commit; returns (dry-run ms, commit ms, commit answer).
fn import(http: &Client, base: &str, csrf: &str, file: &[u8]) -> (u128, u128, Value) {
    let t = Instant::now();
    let part = multipart::Part::bytes(file.to_vec()).file_name("members.xlsx");
    let res = http
        .post(format!("{base}/api/v1/admin/import/dry-run"))
        .header("X-CSRF-Token", csrf)
        .multipart(multipart::Form::new().part("file", part))
        .send()
        .expect("dry run");
    let report: Value = res.json().expect("report");
    let dry = t.elapsed().as_millis();
    assert_eq!(report["errors"], json!([]), "{}", report["errors"]);
    let t = Instant::now();
    let res = http
        .post(format!("{base}/api/v1/admin/import/commit"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({ "import_id": report["import_id"] }))
        .send()
        .expect("commit");
    let out: Value = res.json().expect("commit answer");
    (dry, t.elapsed().as_millis(), out)
}

fn workbook() -> Vec<u8> {
    const SURNAMES: &str =
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈";
    const GIVEN: &str =
        "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅文斌宇浩然子轩欣怡雨萱晨阳思远佳琪";
    let surnames: Vec<char> = SURNAMES.chars().collect();
    let given: Vec<char> = GIVEN.chars().collect();
    let divisions = ["研发中心", "市场中心", "销售中心", "运营中心", "职能中心"];
    let depts = ["一部", "二部", "三部"];
    let teams = ["甲组", "乙组", "丙组"];
    let mut paths = Vec::new();
    for d in divisions {
        for p in depts {
            for t in teams {
                paths.push(format!("{d}/{p}/{t}"));
            }
        }
    }
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let header =
        ["账号", "姓名", "别名", "部门", "职务", "手机", "邮箱", "性别", "座机", "直属上级", "工号", "入职日期"];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("header");
    }
    for i in 0..ROWS {
        let r = i as u32 + 1;
        let name: String =
            [surnames[i % surnames.len()], given[(i / surnames.len()) % given.len()], given[(i * 7 + 3) % given.len()]]
                .iter()
                .collect();
        let cells = [
            format!("u{i:05}"),
            name,
            String::new(),
            paths[i % paths.len()].clone(),
            ["工程师", "经理", "专员", "主管"][i % 4].to_owned(),
            format!("13{i:09}"),
            format!("u{i:05}@example.com"),
            ["男", "女"][i % 2].to_owned(),
            String::new(),
            if i == 0 { String::new() } else { format!("u{:05}", i / 10) },
            format!("E{i:06}"),
            format!("20{:02}-{:02}-{:02}", 10 + i % 14, 1 + i % 12, 1 + i % 28),
        ];
        for (c, v) in cells.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(r, c as u16, v).expect("cell");
            }
        }
    }
    wb.save_to_buffer().expect("xlsx")
}
