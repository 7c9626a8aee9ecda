//! Drive settings (`settings["drive"]`), changed by administrators with
//! `PUT /admin/settings/drive`.

use crate::error::{AppError, AppResult};
use crate::platform::settings::SettingsDoc;
use serde::{Deserialize, Serialize};

pub const GIB: u64 = 1024 * 1024 * 1024;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Creators {
    #[default]
    Everyone,
    Admins,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DriveSettings {
    /// Largest single file, bytes.
    pub max_file_size: u64,
    /// Versions kept per file (older ones release their blobs).
    pub versions_kept: u32,
    /// Days a deleted item stays in the bin before the daily purge.
    pub bin_days: u32,
    /// Quota of a new personal space; `None` = unlimited.
    pub default_user_quota: Option<u64>,
    /// All spaces together; `None` = unlimited.
    pub enterprise_quota: Option<u64>,
    pub team_space_creators: Creators,
}

impl Default for DriveSettings {
    fn default() -> Self {
        DriveSettings {
            max_file_size: 4 * GIB,
            versions_kept: 20,
            bin_days: 30,
            default_user_quota: Some(10 * GIB),
            enterprise_quota: None,
            team_space_creators: Creators::Everyone,
        }
    }
}

impl SettingsDoc for DriveSettings {
    const KEY: &'static str = "drive";
}

impl DriveSettings {
    pub fn validate(&self) -> AppResult<()> {
        if self.max_file_size == 0 {
            return Err(AppError::invalid("max_file_size", "invalid_setting", "max_file_size must be at least 1 byte"));
        }
        if !(1..=1000).contains(&self.versions_kept) {
            return Err(AppError::invalid("versions_kept", "invalid_setting", "versions_kept must be 1 to 1000"));
        }
        if !(1..=3650).contains(&self.bin_days) {
            return Err(AppError::invalid("bin_days", "invalid_setting", "bin_days must be 1 to 3650"));
        }
        Ok(())
    }
}
