//! Favourites (收藏): a user's saved messages. A favourite is a reference: when the message is
//! recalled, the favourite shows the tombstone (the content is gone from storage).

use super::model::Favorite;
use super::store;
use super::view::{message_json, Names};
use crate::error::{AppError, AppResult};
use crate::platform::Platform;
use serde_json::{json, Value};

const MAX_FAVORITES: u64 = 10_000;

pub async fn add(p: &Platform, user: u64, conv: u64, seq: u64) -> AppResult<Value> {
    let fav = p
        .store
        .write(move |tx| {
            let (_, member) = store::conversation_for(tx, conv, user)?;
            store::message(tx, conv, seq)?
                .filter(|m| m.seq >= member.visible_from && m.recalled.is_none())
                .ok_or_else(|| AppError::not_found("message"))?;
            let mut t = store::FAVORITES.open(tx.txn)?;
            let mut count = 0;
            for row in t.range(&(user, 0), &(user, u64::MAX))? {
                let (_, f) = row?;
                if f.conversation_id == conv && f.seq == seq {
                    return Ok(f); // already saved
                }
                count += 1;
            }
            if count >= MAX_FAVORITES {
                return Err(AppError::bad_request(
                    "too_many_favorites",
                    "You have 10,000 favourites; remove some first",
                ));
            }
            let f = Favorite { id: tx.next_seq()?, conversation_id: conv, seq, at: tx.now };
            t.put(&(user, f.id), &f)?;
            Ok(f)
        })
        .await?;
    Ok(json!({"id": fav.id, "conversation_id": fav.conversation_id, "seq": fav.seq, "at": fav.at}))
}

pub async fn remove(p: &Platform, user: u64, id: u64) -> AppResult<()> {
    p.store
        .write(move |tx| {
            if !store::FAVORITES.open(tx.txn)?.remove(&(user, id))? {
                return Err(AppError::not_found("favorite"));
            }
            Ok(())
        })
        .await
}

/// Newest first; `q` keeps those whose text, file name, link or record title contains it.
pub fn list(p: &Platform, user: u64, q: &str, cursor: Option<u64>, limit: usize) -> AppResult<Value> {
    let txn = p.store.begin_read()?;
    let Some(t) = store::FAVORITES.read(&txn)? else { return Ok(json!({"items": [], "next_cursor": null})) };
    let q = q.trim().to_lowercase();
    let mut names = Names::read(&txn);
    let mut items = Vec::new();
    let mut next = None;
    let upper = cursor.unwrap_or(u64::MAX);
    for row in t.range(&(user, 0), &(user, upper))?.rev() {
        let (_, f) = row?;
        // Still a member? Otherwise the favourite is not shown (the chat is not theirs any more).
        let Ok((conv, member)) = store::conversation_for_read(&txn, f.conversation_id, user) else { continue };
        let Some(m) =
            store::MESSAGES.get_in(&txn, &(f.conversation_id, f.seq))?.filter(|m| m.seq >= member.visible_from)
        else {
            continue;
        };
        if !q.is_empty() && !haystack(&m).to_lowercase().contains(&q) {
            continue;
        }
        if items.len() == limit {
            next = Some(f.id);
            break;
        }
        items.push(json!({"id": f.id, "at": f.at, "conversation_id": f.conversation_id,
                          "conversation_name": conv.name, "message": message_json(&mut names, &m, None)?}));
    }
    Ok(json!({"items": items, "next_cursor": next}))
}

fn haystack(m: &super::model::Message) -> String {
    let mut s = m.text.clone();
    for part in [
        m.file.as_ref().map(|f| f.name.as_str()),
        m.link.as_ref().map(|l| l.title.as_str()),
        m.link.as_ref().map(|l| l.url.as_str()),
        m.merged.as_ref().map(|x| x.title.as_str()),
    ]
    .into_iter()
    .flatten()
    {
        s.push(' ');
        s.push_str(part);
    }
    for it in m.merged.iter().flat_map(|x| &x.items) {
        s.push(' ');
        s.push_str(&it.text);
    }
    s
}
