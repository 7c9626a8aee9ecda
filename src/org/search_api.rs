//! People in the full-text index (`platform::search`): the `person` document of a member, the
//! rebuild source, and `GET /api/v1/search?q=&kind=person&limit=` for signed-in members.
//!
//! `store::put_member` calls [`index_member`] in its transaction, so the outbox row commits with
//! the member. Members who left are removed from the index. Every hit is re-read from redb
//! before it is returned: unknown or departed members are dropped.

use super::model::{Member, MemberStatus};
use super::search::pinyin_keys;
use super::store::MEMBERS;
use crate::error::{AppError, AppResult};
use crate::platform::auth::Auth;
use crate::platform::search::{self, SearchDoc};
use crate::platform::store::Tx;
use crate::platform::Platform;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

pub const KIND: &str = "person";
const DEFAULT_LIMIT: usize = 20;

pub fn key(id: u64) -> String {
    format!("{KIND}:{id}")
}

fn id_of(key: &str) -> Option<u64> {
    key.strip_prefix(KIND)?.strip_prefix(':')?.parse().ok()
}

/// The search document of a member: name as title; alias, position, account id, email and
/// employee number as body; pinyin (full and initials) of name and alias.
pub fn person_doc(m: &Member) -> SearchDoc {
    let mut pinyin = Vec::new();
    for name in [&m.name, &m.alias] {
        let (full, initials) = pinyin_keys(name);
        pinyin.extend(full.into_iter().chain(initials).map(|p| p.split_whitespace().collect::<String>()));
    }
    pinyin.retain(|p| !p.is_empty());
    pinyin.sort();
    pinyin.dedup();
    let body = [&m.alias, &m.position, &m.userid, &m.email, &m.employee_no]
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    SearchDoc { key: key(m.id), kind: KIND.into(), title: m.name.clone(), body, pinyin, at: m.updated_at }
}

/// Queue the member's index update in the caller's transaction.
pub fn index_member(tx: &Tx, m: &Member) -> AppResult<()> {
    if m.status == MemberStatus::Left {
        search::enqueue_delete(tx, key(m.id))
    } else {
        search::enqueue_upsert(tx, person_doc(m))
    }
}

/// Every member who should be in the index (rebuild source).
pub fn documents(txn: &redb::ReadTransaction) -> AppResult<Vec<SearchDoc>> {
    Ok(MEMBERS
        .all_in(txn)?
        .iter()
        .filter(|(_, m)| m.status != MemberStatus::Left)
        .map(|(_, m)| person_doc(m))
        .collect())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/search", web::get().to(search_people));
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    kind: Option<String>,
    limit: Option<usize>,
}

#[derive(Serialize)]
struct PersonHit {
    kind: &'static str,
    id: u64,
    name: String,
    position: String,
    department_ids: Vec<u64>,
    /// HTML: escaped text with matches in `<b>`.
    snippet: String,
}

async fn search_people(p: web::Data<Platform>, _auth: Auth, q: web::Query<SearchQuery>) -> AppResult<HttpResponse> {
    let SearchQuery { q, kind, limit } = q.into_inner();
    if !matches!(kind.as_deref(), None | Some("") | Some(KIND)) {
        return Err(AppError::bad_request("invalid_kind", "Only kind=person can be searched"));
    }
    let limit = limit.unwrap_or(DEFAULT_LIMIT).clamp(1, search::query::MAX_LIMIT);
    let text = q.unwrap_or_default();
    let items = web::block(move || people(&p, &text, limit)).await.map_err(AppError::internal)??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}

fn people(p: &Platform, q: &str, limit: usize) -> AppResult<Vec<PersonHit>> {
    // A few extra hits make up for any the re-check drops.
    let hits = p.search.search(q, &[KIND], (limit + 5).min(search::query::MAX_LIMIT))?;
    let txn = p.store.begin_read()?;
    let mut out = Vec::with_capacity(hits.len().min(limit));
    for h in hits {
        let Some(m) = id_of(&h.key).map(|id| MEMBERS.get_in(&txn, &id)).transpose()?.flatten() else { continue };
        if m.status == MemberStatus::Left {
            continue;
        }
        out.push(PersonHit {
            kind: KIND,
            id: m.id,
            name: m.name,
            position: m.position,
            department_ids: m.department_ids,
            snippet: h.snippet_html,
        });
        if out.len() == limit {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_documents() {
        let m =
            Member {
                id: 7, name: "张三".into(), position: "工程师".into(), userid: "zs".into(), ..Default::default()
            };
        let d = person_doc(&m);
        assert_eq!(d.key, "person:7");
        assert_eq!(id_of(&d.key), Some(7));
        assert_eq!(id_of("message:7"), None);
        assert!(d.pinyin.contains(&"zhangsan".to_owned()) && d.pinyin.contains(&"zs".to_owned()), "{:?}", d.pinyin);
        assert_eq!(d.body, "工程师 zs");
    }
}
