//! Sending: text (with @mentions, @all, quote), links, attachments (image, file, voice) and
//! forwarding (one by one, or merged into a chat-record card).

use super::conversations::{not_allowed, require_open};
use super::events;
use super::model::{
    clean_text, validate_link, ChatSettings, Conversation, FileRef, LinkCard, MemberRow, Merged, MergedItem, Message,
    MsgKind, Quote, Who,
};
use super::store;
use super::view::{message_json, Names};
use crate::error::{AppError, AppResult};
use crate::org::model::MemberStatus;
use crate::platform::settings::SettingsDoc;
use crate::platform::store::Tx;
use crate::platform::Platform;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SendInput {
    #[serde(default)]
    pub kind: Option<MsgKind>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub mentions: Vec<u64>,
    #[serde(default)]
    pub at_all: bool,
    #[serde(default)]
    pub quote_seq: Option<u64>,
    #[serde(default)]
    pub link: Option<LinkCard>,
    #[serde(default)]
    pub client_id: Option<String>,
    /// `kind: "file"` only: send this drive file (a snapshot, see `drive::chat_bridge`).
    #[serde(default)]
    pub drive_node_id: Option<u64>,
}

/// May `user` post in `conv` now? (dissolved, mute-all, muted member)
pub fn check_may_speak(conv: &Conversation, user: u64) -> AppResult<()> {
    require_open(conv)?;
    if conv.is_group() && !conv.is_manager(user) {
        if conv.rules.mute_all {
            return Err(not_allowed("The group is muted: only the owner and admins may speak"));
        }
        if conv.muted_member_ids.contains(&user) {
            return Err(not_allowed("You have been muted in this group"));
        }
    }
    Ok(())
}

/// A 1:1 chat with someone who has left the company stays readable but takes no new messages.
fn check_peer_present(tx: &Tx, members: &[u64], user: u64) -> AppResult<()> {
    for peer in members.iter().filter(|m| **m != user) {
        let left = crate::org::store::member_in(tx, *peer)?.is_none_or(|m| m.status == MemberStatus::Left);
        if left {
            return Err(AppError::conflict("peer_left", "This colleague has left the company"));
        }
    }
    Ok(())
}

/// The content of a new message, checked, before it gets a seq.
#[derive(Clone)]
pub struct Draft {
    pub kind: MsgKind,
    pub text: String,
    pub mentions: Vec<u64>,
    pub at_all: bool,
    pub quote_seq: Option<u64>,
    pub file: Option<FileRef>,
    pub link: Option<LinkCard>,
    pub merged: Option<Merged>,
    pub forwarded: bool,
    pub client_id: String,
}

impl Draft {
    fn of(kind: MsgKind) -> Draft {
        Draft {
            kind,
            text: String::new(),
            mentions: Vec::new(),
            at_all: false,
            quote_seq: None,
            file: None,
            link: None,
            merged: None,
            forwarded: false,
            client_id: String::new(),
        }
    }
}

fn draft_from_input(input: &SendInput, limits: &ChatSettings) -> AppResult<Draft> {
    let client_id = input.client_id.clone().unwrap_or_default();
    if client_id.len() > 64 {
        return Err(AppError::invalid("client_id", "validation_failed", "client_id has at most 64 characters"));
    }
    let mut d = match input.kind.unwrap_or(MsgKind::Text) {
        MsgKind::Text => {
            let mut d = Draft::of(MsgKind::Text);
            d.text = clean_text(input.text.as_deref().unwrap_or(""), limits.max_text_chars)?;
            d.mentions = input.mentions.clone();
            d.at_all = input.at_all;
            d
        }
        // The attachment is taken from the drive inside the sending transaction.
        MsgKind::File if input.drive_node_id.is_some() => Draft::of(MsgKind::File),
        MsgKind::Link => {
            let link = input
                .link
                .as_ref()
                .ok_or_else(|| AppError::invalid("link", "invalid_link", "A link message needs a link"))?;
            let mut d = Draft::of(MsgKind::Link);
            d.link = Some(validate_link(link)?);
            d
        }
        _ => {
            return Err(AppError::invalid(
                "kind",
                "validation_failed",
                "Send text or link here; images, files and voice go to /files",
            ))
        }
    };
    d.quote_seq = input.quote_seq;
    d.client_id = client_id;
    Ok(d)
}

/// Write `draft` into `conv` as `user`; the whole send inside one transaction.
pub fn post(tx: &Tx, conv: &mut Conversation, member: &MemberRow, user: u64, draft: &Draft) -> AppResult<Message> {
    Ok(post_rendered(tx, conv, member, user, draft)?.0)
}

/// [`post`], also answering the new message as its sender sees it (JSON text), rendered once
/// for the frame and the answer. `None` for a retry of a send that already succeeded.
pub fn post_rendered(
    tx: &Tx,
    conv: &mut Conversation,
    member: &MemberRow,
    user: u64,
    draft: &Draft,
) -> AppResult<(Message, Option<String>)> {
    check_may_speak(conv, user)?;
    if !draft.client_id.is_empty() {
        let ids = store::SEND_IDS.open(tx.txn)?;
        for key in store::send_id_keys(tx.now, conv.id, user, &draft.client_id) {
            if let Some(seq) = ids.get(&key)? {
                if let Some(m) = store::message(tx, conv.id, seq)? {
                    return Ok((m, None)); // a retry of a send that already succeeded
                }
            }
        }
    }
    if draft.at_all && conv.is_group() && conv.rules.at_all == Who::Admins && !conv.is_manager(user) {
        return Err(not_allowed("Only the group owner or admins may @all in this group"));
    }
    let members = store::member_ids(tx, conv.id)?;
    if !conv.is_group() {
        check_peer_present(tx, &members, user)?;
    }
    let mut mentions: Vec<u64> = draft.mentions.iter().copied().filter(|m| members.contains(m) && *m != user).collect();
    mentions.sort_unstable();
    mentions.dedup();
    let quote = match draft.quote_seq {
        Some(q) => {
            let m = store::message(tx, conv.id, q)?
                .filter(|m| m.seq >= member.visible_from && m.recalled.is_none())
                .ok_or_else(|| {
                    AppError::invalid("quote_seq", "unknown_message", "The quoted message is not available")
                })?;
            Some(Quote { seq: m.seq, sender_id: m.sender_id, preview: m.preview() })
        }
        None => None,
    };
    let m = Message {
        seq: tx.next_seq()?,
        conversation_id: conv.id,
        sender_id: user,
        at: tx.now,
        kind: draft.kind,
        text: draft.text.clone(),
        mentions: mentions.clone(),
        at_all: draft.at_all && conv.is_group(),
        quote,
        file: draft.file.clone(),
        link: draft.link.clone(),
        merged: draft.merged.clone(),
        forwarded: draft.forwarded,
        recalled: None,
        client_id: draft.client_id.clone(),
    };
    let rendered = events::append_message(tx, conv, &m, &members)?;
    if !m.client_id.is_empty() {
        let [today, _] = store::send_id_keys(tx.now, conv.id, user, &m.client_id);
        store::SEND_IDS.open(tx.txn)?.put(&today, &m.seq)?;
    }
    for u in mentions {
        let mut uc = store::user_conv(tx, u, conv.id)?;
        uc.mention_seq = m.seq;
        store::put_user_conv(tx, u, conv.id, &uc)?;
    }
    Ok((m, Some(rendered)))
}

/// Render a message for its sender from a snapshot (a retried send).
pub fn render_own(p: &Platform, m: &Message) -> AppResult<Value> {
    let txn = p.store.begin_read()?;
    let receipts = super::view::Receipts::load(&txn, m.conversation_id)?;
    message_json(&mut Names::read(&txn), m, Some(receipts.unread_of(m)))
}

/// Send text or a link; answers the message (JSON text).
pub async fn send(p: &Platform, user: u64, id: u64, input: SendInput) -> AppResult<String> {
    let limits = ChatSettings::cached(&p.store)?;
    let draft = draft_from_input(&input, &limits)?;
    let drive_node = input.drive_node_id.filter(|_| draft.kind == MsgKind::File);
    write_draft(p, user, id, draft, drive_node).await
}

/// Send an already stored attachment (the blob is referenced inside the transaction).
pub async fn send_file(p: &Platform, user: u64, id: u64, kind: MsgKind, file: FileRef) -> AppResult<String> {
    let mut draft = Draft::of(kind);
    draft.file = Some(file);
    write_draft(p, user, id, draft, None).await
}

/// Post `draft`; with `drive_node`, its attachment is that drive file as it is now.
async fn write_draft(p: &Platform, user: u64, id: u64, draft: Draft, drive_node: Option<u64>) -> AppResult<String> {
    let (m, rendered) = p
        .store
        .write(move |tx| {
            let (mut conv, member) = store::conversation_for(tx, id, user)?;
            let Some(node) = drive_node else { return post_rendered(tx, &mut conv, &member, user, &draft) };
            let mut with_file = draft.clone();
            with_file.file = Some(crate::drive::chat_bridge::file_for_message(tx, user, node)?);
            post_rendered(tx, &mut conv, &member, user, &with_file)
        })
        .await?;
    match rendered {
        Some(json) => Ok(json),
        None => Ok(render_own(p, &m)?.to_string()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardInput {
    pub from: u64,
    pub seqs: Vec<u64>,
    pub to: Vec<u64>,
    #[serde(default)]
    pub mode: ForwardMode,
}

#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ForwardMode {
    #[default]
    Single,
    Merged,
}

/// Forward messages the caller can see into conversations they belong to.
pub async fn forward(p: &Platform, user: u64, input: ForwardInput) -> AppResult<Value> {
    let mut seqs = input.seqs.clone();
    seqs.sort_unstable();
    seqs.dedup();
    let mut to = input.to.clone();
    to.sort_unstable();
    to.dedup();
    if seqs.is_empty() || seqs.len() > 100 || to.is_empty() || to.len() > 20 {
        return Err(AppError::invalid(
            "seqs",
            "validation_failed",
            "Forward 1 to 100 messages to 1 to 20 conversations",
        ));
    }
    let (from, mode) = (input.from, input.mode);
    let sent = p
        .store
        .write(move |tx| {
            let (source, member) = store::conversation_for(tx, from, user)?;
            let mut originals = Vec::new();
            for s in &seqs {
                let m = store::message(tx, from, *s)?
                    .filter(|m| m.seq >= member.visible_from && m.recalled.is_none() && m.kind != MsgKind::System)
                    .ok_or_else(|| AppError::not_found("message"))?;
                originals.push(m);
            }
            let drafts = match mode {
                ForwardMode::Single => originals.iter().map(copy_of).collect(),
                ForwardMode::Merged => vec![merged_of(tx, &source, user, &originals)?],
            };
            let mut sent = Vec::new();
            for target in &to {
                let (mut conv, tmember) = store::conversation_for(tx, *target, user)?;
                for d in &drafts {
                    sent.push(post(tx, &mut conv, &tmember, user, d)?.seq);
                }
            }
            Ok(sent)
        })
        .await?;
    Ok(serde_json::json!({"sent": sent}))
}

fn copy_of(m: &Message) -> Draft {
    let mut d = Draft::of(m.kind);
    d.text = m.text.clone();
    d.file = m.file.clone();
    d.link = m.link.clone();
    d.merged = m.merged.clone();
    d.forwarded = true;
    d
}

fn merged_of(tx: &Tx, source: &Conversation, user: u64, originals: &[Message]) -> AppResult<Draft> {
    let mut names = Names::write(tx);
    let mut items = Vec::new();
    for m in originals {
        items.push(MergedItem {
            sender_id: m.sender_id,
            sender_name: names.name(m.sender_id)?,
            at: m.at,
            kind: m.kind,
            text: if m.kind == MsgKind::Merged { m.preview() } else { m.text.clone() },
            file: m.file.clone(),
            link: m.link.clone(),
        });
    }
    let title = if source.is_group() {
        format!("{}的聊天记录", source.name)
    } else {
        let mut people: Vec<String> = Vec::new();
        for id in store::member_ids(tx, source.id)? {
            people.push(names.name(id)?);
        }
        if people.len() == 1 {
            people.push(names.name(user)?);
        }
        format!("{}的聊天记录", people.join("和"))
    };
    let mut d = Draft::of(MsgKind::Merged);
    d.merged = Some(Merged { title, items });
    d.forwarded = true;
    Ok(d)
}
