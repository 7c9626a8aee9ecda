//! In-process extraction of generated fixtures (the child-process path is tested through the
//! real binary in tests/it/extract.rs).

use super::*;
use std::io::Write;
use std::time::Instant;
use zip::write::SimpleFileOptions;

pub(crate) fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in parts {
        zip.start_file(*name, SimpleFileOptions::default()).expect("start");
        zip.write_all(body).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

fn docx_xml(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
    )
}

fn slide_xml(text: &str) -> String {
    format!(
        r#"<p:sld xmlns:p="p" xmlns:a="a"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>{text}</a:t></a:r><a:br/><a:r><a:t>第二行</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#
    )
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

fn file(name: &str, bytes: &[u8]) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write fixture");
    Fixture { _dir: dir, path }
}

fn run(name: &str, bytes: &[u8], limits: &Limits) -> Result<Extracted, ExtractError> {
    let f = file(name, bytes);
    let format = format_of(name, None).expect("known format");
    extract_in_process(&f.path, format, limits)
}

fn text_of(name: &str, bytes: &[u8]) -> String {
    run(name, bytes, &Limits::default()).expect("extracts").plain()
}

#[test]
fn utf8_gbk_and_utf16_text_files_decode() {
    assert_eq!(text_of("说明.md", "# 标题\n正文 text".as_bytes()), "# 标题\n正文 text");
    let (gbk, _, _) = encoding_rs::GBK.encode("财务报表：第一季度，收入增长");
    assert_eq!(text_of("报表.txt", &gbk), "财务报表：第一季度，收入增长");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend("会议纪要 v2".encode_utf16().flat_map(u16::to_le_bytes));
    assert_eq!(text_of("纪要.txt", &utf16), "会议纪要 v2");
    let mut bom8 = vec![0xEF, 0xBB, 0xBF];
    bom8.extend("带BOM的CSV,1,2".as_bytes());
    assert_eq!(text_of("表.csv", &bom8), "带BOM的CSV,1,2");
}

#[test]
fn text_is_capped_on_a_char_boundary_and_marked_truncated() {
    let limits = Limits { max_output: 100, ..Limits::default() };
    let long = "汉字".repeat(1000);
    let got = run("长.txt", long.as_bytes(), &limits).expect("extracts");
    assert!(got.truncated);
    let text = got.plain();
    assert!(text.len() <= 100 && text.len() > 80, "{}", text.len());
    assert!(text.chars().all(|c| c == '汉' || c == '字'));
    let short = run("短.txt", "汉字".as_bytes(), &limits).expect("extracts");
    assert!(!short.truncated);
}

#[test]
fn a_gbk_file_cut_mid_character_is_still_gbk() {
    let long = "中文内容".repeat(100);
    let (gbk, _, _) = encoding_rs::GBK.encode(&long);
    // 2-byte characters: an odd cut splits one.
    assert_eq!(text::decode(&gbk[..41], false), "中文内容".repeat(5));
    assert_eq!(text::decode(b"plain \xff\xfe junk", true), "plain \u{fffd}\u{fffd} junk");
}

#[test]
fn control_characters_are_dropped_from_text() {
    assert_eq!(text_of("a.txt", b"a\x00b\x07c\td\ne"), "abc\td\ne");
}

#[test]
fn docx_paragraphs_tabs_and_breaks() {
    let body = docx_xml(
        r#"<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>第一段</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">制表 &amp; 符号</w:t></w:r></w:p><w:p><w:r><w:t>第二段</w:t><w:br/><w:t>换行</w:t></w:r><w:r><w:instrText>PAGE</w:instrText></w:r></w:p>"#,
    );
    let got = text_of("周报.docx", &zip_of(&[("word/document.xml", body.as_bytes())]));
    assert_eq!(got, "第一段\t制表 & 符号\n第二段\n换行");
}

#[test]
fn pptx_slides_come_in_numeric_order_one_section_each() {
    let (s1, s2, s10) = (slide_xml("第一页"), slide_xml("第二页"), slide_xml("第十页"));
    let bytes = zip_of(&[
        ("ppt/slides/slide10.xml", s10.as_bytes()),
        ("ppt/slides/slide2.xml", s2.as_bytes()),
        ("ppt/slides/_rels/slide1.xml.rels", b"<Relationships/>"),
        ("ppt/slides/slide1.xml", s1.as_bytes()),
    ]);
    let got = run("汇报.pptx", &bytes, &Limits::default()).expect("extracts");
    let texts: Vec<&str> = got.sections.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts, ["第一页\n第二行\n", "第二页\n第二行\n", "第十页\n第二行\n"]);
    assert!(got.sections.iter().all(|s| s.title.is_none()));
}

#[test]
fn xlsx_one_section_per_sheet_cells_tab_separated() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("销售").expect("name");
    sheet.write(0, 0, "产品").expect("w");
    sheet.write(0, 1, "数量").expect("w");
    sheet.write(1, 0, "键盘").expect("w");
    sheet.write(1, 1, 12).expect("w");
    sheet.write(1, 3, 2.5).expect("w");
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 5, 1).expect("date");
    let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    sheet.write_with_format(2, 0, &date, &fmt).expect("w");
    let other = book.add_worksheet().set_name("备注").expect("name");
    other.write(0, 0, "无").expect("w");
    let bytes = book.save_to_buffer().expect("save");
    let got = run("预算.xlsx", &bytes, &Limits::default()).expect("extracts");
    assert_eq!(got.sections.len(), 2);
    assert_eq!(got.sections[0].title.as_deref(), Some("销售"));
    assert_eq!(got.sections[0].text, "产品\t数量\n键盘\t12\t\t2.5\n2024-05-01");
    assert_eq!(got.sections[1].text, "无");
    assert_eq!(got.plain(), "销售\n产品\t数量\n键盘\t12\t\t2.5\n2024-05-01\n\n备注\n无");
}

#[test]
fn truncated_or_corrupt_zips_fail_cleanly() {
    let good = zip_of(&[("word/document.xml", docx_xml("<w:p><w:r><w:t>内容</w:t></w:r></w:p>").as_bytes())]);
    for name in ["坏.docx", "坏.pptx", "坏.xlsx"] {
        let cut = run(name, &good[..good.len() / 2], &Limits::default());
        assert!(matches!(cut, Err(ExtractError::Failed(_))), "{name}: {cut:?}");
        let junk = run(name, b"PK\x03\x04 not really a zip", &Limits::default());
        assert!(matches!(junk, Err(ExtractError::Failed(_))), "{name}: {junk:?}");
    }
    let mut flipped = good.clone();
    flipped[60..80].iter_mut().for_each(|b| *b ^= 0x55);
    assert!(matches!(run("坏.docx", &flipped, &Limits::default()), Err(ExtractError::Failed(_))));
    let no_doc = run("空.docx", &zip_of(&[("other.xml", b"<a/>")]), &Limits::default());
    assert!(matches!(no_doc, Err(ExtractError::Failed(_))), "{no_doc:?}");
    let bad_xml = zip_of(&[("word/document.xml", b"<w:document><w:p></w:document>")]);
    assert!(matches!(run("坏.docx", &bad_xml, &Limits::default()), Err(ExtractError::Failed(_))));
}

/// 64 MiB of zeros deflate to ~64 KiB; with a 4 MiB unzip budget it must be refused, quickly.
fn bomb_entry() -> Vec<u8> {
    vec![b' '; 64 << 20]
}

#[test]
fn zip_bombs_are_refused_quickly() {
    let limits = Limits { max_unzipped: 4 << 20, ..Limits::default() };
    let mut xml = docx_xml("<w:p><w:r><w:t>").into_bytes();
    xml.extend(bomb_entry());
    let docx = zip_of(&[("word/document.xml", &xml)]);
    assert!(docx.len() < 1 << 20);
    let started = Instant::now();
    assert!(matches!(run("炸弹.docx", &docx, &limits), Err(ExtractError::TooLarge(_))));
    let pptx = zip_of(&[("ppt/slides/slide1.xml", &xml)]);
    assert!(matches!(run("炸弹.pptx", &pptx, &limits), Err(ExtractError::TooLarge(_))));
    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet().write(0, 0, "正常").expect("w");
    let xlsx = add_entry(&book.save_to_buffer().expect("save"), "xl/media/bomb.bin", &bomb_entry());
    assert!(matches!(run("炸弹.xlsx", &xlsx, &limits), Err(ExtractError::TooLarge(_))));
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
}

#[test]
fn a_zip_lying_about_its_sizes_is_still_capped() {
    let limits = Limits { max_unzipped: 4 << 20, ..Limits::default() };
    let mut xml = docx_xml("<w:p><w:r><w:t>").into_bytes();
    xml.extend(bomb_entry());
    let mut docx = zip_of(&[("word/document.xml", &xml)]);
    claim_small_sizes(&mut docx);
    // The zip crate stops inflating at the claimed size, the budget would stop it otherwise:
    // either way the XML comes out cut, never 64 MiB.
    assert!(matches!(run("谎报.docx", &docx, &limits), Err(ExtractError::Failed(_) | ExtractError::TooLarge(_))));
}

/// Rewrites every "uncompressed size" field (local headers and central directory) to 100.
fn claim_small_sizes(zip: &mut [u8]) {
    let mut i = 0;
    while i + 46 <= zip.len() {
        match &zip[i..i + 4] {
            b"PK\x03\x04" => zip[i + 22..i + 26].copy_from_slice(&100u32.to_le_bytes()),
            b"PK\x01\x02" => zip[i + 24..i + 28].copy_from_slice(&100u32.to_le_bytes()),
            _ => {}
        }
        i += 1;
    }
}

fn add_entry(zip: &[u8], name: &str, body: &[u8]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).expect("read");
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        out.raw_copy_file(archive.by_index(i).expect("entry")).expect("copy");
    }
    out.start_file(name, SimpleFileOptions::default()).expect("start");
    out.write_all(body).expect("write");
    out.finish().expect("finish").into_inner()
}

#[test]
fn too_many_entries_and_too_deep_xml_are_refused() {
    let limits = Limits { max_entries: 10, max_xml_depth: 50, ..Limits::default() };
    let names: Vec<String> = (1..=11).map(|i| format!("ppt/slides/slide{i}.xml")).collect();
    let parts: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), b"<a/>".as_slice())).collect();
    assert!(matches!(run("多.pptx", &zip_of(&parts), &limits), Err(ExtractError::TooLarge(_))));
    let deep = format!("{}{}", "<w:p>".repeat(60), "</w:p>".repeat(60));
    let got = run("深.docx", &zip_of(&[("word/document.xml", docx_xml(&deep).as_bytes())]), &limits);
    assert!(matches!(&got, Err(ExtractError::Failed(m)) if m.contains("nested")), "{got:?}");
}

#[test]
fn office_output_is_capped() {
    let limits = Limits { max_output: 1000, ..Limits::default() };
    let body = docx_xml(&"<w:p><w:r><w:t>一段很长的文字。</w:t></w:r></w:p>".repeat(10_000));
    let got = run("长.docx", &zip_of(&[("word/document.xml", body.as_bytes())]), &limits).expect("extracts");
    assert!(got.truncated);
    assert!(got.plain().len() <= 1000 && got.plain().len() > 900);
    let slides: Vec<String> = (1..=500).map(|i| format!("ppt/slides/slide{i}.xml")).collect();
    let parts: Vec<(&str, &[u8])> = slides.iter().map(|n| (n.as_str(), b"<a/>".as_slice())).collect();
    let got = run("空页.pptx", &zip_of(&parts), &limits).expect("extracts");
    assert!(got.truncated && got.sections.len() < 100, "{}", got.sections.len());
}

#[test]
fn oversized_input_is_refused_before_reading_except_text() {
    let limits = Limits { max_input: 10, ..Limits::default() };
    assert!(matches!(run("大.pdf", &[b'x'; 11], &limits), Err(ExtractError::TooLarge(_))));
    assert!(matches!(run("大.docx", &[b'x'; 11], &limits), Err(ExtractError::TooLarge(_))));
    // Text files are read only as far as the preview needs, whatever their size.
    let log = run("大.log", b"0123456789abcdef", &Limits { max_output: 4, ..limits }).expect("extracts");
    assert_eq!((log.plain().as_str(), log.truncated), ("0123", true));
}

// A one-page PDF with a correct xref table; shared with the tests through the real binary.
#[path = "../../../tests/fixtures/pdf.rs"]
mod pdf_fixture;
use pdf_fixture::tiny_pdf;

#[test]
fn a_tiny_pdf_gives_its_text() {
    let got = run("报告.pdf", &tiny_pdf("Hello OfficeBox"), &Limits::default()).expect("extracts");
    assert_eq!(got.plain(), "Hello OfficeBox");
}

#[test]
fn broken_pdfs_are_errors_not_panics() {
    let not_pdf = run("假的.pdf", "这不是PDF".as_bytes(), &Limits::default());
    assert!(matches!(&not_pdf, Err(ExtractError::Failed(m)) if m.contains("not a PDF")), "{not_pdf:?}");
    let mut cut = tiny_pdf("Hello");
    cut.truncate(cut.len() / 2);
    assert!(matches!(run("截断.pdf", &cut, &Limits::default()), Err(ExtractError::Failed(_))));
    let junk =
        run("乱码.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\n%%EOF", &Limits::default());
    assert!(matches!(junk, Err(ExtractError::Failed(_))), "{junk:?}");
}

#[tokio::test]
async fn the_async_extractor_picks_the_format_and_refuses_unknown_files() {
    let extractor = Extractor::with_isolation(Limits::default(), Isolation::InProcess, 1);
    let f = file("笔记.txt", "你好".as_bytes());
    let got = extractor.extract(f.path.clone(), "笔记.txt", None).await.expect("extracts");
    assert_eq!(got.plain(), "你好");
    let exe = file("setup.exe", b"MZ");
    assert_eq!(extractor.extract(exe.path.clone(), "setup.exe", None).await, Err(ExtractError::Unsupported));
    // Test binaries never pass through cli::run, so they must not re-execute themselves.
    assert_eq!(Isolation::detect(), Isolation::InProcess);
}

#[test]
fn errors_have_stable_codes_and_round_trip_as_json() {
    let e = ExtractError::TooLarge("x".into());
    assert_eq!(e.code(), "preview_too_large");
    let json = serde_json::to_string(&Err::<Extracted, _>(e.clone())).expect("json");
    let back: Result<Extracted, ExtractError> = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, Err(e));
}
