//! One table row as one jsonl line: `{"k":KEY,"v":VALUE}\n`, VALUE kept byte for byte.

use crate::platform::store::KeyKind;
use serde::de::IgnoredAny;
use serde_json::Value as Json;
use std::borrow::Cow;
use std::io::{BufRead, Read, Write};

const KEY_PREFIX: &[u8] = b"{\"k\":";
const VALUE_PREFIX: &[u8] = b",\"v\":";

/// A key with its table's ordering (redb orders tuples element-wise and strings by bytes).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum KeyVal {
    U64(u64),
    U64x2(u64, u64),
    U64x3(u64, u64, u64),
    Str(String),
}

impl KeyVal {
    pub(crate) fn from_json(kind: KeyKind, v: &Json) -> Option<KeyVal> {
        let ints = |n: usize| -> Option<Vec<u64>> {
            let a = v.as_array()?;
            if a.len() != n {
                return None;
            }
            a.iter().map(Json::as_u64).collect()
        };
        match kind {
            KeyKind::U64 => v.as_u64().map(KeyVal::U64),
            KeyKind::U64x2 => ints(2).map(|a| KeyVal::U64x2(a[0], a[1])),
            KeyKind::U64x3 => ints(3).map(|a| KeyVal::U64x3(a[0], a[1], a[2])),
            KeyKind::Str => v.as_str().map(|s| KeyVal::Str(s.to_owned())),
        }
    }
}

/// Write one row. A stored value that is not valid JSON fails the backup (run `officebox check`);
/// one with surrounding whitespace or line breaks is re-encoded compactly.
pub(crate) fn write_line(out: &mut impl Write, key: &Json, value: &[u8]) -> Result<(), String> {
    let compact = serde_json::from_slice::<IgnoredAny>(value).is_ok()
        && !value.iter().any(|b| matches!(b, b'\n' | b'\r'))
        && value.first().is_some_and(|b| !b.is_ascii_whitespace())
        && value.last().is_some_and(|b| !b.is_ascii_whitespace());
    let value: Cow<[u8]> = if compact {
        Cow::Borrowed(value)
    } else {
        let parsed: Json = serde_json::from_slice(value).map_err(|e| format!("the stored value is not JSON: {e}"))?;
        Cow::Owned(serde_json::to_vec(&parsed).map_err(|e| e.to_string())?)
    };
    let io = |e: std::io::Error| e.to_string();
    out.write_all(KEY_PREFIX).map_err(io)?;
    serde_json::to_writer(&mut *out, key).map_err(|e| e.to_string())?;
    out.write_all(VALUE_PREFIX).map_err(io)?;
    out.write_all(&value).map_err(io)?;
    out.write_all(b"}\n").map_err(io)
}

/// Parse one line (without its `\n`). Our own lines take the exact path, which keeps the value's
/// bytes; any other valid `{"k":..,"v":..}` object is accepted and its value re-encoded.
pub(crate) fn parse_line(line: &[u8]) -> Result<(Json, Cow<'_, [u8]>), String> {
    if let Some(r) = parse_exact(line) {
        return Ok(r);
    }
    let v: Json = serde_json::from_slice(line).map_err(|e| format!("not JSON: {e}"))?;
    let obj = v.as_object().ok_or("not a JSON object")?;
    if obj.len() != 2 {
        return Err("a row must have exactly the fields \"k\" and \"v\"".into());
    }
    let (Some(k), Some(val)) = (obj.get("k"), obj.get("v")) else {
        return Err("a row must have exactly the fields \"k\" and \"v\"".into());
    };
    Ok((k.clone(), Cow::Owned(serde_json::to_vec(val).map_err(|e| e.to_string())?)))
}

fn parse_exact(line: &[u8]) -> Option<(Json, Cow<'_, [u8]>)> {
    let rest = line.strip_prefix(KEY_PREFIX)?;
    let mut keys = serde_json::Deserializer::from_slice(rest).into_iter::<Json>();
    let key = keys.next()?.ok()?;
    let rest = rest.get(keys.byte_offset()..)?.strip_prefix(VALUE_PREFIX)?;
    let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<IgnoredAny>();
    values.next()?.ok()?;
    let end = values.byte_offset();
    if rest.get(end..)? != b"}" {
        return None;
    }
    Some((key, Cow::Borrowed(rest.get(..end)?)))
}

/// Reads lines of at most `max` bytes; an over-long line or a missing final `\n` is an error.
pub(crate) struct LineReader<R> {
    inner: R,
    max: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R, max: u64) -> Self {
        LineReader { inner, max, buf: Vec::new() }
    }

    /// The next line without its `\n`, or `None` at the end.
    pub(crate) fn next_line(&mut self) -> Result<Option<&[u8]>, String> {
        self.buf.clear();
        let n = (&mut self.inner)
            .take(self.max.saturating_add(1))
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| format!("cannot read: {e}"))?;
        if n == 0 {
            return Ok(None);
        }
        match self.buf.last() {
            Some(b'\n') => {
                self.buf.pop();
                Ok(Some(&self.buf))
            }
            _ if n as u64 > self.max => Err(format!("a line is longer than {} bytes", self.max)),
            _ => Err("the last line is not terminated (truncated entry?)".into()),
        }
    }

    pub(crate) fn get_ref(&self) -> &R {
        &self.inner
    }

    pub(crate) fn into_inner(self) -> R {
        self.inner
    }
}
