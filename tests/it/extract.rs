//! Text extraction through the real binary's hidden `__extract` subcommand: results, and that a
//! timeout or a crashed child comes back as an error, never a hang.

use officebox::platform::extract::{extract_isolated, ExtractError, Format, Limits};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_officebox"))
}

fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in parts {
        zip.start_file(*name, zip::write::SimpleFileOptions::default()).expect("start");
        zip.write_all(body).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

#[path = "../fixtures/pdf.rs"]
mod pdf_fixture;
use pdf_fixture::tiny_pdf;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    path
}

#[test]
fn the_child_process_extracts_pdf_docx_and_xlsx() {
    let dir = tempfile::tempdir().expect("tempdir");
    let limits = Limits::default();
    let pdf = write(dir.path(), "报告.pdf", &tiny_pdf("Quarterly report"));
    let got = extract_isolated(&exe(), &pdf, Format::Pdf, &limits).expect("pdf");
    assert_eq!(got.plain(), "Quarterly report");

    let xml =
        r#"<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>项目进度：已完成</w:t></w:r></w:p></w:body></w:document>"#;
    let docx = write(dir.path(), "进度.docx", &zip_of(&[("word/document.xml", xml.as_bytes())]));
    let got = extract_isolated(&exe(), &docx, Format::Docx, &limits).expect("docx");
    assert_eq!(got.plain(), "项目进度：已完成");

    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet().set_name("名单").expect("name").write(0, 0, "张三").expect("write");
    let xlsx = write(dir.path(), "名单.xlsx", &book.save_to_buffer().expect("save"));
    let got = extract_isolated(&exe(), &xlsx, Format::Xlsx, &limits).expect("xlsx");
    assert_eq!(got.plain(), "名单\n张三");
}

#[test]
fn a_fake_pdf_is_an_error_from_the_child() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = write(dir.path(), "假的.pdf", "其实是文本".as_bytes());
    let got = extract_isolated(&exe(), &fake, Format::Pdf, &Limits::default());
    assert!(matches!(&got, Err(ExtractError::Failed(m)) if m.contains("not a PDF")), "{got:?}");
}

#[test]
fn a_slow_child_is_killed_at_the_deadline() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 48 MiB of empty paragraphs: well under the unzip budget, far more than 20 ms of parsing.
    let mut xml = br#"<w:document xmlns:w="w"><w:body>"#.to_vec();
    xml.extend(b"<w:p/>".repeat(8 << 20));
    let docx = write(dir.path(), "慢.docx", &zip_of(&[("word/document.xml", &xml)]));
    let limits = Limits { timeout_ms: 20, max_unzipped: 64 << 20, ..Limits::default() };
    let started = Instant::now();
    assert_eq!(extract_isolated(&exe(), &docx, Format::Docx, &limits), Err(ExtractError::Timeout));
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[test]
fn a_child_over_its_memory_limit_crashes_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    // ~6 MiB of shared strings, which calamine loads into memory the 8 MiB address-space limit
    // (less than the binary itself maps) cannot give: the child aborts, the caller gets an error.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for row in 0..200u32 {
        sheet.write(row, 0, format!("{row}{}", "长".repeat(10_000))).expect("write");
    }
    let xlsx = write(dir.path(), "大.xlsx", &book.save_to_buffer().expect("save"));
    let limits = Limits { max_memory: 8 << 20, ..Limits::default() };
    let got = extract_isolated(&exe(), &xlsx, Format::Xlsx, &limits);
    assert!(matches!(&got, Err(ExtractError::Failed(m)) if m.contains("crashed")), "{got:?}");
}

#[test]
fn refusals_need_no_child() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pdf = write(dir.path(), "报告.pdf", &tiny_pdf("x"));
    let small = Limits { max_input: 10, ..Limits::default() };
    let got = extract_blocking_with(&pdf, &small);
    assert!(matches!(got, Err(ExtractError::TooLarge(_))), "{got:?}");
    let missing = extract_isolated(Path::new("/nonexistent/officebox"), &pdf, Format::Pdf, &Limits::default());
    assert!(matches!(&missing, Err(ExtractError::Failed(m)) if m.contains("cannot start")), "{missing:?}");
}

fn extract_blocking_with(
    path: &Path,
    limits: &Limits,
) -> Result<officebox::platform::extract::Extracted, ExtractError> {
    let isolation = officebox::platform::extract::Isolation::Subprocess(exe());
    officebox::platform::extract::isolate::extract_blocking(path, Format::Pdf, limits, &isolation)
}

#[tokio::test]
async fn the_async_extractor_queues_isolated_work_through_the_child() {
    use officebox::platform::extract::{Extractor, Isolation};
    let dir = tempfile::tempdir().expect("tempdir");
    let extractor = Extractor::with_isolation(Limits::default(), Isolation::Subprocess(exe()), 1);
    let slide = r#"<p:sld xmlns:p="p" xmlns:a="a"><a:p><a:r><a:t>季度目标</a:t></a:r></a:p></p:sld>"#;
    let pptx = write(dir.path(), "目标.pptx", &zip_of(&[("ppt/slides/slide1.xml", slide.as_bytes())]));
    let pdf = write(dir.path(), "报告.pdf", &tiny_pdf("Annual plan"));
    let (a, b) = tokio::join!(
        extractor.extract(pptx, "目标.pptx", None),
        extractor.extract(pdf, "download", Some("application/pdf")),
    );
    assert_eq!(a.expect("pptx").plain(), "季度目标");
    assert_eq!(b.expect("pdf").plain(), "Annual plan");
}
