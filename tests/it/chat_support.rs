//! Helpers for chat tests: members with their session token, and a blocking WebSocket client.

use crate::common::*;
use serde_json::{json, Value};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tungstenite::client::IntoClientRequest;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// A signed-in member: id, API client and the raw session token (for WebSocket handshakes).
pub struct Person {
    pub id: u64,
    pub c: Client,
    pub token: String,
}

impl TestServer {
    /// Create an active member in `dept` and sign them in, keeping their session token.
    #[track_caller]
    pub fn person(&self, admin: &Client, userid: &str, name: &str, dept: u64) -> Person {
        let id = admin.create_member(userid, name, dept, MEMBER_PASSWORD);
        let c = Client::new(&self.base);
        let r = c.login(userid, MEMBER_PASSWORD);
        let token = set_cookie_value(&r).expect("session cookie");
        r.ok();
        Person { id, c, token }
    }
}

pub struct Ws {
    pub sock: WebSocket<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    #[track_caller]
    pub fn connect(base: &str, token: &str, since: Option<u64>) -> Ws {
        Self::try_connect(base, token, since, None).expect("websocket handshake")
    }

    pub fn try_connect(base: &str, token: &str, since: Option<u64>, origin: Option<&str>) -> Result<Ws, u16> {
        let q = since.map(|s| format!("?since={s}")).unwrap_or_default();
        let url = format!("{}/ws{q}", base.replacen("http://", "ws://", 1));
        let mut req = url.into_client_request().expect("request");
        req.headers_mut().insert("Cookie", format!("ob_session={token}").parse().expect("header"));
        if let Some(o) = origin {
            req.headers_mut().insert("Origin", o.parse().expect("header"));
        }
        match tungstenite::connect(req) {
            Ok((sock, _)) => {
                if let MaybeTlsStream::Plain(s) = sock.get_ref() {
                    s.set_read_timeout(Some(Duration::from_millis(200))).expect("timeout");
                }
                Ok(Ws { sock })
            }
            Err(tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("websocket: {e}"),
        }
    }

    /// The next JSON frame within `wait`, skipping presence/pong frames.
    pub fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            match self.sock.read() {
                Ok(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(t.as_str()).expect("json frame");
                    if matches!(v["type"].as_str(), Some("presence") | Some("pong")) {
                        continue;
                    }
                    return Some(v);
                }
                Ok(Message::Close(_)) => return None,
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(_) => return None,
            }
        }
        None
    }

    /// Frames until one of type `ty` arrives (returned); panics after `wait`.
    #[track_caller]
    pub fn expect(&mut self, ty: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Some(v) = self.next(Duration::from_millis(300)) {
                if v["type"] == ty {
                    return v;
                }
            }
        }
        panic!("no {ty} frame");
    }

    /// Everything that arrives within `wait`.
    pub fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if let Some(v) = self.next(Duration::from_millis(100)) {
                out.push(v);
            }
        }
        out
    }

    pub fn send(&mut self, v: Value) {
        self.sock.send(Message::Text(v.to_string().into())).expect("ws send");
    }
}

pub fn group(c: &Client, name: &str, members: &[u64]) -> u64 {
    c.post("/api/v1/chat/groups", json!({"name": name, "member_ids": members})).expect(201, "")["id"]
        .as_u64()
        .expect("group id")
}

pub fn direct(c: &Client, peer: u64) -> u64 {
    c.post("/api/v1/chat/direct", json!({"user_id": peer})).ok()["id"].as_u64().expect("conversation id")
}

#[track_caller]
pub fn say(c: &Client, conv: u64, text: &str) -> Value {
    c.post(&format!("/api/v1/chat/conversations/{conv}/messages"), json!({"text": text})).expect(201, "")
}

pub fn history(c: &Client, conv: u64) -> Vec<Value> {
    c.get(&format!("/api/v1/chat/conversations/{conv}/messages?limit=200")).ok()["items"]
        .as_array()
        .expect("items")
        .clone()
}

pub fn texts(items: &[Value]) -> Vec<String> {
    items.iter().filter(|m| m["kind"] == "text").map(|m| m["text"].as_str().unwrap_or("").to_owned()).collect()
}

pub fn conversations(c: &Client) -> Vec<Value> {
    c.get("/api/v1/chat/conversations").ok()["items"].as_array().expect("items").clone()
}

pub fn conv_in_list(c: &Client, id: u64) -> Option<Value> {
    conversations(c).into_iter().find(|v| v["id"] == id)
}

/// A set-up server, its admin and the root department: the start of every chat scenario.
pub struct World {
    pub s: TestServer,
    pub admin: Client,
    pub dept: u64,
}

pub fn world() -> World {
    let s = TestServer::start();
    let admin = s.setup();
    let dept = admin.root_department();
    World { s, admin, dept }
}

impl World {
    /// A signed-in member of the root department.
    pub fn person(&self, userid: &str, name: &str) -> Person {
        self.s.person(&self.admin, userid, name, self.dept)
    }
}
