//! Applying an import inside ONE write transaction, all rows or none: check the sheet again
//! against the org as it is now, create the missing departments (parents first), create or
//! update every member, then set supervisors once every member exists, and audit it once.

use super::parse::Sheet;
use super::plan::{self, Columns, DeptRef, Org, Plan, RowError};
use super::template::{Field, Std};
use crate::error::{AppError, AppResult};
use crate::org::departments;
use crate::org::members::{apply_input, sync_leaders, AdminCtx};
use crate::org::model::{Member, MemberInput, MemberStatus};
use crate::org::store;
use crate::org::tree::{Scope, Tree};
use crate::platform::audit;
use crate::platform::auth::Permission;
use crate::platform::store::Tx;
use actix_web::http::StatusCode;
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub creates: usize,
    pub updates: usize,
    /// Paths of the departments created.
    pub new_departments: Vec<String>,
}

/// 422 `import_has_errors` with the problems in `details.errors`.
pub fn has_errors(errors: Vec<RowError>, count: usize) -> AppError {
    AppError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "import_has_errors",
        format!("The import has {count} problem(s); nothing was changed"),
    )
    .with_details(json!({ "errors": errors, "error_count": count }))
}

/// A check that failed while applying a row (the org changed in a way the plan did not see):
/// reported like a dry-run problem. Storage failures pass through unchanged.
fn row_failed(cols: &Columns, row: u32, e: AppError) -> AppError {
    if e.status.is_server_error() {
        return e;
    }
    let field = e.details.as_ref().and_then(|d| d.get("field")).and_then(|f| f.as_str()).unwrap_or("");
    let std = match field {
        "userid" => Some(Std::Userid),
        "name" => Some(Std::Name),
        "alias" => Some(Std::Alias),
        "position" => Some(Std::Position),
        "mobile" => Some(Std::Mobile),
        "email" => Some(Std::Email),
        "gender" => Some(Std::Gender),
        "telephone" => Some(Std::Telephone),
        "employee_no" => Some(Std::EmployeeNo),
        "hire_date" => Some(Std::HireDate),
        "supervisor_ids" => Some(Std::Supervisor),
        _ => None,
    };
    let column = match std {
        Some(s) => cols.title(&Field::Std(s)),
        None if matches!(e.code, "out_of_scope" | "unknown_department" | "department_required") => {
            cols.std_title(Std::Department)
        }
        None => field.to_owned(),
    };
    has_errors(vec![RowError { row, column, code: e.code, reason: e.message }], 1)
}

/// Check and apply `sheet` for the admin in `ctx`. Deterministic in the transaction state, as
/// the group-commit writer may run it again.
pub fn commit(tx: &mut Tx, sheet: &Sheet, ctx: &AdminCtx, file_name: &str) -> AppResult<Outcome> {
    let t0 = std::time::Instant::now();
    let org = Org::load(&*tx, sheet)?;
    let t_load = t0.elapsed();
    let plan = plan::build(sheet, &org, &Scope::of(&ctx.role, &org.tree));
    if plan.error_count > 0 {
        return Err(has_errors(plan.errors, plan.error_count));
    }
    if !plan.new_departments.is_empty() && !ctx.role.has(Permission::Departments) {
        return Err(AppError::forbidden("This file creates departments, which needs the departments permission"));
    }
    let Org { fields, userids, members, .. } = org;
    let t_plan = t0.elapsed();
    let dept_ids = create_departments(tx, &plan)?;
    let mut tree = store::tree_in(tx)?;
    // Computed after the new departments exist: they are inside the scope they were made in.
    let scope = Scope::of(&ctx.role, &tree);
    let dept = |r: &DeptRef| match r {
        DeptRef::Existing(id) => *id,
        DeptRef::New(i) => dept_ids.get(*i).copied().unwrap_or(0),
    };

    // Pass 1: every member, with the supervisors that exist already (in the org or created
    // from an earlier row).
    let mut created: HashMap<String, u64> = HashMap::new();
    let mut deferred: Vec<(usize, Member)> = Vec::new();
    let (mut creates, mut updates) = (0, 0);
    for (i, r) in plan.rows.iter().enumerate() {
        let mut input = r.input.clone();
        if let Some(refs) = &r.departments {
            let ids: Vec<u64> = refs.iter().map(dept).collect();
            input.main_department_id = ids.first().copied();
            input.department_ids = Some(ids);
        }
        let known: Option<Vec<u64>> = r
            .supervisors
            .as_ref()
            .and_then(|s| s.iter().map(|u| userids.get(u).or_else(|| created.get(u)).copied()).collect());
        let defer = r.supervisors.is_some() && known.is_none();
        input.supervisor_ids = known;
        let fail = |e| row_failed(&plan.columns, r.row, e);
        match r.existing.and_then(|id| members.get(&id)) {
            Some(old) => {
                let mut m = old.clone();
                apply_input(tx, &tree, &scope, &mut m, &input, &fields).map_err(fail)?;
                if m != *old {
                    m.updated_at = tx.now;
                    store::put_member(tx, Some(old), &m).map_err(fail)?;
                    if leads_elsewhere(&tree, &m) {
                        sync_leaders(tx, &tree, &m, None)?;
                        tree = store::tree_in(tx)?;
                    }
                }
                updates += 1;
                if defer {
                    deferred.push((i, m));
                }
            }
            None => {
                let mut m = Member { created_at: tx.now, updated_at: tx.now, ..Member::default() };
                apply_input(tx, &tree, &scope, &mut m, &input, &fields).map_err(fail)?;
                m.id = tx.next_seq()?;
                m.status = MemberStatus::Inactive;
                store::put_member(tx, None, &m).map_err(fail)?;
                if let Some(u) = &r.userid {
                    created.insert(u.clone(), m.id);
                }
                creates += 1;
                if defer {
                    deferred.push((i, m));
                }
            }
        }
    }

    let t_pass1 = t0.elapsed();
    let n_deferred = deferred.len();
    // Pass 2: supervisors from later rows of the file.
    for (i, m) in deferred {
        let Some(r) = plan.rows.get(i) else { continue };
        let fail = |e| row_failed(&plan.columns, r.row, e);
        let ids: Vec<u64> = r
            .supervisors
            .iter()
            .flatten()
            .map(|u| userids.get(u).or_else(|| created.get(u)).copied())
            .collect::<Option<_>>()
            .ok_or_else(|| {
                fail(AppError::invalid("supervisor_ids", "unknown_supervisor", "A supervisor does not exist"))
            })?;
        let input = MemberInput { supervisor_ids: Some(ids), ..MemberInput::default() };
        let mut next = m.clone();
        apply_input(tx, &tree, &scope, &mut next, &input, &fields).map_err(fail)?;
        if next != m {
            next.updated_at = tx.now;
            store::put_member(tx, Some(&m), &next).map_err(fail)?;
        }
    }

    let t_pass2 = t0.elapsed();
    tracing::debug!(
        rows = plan.total_rows,
        load_ms = t_load.as_millis() as u64,
        plan_ms = t_plan.as_millis() as u64,
        members_ms = t_pass1.as_millis() as u64,
        supervisors_ms = t_pass2.as_millis() as u64,
        deferred = n_deferred,
        "import applied"
    );
    let paths = plan.new_department_paths();
    // Validation kept every row inside the importer's scope, so its roots describe the entry.
    audit::record_for(
        tx,
        &ctx.actor,
        "import.committed",
        format!("import:{file_name}"),
        json!({
            "file": file_name,
            "rows": plan.total_rows,
            "creates": creates,
            "updates": updates,
            "new_departments": paths.len(),
            "department_paths": paths.iter().take(100).collect::<Vec<_>>(),
        }),
        &ctx.role.department_ids,
    )?;
    Ok(Outcome { creates, updates, new_departments: paths })
}

/// Leads a department they no longer belong to (so leader lists need a clean-up).
fn leads_elsewhere(tree: &Tree, m: &Member) -> bool {
    tree.by_id.values().any(|d| d.leader_ids.contains(&m.id) && !m.department_ids.contains(&d.id))
}

/// Create the planned departments level by level (a level's parents exist before it), with
/// orders after their existing siblings. Returns the new ids, indexed like the plan.
fn create_departments(tx: &Tx, plan: &Plan) -> AppResult<Vec<u64>> {
    let mut ids = vec![0u64; plan.new_departments.len()];
    let Some(max) = plan.new_departments.iter().map(|d| d.level).max() else { return Ok(ids) };
    let min = plan.new_departments.iter().map(|d| d.level).min().unwrap_or(max);
    let mut next_order: HashMap<u64, i64> = HashMap::new();
    for level in min..=max {
        let tree = store::tree_in(tx)?;
        for (i, nd) in plan.new_departments.iter().enumerate().filter(|(_, d)| d.level == level) {
            let parent = match nd.parent {
                DeptRef::Existing(id) => id,
                DeptRef::New(j) => ids.get(j).copied().unwrap_or(0),
            };
            let order = next_order.entry(parent).or_insert_with(|| {
                tree.children(parent).iter().filter_map(|c| tree.get(*c)).map(|d| d.order).max().map_or(0, |m| m + 1)
            });
            let d = departments::insert(tx, &tree, parent, &nd.name, Some(*order)).map_err(|e| {
                if e.status.is_server_error() {
                    return e;
                }
                let reason = format!("`{}`: {}", nd.path, e.message);
                has_errors(
                    vec![RowError {
                        row: nd.row,
                        column: plan.columns.std_title(Std::Department),
                        code: "invalid_department",
                        reason,
                    }],
                    1,
                )
            })?;
            *order += 1;
            ids[i] = d.id;
        }
    }
    Ok(ids)
}
