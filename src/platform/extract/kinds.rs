//! What kind of file a name (or MIME type) is: which extractor, which preview, which language.
//! The extension wins over the MIME type, since browsers send `application/octet-stream` for
//! anything they do not know.

use super::Format;

/// The lowercased extension, or the whole lowercased name for names like `Makefile`.
fn ext(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    match base.rsplit_once('.') {
        Some((stem, e)) if !stem.is_empty() => e.to_ascii_lowercase(),
        _ => base.to_ascii_lowercase(),
    }
}

/// Highlighting hint for code and markup, from the extension.
pub fn language_of(name: &str) -> Option<&'static str> {
    Some(match ext(name).as_str() {
        "rs" => "rs",
        "py" | "pyw" => "py",
        "js" | "mjs" | "cjs" | "jsx" => "js",
        "ts" | "tsx" | "mts" | "cts" => "ts",
        "go" => "go",
        "java" => "java",
        "c" | "h" => "c",
        "cpp" | "cc" | "cxx" | "hpp" | "hh" | "hxx" => "cpp",
        "json" => "json",
        "yaml" | "yml" => "yaml",
        "toml" => "toml",
        "sql" => "sql",
        "sh" | "bash" | "zsh" => "sh",
        "md" | "markdown" => "md",
        "html" | "htm" => "html",
        "css" => "css",
        "xml" | "svg" => "xml",
        _ => return None,
    })
}

/// Plain-text extensions beyond the languages above (and names without an extension).
const TEXT: &[&str] = &[
    "txt",
    "text",
    "csv",
    "tsv",
    "log",
    "ini",
    "cfg",
    "conf",
    "properties",
    "env",
    "rst",
    "tex",
    "srt",
    "vtt",
    "bat",
    "cmd",
    "ps1",
    "kt",
    "swift",
    "rb",
    "php",
    "pl",
    "lua",
    "r",
    "scala",
    "cs",
    "vue",
    "scss",
    "less",
    "gradle",
    "makefile",
    "dockerfile",
    "readme",
    "license",
];

/// Which extractor reads this file, if any.
pub fn format_of(name: &str, mime: Option<&str>) -> Option<Format> {
    let e = ext(name);
    let by_ext = match e.as_str() {
        "pdf" => Some(Format::Pdf),
        "docx" => Some(Format::Docx),
        "pptx" => Some(Format::Pptx),
        "xlsx" | "xlsm" => Some(Format::Xlsx),
        e if TEXT.contains(&e) || language_of(name).is_some() => Some(Format::Text),
        _ => None,
    };
    by_ext.or_else(|| format_of_mime(mime?))
}

fn format_of_mime(mime: &str) -> Option<Format> {
    let mime = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match mime.as_str() {
        "application/pdf" => Some(Format::Pdf),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => Some(Format::Docx),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => Some(Format::Pptx),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Some(Format::Xlsx),
        "application/json" | "application/xml" | "application/x-sh" | "application/sql" => Some(Format::Text),
        m if m.starts_with("text/") => Some(Format::Text),
        _ => None,
    }
}

/// The `Node.preview` kind: "image" | "pdf" | "audio" | "video" | "text" | "office", or None
/// when the browser cannot show the file. SVG is "text" (shown as XML source): served inline it
/// could run script, so it is never displayed as an image.
pub fn preview_kind(name: &str, mime: Option<&str>) -> Option<&'static str> {
    let by_ext = match ext(name).as_str() {
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "bmp" | "avif" | "ico" => Some("image"),
        "mp3" | "wav" | "ogg" | "oga" | "m4a" | "aac" | "flac" | "opus" => Some("audio"),
        "mp4" | "webm" | "mov" | "m4v" | "ogv" => Some("video"),
        _ => match format_of(name, None) {
            Some(Format::Pdf) => Some("pdf"),
            Some(Format::Docx | Format::Pptx | Format::Xlsx) => Some("office"),
            Some(Format::Text) => Some("text"),
            None => None,
        },
    };
    by_ext.or_else(|| preview_of_mime(mime?))
}

fn preview_of_mime(mime: &str) -> Option<&'static str> {
    let mime = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match mime.split_once('/') {
        Some(("image", "svg+xml")) => Some("text"),
        Some(("image", _)) => Some("image"),
        Some(("audio", _)) => Some("audio"),
        Some(("video", _)) => Some("video"),
        _ => format_of_mime(&mime).map(|f| match f {
            Format::Pdf => "pdf",
            Format::Text => "text",
            Format::Docx | Format::Pptx | Format::Xlsx => "office",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_extension_then_the_mime_type() {
        assert_eq!(preview_kind("合同.PDF", None), Some("pdf"));
        assert_eq!(preview_kind("照片.JPG", Some("application/octet-stream")), Some("image"));
        assert_eq!(preview_kind("周报.docx", None), Some("office"));
        assert_eq!(preview_kind("预算.xlsx", None), Some("office"));
        assert_eq!(preview_kind("汇报.pptx", None), Some("office"));
        assert_eq!(preview_kind("会议录音.m4a", None), Some("audio"));
        assert_eq!(preview_kind("演示.mp4", None), Some("video"));
        assert_eq!(preview_kind("说明.md", None), Some("text"));
        assert_eq!(preview_kind("logo.svg", Some("image/svg+xml")), Some("text"));
        assert_eq!(preview_kind("无扩展名", Some("image/png")), Some("image"));
        assert_eq!(preview_kind("data", Some("text/csv; charset=gbk")), Some("text"));
        assert_eq!(preview_kind("setup.exe", Some("application/octet-stream")), None);
        assert_eq!(preview_kind("旧文档.doc", None), None);
        assert_eq!(preview_kind("Makefile", None), Some("text"));
    }

    #[test]
    fn formats_and_languages() {
        assert_eq!(format_of("a.tar.gz", None), None);
        assert_eq!(format_of(".bashrc", None), None);
        assert_eq!(format_of("报表.XLSX", None), Some(Format::Xlsx));
        assert_eq!(format_of("x", Some("application/pdf")), Some(Format::Pdf));
        assert_eq!(format_of("main.rs", None), Some(Format::Text));
        assert_eq!(language_of("src/main.rs"), Some("rs"));
        assert_eq!(language_of("App.TSX"), Some("ts"));
        assert_eq!(language_of("config.yml"), Some("yaml"));
        assert_eq!(language_of("build.sh"), Some("sh"));
        assert_eq!(language_of("util.hpp"), Some("cpp"));
        assert_eq!(language_of("笔记.txt"), None);
        assert_eq!(language_of("Makefile"), None);
    }
}
