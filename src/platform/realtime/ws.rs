//! `GET /ws?since=SEQ`: one WebSocket per tab.
//!
//! Order of work for a connection: check the session and the Origin, register in the hub (live
//! frames start queueing), read the backlog (> since) from ONE snapshot, send it in seq order,
//! send `hello` with the snapshot's seq, then forward live frames whose seq is above it. A
//! frame committed before the snapshot is in the backlog and skipped live; one committed after
//! it is queued live: nothing lost, nothing twice.

use super::{user_backlog, Frame, Realtime};
use crate::error::{AppError, AppResult};
use crate::platform::auth::Auth;
use crate::platform::store::meta;
use crate::platform::Platform;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Message};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// More missed events than this: the client gets `resync` and reloads its lists instead.
pub const MAX_BACKLOG: usize = 2000;
const MAX_CLIENT_FRAME: usize = 64 * 1024;
const PING_EVERY: Duration = Duration::from_secs(25);
const IDLE_TIMEOUT: Duration = Duration::from_secs(70);
/// Client frames allowed per 10 s window (typing, presence, ping); more closes the socket.
const CLIENT_FRAMES_PER_WINDOW: u32 = 200;
/// Sockets one user may hold open (tabs and devices); one more is refused with 429.
pub const MAX_SOCKETS_PER_USER: usize = 16;
/// Close code for a socket whose session was signed out, revoked or expired.
pub const CLOSE_SESSION_ENDED: u16 = 4001;
pub const SESSION_ENDED: &str = r#"{"type":"session_ended"}"#;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/ws", web::get().to(connect));
}

#[derive(Deserialize)]
struct ConnectQuery {
    since: Option<u64>,
}

/// A browser's Origin must be ours: the configured public URL, or the host it asked for.
/// Non-browser clients send no Origin and are judged by their session alone.
fn origin_allowed(req: &HttpRequest, p: &Platform) -> bool {
    let Some(origin) = req.headers().get("origin").and_then(|v| v.to_str().ok()) else { return true };
    let origin = origin.trim_end_matches('/');
    if !p.config.public_url.is_empty() && origin.eq_ignore_ascii_case(origin_of(&p.config.public_url)) {
        return true;
    }
    let host = req.connection_info().host().to_owned();
    let bare = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    !host.is_empty() && bare.eq_ignore_ascii_case(&host)
}

fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

async fn connect(
    req: HttpRequest,
    body: web::Payload,
    auth: Auth,
    p: web::Data<Platform>,
    q: web::Query<ConnectQuery>,
) -> AppResult<HttpResponse> {
    if !origin_allowed(&req, &p) {
        return Err(AppError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "origin_denied",
            "This page's origin may not open a live connection",
        ));
    }
    if p.realtime.hub.sockets_of(auth.user_id) >= MAX_SOCKETS_PER_USER {
        return Err(AppError::new(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            "too_many_connections",
            "Too many open windows for this account; close some and reload",
        ));
    }
    let (response, session, stream) =
        actix_ws::handle(&req, body).map_err(|e| AppError::bad_request("websocket_expected", e.to_string()))?;
    let stream = stream.max_frame_size(MAX_CLIENT_FRAME);
    let rt = p.realtime.clone();
    let reg = rt.hub.register(auth.user_id, &auth.token_hash);
    let socket = Socket {
        p: p.clone(),
        rt,
        user: auth.user_id,
        session_hash: auth.token_hash.clone(),
        client_id: reg.client_id,
        session,
    };
    actix_web::rt::spawn(socket.run(reg.rx, stream, q.since));
    Ok(response)
}

struct Socket {
    p: web::Data<Platform>,
    rt: Realtime,
    user: u64,
    session_hash: String,
    client_id: u64,
    session: actix_ws::Session,
}

enum Backlog {
    Events(Vec<(u64, String)>, u64),
    TooMany(u64),
}

impl Socket {
    async fn run(
        mut self,
        mut rx: tokio::sync::mpsc::Receiver<Frame>,
        mut stream: actix_ws::MessageStream,
        since: Option<u64>,
    ) {
        let outcome = self.serve(&mut rx, &mut stream, since).await;
        self.rt.hub.unregister(self.client_id);
        let reason = match outcome {
            Ok(()) => None,
            Err(code) => Some(CloseReason { code, description: None }),
        };
        let _ = self.session.close(reason).await;
    }

    /// Runs until the client goes away (Ok) or we close it (Err with the close code).
    async fn serve(
        &mut self,
        rx: &mut tokio::sync::mpsc::Receiver<Frame>,
        stream: &mut actix_ws::MessageStream,
        since: Option<u64>,
    ) -> Result<(), CloseCode> {
        let mut sent_up_to = self.send_backlog(since).await?;
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        let mut last_heard = Instant::now();
        let (mut window_start, mut window_frames) = (Instant::now(), 0u32);
        loop {
            tokio::select! {
                frame = rx.recv() => {
                    let Some(frame) = frame else { return Err(CloseCode::Again) };
                    if let Some(seq) = frame.seq {
                        if seq <= sent_up_to { continue; }
                        sent_up_to = seq;
                    }
                    self.text(&frame.json).await?;
                    if frame.seq.is_none() && &*frame.json == SESSION_ENDED {
                        return Err(CloseCode::Other(CLOSE_SESSION_ENDED));
                    }
                }
                msg = futures_util::StreamExt::next(stream) => {
                    last_heard = Instant::now();
                    match msg {
                        None | Some(Ok(Message::Close(_))) => return Ok(()),
                        Some(Err(actix_ws::ProtocolError::Overflow)) => return Err(CloseCode::Size),
                        Some(Err(_)) => return Err(CloseCode::Protocol),
                        Some(Ok(Message::Ping(b))) => { let _ = self.session.pong(&b).await; }
                        Some(Ok(Message::Text(t))) => {
                            if window_start.elapsed() > Duration::from_secs(10) {
                                (window_start, window_frames) = (Instant::now(), 0);
                            }
                            window_frames += 1;
                            if window_frames > CLIENT_FRAMES_PER_WINDOW {
                                return Err(CloseCode::Policy);
                            }
                            self.client_frame(&t).await?;
                        }
                        Some(Ok(_)) => {}
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > IDLE_TIMEOUT {
                        return Err(CloseCode::Away);
                    }
                    if !self.session_live() {
                        let _ = self.text(SESSION_ENDED).await;
                        return Err(CloseCode::Other(CLOSE_SESSION_ENDED));
                    }
                    if self.session.ping(b"").await.is_err() { return Ok(()); }
                }
            }
        }
    }

    /// The session still exists and has not expired (checked on every ping tick, so an
    /// expired session's socket closes within [`PING_EVERY`]; revocations close it at once).
    fn session_live(&self) -> bool {
        use crate::platform::auth::session::{is_live, SecuritySettings, SESSIONS};
        use crate::platform::settings::SettingsDoc;
        let Ok(txn) = self.p.store.begin_read() else { return true };
        match (SESSIONS.get_in(&txn, &self.session_hash), SecuritySettings::load(&txn)) {
            (Ok(Some(rec)), Ok(settings)) => is_live(&rec, &settings, self.p.now_ms()),
            (Ok(None), _) => false,
            _ => true, // a storage hiccup is not a reason to drop everyone
        }
    }

    async fn text(&mut self, s: &str) -> Result<(), CloseCode> {
        self.session.text(s.to_owned()).await.map_err(|_| CloseCode::Away)
    }

    /// Sends what the client missed and `hello`; returns the seq the client is now up to.
    async fn send_backlog(&mut self, since: Option<u64>) -> Result<u64, CloseCode> {
        let (p, rt, user) = (self.p.clone(), self.rt.clone(), self.user);
        let backlog = web::block(move || read_backlog(&p, &rt, user, since)).await;
        match backlog {
            Ok(Ok(Backlog::Events(events, seq))) => {
                for (_, json) in events {
                    self.text(&json).await?;
                }
                self.text(&json!({"type": "hello", "seq": seq}).to_string()).await?;
                Ok(seq)
            }
            Ok(Ok(Backlog::TooMany(seq))) => {
                self.text(&json!({"type": "resync", "seq": seq}).to_string()).await?;
                self.text(&json!({"type": "hello", "seq": seq}).to_string()).await?;
                Ok(seq)
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "websocket backlog failed");
                Err(CloseCode::Error)
            }
            Err(_) => Err(CloseCode::Error),
        }
    }

    async fn client_frame(&mut self, text: &str) -> Result<(), CloseCode> {
        let Ok(frame) = serde_json::from_str::<Value>(text) else { return Err(CloseCode::Invalid) };
        match frame.get("type").and_then(Value::as_str) {
            Some("ping") => self.text(r#"{"type":"pong"}"#).await,
            Some("watch_presence") => {
                let ids: Vec<u64> = frame
                    .get("user_ids")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_u64).collect())
                    .unwrap_or_default();
                self.rt.hub.watch(self.client_id, ids);
                Ok(())
            }
            Some(_) => {
                let (p, rt, user) = (self.p.clone(), self.rt.clone(), self.user);
                let routed = web::block(move || -> AppResult<Option<(Vec<u64>, String)>> {
                    let txn = p.store.begin_read()?;
                    for feed in rt.feeds() {
                        if let Some(out) = feed.client_frame(&txn, user, &frame)? {
                            return Ok(Some(out));
                        }
                    }
                    Ok(None)
                })
                .await;
                if let Ok(Ok(Some((users, json)))) = routed {
                    self.rt.send_now(users, json);
                }
                Ok(())
            }
            None => Err(CloseCode::Invalid),
        }
    }
}

fn read_backlog(p: &Platform, rt: &Realtime, user: u64, since: Option<u64>) -> AppResult<Backlog> {
    let txn = p.store.begin_read()?;
    let seq = meta::current_seq(&txn)?;
    let Some(since) = since else { return Ok(Backlog::Events(Vec::new(), seq)) };
    if since == seq {
        return Ok(Backlog::Events(Vec::new(), seq));
    }
    if since > seq {
        // The client has seen a future we do not have (a restore went back in time): reload.
        return Ok(Backlog::TooMany(seq));
    }
    let mut all = user_backlog(&txn, user, since, MAX_BACKLOG)?;
    for feed in rt.feeds() {
        if all.len() > MAX_BACKLOG {
            break;
        }
        all.extend(feed.backlog(&txn, user, since, MAX_BACKLOG)?);
    }
    if all.len() > MAX_BACKLOG {
        return Ok(Backlog::TooMany(seq));
    }
    all.sort_by_key(|(s, _)| *s);
    all.dedup_by_key(|(s, _)| *s);
    Ok(Backlog::Events(all, seq))
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn origin_of_a_public_url() {
        assert_eq!(origin_of("https://oa.example.com"), "https://oa.example.com");
        assert_eq!(origin_of("https://oa.example.com/officebox"), "https://oa.example.com");
        assert_eq!(origin_of("http://10.0.0.2:8080/"), "http://10.0.0.2:8080");
    }
}
