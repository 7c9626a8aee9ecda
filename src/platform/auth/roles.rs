//! Admin roles: super admins, and branch admins (分级管理员) scoped to department subtrees with a
//! set of permissions. Checked server-side on every admin endpoint.
//!
//! Table `admins`: member id -> [`AdminRole`].

use crate::error::{AppError, AppResult};
use crate::platform::store::Table;
use serde::{Deserialize, Serialize};

pub const ADMINS: Table<u64, AdminRole> = Table::new("admins");

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Members,
    Departments,
    Tags,
    Import,
    Apps,
    Audit,
}

impl Permission {
    pub const ALL: [Permission; 6] = [
        Permission::Members,
        Permission::Departments,
        Permission::Tags,
        Permission::Import,
        Permission::Apps,
        Permission::Audit,
    ];
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AdminKind {
    Super,
    Branch,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AdminRole {
    pub kind: AdminKind,
    /// Roots of the subtrees a branch admin manages (empty for super admins).
    #[serde(default)]
    pub department_ids: Vec<u64>,
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

impl AdminRole {
    pub fn super_admin() -> Self {
        AdminRole { kind: AdminKind::Super, department_ids: Vec::new(), permissions: Permission::ALL.to_vec() }
    }

    pub fn is_super(&self) -> bool {
        self.kind == AdminKind::Super
    }

    pub fn has(&self, p: Permission) -> bool {
        self.is_super() || self.permissions.contains(&p)
    }

    /// Normalise and validate what an admin submitted.
    pub fn normalised(mut self) -> AppResult<Self> {
        self.permissions.sort();
        self.permissions.dedup();
        self.department_ids.sort();
        self.department_ids.dedup();
        match self.kind {
            AdminKind::Super => Ok(AdminRole::super_admin()),
            AdminKind::Branch if self.department_ids.is_empty() => Err(AppError::invalid(
                "department_ids",
                "validation_failed",
                "A branch admin needs at least one department",
            )),
            AdminKind::Branch if self.permissions.is_empty() => Err(AppError::invalid(
                "permissions",
                "validation_failed",
                "A branch admin needs at least one permission",
            )),
            AdminKind::Branch => Ok(self),
        }
    }
}

pub fn role_of(txn: &redb::ReadTransaction, user_id: u64) -> AppResult<Option<AdminRole>> {
    ADMINS.get_in(txn, &user_id)
}
