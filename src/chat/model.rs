//! Chat types as stored, and validation of what users send.

use crate::error::{AppError, AppResult};
use crate::platform::settings::SettingsDoc;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConvKind {
    Direct,
    #[default]
    Group,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    #[default]
    Anyone,
    Admins,
}

/// Rules the owner sets for a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rules {
    /// Who may invite members.
    pub invite: Who,
    /// Invitations by ordinary members wait for the owner's or an admin's approval (入群验证).
    pub approval: bool,
    /// Who may @all.
    pub at_all: Who,
    /// Only the owner and admins may speak.
    pub mute_all: bool,
    /// New members see the history from before they joined.
    pub history_visible: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules { invite: Who::Anyone, approval: false, at_all: Who::Anyone, mute_all: false, history_visible: true }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupNotice {
    pub text: String,
    pub by: u64,
    pub at: i64,
}

/// `chat_conversations` row. Small on purpose: it is rewritten on every message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Conversation {
    pub id: u64,
    pub kind: ConvKind,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub avatar: Option<String>,
    #[serde(default)]
    pub department_id: Option<u64>,
    #[serde(default)]
    pub owner_id: u64,
    #[serde(default)]
    pub admin_ids: Vec<u64>,
    #[serde(default)]
    pub rules: Rules,
    #[serde(default)]
    pub muted_member_ids: Vec<u64>,
    #[serde(default)]
    pub notice: Option<GroupNotice>,
    #[serde(default)]
    pub pinned_seq: Option<u64>,
    #[serde(default)]
    pub member_count: u32,
    /// Seq of the newest message, or of the creation (activity order).
    #[serde(default)]
    pub last_seq: u64,
    /// Seq of the newest @all message (for the @me marker without a write per member).
    #[serde(default)]
    pub at_all_seq: u64,
    #[serde(default)]
    pub dissolved: bool,
    pub created_at: i64,
}

impl Conversation {
    pub fn is_group(&self) -> bool {
        self.kind == ConvKind::Group
    }
    pub fn is_manager(&self, user: u64) -> bool {
        self.owner_id == user || self.admin_ids.contains(&user)
    }
    pub fn role_of(&self, user: u64) -> &'static str {
        if self.owner_id == user {
            "owner"
        } else if self.admin_ids.contains(&user) {
            "admin"
        } else {
            "member"
        }
    }
}

/// `chat_members: (conversation, user)`: one member of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MemberRow {
    pub joined_at: i64,
    /// Seq of the change that added the member: events before it are not theirs.
    #[serde(default)]
    pub joined_seq: u64,
    /// First message seq this member may read (0: the whole history).
    #[serde(default)]
    pub visible_from: u64,
    /// Last seq this member has read (read receipts and unread counts).
    #[serde(default)]
    pub read_seq: u64,
}

/// `chat_user_convs: (user, conversation)`: the user's own view of a conversation, synced to
/// all their devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct UserConv {
    pub pinned: bool,
    pub muted: bool,
    /// Hidden from the list until a message newer than `hidden_seq` arrives.
    pub hidden: bool,
    pub hidden_seq: u64,
    pub marked_unread: bool,
    /// Newest message that @-mentions this user by name.
    pub mention_seq: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MsgKind {
    #[default]
    Text,
    Image,
    File,
    Voice,
    Link,
    Merged,
    System,
}

impl UserConv {
    pub fn is_hidden(&self, conv: &Conversation) -> bool {
        self.hidden && conv.last_seq <= self.hidden_seq
    }
}

impl MsgKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MsgKind::Text => "text",
            MsgKind::Image => "image",
            MsgKind::File => "file",
            MsgKind::Voice => "voice",
            MsgKind::Link => "link",
            MsgKind::Merged => "merged",
            MsgKind::System => "system",
        }
    }
    pub fn has_file(self) -> bool {
        matches!(self, MsgKind::Image | MsgKind::File | MsgKind::Voice)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FileRef {
    pub sha: String,
    pub name: String,
    pub size: u64,
    pub mime: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_sha: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LinkCard {
    pub url: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub seq: u64,
    pub sender_id: u64,
    pub preview: String,
}

/// One message inside a merge-forwarded chat record (a copy, not a reference).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MergedItem {
    pub sender_id: u64,
    pub sender_name: String,
    pub at: i64,
    pub kind: MsgKind,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkCard>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Merged {
    pub title: String,
    pub items: Vec<MergedItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recalled {
    pub by: u64,
    pub at: i64,
}

/// `chat_messages: (conversation, seq)`. A recalled message keeps only its header and
/// `recalled`: the content is gone from storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Message {
    pub seq: u64,
    pub conversation_id: u64,
    pub sender_id: u64,
    pub at: i64,
    pub kind: MsgKind,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<u64>,
    #[serde(default)]
    pub at_all: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<Quote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkCard>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<Merged>,
    #[serde(default)]
    pub forwarded: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recalled: Option<Recalled>,
    /// Idempotency key of the sender's client, so a retried send is stored once.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_id: String,
}

impl Message {
    /// Every blob this message keeps alive (attachment, thumbnail, files of a bundle).
    pub fn blobs(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |f: &FileRef| {
            out.push(f.sha.clone());
            out.extend(f.thumb_sha.clone());
        };
        if let Some(f) = &self.file {
            add(f);
        }
        for item in self.merged.iter().flat_map(|m| &m.items) {
            if let Some(f) = &item.file {
                add(f);
            }
        }
        out
    }

    /// One line for previews, quotes and notifications.
    pub fn preview(&self) -> String {
        if self.recalled.is_some() {
            return String::new();
        }
        let s = match self.kind {
            MsgKind::Text | MsgKind::System => self.text.clone(),
            MsgKind::Image => "[图片]".into(),
            MsgKind::Voice => "[语音]".into(),
            MsgKind::File => format!("[文件] {}", self.file.as_ref().map(|f| f.name.as_str()).unwrap_or("")),
            MsgKind::Link => format!("[链接] {}", self.link.as_ref().map(|l| l.title.as_str()).unwrap_or("")),
            MsgKind::Merged => format!("[聊天记录] {}", self.merged.as_ref().map(|m| m.title.as_str()).unwrap_or("")),
        };
        s.chars().take(80).collect()
    }

    /// Drop the content (recall): only the header stays.
    pub fn into_tombstone(self, by: u64, at: i64) -> Message {
        Message {
            seq: self.seq,
            conversation_id: self.conversation_id,
            sender_id: self.sender_id,
            at: self.at,
            kind: self.kind,
            recalled: Some(Recalled { by, at }),
            ..Message::default()
        }
    }
}

/// `chat_favorites: (user, id)`: a saved message (a reference: a recalled message's favourite
/// shows as recalled, its content is not kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Favorite {
    pub id: u64,
    pub conversation_id: u64,
    pub seq: u64,
    pub at: i64,
}

/// `chat_join_requests: (conversation, id)`: an invitation waiting for approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinRequest {
    pub id: u64,
    pub user_id: u64,
    pub inviter_id: u64,
    pub at: i64,
}

/// Admin-set limits (`settings["chat"]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatSettings {
    pub max_group_members: u32,
    pub max_text_chars: u32,
    pub max_attachment_mb: u32,
    pub recall_window_minutes: u32,
}

impl Default for ChatSettings {
    fn default() -> Self {
        ChatSettings {
            max_group_members: 500,
            max_text_chars: 5000,
            max_attachment_mb: 100,
            recall_window_minutes: 1440,
        }
    }
}

/// Hard ceiling for any group, whatever the settings say (fan-out and receipt cost).
pub const HARD_MAX_GROUP_MEMBERS: u32 = 2000;

impl SettingsDoc for ChatSettings {
    const KEY: &'static str = "chat";
}

impl ChatSettings {
    pub fn validate(&self) -> AppResult<()> {
        let bad = |field: &str, msg: &str| Err(AppError::invalid(field, "validation_failed", msg));
        if !(2..=HARD_MAX_GROUP_MEMBERS).contains(&self.max_group_members) {
            return bad("max_group_members", "Members per group must be between 2 and 2000");
        }
        if !(1..=20_000).contains(&self.max_text_chars) {
            return bad("max_text_chars", "Message length must be between 1 and 20000 characters");
        }
        if !(1..=4096).contains(&self.max_attachment_mb) {
            return bad("max_attachment_mb", "Attachment size must be between 1 and 4096 MB");
        }
        if !(1..=10_080).contains(&self.recall_window_minutes) {
            return bad("recall_window_minutes", "The recall window must be between 1 minute and 7 days");
        }
        Ok(())
    }
}

/// A group name: trimmed, 1..=60 characters, no control characters.
pub fn validate_group_name(name: &str) -> AppResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 60 || n.chars().any(char::is_control) {
        return Err(AppError::invalid("name", "invalid_name", "A group name has 1 to 60 characters"));
    }
    Ok(n.to_owned())
}

/// Message text: not blank, within the limit. Control characters other than newline and tab
/// are removed (they break rendering and can spoof text direction).
pub fn clean_text(text: &str, max_chars: u32) -> AppResult<String> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .filter(|c| !matches!(*c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect();
    if cleaned.trim().is_empty() {
        return Err(AppError::invalid("text", "empty_message", "The message is empty"));
    }
    if cleaned.chars().count() > max_chars as usize {
        return Err(AppError::invalid(
            "text",
            "message_too_long",
            format!("A message has at most {max_chars} characters"),
        ));
    }
    Ok(cleaned)
}

/// A link card's URL must be http(s): anything else (javascript:, data:) could run in a browser.
pub fn validate_link(link: &LinkCard) -> AppResult<LinkCard> {
    let url = link.url.trim();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://"))
        || url.len() > 2048
        || url.contains(char::is_whitespace)
    {
        return Err(AppError::invalid("link.url", "invalid_link", "A link must be an http or https address"));
    }
    let cut = |s: &str, n: usize| s.trim().chars().filter(|c| !c.is_control()).take(n).collect::<String>();
    Ok(LinkCard { url: url.to_owned(), title: cut(&link.title, 200), description: cut(&link.description, 500) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cleaned_and_limited() {
        assert_eq!(clean_text("你好\u{202E}abc\u{0007}", 100).ok().as_deref(), Some("你好abc"));
        assert!(clean_text("  \n ", 100).is_err());
        assert!(clean_text("一二三", 2).is_err());
        assert!(clean_text("一二", 2).is_ok());
    }

    #[test]
    fn links_must_be_http() {
        let l = |u: &str| LinkCard { url: u.into(), ..Default::default() };
        assert!(validate_link(&l("javascript:alert(1)")).is_err());
        assert!(validate_link(&l("data:text/html,x")).is_err());
        assert!(validate_link(&l("https://example.com/a b")).is_err());
        assert!(validate_link(&l("HTTPS://example.com/a")).is_ok());
    }

    #[test]
    fn tombstone_keeps_no_content() {
        let m = Message {
            seq: 5,
            text: "secret".into(),
            file: Some(FileRef { sha: "ab".into(), ..Default::default() }),
            ..Default::default()
        };
        let t = m.into_tombstone(1, 2);
        assert!(t.text.is_empty() && t.file.is_none() && t.blobs().is_empty());
        assert!(t.recalled.is_some());
    }
}
