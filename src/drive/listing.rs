//! Folder listings.
//!
//! The default order — folders first, then by folded name (NFC + lowercase, the `drive_names`
//! key), ascending or descending, folders first either way — is stored: `drive_listing` holds one
//! key per live child, `"{parent}/{rank}/{folded name}\0{id:020}"` (rank 0 for folders, 1 for
//! files), written by `store::link` / `store::unlink` with `drive_children` and `drive_names`. A
//! page is then a range read, forwards or backwards, of about the page's size whatever the folder
//! holds. Items the caller may not see (an uploader sees only their own) are skipped while
//! reading, until the page is full, so a page is exactly what the old sort-everything path gave.
//! Its cursor is the last key read (opaque to clients). Sorting by `updated` or `size` still reads
//! every child and sorts in memory, with an offset cursor.

use super::model::{Node, Role};
use super::perm::{self, Access, Principals};
use super::store::{self, Rd, LISTING};
use crate::error::{AppError, AppResult};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Name,
    Updated,
    Size,
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// Skip this many visible items (every sort; what `next_cursor` was before the index, so old
    /// cursors keep working).
    Offset(usize),
    /// Right after this place in the name order (a `drive_listing` key without its folder), read
    /// in this direction.
    After { desc: bool, place: String },
}

fn invalid_cursor() -> AppError {
    AppError::bad_request("invalid_cursor", "The cursor is not valid")
}

impl Cursor {
    pub const START: Cursor = Cursor::Offset(0);

    /// The `cursor` query parameter: empty is the start, digits an offset, `a…` / `d…` a place in
    /// the ascending / descending name order (base64url, so it needs no escaping in a URL).
    pub fn parse(s: &str) -> AppResult<Cursor> {
        if s.is_empty() {
            return Ok(Cursor::START);
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return s.parse().map(Cursor::Offset).map_err(|_| invalid_cursor());
        }
        let (desc, rest) = match (s.strip_prefix('a'), s.strip_prefix('d')) {
            (Some(rest), _) => (false, rest),
            (_, Some(rest)) => (true, rest),
            _ => return Err(invalid_cursor()),
        };
        let bytes = URL_SAFE_NO_PAD.decode(rest).map_err(|_| invalid_cursor())?;
        let place = String::from_utf8(bytes).map_err(|_| invalid_cursor())?;
        if !valid_place(&place) {
            return Err(invalid_cursor());
        }
        Ok(Cursor::After { desc, place })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cursor::Offset(n) => write!(f, "{n}"),
            Cursor::After { desc, place } => {
                write!(f, "{}{}", if *desc { 'd' } else { 'a' }, URL_SAFE_NO_PAD.encode(place))
            }
        }
    }
}

/// Folders, then files, in both directions.
const RANKS: [char; 2] = ['0', '1'];

/// A child's place in its folder's name order. The id is zero-padded so that equal folded names
/// (which `drive_names` prevents anyway) still order by id.
fn place(n: &Node) -> String {
    let rank = if n.is_folder() { RANKS[0] } else { RANKS[1] };
    format!("{rank}/{}\0{:020}", super::names::fold(&n.name), n.id)
}

/// The `drive_listing` key of a child of `parent`.
pub fn key(parent: u64, n: &Node) -> String {
    format!("{parent}/{}", place(n))
}

fn valid_place(p: &str) -> bool {
    let Some((head, id)) = p.rsplit_once('\0') else { return false };
    RANKS.iter().any(|r| head.starts_with(*r) && head[1..].starts_with('/'))
        && id.len() == 20
        && id.bytes().all(|b| b.is_ascii_digit())
}

/// The keys of one rank in a folder: from `"{parent}/{rank}/"` to `"{parent}/{rank}0"` ('0'
/// follows '/'), a bound no key equals.
fn rank_range(parent: u64, rank: char) -> (String, String) {
    (format!("{parent}/{rank}/"), format!("{parent}/{rank}0"))
}

/// A page of a folder listing with each item's role.
pub struct Listing {
    pub folder: Access,
    pub items: Vec<(Node, Role)>,
    pub next: Option<Cursor>,
}

/// One page of a folder (preview): folders first, then by `sort`.
pub fn list_page(
    r: &impl Rd,
    user: u64,
    id: u64,
    sort: Sort,
    desc: bool,
    limit: usize,
    from: &Cursor,
) -> AppResult<Listing> {
    let who = Principals::of(r, user)?;
    let folder = perm::resolve(r, &who, id)?;
    if !folder.node.is_folder() {
        return Err(AppError::invalid("id", "not_a_folder", "This item is not a folder"));
    }
    let limit = limit.max(1);
    let (items, next) = match sort {
        Sort::Name => by_name(r, folder.node.id, desc, limit, from, |id| visible(r, &who, &folder, user, id))?,
        Sort::Updated | Sort::Size => in_memory(r, &who, &folder, user, sort, desc, limit, from)?,
    };
    Ok(Listing { folder, items, next })
}

type Page = (Vec<(Node, Role)>, Option<Cursor>);

/// The child with the caller's role on it, or `None` when the caller may not see it.
fn visible(r: &impl Rd, who: &Principals, folder: &Access, user: u64, id: u64) -> AppResult<Option<(Node, Role)>> {
    let n = store::node(r, id)?;
    if !folder.sees_child(&n, user) {
        return Ok(None);
    }
    // A grant on the child may change the role (and hide it from nobody: grants only add
    // visibility for the named principals, lowering is still a role).
    let role = if n.shared { perm::resolve(r, who, n.id).map(|a| a.role).ok() } else { Some(folder.role) };
    Ok(role.map(|role| (n, role)))
}

/// The name order of `parent`'s children, read from `drive_listing`: one range per rank, keeping
/// what `visible` turns into an item (members: their role; share-link visitors: everything),
/// plus one more visible item to know whether there is a next page.
pub fn by_name<T>(
    r: &impl Rd,
    parent: u64,
    desc: bool,
    limit: usize,
    from: &Cursor,
    mut visible: impl FnMut(u64) -> AppResult<Option<T>>,
) -> AppResult<(Vec<T>, Option<Cursor>)> {
    let (mut skip, after) = match from {
        Cursor::Offset(n) => (*n, None),
        Cursor::After { desc: d, place } if *d == desc => (0, Some(format!("{parent}/{place}"))),
        Cursor::After { .. } => return Err(invalid_cursor()),
    };
    let mut page = Vec::with_capacity(limit.min(1000));
    let (mut last, mut more) = (None, false);
    for rank in RANKS {
        let (mut lo, mut hi) = rank_range(parent, rank);
        if let Some(a) = &after {
            if *a > hi {
                continue; // the cursor is among the files: the folders are behind it
            }
            if *a > lo {
                if desc {
                    hi = a.clone();
                } else {
                    lo = a.clone();
                }
            }
        }
        r.scan(&LISTING, &lo, &hi, desc, |k, id| {
            if after.as_ref() == Some(&k) {
                return Ok(true);
            }
            let Some(item) = visible(id)? else { return Ok(true) };
            if skip > 0 {
                skip -= 1;
                return Ok(true);
            }
            if page.len() == limit {
                more = true;
                return Ok(false);
            }
            page.push(item);
            last = Some(k);
            Ok(true)
        })?;
        if more {
            break;
        }
    }
    let next = last
        .filter(|_| more)
        .and_then(|k| k.split_once('/').map(|(_, place)| Cursor::After { desc, place: place.to_owned() }));
    Ok((page, next))
}

/// Sorting by date or size: every child, sorted in memory, an offset cursor.
#[allow(clippy::too_many_arguments)]
fn in_memory(
    r: &impl Rd,
    who: &Principals,
    folder: &Access,
    user: u64,
    sort: Sort,
    desc: bool,
    limit: usize,
    from: &Cursor,
) -> AppResult<Page> {
    let Cursor::Offset(skip) = *from else { return Err(invalid_cursor()) };
    let mut items = Vec::new();
    for c in store::child_ids(r, folder.node.id)? {
        if let Some(item) = visible(r, who, folder, user, c)? {
            items.push(item);
        }
    }
    items.sort_by(|(a, _), (b, _)| {
        let by = if sort == Sort::Size { a.size.cmp(&b.size) } else { a.updated_at.cmp(&b.updated_at) };
        let by = if desc { by.reverse() } else { by };
        b.is_folder().cmp(&a.is_folder()).then(by).then(a.id.cmp(&b.id))
    });
    let total = items.len();
    let page: Vec<_> = items.into_iter().skip(skip).take(limit).collect();
    let next = (skip + page.len() < total).then_some(Cursor::Offset(skip + page.len()));
    Ok((page, next))
}

/// Migration 3: `drive_listing` for data written before it, from `drive_children`.
pub fn build_index(txn: &redb::WriteTransaction) -> AppResult<()> {
    let children: Vec<(u64, u64)> = {
        let t = store::CHILDREN.open(txn)?;
        let rows = t.iter()?.map(|row| row.map(|(k, ())| k)).collect::<AppResult<_>>()?;
        rows
    };
    let nodes = store::NODES.open(txn)?;
    let mut listing = LISTING.open(txn)?;
    for (parent, id) in children {
        // A dangling child row lists as nothing rather than keeping the server from starting.
        match nodes.get(&id)? {
            Some(n) => listing.put(&key(parent, &n), &id)?,
            None => tracing::warn!(parent, id, "drive_children names a missing node; not listed"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drive::model::NodeKind;

    fn node(id: u64, kind: NodeKind, name: &str) -> Node {
        Node { id, kind, name: name.into(), ..Node::default() }
    }

    #[test]
    fn keys_put_folders_first_then_folded_names() {
        let mut keys = [
            key(7, &node(5, NodeKind::File, "b.txt")),
            key(7, &node(4, NodeKind::File, "A.txt")),
            key(7, &node(9, NodeKind::Folder, "z")),
            key(7, &node(3, NodeKind::File, "报价.xlsx")),
            key(7, &node(2, NodeKind::File, "a")),
        ];
        keys.sort();
        let ids: Vec<&str> = keys.iter().map(|k| &k[k.len() - 1..]).collect();
        assert_eq!(ids, ["9", "2", "4", "5", "3"], "{keys:?}");
        let (lo, hi) = rank_range(7, '1');
        assert!(keys.iter().filter(|k| **k >= lo && **k <= hi).count() == 4);
        assert!(key(70, &node(1, NodeKind::Folder, "a")) > rank_range(7, '1').1, "folder 70 is not in 7");
    }

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let c = Cursor::After { desc: true, place: place(&node(42, NodeKind::File, "季度报价.xlsx")) };
        let s = c.to_string();
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{s}");
        assert_eq!(Cursor::parse(&s).unwrap(), c);
        assert_eq!(Cursor::parse("").unwrap(), Cursor::START);
        assert_eq!(Cursor::parse("400").unwrap(), Cursor::Offset(400));
        for bad in [
            "x",
            "a",
            "a!!",
            "é",
            "99999999999999999999999",
            "aMC8=",
            &format!("a{}", URL_SAFE_NO_PAD.encode(format!("2/x\0{:020}", 1))),
        ] {
            assert_eq!(Cursor::parse(bad).unwrap_err().code, "invalid_cursor", "{bad:?}");
        }
    }
}
