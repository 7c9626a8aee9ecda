//! `GET /drive/zip?ids=1,2,3&name=资料`: a zip of files and folders streamed as it is written.
//!
//! No temp file and no archive in memory: a blocking thread writes the zip (stored entries, no
//! compression, UTF-8 names, streaming data descriptors) into a writer that hands 64 KiB chunks
//! to a bounded channel; the response body reads that channel. A client that goes away closes
//! the channel and the writer stops at its next chunk.

use super::content::{attachment, zip_entries};
use super::model::Node;
use super::store::{self, Rd};
use crate::error::{AppError, AppResult};
use crate::platform::auth::extract::Auth;
use crate::platform::Platform;
use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use serde::Deserialize;
use std::io::Write;
use tokio::sync::mpsc;

const CHUNK: usize = 64 * 1024;
/// Most ids in one request.
const MAX_IDS: usize = 1000;

/// A `Write` that sends full chunks into the response channel (blocking thread side).
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

#[derive(Deserialize)]
pub struct ZipQuery {
    ids: String,
    name: Option<String>,
}

pub fn parse_ids(s: &str) -> AppResult<Vec<u64>> {
    let ids: Result<Vec<u64>, _> = s.split(',').filter(|x| !x.trim().is_empty()).map(|x| x.trim().parse()).collect();
    let ids = ids.map_err(|_| AppError::bad_request("bad_request", "ids must be comma-separated numbers"))?;
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(AppError::bad_request("bad_request", "Give 1 to 1000 ids"));
    }
    Ok(ids)
}

/// Entries of a zip: the path inside the archive ("a/b/" for a folder) and the file, if any.
pub type Entries = Vec<(String, Option<Node>)>;

pub async fn download(p: web::Data<Platform>, auth: Auth, q: web::Query<ZipQuery>) -> AppResult<HttpResponse> {
    let ids = parse_ids(&q.ids)?;
    let entries = zip_entries(&p.store.begin_read()?, auth.user_id, &ids)?;
    Ok(respond(&p, entries, q.name.as_deref()))
}

/// Everything under `top` (which the reader may see whole: a share link's subtree), with paths
/// starting at `top`'s name. Trashed nodes are not in the folder indexes, so they are skipped.
pub fn subtree_entries(r: &impl Rd, top: &Node, out: &mut Entries) -> AppResult<()> {
    if !top.is_folder() {
        out.push((top.name.clone(), Some(top.clone())));
        return Ok(());
    }
    out.push((format!("{}/", top.name), None));
    let mut stack = vec![(top.name.clone(), top.id)];
    while let Some((prefix, folder)) = stack.pop() {
        for c in store::child_ids(r, folder)? {
            let n = store::node(r, c)?;
            let path = format!("{prefix}/{}", n.name);
            if n.is_folder() {
                out.push((format!("{path}/"), None));
                stack.push((path, n.id));
            } else {
                out.push((path, Some(n)));
            }
        }
    }
    Ok(())
}

/// The streaming response for `entries`, named `{name}.zip` ("download.zip" without a name).
pub fn respond(p: &web::Data<Platform>, entries: Entries, name: Option<&str>) -> HttpResponse {
    let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or("download");
    let filename = format!("{}.zip", crate::platform::download::clean_file_name(name));
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let p2 = p.clone();
    std::thread::spawn(move || {
        let err_tx = tx.clone();
        if let Err(e) = write_zip(&p2, entries, ChannelWriter { tx, buf: Vec::with_capacity(CHUNK) }) {
            tracing::warn!(error = %e, "zip download stopped");
            let _ = err_tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(("Content-Disposition", attachment(&filename)))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(body)
}

fn write_zip(p: &Platform, entries: Entries, w: ChannelWriter) -> AppResult<()> {
    use zip4::write::SimpleFileOptions;
    let mut z = zip4::ZipWriter::new_stream(w);
    let stored = SimpleFileOptions::default().compression_method(zip4::CompressionMethod::Stored);
    let zerr = |e: zip4::result::ZipError| AppError::internal(e);
    for (path, node) in entries {
        match node {
            None => z.add_directory(path.trim_end_matches('/'), stored).map_err(zerr)?,
            Some(n) => {
                let opts = stored.large_file(n.size >= u32::MAX as u64);
                z.start_file(path, opts).map_err(zerr)?;
                let mut f = p.blobs.open_file(n.sha.as_deref().unwrap_or(""))?;
                std::io::copy(&mut f, &mut z)?;
            }
        }
    }
    let mut w = z.finish().map_err(zerr)?;
    w.flush()?;
    Ok(())
}
