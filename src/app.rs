//! Builds the [`Platform`], mounts every feature's routes and runs the HTTP server. The only
//! module that knows all features.

use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::platform::auth::extract::{is_unsafe, CSRF_HEADER};
use crate::platform::auth::throttle::{Limits, Throttle};
use crate::platform::blobs::Blobs;
use crate::platform::clock::SharedClock;
use crate::platform::metrics::{ConnectionGuard, Metrics};
use crate::platform::store::Store;
use crate::platform::{Platform, Shutdown};
use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::{web, App, HttpResponse, HttpServer};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Open storage and build the shared state. Blocking: call outside the async runtime.
pub fn build_platform(config: Config, clock: SharedClock) -> AppResult<Platform> {
    let dir = config.data_dir.clone();
    std::fs::create_dir_all(&dir)?;
    // A restore staged by the admin console (or interrupted) is finished before opening.
    let restored = crate::platform::backup::apply_pending_restore(&dir)?;
    if restored {
        tracing::warn!("a staged restore was applied");
    }
    let (store, state) =
        Store::open(&dir, &crate::schema::SCHEMA, clock, &|store| features_before_migration(&dir, store))?;
    tracing::info!(?state, path = %store.path().display(), "storage ready");
    if restored {
        // Recorded in the restored database, so the audit trail shows when data was rolled back.
        let system = crate::platform::audit::Actor { id: 0, name: "system".into(), ip: String::new() };
        store.write_blocking(move |tx| {
            crate::platform::audit::record(
                tx,
                &system,
                "backup.restore_applied",
                "restore",
                serde_json::json!({ "sessions_ended": true }),
            )
        })?;
    }
    let blobs = Blobs::open(dir.join("blobs"))?;
    let setup_done = features_is_setup_done(&store)?;
    let (shutdown, _) = tokio::sync::watch::channel(None);
    let realtime = crate::platform::realtime::Realtime::new();
    store.provide(Arc::new(realtime.clone()));
    store.provide(Arc::new(crate::platform::settings::SettingsCache::default()));
    store.provide(Arc::new(crate::platform::auth::session::SessionCache::default()));
    store.provide(Arc::new(crate::accounts::app_password_auth::AppPasswordCache::default()));
    store.provide(Arc::new(crate::drive::dav::DavLocks::default()));
    features_realtime_feeds(&realtime);
    crate::org::store::set_member_hooks(MEMBER_HOOKS);
    crate::platform::uploads::install(&store, &blobs, UPLOAD_PURPOSES)?;
    let search = crate::platform::search::Search::new(crate::platform::search::index_dir(&dir));
    search.set_kinds(SEARCH_KINDS);
    Ok(Platform {
        config,
        store,
        blobs,
        throttle: Throttle::new(Limits::default()),
        metrics: Arc::new(Metrics::default()),
        setup_done: AtomicBool::new(setup_done),
        control_token: crate::platform::auth::session::random_token(),
        shutdown,
        search,
        realtime,
        extract: crate::platform::extract::Extractor::new(crate::platform::extract::Limits::default()),
    })
}

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

/// Paths reachable before the setup wizard has run.
fn allowed_before_setup(path: &str) -> bool {
    matches!(path, "/api/v1/system/status" | "/api/v1/setup" | "/api/v1/time-zones" | "/api/v1/auth/password-policy")
}

/// Setup gate and the CSRF header requirement for unsafe API calls without a session (the
/// custom header alone defeats cross-site form posts, since we never allow CORS).
fn api_gate(req: &ServiceRequest, p: &Platform) -> Option<AppError> {
    let path = req.path();
    if !path.starts_with("/api/") || path.starts_with("/api/v1/local/") {
        return None;
    }
    if !p.is_setup_done() && !allowed_before_setup(path) {
        return Some(AppError::conflict(
            "setup_required",
            "OfficeBox is not set up yet; complete the setup wizard first",
        ));
    }
    if is_unsafe(req.method()) && req.headers().get(CSRF_HEADER).is_none_or(|v| v.is_empty()) {
        return Some(AppError::new(actix_web::http::StatusCode::FORBIDDEN, "csrf_failed", "Missing CSRF token header"));
    }
    None
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz)).route("/metrics", web::get().to(metrics));
    features_routes(cfg);
    crate::platform::realtime::ws::routes(cfg);
    crate::platform::web::routes(cfg);
}

async fn healthz(p: web::Data<Platform>) -> HttpResponse {
    if p.store.is_poisoned() {
        return HttpResponse::ServiceUnavailable().body("storage failed; restart required");
    }
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Metrics reveal operational detail: served to loopback clients, or to anyone presenting
/// `metrics_token` as a bearer token (for a Prometheus on another host).
fn may_read_metrics(req: &actix_web::HttpRequest, p: &Platform) -> bool {
    if req.peer_addr().is_some_and(|a| a.ip().is_loopback()) && req.headers().get("x-forwarded-for").is_none() {
        return true;
    }
    let sent = req.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match (sent, p.config.metrics_token.as_str()) {
        (Some(t), expected) if !expected.is_empty() => {
            crate::platform::auth::extract::constant_time_eq(t.as_bytes(), expected.as_bytes())
        }
        _ => false,
    }
}

async fn metrics(p: web::Data<Platform>, req: actix_web::HttpRequest) -> HttpResponse {
    if !may_read_metrics(&req, &p) {
        return HttpResponse::Forbidden().json(serde_json::json!({"code": "forbidden", "message": "Metrics are served to localhost or with the metrics token"}));
    }
    let s = p.store.stats();
    let gauges = [
        ("officebox_db_size_bytes", "Size of data.redb.", p.store.file_size() as f64),
        ("officebox_writer_queue_depth", "Write use cases waiting for the writer.", p.store.queue_depth() as f64),
        ("officebox_writer_commits_total", "Group commits.", s.commits.load(Ordering::Relaxed) as f64),
        ("officebox_writer_jobs_total", "Write use cases run.", s.jobs.load(Ordering::Relaxed) as f64),
        (
            "officebox_writer_failed_jobs_total",
            "Write use cases that failed.",
            s.failed_jobs.load(Ordering::Relaxed) as f64,
        ),
        (
            "officebox_writer_run_seconds_total",
            "Time the writer spent running use cases.",
            s.run_micros.load(Ordering::Relaxed) as f64 / 1e6,
        ),
        (
            "officebox_writer_commit_seconds_total",
            "Time the writer spent in durable commits (page writes and fsync).",
            s.commit_micros.load(Ordering::Relaxed) as f64 / 1e6,
        ),
    ];
    let mut gauges = gauges.to_vec();
    gauges.extend(features_metrics(&p));
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(p.metrics.render(&gauges))
}

/// Build the actix server on an already-bound listener.
pub fn server(platform: web::Data<Platform>, listener: TcpListener) -> std::io::Result<actix_web::dev::Server> {
    let workers = platform.config.workers;
    let metrics_for_conn = platform.metrics.clone();
    let limit = platform.config.max_upload_bytes() as usize;
    let srv = HttpServer::new(move || {
        let p = platform.clone();
        App::new()
            .app_data(platform.clone())
            .app_data(web::JsonConfig::default().limit(1024 * 1024).error_handler(|e, _| json_error(e).into()))
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|e, _| AppError::bad_request("bad_request", e.to_string()).into()),
            )
            .app_data(web::PathConfig::default().error_handler(|_, _| AppError::not_found("object").into()))
            .app_data(web::PayloadConfig::default().limit(limit))
            .wrap_fn(move |req, srv| {
                let started = Instant::now();
                let id = format!("{:x}", REQUEST_IDS.fetch_add(1, Ordering::Relaxed));
                let (method, path) = (req.method().to_string(), req.path().to_owned());
                let gated = match api_gate(&req, &p) {
                    Some(e) => Err(req.error_response(e)),
                    None => Ok(srv.call(req)),
                };
                let p = p.clone();
                async move {
                    let mut res: ServiceResponse<EitherBody<_, BoxBody>> = match gated {
                        Err(refused) => refused.map_into_right_body(),
                        Ok(f) => f.await?.map_into_left_body(),
                    };
                    let status = res.status().as_u16();
                    let secs = started.elapsed().as_secs_f64();
                    p.metrics.observe(status, secs);
                    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&id) {
                        res.headers_mut().insert(actix_web::http::header::HeaderName::from_static("x-request-id"), v);
                    }
                    tracing::info!(request_id = %id, %method, %path, status, ms = (secs * 1000.0) as u64, "request");
                    Ok(res)
                }
            })
            // Outermost, so answers refused by the gate above carry the headers too.
            .wrap(crate::platform::web::security_headers())
            .configure(configure)
    })
    .on_connect(move |_, ext| {
        ext.insert(Arc::new(ConnectionGuard::new(metrics_for_conn.clone())));
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    Ok(srv)
}

fn json_error(e: actix_web::error::JsonPayloadError) -> AppError {
    use actix_web::error::JsonPayloadError as J;
    match e {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => AppError::payload_too_large(1024 * 1024),
        J::ContentType => AppError::bad_request("bad_request", "Send JSON with Content-Type: application/json"),
        J::Deserialize(d) => AppError::bad_request("bad_request", format!("Invalid JSON body: {d}")),
        other => AppError::bad_request("bad_request", format!("Invalid request body: {other}")),
    }
}

/// Bind, write `run.json` for the CLI, serve until stopped. Returns why we stopped.
pub async fn run(platform: web::Data<Platform>, listener: TcpListener) -> AppResult<Option<Shutdown>> {
    let addr = listener.local_addr()?;
    features_start_background_jobs(&platform);
    write_run_file(&platform, addr)?;
    let srv = server(platform.clone(), listener)?;
    let handle = srv.handle();
    let mut rx = platform.shutdown.subscribe();
    let stop = handle.clone();
    actix_web::rt::spawn(async move {
        if rx.wait_for(|s| s.is_some()).await.is_ok() {
            stop.stop(true).await;
        }
    });
    // SIGTERM (systemd, docker stop) and Ctrl-C: finish in-flight requests, then stop.
    actix_web::rt::spawn(async move {
        wait_for_stop_signal().await;
        tracing::info!("stop signal received; shutting down gracefully");
        handle.stop(true).await;
    });
    srv.await?;
    let _ = std::fs::remove_file(platform.config.data_dir.join("run.json"));
    let reason = *platform.shutdown.borrow();
    Ok(reason)
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Drop our handle and wait until actix's workers have dropped theirs, so the store is closed
/// and the data directory can be opened again (restart after a restore, tests).
pub fn release(platform: web::Data<Platform>) {
    let arc = platform.into_inner();
    let start = Instant::now();
    let deadline = start + std::time::Duration::from_secs(60);
    while Arc::strong_count(&arc) > 1 && Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    if Arc::strong_count(&arc) > 1 {
        // The restart will report the data directory as in use; say why first.
        tracing::warn!(held = Arc::strong_count(&arc) - 1, "platform handles still held a minute after the stop");
    } else if start.elapsed() > std::time::Duration::from_secs(2) {
        tracing::info!(took_ms = start.elapsed().as_millis() as u64, "slow release of the platform after the stop");
    }
    drop(arc);
}

/// How the CLI finds a running server: address and the control token, readable by owner only.
fn write_run_file(p: &Platform, addr: std::net::SocketAddr) -> AppResult<()> {
    let host = if addr.ip().is_unspecified() { "127.0.0.1".to_owned() } else { addr.ip().to_string() };
    let body = serde_json::json!({
        "url": format!("http://{}", std::net::SocketAddr::new(host.parse().unwrap_or([127, 0, 0, 1].into()), addr.port())),
        "control_token": p.control_token,
        "pid": std::process::id(),
    });
    let path = p.config.data_dir.join("run.json");
    let tmp = p.config.data_dir.join("run.json.tmp");
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).write(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp)?;
        f.write_all(body.to_string().as_bytes())?;
    }
    std::fs::rename(tmp, path)?;
    Ok(())
}

// ---- the features, wired in one place ----

fn features_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .configure(crate::setup::api::routes)
            .configure(crate::accounts::api::routes)
            .configure(crate::accounts::app_passwords::routes)
            .configure(crate::org::api::routes)
            .configure(crate::search::api::routes)
            .configure(crate::org::import::api::routes)
            .configure(crate::admin::api::routes)
            .configure(crate::admin::backup::routes)
            .configure(crate::chat::api::routes)
            .configure(crate::notice::api::routes)
            .configure(crate::drive::api::routes)
            .configure(crate::platform::uploads::api::routes)
            .configure(crate::drive::links::routes)
            .configure(crate::drive::public_api::routes),
    );
    crate::drive::dav::routes(cfg);
}

/// Features whose persisted events a reconnecting socket may have missed.
fn features_realtime_feeds(realtime: &crate::platform::realtime::Realtime) {
    realtime.add_feed(Arc::new(crate::chat::feed::ChatFeed));
}

/// What resumable uploads (`/api/v1/uploads`, tus) may be for; the client names the purpose in
/// `Upload-Metadata`.
static UPLOAD_PURPOSES: &[crate::platform::uploads::UploadPurpose] = &[crate::drive::uploads_purpose::PURPOSE];

/// Hooks other features run inside every member write (same transaction).
static MEMBER_HOOKS: &[crate::org::store::MemberHook] = &[
    crate::chat::depts::on_member_changed,
    crate::drive::hooks::on_member_changed,
    crate::accounts::app_passwords::on_member_changed,
];

fn features_is_setup_done(store: &Store) -> AppResult<bool> {
    crate::setup::service::is_setup_done(store)
}

/// Before a schema migration: an automatic backup into `backups/`.
fn features_before_migration(dir: &std::path::Path, store: &Store) -> AppResult<()> {
    tracing::warn!(dir = %dir.display(), "schema migration pending; taking an automatic backup first");
    let blobs = Blobs::open(dir.join("blobs"))?;
    // Named outside the daily pattern so the schedule never prunes it.
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let path = dir.join("backups").join(format!("pre-migration-{stamp}.zip"));
    std::fs::create_dir_all(dir.join("backups"))?;
    crate::platform::backup::backup_to_file(store, &blobs, &path)?;
    tracing::info!(path = %path.display(), "pre-migration backup written");
    Ok(())
}

fn features_start_background_jobs(p: &web::Data<Platform>) {
    crate::admin::backup::start_schedule(p);
    start_blob_gc(p);
    crate::notice::publish::start_jobs(p);
    crate::chat::housekeeping::start_jobs(p);
    crate::platform::realtime::trim::start_job(p);
    crate::drive::hooks::start_jobs(p);
    crate::drive::extraction::start(p);
    crate::platform::uploads::expiry::start_job(p);
    if let Err(e) = p.search.start(p.store.clone(), Arc::new(features_search_documents)) {
        tracing::error!(error = %e, "cannot start the search indexer");
    }
}

/// Files are kept a day after their last reference goes (and after upload, before the row that
/// references them commits); collection skips any hour in which a backup is reading blobs.
const BLOB_GRACE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

fn start_blob_gc(p: &web::Data<Platform>) {
    use crate::platform::jobs::{every_blocking, First};
    let hourly = std::time::Duration::from_secs(3600);
    every_blocking(p, "unreferenced files removed", hourly, First::AfterPeriod, |p| {
        if crate::platform::backup::backup_in_progress() {
            return Ok(0);
        }
        let referenced =
            crate::platform::blobs::BLOB_REFS.all_in(&p.store.begin_read()?)?.into_iter().map(|(sha, _)| sha).collect();
        Ok(p.blobs.collect_garbage(&referenced, BLOB_GRACE)?.removed)
    });
}

/// What the global search finds, in the order results are listed. Each feature brings its
/// kind: its documents (rebuilds), what a user may find (a filter inside the index) and the
/// re-check of every hit against redb. Announcements plug in here with their own kind.
static SEARCH_KINDS: &[crate::platform::search::SearchKind] = &[
    crate::org::search_api::PEOPLE,
    crate::chat::search::GROUPS,
    crate::chat::search::MESSAGES,
    crate::notice::search::SEARCH_KIND,
    crate::drive::search::SEARCH_KIND,
];

/// Every search document of every kind, streamed from one snapshot (index rebuilds).
pub fn features_search_documents(
    txn: &redb::ReadTransaction,
    sink: &mut crate::platform::search::Sink,
) -> AppResult<()> {
    for kind in SEARCH_KINDS {
        (kind.documents)(txn, sink)?;
    }
    Ok(())
}

fn features_metrics(p: &Platform) -> Vec<(&'static str, &'static str, f64)> {
    let mut g = p.search.gauges(&p.store);
    g.extend(p.realtime.gauges());
    g
}
