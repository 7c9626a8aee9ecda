//! The JSON the API returns for spaces and nodes (docs/drive.md "Objects").

use super::model::{is_thumbnailable, preview_kind, Node, Role, Space};
use super::store::Rd;
use crate::error::AppResult;
use serde_json::{json, Value};

/// `{id, name}` of a member ("" when unknown, e.g. deleted).
pub fn person(r: &impl Rd, id: u64) -> AppResult<Value> {
    let m: Option<crate::org::model::Member> = r.get(&crate::org::store::MEMBERS, &id)?;
    Ok(json!({"id": id, "name": m.map(|m| m.name).unwrap_or_default()}))
}

pub fn node_json(r: &impl Rd, n: &Node, role: Role) -> AppResult<Value> {
    let mime = n.mime.as_deref().unwrap_or("");
    let preview = if n.is_folder() { None } else { preview_kind(mime, &n.name) };
    Ok(json!({
        "id": n.id, "space_id": n.space_id, "parent_id": n.parent_id, "kind": n.kind, "name": n.name,
        "size": n.size, "mime": n.mime, "version": n.version,
        "created_by": person(r, n.created_by)?, "created_at": n.created_at,
        "updated_by": person(r, n.updated_by)?, "updated_at": n.updated_at,
        "role": role, "preview": preview, "thumbnail": !n.is_folder() && is_thumbnailable(mime),
        "shared": n.shared,
    }))
}

/// `[{id, name}]`, root first.
pub fn path_json(path: &[Node]) -> Value {
    Value::Array(path.iter().map(|n| json!({"id": n.id, "name": n.name})).collect())
}

pub fn space_json(s: &Space, role: Role) -> Value {
    json!({"id": s.id, "kind": s.kind, "name": s.name, "owner_id": s.owner_id, "root_id": s.root_id,
           "quota": s.quota, "used": s.used, "role": role, "created_at": s.created_at})
}
