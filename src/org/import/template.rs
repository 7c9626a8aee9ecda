//! The column layout shared by the template, the import and the export, and the template
//! workbook itself (sheet 1: header + a sample row; sheet 2 "说明 Instructions").

use crate::error::{AppError, AppResult};
use crate::org::model::CustomFields;
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, Format, FormatAlign, FormatBorder, Note, Workbook, Worksheet,
    XlsxError,
};

/// The built-in columns, in template order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Std {
    Userid,
    Name,
    Alias,
    Department,
    Position,
    Mobile,
    Email,
    Gender,
    Telephone,
    Supervisor,
    EmployeeNo,
    HireDate,
}

/// A column of the sheet: built-in, or a custom field (by key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    Std(Std),
    Custom(String),
}

pub struct ColumnDef {
    pub field: Std,
    pub zh: &'static str,
    pub en: &'static str,
    pub required: bool,
    pub width: f64,
    /// Text cells (keep leading zeros, no scientific notation for long numbers).
    pub text: bool,
    pub help_zh: &'static str,
    pub help_en: &'static str,
    pub sample: &'static str,
}

pub const COLUMNS: [ColumnDef; 12] = [
    ColumnDef { field: Std::Userid, zh: "账号", en: "UserID", required: true, width: 16.0, text: true,
        help_zh: "必填。1–64 位字母、数字或 _ - . @，以字母或数字开头；不区分大小写且唯一。再次导入时按账号更新已有成员。",
        help_en: "Required. 1–64 letters, digits or _ - . @, starting with a letter or digit; unique, case-insensitive. Re-importing updates the member with this account id.",
        sample: "zhangsan" },
    ColumnDef { field: Std::Name, zh: "姓名", en: "Name", required: true, width: 12.0, text: true,
        help_zh: "必填。1–64 个字符。", help_en: "Required. 1–64 characters.", sample: "张三" },
    ColumnDef { field: Std::Alias, zh: "别名", en: "Alias", required: false, width: 12.0, text: true,
        help_zh: "选填，最多 64 个字符。", help_en: "Optional, at most 64 characters.", sample: "小张" },
    ColumnDef { field: Std::Department, zh: "部门", en: "Department", required: true, width: 30.0, text: true,
        help_zh: "必填。部门路径，层级用 / 分隔，如“总公司/研发部/后端组”；开头的根部门名称可省略（“研发部/后端组”）。多个部门用 ; 分隔，第一个为主部门。不存在的部门会自动创建（最多 15 级）。",
        help_en: "Required. Department path with levels separated by /, e.g. 总公司/研发部/后端组; the root department's name may be left out (研发部/后端组). Several departments are separated by ; and the first is the main one. Missing departments are created (at most 15 levels).",
        sample: "研发部/后端组" },
    ColumnDef { field: Std::Position, zh: "职务", en: "Position", required: false, width: 14.0, text: true,
        help_zh: "选填，最多 128 个字符。", help_en: "Optional, at most 128 characters.", sample: "后端工程师" },
    ColumnDef { field: Std::Mobile, zh: "手机", en: "Mobile", required: false, width: 16.0, text: true,
        help_zh: "手机和邮箱至少填一项。数字、+、- 和空格，5–32 位，如 13800000000、+86 13800000000、+1-555-0100；不能与其他成员重复。",
        help_en: "Mobile or email is required. Digits, +, - and spaces, 5–32 characters, e.g. 13800000000, +86 13800000000, +1-555-0100; must not belong to another member.",
        sample: "13800000000" },
    ColumnDef { field: Std::Email, zh: "邮箱", en: "Email", required: false, width: 24.0, text: true,
        help_zh: "手机和邮箱至少填一项。不能与其他成员重复。", help_en: "Mobile or email is required. Must not belong to another member.",
        sample: "zhangsan@example.com" },
    ColumnDef { field: Std::Gender, zh: "性别", en: "Gender", required: false, width: 8.0, text: true,
        help_zh: "选填：男 / 女（也可写 male / female / 1 / 2），留空表示未知。", help_en: "Optional: 男 / 女 (or male / female / 1 / 2); empty means unknown.",
        sample: "男" },
    ColumnDef { field: Std::Telephone, zh: "座机", en: "Telephone", required: false, width: 16.0, text: true,
        help_zh: "选填，最多 32 位数字、+ - ( ) 或空格。", help_en: "Optional, up to 32 digits, + - ( ) or spaces.", sample: "010-12345678" },
    ColumnDef { field: Std::Supervisor, zh: "直属上级", en: "Supervisor", required: false, width: 16.0, text: true,
        help_zh: "选填。上级的账号，多个用 ; 分隔（最多 5 个）；必须是已有成员或本表中的成员。",
        help_en: "Optional. Account ids of the direct supervisors separated by ; (at most 5); each must be an existing member or a row of this sheet.",
        sample: "" },
    ColumnDef { field: Std::EmployeeNo, zh: "工号", en: "EmployeeNo", required: false, width: 12.0, text: true,
        help_zh: "选填，最多 64 个字符。", help_en: "Optional, at most 64 characters.", sample: "A0001" },
    ColumnDef { field: Std::HireDate, zh: "入职日期", en: "HireDate", required: false, width: 14.0, text: false,
        help_zh: "选填。日期单元格，或文本 YYYY-MM-DD（如 2024-03-01）。", help_en: "Optional. A date cell or text YYYY-MM-DD (e.g. 2024-03-01).",
        sample: "2024-03-01" },
];

pub fn def(f: Std) -> &'static ColumnDef {
    // COLUMNS lists every variant exactly once, in declaration order.
    &COLUMNS[f as usize]
}

/// The canonical (zh) header of a column, for messages about missing columns.
pub fn canonical_title(f: &Field, fields: &CustomFields) -> String {
    match f {
        Field::Std(s) => def(*s).zh.to_owned(),
        Field::Custom(k) => {
            fields.items.iter().find(|c| &c.key == k).map(|c| c.label.clone()).unwrap_or_else(|| k.clone())
        }
    }
}

/// Which column a header cell names: zh or en text (case-insensitive, a trailing `*` ignored),
/// or a custom field's label.
pub fn match_header(text: &str, fields: &CustomFields) -> Option<Field> {
    let t = text.trim().trim_end_matches(['*', '＊']).trim().to_lowercase();
    if t.is_empty() {
        return None;
    }
    if let Some(c) = COLUMNS.iter().find(|c| c.zh.to_lowercase() == t || c.en.to_lowercase() == t) {
        return Some(Field::Std(c.field));
    }
    fields.items.iter().find(|f| f.label.trim().to_lowercase() == t).map(|f| Field::Custom(f.key.clone()))
}

/// The template / export layout: built-in columns, then custom fields.
pub fn layout(fields: &CustomFields) -> Vec<(Field, String)> {
    let mut out: Vec<(Field, String)> = COLUMNS.iter().map(|c| (Field::Std(c.field), c.zh.to_owned())).collect();
    out.extend(fields.items.iter().map(|f| (Field::Custom(f.key.clone()), f.label.clone())));
    out
}

pub fn xl(e: XlsxError) -> AppError {
    AppError::internal(e)
}

/// Formats shared by the template and the export.
pub struct Formats {
    pub header: Format,
    pub header_required: Format,
    pub text: Format,
    pub date: Format,
}

impl Formats {
    pub fn new() -> Formats {
        let header = Format::new()
            .set_bold()
            .set_background_color(Color::RGB(0xE8F0FE))
            .set_border(FormatBorder::Thin)
            .set_border_color(Color::RGB(0xB0B8C4))
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter);
        let header_required = header.clone().set_font_color(Color::RGB(0xC0392B));
        Formats {
            header,
            header_required,
            text: Format::new().set_num_format("@"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
        }
    }
}

impl Default for Formats {
    fn default() -> Self {
        Self::new()
    }
}

/// Header row with notes, widths, column formats and frozen first row; returns the layout.
pub fn write_header(
    ws: &mut Worksheet,
    fields: &CustomFields,
    f: &Formats,
    notes: bool,
) -> AppResult<Vec<(Field, String)>> {
    let layout = layout(fields);
    ws.set_row_height(0, 22).map_err(xl)?;
    for (i, (field, title)) in layout.iter().enumerate() {
        let col = i as u16;
        match field {
            Field::Std(s) => {
                let d = def(*s);
                let fmt = if d.required { &f.header_required } else { &f.header };
                ws.write_string_with_format(0, col, title, fmt).map_err(xl)?;
                ws.set_column_width(col, d.width).map_err(xl)?;
                if d.text {
                    ws.set_column_format(col, &f.text).map_err(xl)?;
                } else {
                    ws.set_column_format(col, &f.date).map_err(xl)?;
                }
                if notes {
                    let note = Note::new(format!("{} {}\n{}\n{}", d.zh, d.en, d.help_zh, d.help_en))
                        .add_author_prefix(false)
                        .set_width(320)
                        .set_height(150);
                    ws.insert_note(0, col, &note).map_err(xl)?;
                }
            }
            Field::Custom(_) => {
                ws.write_string_with_format(0, col, title, &f.header).map_err(xl)?;
                ws.set_column_width(col, 16).map_err(xl)?;
                ws.set_column_format(col, &f.text).map_err(xl)?;
                if notes {
                    let note = Note::new(format!(
                        "{title}\n自定义字段，选填，最多 256 个字符。\nCustom field, optional, at most 256 characters."
                    ))
                    .add_author_prefix(false);
                    ws.insert_note(0, col, &note).map_err(xl)?;
                }
            }
        }
    }
    ws.set_freeze_panes(1, 0).map_err(xl)?;
    Ok(layout)
}

/// The downloadable template. `root_name` makes the sample department path real.
pub fn template_xlsx(fields: &CustomFields, root_name: &str) -> AppResult<Vec<u8>> {
    let mut wb = Workbook::new();
    let f = Formats::new();
    let sample = Format::new().set_italic().set_font_color(Color::RGB(0x7F8C8D));
    let ws = wb.add_worksheet();
    ws.set_name("成员 Members").map_err(xl)?;
    let layout = write_header(ws, fields, &f, true)?;
    for (i, (field, _)) in layout.iter().enumerate() {
        let col = i as u16;
        let Field::Std(s) = field else { continue };
        let value = match s {
            Std::Department if !root_name.is_empty() => format!("{root_name}/{}", def(*s).sample),
            _ => def(*s).sample.to_owned(),
        };
        if *s == Std::HireDate {
            let d = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 3, 1).map_err(xl)?;
            ws.write_datetime_with_format(1, col, &d, &sample.clone().set_num_format("yyyy-mm-dd")).map_err(xl)?;
        } else if !value.is_empty() {
            ws.write_string_with_format(1, col, &value, &sample.clone().set_num_format("@")).map_err(xl)?;
        }
    }
    let gender_col = layout.iter().position(|(f, _)| *f == Field::Std(Std::Gender)).unwrap_or(7) as u16;
    let dv = DataValidation::new()
        .allow_list_strings(&["男", "女"])
        .map_err(xl)?
        .set_error_style(DataValidationErrorStyle::Information);
    ws.add_data_validation(1, gender_col, 50_001, gender_col, &dv).map_err(xl)?;

    let help = wb.add_worksheet();
    help.set_name("说明 Instructions").map_err(xl)?;
    write_instructions(help, fields, &f)?;
    wb.save_to_buffer().map_err(xl)
}

fn write_instructions(ws: &mut Worksheet, fields: &CustomFields, f: &Formats) -> AppResult<()> {
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let title = Format::new().set_bold().set_font_size(14);
    ws.write_string_with_format(0, 0, "成员导入说明 / How to import members", &title).map_err(xl)?;
    let intro = [
        "1. 在第一个工作表中每行填写一名成员，第 1 行是表头，请勿修改表头文字（可用中文或英文表头，列的顺序不限）。灰色斜体的示例行请删除或替换。",
        "   Fill one member per row in the first sheet. Row 1 is the header: keep the header texts (Chinese or English, any column order). Delete or replace the grey sample row.",
        "2. 上传后系统先检查全部数据并列出每个问题（行号、列名、原因），确认无误后再导入；导入要么全部成功，要么不做任何改动。",
        "   After uploading, every row is checked and each problem is listed (row, column, reason). Nothing changes until you confirm, and then either all rows are imported or none.",
        "3. 按账号匹配：已存在的账号会被更新，新账号会被创建为“未激活”成员（需发送邀请激活）。表中存在但单元格为空的列会清空该字段；表中没有的列保持不变。",
        "   Rows are matched by account id: existing members are updated, new ones are created as not activated (send them an invitation). An empty cell clears that field; columns that are absent are left unchanged.",
        "4. 最多 50,000 行。导出的成员表可直接修改后重新导入。",
        "   At most 50,000 rows. An exported member list can be edited and imported again as it is.",
    ];
    for (i, line) in intro.iter().enumerate() {
        ws.write_string(1 + i as u32, 0, *line).map_err(xl)?;
    }
    let top = 1 + intro.len() as u32 + 1;
    for (c, h) in ["列名 Column", "英文列名 English", "必填 Required", "说明", "Description"].iter().enumerate()
    {
        ws.write_string_with_format(top, c as u16, *h, &f.header).map_err(xl)?;
    }
    let mut r = top + 1;
    for d in &COLUMNS {
        let req = if d.required {
            "是 Yes"
        } else if matches!(d.field, Std::Mobile | Std::Email) {
            "二选一 One of"
        } else {
            ""
        };
        ws.write_string_with_format(r, 0, d.zh, &wrap).map_err(xl)?;
        ws.write_string_with_format(r, 1, d.en, &wrap).map_err(xl)?;
        ws.write_string_with_format(r, 2, req, &wrap).map_err(xl)?;
        ws.write_string_with_format(r, 3, d.help_zh, &wrap).map_err(xl)?;
        ws.write_string_with_format(r, 4, d.help_en, &wrap).map_err(xl)?;
        r += 1;
    }
    for c in &fields.items {
        ws.write_string_with_format(r, 0, &c.label, &wrap).map_err(xl)?;
        ws.write_string_with_format(r, 1, &c.key, &wrap).map_err(xl)?;
        ws.write_string_with_format(r, 3, "自定义字段，选填，最多 256 个字符。", &wrap).map_err(xl)?;
        ws.write_string_with_format(r, 4, "Custom field, optional, at most 256 characters.", &wrap).map_err(xl)?;
        r += 1;
    }
    ws.set_column_width(0, 14).map_err(xl)?;
    ws.set_column_width(1, 14).map_err(xl)?;
    ws.set_column_width(2, 12).map_err(xl)?;
    ws.set_column_width(3, 60).map_err(xl)?;
    ws.set_column_width(4, 70).map_err(xl)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::model::CustomField;

    #[test]
    fn columns_are_in_enum_order() {
        for (i, c) in COLUMNS.iter().enumerate() {
            assert_eq!(c.field as usize, i);
        }
    }

    #[test]
    fn headers_match_in_both_languages() {
        let fields = CustomFields {
            items: vec![CustomField { key: "seat".into(), label: "工位".into(), kind: "text".into() }],
        };
        assert_eq!(match_header(" 手机 ", &fields), Some(Field::Std(Std::Mobile)));
        assert_eq!(match_header("MOBILE", &fields), Some(Field::Std(Std::Mobile)));
        assert_eq!(match_header("账号*", &fields), Some(Field::Std(Std::Userid)));
        assert_eq!(match_header("工位", &fields), Some(Field::Custom("seat".into())));
        assert_eq!(match_header("备注", &fields), None);
    }
}
