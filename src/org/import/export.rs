//! Exporting members to .xlsx in the template's column layout, so the file can be edited and
//! imported again unchanged. Branch admins get the members of their scope only; members who
//! left are not exported.

use super::template::{write_header, xl, Field, Formats, Std};
use crate::error::{AppError, AppResult};
use crate::org::members::out_of_scope;
use crate::org::model::{CustomFields, Member, MemberStatus};
use crate::org::search;
use crate::org::store::{self, MEMBERS};
use crate::org::tree::Scope;
use crate::platform::auth::AdminRole;
use crate::platform::settings::SettingsDoc;
use rust_xlsxwriter::{ExcelDateTime, Workbook};
use std::collections::{HashMap, HashSet};

/// The members an admin may export (optionally one department's subtree), sorted by main
/// department path, then name in pinyin order.
pub struct Selection {
    pub members: Vec<Member>,
    /// Member id -> account id (every member, for the supervisor column).
    pub userids: HashMap<u64, String>,
    /// Department id -> path from the root, for the departments of `members`.
    pub paths: HashMap<u64, String>,
}

pub fn members_in_scope(
    txn: &redb::ReadTransaction,
    role: &AdminRole,
    department_id: Option<u64>,
) -> AppResult<Selection> {
    let tree = store::tree(txn)?;
    let scope = Scope::of(role, &tree);
    let within: Option<HashSet<u64>> = match department_id {
        Some(d) => {
            if tree.get(d).is_none() {
                return Err(AppError::not_found("department"));
            }
            if !scope.contains_department(d) {
                return Err(out_of_scope());
            }
            Some(tree.subtree(d).into_iter().collect())
        }
        None => None,
    };
    let all = MEMBERS.all_in(txn)?;
    let userids: HashMap<u64, String> = all.iter().map(|(id, m)| (*id, m.userid.clone())).collect();
    let mut paths: HashMap<u64, String> = HashMap::new();
    let mut rows: Vec<(String, String, Member)> = Vec::new();
    for (_, m) in all {
        let visible = m.status != MemberStatus::Left
            && scope.contains_member(&m.department_ids)
            && within.as_ref().is_none_or(|w| m.department_ids.iter().any(|d| w.contains(d)));
        if visible {
            let path =
                paths.entry(m.main_department_id).or_insert_with(|| tree.path_name(m.main_department_id)).clone();
            rows.push((path, search::sort_key(&m.name), m));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)).then(a.2.id.cmp(&b.2.id)));
    for (_, _, m) in &rows {
        for d in &m.department_ids {
            paths.entry(*d).or_insert_with(|| tree.path_name(*d));
        }
    }
    Ok(Selection { members: rows.into_iter().map(|(_, _, m)| m).collect(), userids, paths })
}

pub fn members_xlsx(txn: &redb::ReadTransaction, role: &AdminRole, department_id: Option<u64>) -> AppResult<Vec<u8>> {
    let fields = CustomFields::load(txn)?;
    let sel = members_in_scope(txn, role, department_id)?;
    let members = &sel.members;
    let mut wb = Workbook::new();
    let f = Formats::new();
    let ws = wb.add_worksheet();
    ws.set_name("成员 Members").map_err(xl)?;
    let layout = write_header(ws, &fields, &f, false)?;
    for (i, m) in members.iter().enumerate() {
        let r = i as u32 + 1;
        for (c, (field, _)) in layout.iter().enumerate() {
            let c = c as u16;
            let value = match field {
                Field::Std(Std::HireDate) => {
                    let date =
                        m.hire_date.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                    if let Some(d) = date {
                        use chrono::Datelike;
                        let x = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).map_err(xl)?;
                        ws.write_datetime_with_format(r, c, &x, &f.date).map_err(xl)?;
                        continue;
                    }
                    m.hire_date.clone().unwrap_or_default()
                }
                Field::Std(s) => std_value(m, *s, &sel),
                Field::Custom(k) => m.custom.get(k).cloned().unwrap_or_default(),
            };
            if !value.is_empty() {
                ws.write_string_with_format(r, c, &value, &f.text).map_err(xl)?;
            }
        }
    }
    ws.autofilter(0, 0, members.len() as u32, layout.len().saturating_sub(1) as u16).map_err(xl)?;
    wb.save_to_buffer().map_err(xl)
}

fn std_value(m: &Member, s: Std, sel: &Selection) -> String {
    match s {
        Std::Userid => m.userid.clone(),
        Std::Name => m.name.clone(),
        Std::Alias => m.alias.clone(),
        Std::Department => {
            // The main department first: the import takes the first path as the main one.
            let mut ids: Vec<u64> = vec![m.main_department_id];
            ids.extend(m.department_ids.iter().filter(|d| **d != m.main_department_id));
            ids.iter()
                .filter(|d| m.department_ids.contains(d))
                .filter_map(|d| sel.paths.get(d).cloned())
                .collect::<Vec<_>>()
                .join(";")
        }
        Std::Position => m.position.clone(),
        Std::Mobile => m.mobile.clone(),
        Std::Email => m.email.clone(),
        Std::Gender => match m.gender {
            1 => "男".into(),
            2 => "女".into(),
            _ => String::new(),
        },
        Std::Telephone => m.telephone.clone(),
        Std::Supervisor => {
            m.supervisor_ids.iter().filter_map(|id| sel.userids.get(id).cloned()).collect::<Vec<_>>().join(";")
        }
        Std::EmployeeNo => m.employee_no.clone(),
        Std::HireDate => m.hire_date.clone().unwrap_or_default(),
    }
}
