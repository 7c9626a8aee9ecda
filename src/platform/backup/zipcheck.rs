//! A strict walk over the zip structure, done before the zip reader is trusted with anything.
//!
//! It accepts the layout our writer produces and little else: local headers back to back from
//! offset 0, each one repeating its central-directory record (so a damaged header byte is found
//! even where the zip reader would not look), then the central directory, the optional zip64
//! records and the end record with no comment. Entries must be regular files with safe, unique
//! names, stored or deflated, unencrypted, within the size limits.

use super::{invalid_archive, Limits};
use crate::error::AppResult;
use std::collections::HashSet;
use std::io::{BufReader, Read, Seek, SeekFrom};

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD64_SIG: u32 = 0x0606_4b50;
const LOCATOR_SIG: u32 = 0x0706_4b50;
const U32_MAX: u64 = 0xFFFF_FFFF;
const FLAG_UTF8: u16 = 1 << 11;
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFDIR: u32 = 0o040_000;
const UNIX: u16 = 3;
/// External attributes of every entry we write: a regular file, mode 0600, no DOS bits.
const ENTRY_ATTRS: u32 = (S_IFREG | 0o600) << 16;

/// One entry as the central directory describes it (and its local header confirms).
#[derive(Debug, Clone)]
pub(crate) struct RawEntry {
    pub name: String,
    pub method: u16,
    pub compressed: u64,
    pub size: u64,
    pub header_start: u64,
    pub data_start: u64,
    fixed: [u8; 26],
    extra: Vec<u8>,
}

struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn u16(&self, at: usize) -> u16 {
        u16::from_le_bytes([self.0[at], self.0[at + 1]])
    }
    fn u32(&self, at: usize) -> u32 {
        u32::from_le_bytes([self.0[at], self.0[at + 1], self.0[at + 2], self.0[at + 3]])
    }
    fn u64(&self, at: usize) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.0[at..at + 8]);
        u64::from_le_bytes(b)
    }
}

fn read_at<R: Read + Seek>(r: &mut R, at: u64, buf: &mut [u8]) -> AppResult<()> {
    r.seek(SeekFrom::Start(at)).and_then(|_| r.read_exact(buf)).map_err(|_| truncated())
}

fn truncated() -> crate::error::AppError {
    invalid_archive("the archive is truncated or damaged (a zip record is cut off)")
}

/// Where the central directory is and how many records it holds.
fn find_directory<R: Read + Seek>(r: &mut R, len: u64) -> AppResult<(u64, u64, u64)> {
    if len < 22 {
        return Err(invalid_archive("not a zip archive (the file is too short)"));
    }
    let mut eocd = [0u8; 22];
    read_at(r, len - 22, &mut eocd)?;
    let f = Fields(&eocd);
    if f.u32(0) != EOCD_SIG {
        return Err(invalid_archive(
            "not a zip archive, or truncated: there is no end-of-archive record at the end of the file",
        ));
    }
    if f.u16(4) != 0 || f.u16(6) != 0 || f.u16(8) != f.u16(10) || f.u16(20) != 0 {
        return Err(invalid_archive(
            "the end-of-archive record is damaged (or the archive spans disks, or has a comment)",
        ));
    }
    let (mut count, mut cd_size, mut cd_off) = (u64::from(f.u16(10)), u64::from(f.u32(12)), u64::from(f.u32(16)));
    let mut cd_end = len - 22;
    let mut locator = [0u8; 20];
    if len >= 22 + 20 + 56 {
        read_at(r, len - 42, &mut locator)?;
    }
    if Fields(&locator).u32(0) == LOCATOR_SIG {
        let l = Fields(&locator);
        let eocd64_off = l.u64(8);
        if l.u32(4) != 0 || l.u32(16) != 1 || eocd64_off.checked_add(56) != Some(len - 42) {
            return Err(invalid_archive("the zip64 end-of-archive locator is damaged"));
        }
        let mut e = [0u8; 56];
        read_at(r, eocd64_off, &mut e)?;
        let e = Fields(&e);
        let damaged = e.u32(0) != EOCD64_SIG
            || e.u64(4) != 44
            || e.u16(12) != e.u16(14)
            || e.u32(16) != 0
            || e.u32(20) != 0
            || e.u64(24) != e.u64(32);
        if damaged {
            return Err(invalid_archive("the zip64 end-of-archive record is damaged"));
        }
        let clamp = |v: u64, max: u64, small: u64| if v >= max { max == small } else { v == small };
        if !clamp(e.u64(32), 0xFFFF, count) || !clamp(e.u64(40), U32_MAX, cd_size) || !clamp(e.u64(48), U32_MAX, cd_off)
        {
            return Err(invalid_archive("the end-of-archive records disagree"));
        }
        (count, cd_size, cd_off) = (e.u64(32), e.u64(40), e.u64(48));
        cd_end = eocd64_off;
    }
    if cd_off.checked_add(cd_size) != Some(cd_end) {
        return Err(invalid_archive("the central directory is not where the end-of-archive record says (truncated?)"));
    }
    Ok((count, cd_off, cd_size))
}

/// Why a name is unsafe to ever turn into a path, if it is.
pub(crate) fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("an empty name")
    } else if name.starts_with('/') || name.as_bytes().get(1) == Some(&b':') {
        Some("an absolute path")
    } else if name.contains('\\') {
        Some("a backslash")
    } else if name.split('/').any(|c| c == "..") || name.contains("..") {
        Some("\"..\"")
    } else if name.split('/').any(|c| c.is_empty() || c == ".") {
        Some("an empty or \".\" path component")
    } else if name.chars().any(|c| c.is_control()) {
        Some("a control character")
    } else {
        None
    }
}

fn parse_central(rec: &[u8; 46], name: &[u8], extra: &[u8]) -> AppResult<RawEntry> {
    let f = Fields(rec);
    let name = std::str::from_utf8(name).map_err(|_| invalid_archive("an entry name is not UTF-8"))?.to_owned();
    let (made_by, needed, flags, method) = (f.u16(4), f.u16(6), f.u16(8), f.u16(10));
    let mode = f.u32(38) >> 16;
    if made_by >> 8 != UNIX {
        return Err(invalid_archive(format!("entry {name:?} was not written by OfficeBox (no unix file mode)")));
    }
    match mode & S_IFMT {
        S_IFREG => {}
        S_IFLNK => return Err(invalid_archive(format!("refusing entry {name:?}: it is a symbolic link"))),
        S_IFDIR => return Err(invalid_archive(format!("refusing entry {name:?}: it is a directory"))),
        _ => return Err(invalid_archive(format!("refusing entry {name:?}: it is not a regular file"))),
    }
    if let Some(why) = unsafe_name(&name) {
        return Err(invalid_archive(format!("refusing entry {name:?}: its name contains {why}")));
    }
    // Canonical form of our writer: mode exactly 0100600, "made by" = "needed to extract".
    if f.u32(38) != ENTRY_ATTRS || made_by & 0xff != needed {
        return Err(invalid_archive(format!("the directory record of {name:?} is damaged")));
    }
    if flags & 1 != 0 {
        return Err(invalid_archive(format!("entry {name:?} is encrypted")));
    }
    if flags & !FLAG_UTF8 != 0 {
        return Err(invalid_archive(format!("entry {name:?} uses zip features OfficeBox does not write")));
    }
    if method != 0 && method != 8 {
        return Err(invalid_archive(format!("entry {name:?} uses an unsupported compression method ({method})")));
    }
    if f.u16(34) != 0 || f.u16(36) != 0 {
        return Err(invalid_archive(format!("the directory record of {name:?} is damaged")));
    }
    // Resolve the zip64 extra field: present values replace the 0xFFFFFFFF placeholders.
    let (mut size, mut compressed, mut offset) = (u64::from(f.u32(24)), u64::from(f.u32(20)), u64::from(f.u32(42)));
    let mut rest = extra;
    let mut seen_zip64 = false;
    while !rest.is_empty() {
        let e = Fields(rest);
        if rest.len() < 4 || rest.len() < 4 + usize::from(e.u16(2)) || e.u16(0) != 1 || seen_zip64 {
            return Err(invalid_archive(format!("the extra field of {name:?} is damaged or unexpected")));
        }
        let data = &rest[4..4 + usize::from(e.u16(2))];
        let mut at = 0;
        for v in [&mut size, &mut compressed, &mut offset] {
            if *v == U32_MAX {
                if data.len() < at + 8 {
                    return Err(invalid_archive(format!("the zip64 field of {name:?} is damaged")));
                }
                *v = Fields(data).u64(at);
                at += 8;
            }
        }
        if at != data.len() {
            return Err(invalid_archive(format!("the zip64 field of {name:?} is damaged")));
        }
        seen_zip64 = true;
        rest = &rest[4 + data.len()..];
    }
    if method == 0 && size != compressed {
        return Err(invalid_archive(format!("entry {name:?} is damaged (stored sizes disagree)")));
    }
    let mut fixed = [0u8; 26];
    // version needed .. extra length, as the local header repeats them.
    fixed.copy_from_slice(&rec[6..32]);
    Ok(RawEntry { name, method, compressed, size, header_start: offset, data_start: 0, fixed, extra: extra.to_vec() })
}

/// Walk the whole structure. Returns the entries in file order.
pub(crate) fn walk<R: Read + Seek>(r: &mut R, limits: &Limits) -> AppResult<Vec<RawEntry>> {
    let len = r.seek(SeekFrom::End(0)).map_err(|_| truncated())?;
    let (count, cd_off, cd_size) = find_directory(r, len)?;
    if count > limits.max_entries || count.saturating_mul(46) > cd_size {
        return Err(invalid_archive(format!("the archive claims {count} entries; refusing")));
    }
    r.seek(SeekFrom::Start(cd_off)).map_err(|_| truncated())?;
    let mut cd = BufReader::with_capacity(64 * 1024, Read::take(&mut *r, cd_size));
    let mut entries = Vec::with_capacity(count.min(1 << 16) as usize);
    let mut names = HashSet::new();
    let (mut total, mut consumed) = (0u64, 0u64);
    for _ in 0..count {
        let mut rec = [0u8; 46];
        cd.read_exact(&mut rec).map_err(|_| truncated())?;
        let f = Fields(&rec);
        if f.u32(0) != CENTRAL_SIG {
            return Err(invalid_archive("the central directory is damaged"));
        }
        let (n, x, c) = (usize::from(f.u16(28)), usize::from(f.u16(30)), usize::from(f.u16(32)));
        let mut var = vec![0u8; n + x + c];
        cd.read_exact(&mut var).map_err(|_| truncated())?;
        consumed += (46 + n + x + c) as u64;
        if c != 0 {
            return Err(invalid_archive("an entry has a comment; OfficeBox never writes one (damaged archive?)"));
        }
        let e = parse_central(&rec, &var[..n], &var[n..n + x])?;
        if !names.insert(e.name.clone()) {
            return Err(invalid_archive(format!("duplicate entry {:?}", e.name)));
        }
        if e.size > limits.max_entry_bytes {
            return Err(invalid_archive(format!(
                "entry {:?} is {} bytes uncompressed, over the limit of {} bytes",
                e.name, e.size, limits.max_entry_bytes
            )));
        }
        if e.size > limits.ratio_floor_bytes && e.size / e.compressed.max(1) > limits.max_ratio {
            return Err(invalid_archive(format!(
                "entry {:?} expands {}:1 (over {}:1): refusing a possible zip bomb",
                e.name,
                e.size / e.compressed.max(1),
                limits.max_ratio
            )));
        }
        total = total.saturating_add(e.size);
        if total > limits.max_total_bytes {
            return Err(invalid_archive(format!(
                "the archive expands to more than the limit of {} bytes",
                limits.max_total_bytes
            )));
        }
        entries.push(e);
    }
    if consumed != cd_size {
        return Err(invalid_archive("the central directory has trailing data (damaged archive?)"));
    }
    drop(cd);
    check_local_headers(r, &mut entries, cd_off)?;
    Ok(entries)
}

/// Every local header repeats its directory record; entries sit back to back from offset 0 up
/// to the central directory.
fn check_local_headers<R: Read + Seek>(r: &mut R, entries: &mut [RawEntry], cd_off: u64) -> AppResult<()> {
    entries.sort_by_key(|e| e.header_start);
    let mut expected = 0u64;
    for e in entries.iter_mut() {
        if e.header_start != expected {
            return Err(invalid_archive(format!("the archive has a gap or overlap before entry {:?}", e.name)));
        }
        let mut local = [0u8; 30];
        read_at(r, e.header_start, &mut local)?;
        let mut var = vec![0u8; e.name.len() + e.extra.len()];
        if Fields(&local).u32(0) != LOCAL_SIG || local[4..30] != e.fixed {
            return Err(invalid_archive(format!("the local header of entry {:?} is damaged", e.name)));
        }
        read_at(r, e.header_start + 30, &mut var)?;
        if &var[..e.name.len()] != e.name.as_bytes() || var[e.name.len()..] != e.extra[..] {
            return Err(invalid_archive(format!("the local header of entry {:?} is damaged", e.name)));
        }
        e.data_start = e.header_start + 30 + var.len() as u64;
        expected = e.data_start.checked_add(e.compressed).ok_or_else(truncated)?;
    }
    if expected != cd_off {
        return Err(invalid_archive("the entries do not end where the central directory starts (damaged archive?)"));
    }
    Ok(())
}
