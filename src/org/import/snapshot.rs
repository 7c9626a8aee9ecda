//! What the import checks read from the org, in one go (no per-row lookups): the tree, custom
//! fields, the unique indexes of account ids, mobiles and emails, and the existing members the
//! sheet names. Read from a snapshot for the dry run and from the write transaction for the
//! commit. Also the mapping of the sheet's header row to columns.

use super::parse::Sheet;
use super::template::{canonical_title, match_header, Field, Std};
use crate::error::AppResult;
use crate::org::model::{CustomFields, Member};
use crate::org::store::{self, MEMBERS, MEMBER_EMAILS, MEMBER_MOBILES, MEMBER_USERIDS};
use crate::org::tree::Tree;
use crate::platform::settings::SettingsDoc;
use crate::platform::store::table::Handle;
use crate::platform::store::{Table, Tx};
use redb::ReadableTable;
use std::collections::HashMap;

/// Where an org read comes from: a snapshot (dry run) or the commit's write transaction.
pub trait Source {
    fn tree(&self) -> AppResult<Tree>;
    fn fields(&self) -> AppResult<CustomFields>;
    fn index(&self, table: &Table<String, u64>) -> AppResult<HashMap<String, u64>>;
    fn members(&self, ids: &[u64]) -> AppResult<HashMap<u64, Member>>;
}

fn collect_index<T: ReadableTable<String, &'static [u8]>>(
    h: &Handle<T, String, u64>,
) -> AppResult<HashMap<String, u64>> {
    let mut out = HashMap::with_capacity(h.len()? as usize);
    for row in h.iter()? {
        let (k, v) = row?;
        out.insert(k, v);
    }
    Ok(out)
}

fn collect_members<T: ReadableTable<u64, &'static [u8]>>(
    h: &Handle<T, u64, Member>,
    ids: &[u64],
) -> AppResult<HashMap<u64, Member>> {
    let mut out = HashMap::with_capacity(ids.len());
    for id in ids {
        if let Some(m) = h.get(id)? {
            out.insert(*id, m);
        }
    }
    Ok(out)
}

impl Source for redb::ReadTransaction {
    fn tree(&self) -> AppResult<Tree> {
        store::tree(self)
    }
    fn fields(&self) -> AppResult<CustomFields> {
        CustomFields::load(self)
    }
    fn index(&self, table: &Table<String, u64>) -> AppResult<HashMap<String, u64>> {
        match table.read(self)? {
            Some(h) => collect_index(&h),
            None => Ok(HashMap::new()),
        }
    }
    fn members(&self, ids: &[u64]) -> AppResult<HashMap<u64, Member>> {
        match MEMBERS.read(self)? {
            Some(h) => collect_members(&h, ids),
            None => Ok(HashMap::new()),
        }
    }
}

impl Source for Tx<'_> {
    fn tree(&self) -> AppResult<Tree> {
        store::tree_in(self)
    }
    fn fields(&self) -> AppResult<CustomFields> {
        CustomFields::load_in(self)
    }
    fn index(&self, table: &Table<String, u64>) -> AppResult<HashMap<String, u64>> {
        collect_index(&table.open(self.txn)?)
    }
    fn members(&self, ids: &[u64]) -> AppResult<HashMap<u64, Member>> {
        collect_members(&MEMBERS.open(self.txn)?, ids)
    }
}

/// What the checks need to know about the org, read once (no per-row lookups).
pub struct Org {
    pub tree: Tree,
    pub fields: CustomFields,
    /// Lower-cased account id -> member id (every member, incl. those who left).
    pub userids: HashMap<String, u64>,
    /// Normalised mobile -> member id.
    pub mobiles: HashMap<String, u64>,
    /// Lower-cased email -> member id.
    pub emails: HashMap<String, u64>,
    /// The existing members the sheet names by account id.
    pub members: HashMap<u64, Member>,
}

impl Org {
    pub fn load(src: &impl Source, sheet: &Sheet) -> AppResult<Org> {
        let fields = src.fields()?;
        let userids = src.index(&MEMBER_USERIDS)?;
        let (cols, _) = Columns::map(sheet, &fields);
        let mut ids = Vec::new();
        if let Some(c) = cols.col(Std::Userid) {
            ids.extend(sheet.rows.iter().filter_map(|r| userids.get(&r.cell(c).text().to_lowercase()).copied()));
        }
        Ok(Org {
            tree: src.tree()?,
            members: src.members(&ids)?,
            mobiles: src.index(&MEMBER_MOBILES)?,
            emails: src.index(&MEMBER_EMAILS)?,
            userids,
            fields,
        })
    }
}

/// Which sheet column holds which field, with the header text the file used.
pub struct Columns {
    map: HashMap<Field, (usize, String)>,
    fields: CustomFields,
}

impl Columns {
    /// Map the header row; also returns the header cells that name no column (or one twice), as
    /// (text, reason).
    pub fn map(sheet: &Sheet, fields: &CustomFields) -> (Columns, Vec<(String, String)>) {
        let mut problems = Vec::new();
        let mut map: HashMap<Field, (usize, String)> = HashMap::new();
        for h in &sheet.header {
            match match_header(&h.text, fields) {
                Some(f) if map.contains_key(&f) => {
                    problems.push((h.text.clone(), format!("The column `{}` appears twice; keep one", h.text)));
                }
                Some(f) => {
                    map.insert(f, (h.col, h.text.clone()));
                }
                None => {
                    problems.push((
                        h.text.clone(),
                        format!("Unknown column `{}`: use the template's headers or a custom field's name", h.text),
                    ));
                }
            }
        }
        (Columns { map, fields: fields.clone() }, problems)
    }

    pub fn col(&self, f: Std) -> Option<usize> {
        self.map.get(&Field::Std(f)).map(|(c, _)| *c)
    }

    /// The header text as written in the file (or the template's, if the column is absent).
    pub fn title(&self, f: &Field) -> String {
        match self.map.get(f) {
            Some((_, t)) => t.clone(),
            None => canonical_title(f, &self.fields),
        }
    }

    pub fn std_title(&self, f: Std) -> String {
        self.title(&Field::Std(f))
    }

    /// The custom field columns as (key, column index, header text), left to right.
    pub fn custom(&self) -> Vec<(String, usize, String)> {
        let mut out: Vec<_> = self
            .map
            .iter()
            .filter_map(|(f, (c, t))| match f {
                Field::Custom(k) => Some((k.clone(), *c, t.clone())),
                Field::Std(_) => None,
            })
            .collect();
        out.sort_by_key(|(_, c, _)| *c);
        out
    }
}
