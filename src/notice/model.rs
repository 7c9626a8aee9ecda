//! Announcement types: what is stored (`Notice`, `NoticeBody`, `Delivery`, `Upload`), what the
//! API returns (`NoticeSummary`, `NoticeDetail`, ...), what it accepts (`NoticeInput`,
//! `NoticePatch`) and the validation of single fields.

use crate::error::{AppError, AppResult};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeSet;

pub const MAX_TITLE_CHARS: usize = 120;
/// Sanitised HTML is stored with the notice; 200 KB is a long document without inline images
/// (images are files, never data URLs).
pub const MAX_HTML_BYTES: usize = 200 * 1024;
pub const MAX_ATTACHMENTS: usize = 20;
pub const MAX_UPLOAD_BYTES: u64 = 20 * 1024 * 1024;
/// Pending uploads per member (each holds a blob reference until used or expired).
pub const MAX_PENDING_UPLOADS: usize = 200;
/// An upload not used by a notice within a day is dropped (and its file collected later).
pub const UPLOAD_TTL_MS: i64 = 24 * 3_600_000;
/// Reminders of one notice are at least this far apart.
pub const REMIND_INTERVAL_MS: i64 = 10 * 60_000;
const EXCERPT_CHARS: usize = 120;

/// Who receives a notice, as the publisher chose it. Resolved to members at publish time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Audience {
    pub all: bool,
    /// With every sub-department.
    pub department_ids: Vec<u64>,
    /// A tag's members and the members of its departments (with sub-departments).
    pub tag_ids: Vec<u64>,
    pub user_ids: Vec<u64>,
}

impl Audience {
    pub fn normalised(mut self) -> Audience {
        for ids in [&mut self.department_ids, &mut self.tag_ids, &mut self.user_ids] {
            ids.sort_unstable();
            ids.dedup();
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        !self.all && self.department_ids.is_empty() && self.tag_ids.is_empty() && self.user_ids.is_empty()
    }
}

/// A stored file a notice uses (cover, attachment or inline image).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub sha: String,
    pub name: String,
    pub size: u64,
    /// Sniffed for images; guessed from the name otherwise (a hint for the UI, never trusted
    /// when serving).
    pub mime: String,
    #[serde(default)]
    pub image: bool,
}

/// `notices` row: everything but the body, so lists never load the HTML.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Notice {
    pub id: u64,
    pub publisher_id: u64,
    pub publisher_name: String,
    pub title: String,
    pub excerpt: String,
    pub cover: Option<FileRef>,
    pub attachments: Vec<FileRef>,
    /// Images the HTML shows (`<img src="/api/v1/notices/{id}/files/{sha}">`).
    pub images: Vec<FileRef>,
    pub audience: Audience,
    pub require_confirm: bool,
    pub pinned: bool,
    /// Requested publication time (None = at creation).
    pub publish_at: Option<i64>,
    pub expire_at: Option<i64>,
    /// Set once published; None while scheduled.
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Counters kept with the deliveries (stats without scanning for lists).
    pub total: u64,
    pub read: u64,
    pub confirmed: u64,
    pub reminded_at: Option<i64>,
}

impl Notice {
    pub fn is_published(&self) -> bool {
        self.published_at.is_some()
    }

    pub fn is_expired(&self, now: i64) -> bool {
        self.expire_at.is_some_and(|e| e <= now)
    }

    pub fn status(&self) -> &'static str {
        if self.is_published() {
            "published"
        } else {
            "scheduled"
        }
    }

    /// Every distinct file the notice references (each holds one blob reference).
    pub fn shas(&self) -> BTreeSet<String> {
        self.cover.iter().chain(&self.attachments).chain(&self.images).map(|f| f.sha.clone()).collect()
    }

    pub fn file(&self, sha: &str) -> Option<&FileRef> {
        self.cover.iter().chain(&self.attachments).chain(&self.images).find(|f| f.sha == sha)
    }

    /// Position in a member's centre (`notice_inbox` key): unread first, then pinned, then
    /// newest. Higher sorts first (the centre is read in reverse key order).
    pub fn rank(&self, unread: bool) -> u64 {
        let at = self.published_at.unwrap_or(0).clamp(0, (1 << 62) - 1) as u64;
        (u64::from(unread) << 63) | (u64::from(self.pinned) << 62) | at
    }

    pub fn file_url(&self, sha: &str) -> String {
        file_url(self.id, sha)
    }
}

pub fn file_url(id: u64, sha: &str) -> String {
    format!("/api/v1/notices/{id}/files/{sha}")
}

/// `notice_bodies` row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NoticeBody {
    /// Sanitised HTML.
    pub html: String,
    /// Its text (excerpt, search).
    pub text: String,
}

/// `notice_deliveries` row: one member's copy of a published notice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Delivery {
    pub delivered_at: i64,
    pub read_at: Option<i64>,
    pub confirmed_at: Option<i64>,
    pub reminded_at: Option<i64>,
}

/// `notice_uploads` row: a file a publisher uploaded for a notice they are writing. It holds a
/// blob reference until a notice takes it over or it expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    pub file: FileRef,
    pub created_at: i64,
}

/// `settings["notice_publishers"]`: members granted the publisher right (admins have it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Publishers {
    pub user_ids: Vec<u64>,
}

impl crate::platform::settings::SettingsDoc for Publishers {
    const KEY: &'static str = "notice_publishers";
}

// ---- what the API returns ----

/// A notice in lists and events (docs/messaging.md `NoticeSummary`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoticeSummary {
    pub id: u64,
    pub title: String,
    pub excerpt: String,
    /// URL of the cover image.
    pub cover: Option<String>,
    pub publisher_name: String,
    pub published_at: Option<i64>,
    pub pinned: bool,
    pub read: bool,
    pub confirmed: bool,
    pub require_confirm: bool,
    pub expire_at: Option<i64>,
}

impl NoticeSummary {
    pub fn of(n: &Notice, d: Option<&Delivery>) -> NoticeSummary {
        NoticeSummary {
            id: n.id,
            title: n.title.clone(),
            excerpt: n.excerpt.clone(),
            cover: n.cover.as_ref().map(|c| n.file_url(&c.sha)),
            publisher_name: n.publisher_name.clone(),
            published_at: n.published_at,
            pinned: n.pinned,
            read: d.is_some_and(|d| d.read_at.is_some()),
            confirmed: d.is_some_and(|d| d.confirmed_at.is_some()),
            require_confirm: n.require_confirm,
            expire_at: n.expire_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FileView {
    pub sha: String,
    pub name: String,
    pub size: u64,
    pub mime: String,
    pub url: String,
}

impl FileView {
    pub fn of(n: &Notice, f: &FileRef) -> FileView {
        FileView {
            sha: f.sha.clone(),
            name: f.name.clone(),
            size: f.size,
            mime: f.mime.clone(),
            url: n.file_url(&f.sha),
        }
    }
}

/// What only the publisher (or a super admin) sees of a notice.
#[derive(Debug, Clone, Serialize)]
pub struct ManageInfo {
    pub status: &'static str,
    pub publisher_id: u64,
    pub audience: Audience,
    pub publish_at: Option<i64>,
    pub total: u64,
    /// Counts (named apart from the summary's per-member `read`/`confirmed` flags, which the
    /// manage list flattens into the same object).
    pub read_count: u64,
    pub confirmed_count: u64,
    pub reminded_at: Option<i64>,
    pub created_at: i64,
}

impl ManageInfo {
    pub fn of(n: &Notice) -> ManageInfo {
        ManageInfo {
            status: n.status(),
            publisher_id: n.publisher_id,
            audience: n.audience.clone(),
            publish_at: n.publish_at,
            total: n.total,
            read_count: n.read,
            confirmed_count: n.confirmed,
            reminded_at: n.reminded_at,
            created_at: n.created_at,
        }
    }
}

/// `GET /notices/{id}`.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeDetail {
    #[serde(flatten)]
    pub summary: NoticeSummary,
    pub html: String,
    pub attachments: Vec<FileView>,
    pub read_at: Option<i64>,
    pub confirmed_at: Option<i64>,
    /// Present when the caller may manage the notice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manage: Option<ManageInfo>,
}

/// A row of `GET /notices/manage`.
#[derive(Debug, Clone, Serialize)]
pub struct ManageItem {
    #[serde(flatten)]
    pub summary: NoticeSummary,
    #[serde(flatten)]
    pub manage: ManageInfo,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonRow {
    pub user_id: u64,
    pub name: String,
    /// The member's main department.
    pub department: String,
    #[serde(skip)]
    pub read_at: Option<i64>,
    #[serde(skip)]
    pub confirmed_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub total: u64,
    pub read: u64,
    pub unread: u64,
    pub confirmed: u64,
    pub read_users: Vec<PersonRow>,
    pub unread_users: Vec<PersonRow>,
    pub confirmed_users: Vec<PersonRow>,
}

// ---- what the API accepts ----

/// An attachment: an uploaded file's sha, optionally with a display name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum AttachmentInput {
    Sha(String),
    File {
        sha: String,
        #[serde(default)]
        name: Option<String>,
    },
}

impl AttachmentInput {
    pub fn sha(&self) -> &str {
        match self {
            AttachmentInput::Sha(s) | AttachmentInput::File { sha: s, .. } => s,
        }
    }
    pub fn name(&self) -> Option<&str> {
        match self {
            AttachmentInput::File { name: Some(n), .. } => Some(n),
            _ => None,
        }
    }
}

/// `POST /notices`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeInput {
    pub title: String,
    #[serde(default)]
    pub html: String,
    #[serde(default)]
    pub cover_sha: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
    pub audience: Audience,
    #[serde(default)]
    pub require_confirm: bool,
    #[serde(default)]
    pub publish_at: Option<i64>,
    #[serde(default)]
    pub expire_at: Option<i64>,
    #[serde(default)]
    pub pinned: bool,
}

/// `PATCH /notices/{id}`: fields present replace; `null` clears the nullable ones.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticePatch {
    pub title: Option<String>,
    pub html: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub cover_sha: Option<Option<String>>,
    pub attachments: Option<Vec<AttachmentInput>>,
    pub audience: Option<Audience>,
    pub require_confirm: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub publish_at: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    pub expire_at: Option<Option<i64>>,
    pub pinned: Option<bool>,
}

/// A field that is present (even as `null`) becomes `Some(..)`; absent stays `None` (default).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl NoticePatch {
    /// The full input this patch makes of `n` (whose body is `html`).
    pub fn apply_to(self, n: &Notice, html: String) -> NoticeInput {
        let attachments = n
            .attachments
            .iter()
            .map(|a| AttachmentInput::File { sha: a.sha.clone(), name: Some(a.name.clone()) })
            .collect();
        NoticeInput {
            title: self.title.unwrap_or_else(|| n.title.clone()),
            html: self.html.unwrap_or(html),
            cover_sha: self.cover_sha.unwrap_or_else(|| n.cover.as_ref().map(|c| c.sha.clone())),
            attachments: self.attachments.unwrap_or(attachments),
            audience: self.audience.unwrap_or_else(|| n.audience.clone()),
            require_confirm: self.require_confirm.unwrap_or(n.require_confirm),
            publish_at: self.publish_at.unwrap_or(n.publish_at),
            expire_at: self.expire_at.unwrap_or(n.expire_at),
            pinned: self.pinned.unwrap_or(n.pinned),
        }
    }
}

pub fn validate_title(t: &str) -> AppResult<String> {
    let t = t.trim();
    let n = t.chars().count();
    if n == 0 {
        return Err(AppError::invalid("title", "invalid_title", "Enter a title"));
    }
    if n > MAX_TITLE_CHARS {
        return Err(AppError::invalid(
            "title",
            "invalid_title",
            format!("The title is longer than {MAX_TITLE_CHARS} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(AppError::invalid("title", "invalid_title", "The title contains control characters"));
    }
    Ok(t.to_owned())
}

pub use crate::platform::download::clean_file_name;

/// The first characters of the text, for lists and events.
pub fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centre_rank_orders_unread_then_pinned_then_newest() {
        let n = |pinned, at| Notice { pinned, published_at: Some(at), ..Default::default() };
        let mut ranks = [
            n(false, 5).rank(false),
            n(true, 1).rank(false),
            n(false, 9).rank(true),
            n(true, 2).rank(true),
            n(false, 3).rank(true),
        ];
        ranks.sort_unstable_by(|a, b| b.cmp(a));
        let expected = [
            n(true, 2).rank(true),
            n(false, 9).rank(true),
            n(false, 3).rank(true),
            n(true, 1).rank(false),
            n(false, 5).rank(false),
        ];
        assert_eq!(ranks, expected);
    }

    #[test]
    fn titles_and_file_names() {
        assert!(validate_title("  ").is_err());
        assert!(validate_title(&"长".repeat(121)).is_err());
        assert_eq!(validate_title(" 放假通知 ").unwrap(), "放假通知");
    }

    #[test]
    fn a_patch_keeps_what_it_does_not_name() {
        let n = Notice { title: "旧".into(), expire_at: Some(9), pinned: true, ..Default::default() };
        let p: NoticePatch = serde_json::from_str(r#"{"title":"新","expire_at":null}"#).unwrap();
        let input = p.apply_to(&n, "<p>x</p>".into());
        assert_eq!((input.title.as_str(), input.expire_at, input.pinned), ("新", None, true));
        assert_eq!(input.html, "<p>x</p>");
    }
}
