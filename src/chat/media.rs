//! Attachments: what an upload is (sniffed, never trusted from the client), image size and a
//! thumbnail generated once and stored as a blob. Decompression bombs are refused by limits on
//! dimensions and decoder memory before any pixel is decoded.

use super::model::{FileRef, MsgKind};
use crate::error::{AppError, AppResult};
use crate::platform::blobs::BlobRef;
use crate::platform::download::clean_file_name;
use crate::platform::Platform;
use image::ImageReader;
use std::io::BufReader;

/// Longest side of a thumbnail, in pixels.
const THUMB_SIDE: u32 = 360;
/// Largest image we decode (per side) and the decoder's memory ceiling.
const MAX_SIDE: u32 = 12_000;
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// Describe an upload for a message of `kind`: images are decoded (size, thumbnail), voice must
/// be audio, files keep their guessed type.
pub fn describe(
    p: &Platform,
    kind: MsgKind,
    blob: &BlobRef,
    filename: &str,
    duration_ms: Option<u32>,
) -> AppResult<FileRef> {
    let name = clean_file_name(filename);
    let mut f = FileRef { sha: blob.sha256.clone(), name: name.clone(), size: blob.size, ..FileRef::default() };
    match kind {
        MsgKind::Image => {
            f.mime = crate::platform::http::sniff_image(p, &blob.sha256)?.to_owned();
            let (w, h, thumb) = thumbnail(p, &blob.sha256)?;
            f.width = Some(w);
            f.height = Some(h);
            f.thumb_sha = Some(thumb);
        }
        MsgKind::Voice => {
            let declared = blob.content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if !declared.starts_with("audio/") && declared != "video/webm" {
                return Err(AppError::invalid("file", "invalid_voice", "A voice message must be an audio recording"));
            }
            f.mime = if declared == "video/webm" { "audio/webm".into() } else { declared };
            f.duration_ms = Some(duration_ms.unwrap_or(0).min(10 * 60 * 1000));
        }
        _ => {
            f.mime = mime_guess::from_path(&name).first_or_octet_stream().essence_str().to_owned();
        }
    }
    Ok(f)
}

/// Decode with limits and store a JPEG thumbnail. Returns (width, height, thumbnail sha).
fn thumbnail(p: &Platform, sha: &str) -> AppResult<(u32, u32, String)> {
    let bad = |why: String| AppError::invalid("file", "invalid_image", format!("The image cannot be read: {why}"));
    let file = p.blobs.open_file(sha)?;
    let mut reader = ImageReader::new(BufReader::new(file)).with_guessed_format().map_err(|e| bad(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| bad(e.to_string()))?;
    let (w, h) = (img.width(), img.height());
    let thumb = img.thumbnail(THUMB_SIDE, THUMB_SIDE).into_rgb8();
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80)
        .encode_image(&thumb)
        .map_err(|e| bad(e.to_string()))?;
    let stored = p.blobs.put_reader(&bytes[..], u64::MAX, "image/jpeg")?;
    Ok((w, h, stored.sha256))
}
