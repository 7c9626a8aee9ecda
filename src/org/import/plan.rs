//! Checking a parsed sheet against the org: which rows create or update which member, which
//! departments must be created, and every problem with its Excel row, column and code.
//!
//! The same [`build`] runs for the dry run (on a snapshot) and again inside the commit's write
//! transaction, so what is applied is what was checked against the org as it is then. Field
//! rules come from `org::model::validate_*`; this module only adds what concerns a whole file
//! (duplicates within it, department paths, supervisors named by account id, admin scope).

pub use super::paths::{DeptRef, NewDept};
pub use super::snapshot::{Columns, Org, Source};

use super::parse::{Cell, Row, Sheet};
use super::paths::Depts;
use super::template::{def, Std, COLUMNS};
use crate::org::model::*;
use crate::org::tree::Scope;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Problems listed in one report; `error_count` still counts them all.
pub const MAX_ERRORS: usize = 10_000;
const MAX_DEPARTMENTS: usize = 20;
const MAX_SUPERVISORS: usize = 5;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RowError {
    /// Excel row number (the header is row 1).
    pub row: u32,
    /// The column's header text as written in the file.
    pub column: String,
    pub code: &'static str,
    pub reason: String,
}

#[derive(Default)]
struct Report {
    errors: Vec<RowError>,
    count: usize,
}

impl Report {
    fn push(&mut self, row: u32, column: &str, code: &'static str, reason: impl Into<String>) {
        self.count += 1;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(RowError { row, column: column.to_owned(), code, reason: reason.into() });
        }
    }
}

/// One data row, ready to apply.
#[derive(Debug, Clone)]
pub struct PlannedRow {
    pub row: u32,
    /// Lower-cased account id (None when it was missing, invalid or a duplicate).
    pub userid: Option<String>,
    /// The member this row updates.
    pub existing: Option<u64>,
    /// Fields from the sheet; `department_ids` and `supervisor_ids` are filled in when applied.
    pub input: MemberInput,
    pub departments: Option<Vec<DeptRef>>,
    /// Lower-cased account ids; None when the sheet has no supervisor column.
    pub supervisors: Option<Vec<String>>,
}

pub struct Plan {
    pub total_rows: usize,
    pub rows: Vec<PlannedRow>,
    pub new_departments: Vec<NewDept>,
    pub errors: Vec<RowError>,
    pub error_count: usize,
    pub columns: Columns,
}

impl Plan {
    pub fn creates(&self) -> usize {
        self.rows.iter().filter(|r| r.userid.is_some() && r.existing.is_none()).count()
    }
    pub fn updates(&self) -> usize {
        self.rows.iter().filter(|r| r.userid.is_some() && r.existing.is_some()).count()
    }
    pub fn new_department_paths(&self) -> Vec<String> {
        self.new_departments.iter().map(|d| d.path.clone()).collect()
    }
}

pub fn parse_gender(v: &str) -> Option<u8> {
    let g = match v.trim().to_lowercase().as_str() {
        "" | "0" | "未知" | "unknown" => 0,
        "男" | "male" | "m" | "1" => 1,
        "女" | "female" | "f" | "2" => 2,
        _ => return None,
    };
    validate_gender(g).ok()
}

/// Check every row of `sheet` against `org` as seen by an admin with `scope`.
pub fn build(sheet: &Sheet, org: &Org, scope: &Scope) -> Plan {
    let mut rep = Report::default();
    let header_row = sheet.header_row.max(1);
    let (cols, unknown) = Columns::map(sheet, &org.fields);
    for (text, reason) in unknown {
        rep.push(header_row, &text, "unknown_column", reason);
    }
    for d in COLUMNS.iter().filter(|d| d.required) {
        if cols.col(d.field).is_none() {
            rep.push(header_row, d.zh, "missing_column", format!("The sheet has no {} ({}) column", d.zh, d.en));
        }
    }
    if cols.col(Std::Mobile).is_none() && cols.col(Std::Email).is_none() {
        rep.push(
            header_row,
            def(Std::Mobile).zh,
            "missing_column",
            "The sheet needs a 手机 (Mobile) or 邮箱 (Email) column",
        );
    }
    let mut rows = Vec::new();
    let mut depts = Depts::new(&org.tree);
    if let Some(uid_col) = cols.col(Std::Userid) {
        let file_userids: std::collections::HashSet<String> =
            sheet.rows.iter().map(|r| r.cell(uid_col).text().to_lowercase()).filter(|u| !u.is_empty()).collect();
        let mut ck = Checker {
            org,
            scope,
            cols: &cols,
            rep: &mut rep,
            depts: &mut depts,
            file_userids,
            seen_uid: HashMap::new(),
            seen_mobile: HashMap::new(),
            seen_email: HashMap::new(),
        };
        rows = sheet.rows.iter().map(|r| ck.row(r)).collect();
    }
    let new_departments = std::mem::take(&mut depts.new);
    Plan {
        total_rows: sheet.rows.len(),
        rows,
        new_departments,
        errors: rep.errors,
        error_count: rep.count,
        columns: cols,
    }
}

struct Checker<'a, 'b> {
    org: &'a Org,
    scope: &'a Scope,
    cols: &'a Columns,
    rep: &'b mut Report,
    depts: &'b mut Depts<'a>,
    file_userids: std::collections::HashSet<String>,
    seen_uid: HashMap<String, u32>,
    seen_mobile: HashMap<String, u32>,
    seen_email: HashMap<String, u32>,
}

impl Checker<'_, '_> {
    fn err(&mut self, row: &Row, f: Std, code: &'static str, reason: impl Into<String>) {
        let title = self.cols.std_title(f);
        self.rep.push(row.row, &title, code, reason);
    }

    fn text(&self, row: &Row, f: Std) -> Option<String> {
        self.cols.col(f).map(|c| row.cell(c).text())
    }

    /// A free-text field with a length limit.
    fn limited(&mut self, row: &Row, f: Std, field: &str, max: usize) -> Option<String> {
        let v = self.text(row, f)?;
        match check_len(field, &v, max) {
            Ok(()) => Some(v),
            Err(e) => {
                self.err(row, f, "too_long", e.message);
                None
            }
        }
    }

    fn row(&mut self, row: &Row) -> PlannedRow {
        let mut input = MemberInput::default();
        let org = self.org;
        let (userid, existing) = self.userid(row);
        let member = existing.and_then(|id| org.members.get(&id));
        if existing.is_none() {
            input.userid = userid.clone();
        }
        if let Some(v) = self.text(row, Std::Name) {
            match validate_name(&v) {
                Ok(v) => input.name = Some(v),
                Err(_) if v.is_empty() => self.err(row, Std::Name, "required", "The name is required"),
                Err(e) => self.err(row, Std::Name, "invalid_name", e.message),
            }
        }
        input.alias = self.limited(row, Std::Alias, "alias", 64);
        input.position = self.limited(row, Std::Position, "position", 128);
        input.employee_no = self.limited(row, Std::EmployeeNo, "employee_no", 64);
        input.mobile = self.unique(row, Std::Mobile, existing);
        input.email = self.unique(row, Std::Email, existing);
        let cell_mobile = self.text(row, Std::Mobile).unwrap_or_default();
        let cell_email = self.text(row, Std::Email).unwrap_or_default();
        let mobile = if self.cols.col(Std::Mobile).is_some() {
            cell_mobile
        } else {
            member.map(|m| m.mobile.clone()).unwrap_or_default()
        };
        let email = if self.cols.col(Std::Email).is_some() {
            cell_email
        } else {
            member.map(|m| m.email.clone()).unwrap_or_default()
        };
        if mobile.is_empty()
            && email.is_empty()
            && (self.cols.col(Std::Mobile).is_some() || self.cols.col(Std::Email).is_some())
        {
            let f = if self.cols.col(Std::Mobile).is_some() { Std::Mobile } else { Std::Email };
            self.err(row, f, "mobile_or_email_required", "Enter a mobile number or an email address");
        }
        if let Some(v) = self.text(row, Std::Gender) {
            match parse_gender(&v) {
                Some(g) => input.gender = Some(g),
                None => self.err(
                    row,
                    Std::Gender,
                    "invalid_gender",
                    format!("`{v}` is not a gender: use 男 / 女 or leave it empty"),
                ),
            }
        }
        if let Some(v) = self.text(row, Std::Telephone) {
            match validate_telephone(&v) {
                Ok(v) => input.telephone = Some(v),
                Err(e) => self.err(row, Std::Telephone, e.code, e.message),
            }
        }
        input.hire_date = self.hire_date(row);
        input.custom = self.custom(row, member);
        let departments = self.departments(row, member);
        let supervisors = self.supervisors(row, userid.as_deref());
        PlannedRow { row: row.row, userid: userid.map(|u| u.to_lowercase()), existing, input, departments, supervisors }
    }

    /// The account id (as written) and the member it names, if any.
    fn userid(&mut self, row: &Row) -> (Option<String>, Option<u64>) {
        let v = self.text(row, Std::Userid).unwrap_or_default();
        if v.is_empty() {
            self.err(row, Std::Userid, "required", "The account id is required");
            return (None, None);
        }
        let v = match validate_userid(&v) {
            Ok(v) => v,
            Err(e) => {
                self.err(row, Std::Userid, "invalid_userid", format!("`{v}`: {}", e.message));
                return (None, None);
            }
        };
        let lower = v.to_lowercase();
        if let Some(first) = self.seen_uid.get(&lower) {
            let first = *first;
            self.err(row, Std::Userid, "duplicate_userid", format!("`{v}` is also in row {first}"));
            return (None, None);
        }
        self.seen_uid.insert(lower.clone(), row.row);
        let existing = self.org.userids.get(&lower).copied();
        if let Some(m) = existing.and_then(|id| self.org.members.get(&id)) {
            if !self.scope.contains_member(&m.department_ids) {
                self.err(
                    row,
                    Std::Userid,
                    "out_of_scope",
                    format!("`{v}` is a member outside the departments you manage"),
                );
            }
        }
        (Some(v), existing)
    }

    /// Mobile or email: valid, not twice in the file, not another member's.
    fn unique(&mut self, row: &Row, f: Std, existing: Option<u64>) -> Option<String> {
        let v = self.text(row, f)?;
        let (valid, key, code_invalid, code_taken, what) = match f {
            Std::Mobile => {
                let valid = validate_mobile(&v);
                let key = valid.as_ref().map(|m| normalise_mobile(m)).unwrap_or_default();
                (valid, key, "invalid_mobile", "mobile_taken", "mobile number")
            }
            _ => {
                let valid = validate_email(&v);
                let key = valid.as_ref().map(|e| e.to_lowercase()).unwrap_or_default();
                (valid, key, "invalid_email", "email_taken", "email address")
            }
        };
        let v = match valid {
            Ok(v) => v,
            Err(e) => {
                self.err(row, f, code_invalid, format!("`{v}`: {}", e.message));
                return None;
            }
        };
        if key.is_empty() {
            return Some(v);
        }
        let seen = if f == Std::Mobile { &mut self.seen_mobile } else { &mut self.seen_email };
        if let Some(first) = seen.get(&key).copied() {
            self.err(row, f, code_taken, format!("The {what} `{v}` is also in row {first}"));
            return None;
        }
        seen.insert(key.clone(), row.row);
        let index = if f == Std::Mobile { &self.org.mobiles } else { &self.org.emails };
        match index.get(&key) {
            Some(holder) if Some(*holder) != existing => {
                self.err(row, f, code_taken, format!("Another member already uses the {what} `{v}`"));
                None
            }
            _ => Some(v),
        }
    }

    fn hire_date(&mut self, row: &Row) -> Option<Option<String>> {
        let c = self.cols.col(Std::HireDate)?;
        match row.cell(c) {
            Cell::Date(d) => Some(Some(d.format("%Y-%m-%d").to_string())),
            cell if cell.is_empty() => Some(None),
            Cell::Text(s) => match validate_date("hire_date", s) {
                Ok(d) => Some(Some(d)),
                Err(e) => {
                    self.err(row, Std::HireDate, "invalid_date", format!("`{}`: {}", s.trim(), e.message));
                    None
                }
            },
            other => {
                self.err(
                    row,
                    Std::HireDate,
                    "invalid_date",
                    format!("`{}` is not a date: use a date cell or YYYY-MM-DD", other.text()),
                );
                None
            }
        }
    }

    /// Custom field columns, merged over the member's current values (empty clears one).
    fn custom(&mut self, row: &Row, member: Option<&Member>) -> Option<BTreeMap<String, String>> {
        let cols = self.cols.custom();
        if cols.is_empty() {
            return None;
        }
        let mut out = member.map(|m| m.custom.clone()).unwrap_or_default();
        for (key, c, title) in cols {
            let v = row.cell(c).text();
            if let Err(e) = check_len(&title, &v, 256) {
                self.rep.push(row.row, &title, "too_long", e.message);
            } else if v.is_empty() {
                out.remove(&key);
            } else {
                out.insert(key, v);
            }
        }
        Some(out)
    }

    fn departments(&mut self, row: &Row, member: Option<&Member>) -> Option<Vec<DeptRef>> {
        let v = self.text(row, Std::Department)?;
        if v.is_empty() {
            self.err(row, Std::Department, "required", "The department is required");
            return None;
        }
        let paths: Vec<&str> = v.split([';', '；']).map(str::trim).filter(|p| !p.is_empty()).collect();
        if paths.is_empty() || paths.len() > MAX_DEPARTMENTS {
            self.err(
                row,
                Std::Department,
                "invalid_department",
                format!("Give 1–{MAX_DEPARTMENTS} department paths separated by ;"),
            );
            return None;
        }
        let member_depts = member.map(|m| m.department_ids.as_slice()).unwrap_or(&[]);
        let mut refs: Vec<DeptRef> = Vec::new();
        let mut ok = true;
        for p in paths {
            match self.depts.resolve(row.row, p, self.scope, member_depts) {
                Ok(r) if !refs.contains(&r) => refs.push(r),
                Ok(_) => {}
                Err((code, reason)) => {
                    self.err(row, Std::Department, code, reason);
                    ok = false;
                }
            }
        }
        if let Some(m) = member {
            for d in m.department_ids.iter().filter(|d| !refs.contains(&DeptRef::Existing(**d))) {
                if !self.scope.contains_department(*d) {
                    let path = self.org.tree.path_name(*d);
                    self.err(
                        row,
                        Std::Department,
                        "out_of_scope",
                        format!("This would remove the member from `{path}`, which you do not manage"),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(refs)
    }

    fn supervisors(&mut self, row: &Row, own: Option<&str>) -> Option<Vec<String>> {
        let v = self.text(row, Std::Supervisor)?;
        let mut names: Vec<String> = Vec::new();
        for s in v.split([';', '；', ',', '，']).map(str::trim).filter(|s| !s.is_empty()) {
            let s = s.to_lowercase();
            if !names.contains(&s) {
                names.push(s);
            }
        }
        if names.len() > MAX_SUPERVISORS {
            self.err(
                row,
                Std::Supervisor,
                "invalid_supervisor",
                format!("At most {MAX_SUPERVISORS} direct supervisors"),
            );
        }
        let own = own.map(str::to_lowercase);
        for s in &names {
            if own.as_deref() == Some(s.as_str()) {
                self.err(row, Std::Supervisor, "invalid_supervisor", "A member cannot be their own supervisor");
            } else if !self.org.userids.contains_key(s) && !self.file_userids.contains(s) {
                self.err(
                    row,
                    Std::Supervisor,
                    "unknown_supervisor",
                    format!("`{s}` is neither a member nor a row of this sheet"),
                );
            }
        }
        Some(names)
    }
}
