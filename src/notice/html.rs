//! The HTML body of an announcement: sanitised with ammonia before it is stored, so the web app
//! can render it as is.
//!
//! Allowed: paragraphs and line breaks, bold/italic/underline/strike, headings, lists, quotes,
//! code, tables, horizontal rules, links (http, https, mailto, tel; opened with
//! `rel="noopener noreferrer"` and `target="_blank"`) and images whose `src` is one of our own
//! notice files. Everything else is removed: scripts and styles with their content, event
//! handlers, `style` and `class` attributes, `javascript:` and `data:` URLs, comments.
//!
//! Images: the editor inserts `/api/v1/notices/uploads/{sha}` (the publisher's own upload) or,
//! when editing, `/api/v1/notices/{id}/files/{sha}`. Both become
//! `/api/v1/notices/{ID_MARKER}/files/{sha}`; the marker is replaced by the notice's id inside
//! the write (a new notice has no id before it). Control characters are stripped from the input
//! first, so the marker cannot come from the publisher.

use super::model::MAX_HTML_BYTES;
use crate::error::{AppError, AppResult};
use crate::platform::blobs::is_valid_hash;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Stands for the notice id in stored image URLs until the id is known.
pub const ID_MARKER: char = '\u{1}';

const TAGS: &[&str] = &[
    "p",
    "br",
    "div",
    "span",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "s",
    "del",
    "ins",
    "sub",
    "sup",
    "mark",
    "small",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "code",
    "hr",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "td",
    "th",
    "caption",
];

/// Tags that end a line of text (for the plain text used by excerpts and search).
const BLOCKS: &[&str] = &[
    "p",
    "br",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "hr",
    "table",
    "tr",
    "td",
    "th",
    "caption",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanitised {
    /// Safe HTML, image URLs carrying [`ID_MARKER`].
    pub html: String,
    pub text: String,
    /// Hashes of the images the HTML shows, in order of appearance, without repeats.
    pub images: Vec<String>,
}

/// The sha of an image URL that points at one of our notice files, if it is one.
fn own_image(src: &str) -> Option<&str> {
    let rest = src.trim().strip_prefix("/api/v1/notices/")?;
    let sha = match rest.strip_prefix("uploads/") {
        Some(sha) => sha,
        None => {
            let (id, sha) = rest.split_once("/files/")?;
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            sha
        }
    };
    is_valid_hash(sha).then_some(sha)
}

pub fn sanitise(input: &str) -> AppResult<Sanitised> {
    if input.len() > MAX_HTML_BYTES {
        return Err(AppError::invalid(
            "html",
            "content_too_long",
            format!("The announcement is longer than {} KB", MAX_HTML_BYTES / 1024),
        ));
    }
    let input: String = input.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r')).collect();
    let images = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = images.clone();
    let mut b = ammonia::Builder::default();
    b.tags(TAGS.iter().copied().collect())
        .generic_attributes(HashSet::new())
        .tag_attributes(HashMap::from([
            ("a", HashSet::from(["href", "title"])),
            ("img", HashSet::from(["src", "alt", "width", "height"])),
            ("td", HashSet::from(["colspan", "rowspan"])),
            ("th", HashSet::from(["colspan", "rowspan"])),
            ("ol", HashSet::from(["start"])),
        ]))
        .url_schemes(HashSet::from(["http", "https", "mailto", "tel"]))
        .link_rel(Some("noopener noreferrer"))
        .set_tag_attribute_value("a", "target", "_blank")
        .strip_comments(true)
        .attribute_filter(move |element, attribute, value| match (element, attribute) {
            ("img", "src") => {
                let sha = own_image(value)?;
                if let Ok(mut list) = seen.lock() {
                    if !list.iter().any(|s| s == sha) {
                        list.push(sha.to_owned());
                    }
                }
                Some(Cow::Owned(format!("/api/v1/notices/{ID_MARKER}/files/{sha}")))
            }
            _ => Some(Cow::Borrowed(value)),
        });
    let html = b.clean(&input).to_string();
    let images = images.lock().map(|l| l.clone()).unwrap_or_default();
    let text = text_of(&html);
    Ok(Sanitised { html, text, images })
}

/// Replace the id marker of [`sanitise`]'s output with the notice's id.
pub fn with_id(html: &str, id: u64) -> String {
    html.replace(ID_MARKER, &id.to_string())
}

/// The text of sanitised HTML (as our serializer writes it: quoted attributes, the five basic
/// entities), one space between blocks, whitespace collapsed.
pub fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut chars = html.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' => {
                let mut name = String::new();
                let mut in_name = true;
                let mut quoted = false;
                for t in chars.by_ref() {
                    match t {
                        '"' => quoted = !quoted,
                        '>' if !quoted => break,
                        c if in_name && (c.is_ascii_alphanumeric() || (c == '/' && name.is_empty())) => {
                            if c != '/' {
                                name.push(c.to_ascii_lowercase());
                            }
                        }
                        _ => in_name = false,
                    }
                }
                if BLOCKS.contains(&name.as_str()) {
                    out.push(' ');
                }
            }
            '&' => {
                let mut entity = String::new();
                while let Some(&n) = chars.peek() {
                    chars.next();
                    if n == ';' || entity.len() > 8 {
                        break;
                    }
                    entity.push(n);
                }
                out.push_str(match entity.as_str() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "#39" | "apos" => "'",
                    "nbsp" => " ",
                    _ => "",
                });
            }
            c => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn scripts_handlers_and_script_urls_are_removed() {
        let dirty = r#"<h2 onclick="x()">标题</h2><script>alert(1)</script><style>p{}</style>
            <p style="color:red" class="c">正文<img src="https://evil.example/x.png" onerror="alert(2)"></p>
            <a href="javascript:alert(3)">坏</a><a href="JaVaScRiPt&#58;alert(4)">坏</a>
            <a href="https://example.com/a" target="_self" rel="opener">好</a><!-- note -->
            <img src="data:image/png;base64,AAAA"><iframe src="https://x"></iframe><svg onload="x()"></svg>"#;
        let s = sanitise(dirty).unwrap();
        let lower = s.html.to_lowercase();
        for bad in [
            "script",
            "onclick",
            "onerror",
            "onload",
            "javascript",
            "style",
            "class=",
            "data:",
            "iframe",
            "svg",
            "<!--",
            "evil",
        ] {
            assert!(!lower.contains(bad), "{bad} survived: {}", s.html);
        }
        assert!(
            s.html.contains(r#"<a href="https://example.com/a" target="_blank" rel="noopener noreferrer">好</a>"#),
            "{}",
            s.html
        );
        assert!(s.html.contains("<h2>标题</h2>"));
        assert!(s.images.is_empty());
        assert_eq!(s.text, "标题 正文 坏坏 好");
    }

    #[test]
    fn own_images_are_kept_with_the_id_marker() {
        let html = format!(
            r#"<p><img src="/api/v1/notices/uploads/{SHA}" alt="a"><img src="/api/v1/notices/12/files/{SHA}"><img src="/api/v1/notices/x/files/{SHA}"></p>"#
        );
        let s = sanitise(&html).unwrap();
        assert_eq!(s.images, vec![SHA.to_owned()]);
        let stored = with_id(&s.html, 77);
        assert_eq!(stored.matches(&format!("/api/v1/notices/77/files/{SHA}")).count(), 2, "{stored}");
        assert!(!stored.contains("/x/"), "{stored}");
    }

    #[test]
    fn the_marker_cannot_be_smuggled_in_and_size_is_bounded() {
        let s = sanitise("<p>a\u{1}b</p>").unwrap();
        assert!(!s.html.contains(ID_MARKER));
        assert_eq!(sanitise(&"x".repeat(MAX_HTML_BYTES + 1)).unwrap_err().code, "content_too_long");
    }

    #[test]
    fn text_decodes_entities_and_separates_blocks() {
        assert_eq!(text_of(r#"<p>a &amp; b&lt;c&gt;</p><p title="x>y">d</p>e<b>f</b>"#), "a & b<c> d ef");
    }
}
