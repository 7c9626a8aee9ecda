//! The JSON the API returns for spaces and nodes (docs/drive.md "Objects").

use super::model::{is_thumbnailable, preview_kind, Node, Role, Space};
use super::store::Rd;
use crate::error::AppResult;
use serde_json::{json, Value};
use std::collections::HashMap;

/// `{id, name}` of a member ("" when unknown, e.g. deleted).
pub fn person(r: &impl Rd, id: u64) -> AppResult<Value> {
    People::new(r).person(id)
}

/// Member names for one response: a page of 200 files by the same few people reads each of
/// them once instead of twice per item (decoding member rows was most of a listing's time).
pub struct People<'r, R: Rd> {
    r: &'r R,
    names: HashMap<u64, String>,
}

impl<'r, R: Rd> People<'r, R> {
    pub fn new(r: &'r R) -> Self {
        People { r, names: HashMap::new() }
    }

    /// `{id, name}` ("" when unknown, e.g. deleted).
    pub fn person(&mut self, id: u64) -> AppResult<Value> {
        if let Some(name) = self.names.get(&id) {
            return Ok(json!({"id": id, "name": name}));
        }
        let m: Option<crate::org::model::Member> = self.r.get(&crate::org::store::MEMBERS, &id)?;
        let name = m.map(|m| m.name).unwrap_or_default();
        let v = json!({"id": id, "name": name});
        self.names.insert(id, name);
        Ok(v)
    }

    pub fn node_json(&mut self, n: &Node, role: Role) -> AppResult<Value> {
        let mime = n.mime.as_deref().unwrap_or("");
        let preview = if n.is_folder() { None } else { preview_kind(mime, &n.name) };
        Ok(json!({
            "id": n.id, "space_id": n.space_id, "parent_id": n.parent_id, "kind": n.kind, "name": n.name,
            "size": n.size, "mime": n.mime, "version": n.version,
            "created_by": self.person(n.created_by)?, "created_at": n.created_at,
            "updated_by": self.person(n.updated_by)?, "updated_at": n.updated_at,
            "role": role, "preview": preview, "thumbnail": !n.is_folder() && is_thumbnailable(mime),
            "shared": n.shared,
        }))
    }
}

/// One node (for lists, use one [`People`] for the whole response).
pub fn node_json(r: &impl Rd, n: &Node, role: Role) -> AppResult<Value> {
    People::new(r).node_json(n, role)
}

/// `[{id, name}]`, root first.
pub fn path_json(path: &[Node]) -> Value {
    Value::Array(path.iter().map(|n| json!({"id": n.id, "name": n.name})).collect())
}

pub fn space_json(s: &Space, role: Role) -> Value {
    json!({"id": s.id, "kind": s.kind, "name": s.name, "owner_id": s.owner_id, "root_id": s.root_id,
           "quota": s.quota, "used": s.used, "role": role, "created_at": s.created_at})
}
