//! Stored files are streamed in 512 KiB positioned reads (src/platform/download.rs): the whole
//! body, ranges across chunk boundaries, suffix ranges and conditional answers must be exactly
//! what actix-files would have sent.

use crate::common::TestServer;
use reqwest::Method;

/// 1.3 MiB that differ at every offset that matters (not a multiple of the chunk size).
fn content() -> Vec<u8> {
    (0..1_300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

#[test]
fn multi_chunk_downloads_and_ranges_are_byte_exact() {
    let s = TestServer::start();
    let c = s.setup();
    let root = c.get("/api/v1/drive/spaces").ok()["items"][0]["root_id"].as_u64().expect("root");
    let data = content();
    let node = c.upload(Method::POST, &format!("/api/v1/drive/nodes/{root}/files"), "大文件.bin", data.clone());
    let id = node.ok()["id"].as_u64().expect("id");
    let url = format!("/api/v1/drive/nodes/{id}/content");

    let full = c.get(&url);
    assert_eq!(full.status.as_u16(), 200);
    assert_eq!(full.headers["content-length"], data.len().to_string().as_str());
    assert!(full.bytes == data, "the whole body differs");

    // Across the first chunk boundary (524,288), a suffix, and an open end.
    for (range, from, to) in [
        ("bytes=524000-525000", 524_000, 525_001),
        ("bytes=-100", data.len() - 100, data.len()),
        ("bytes=1048570-", 1_048_570, data.len()),
        ("bytes=0-0", 0, 1),
    ] {
        let part = c.send_built(c.raw(Method::GET, &url).header("Range", range));
        assert_eq!(part.status.as_u16(), 206, "{range}");
        assert_eq!(part.bytes.len(), to - from, "{range}");
        assert!(part.bytes == data[from..to], "{range}: wrong bytes");
    }
    let bad = c.send_built(c.raw(Method::GET, &url).header("Range", "bytes=2000000-"));
    assert_eq!(bad.status.as_u16(), 416);

    let etag = full.headers["etag"].to_str().expect("etag").to_owned();
    let again = c.send_built(c.raw(Method::GET, &url).header("If-None-Match", etag));
    assert_eq!(again.status.as_u16(), 304);
    assert!(again.bytes.is_empty());
}
