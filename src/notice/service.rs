//! Who is asking, and what they may do with a notice: the publisher right, managing (the
//! publisher or a super admin), receiving (a member with a copy while it has not expired).
//! The use cases live in `publish.rs`, `centre.rs`, `manage.rs` and `files.rs`.

use super::model::{Delivery, Notice, Publishers};
use super::store::{NOTICES, NOTICE_DELIVERIES};
use crate::error::{AppError, AppResult};
use crate::org::service::{Scope, Tree};
use crate::platform::audit::Actor;
use crate::platform::auth::roles::role_of;
use crate::platform::auth::{AdminRole, Auth};
use crate::platform::settings::SettingsDoc;
use crate::platform::store::Tx;
use crate::platform::Platform;

/// A signed-in member reading or managing notices.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: u64,
    pub is_super: bool,
}

impl Caller {
    pub fn of(p: &Platform, auth: &Auth) -> AppResult<Caller> {
        let role = role_of(&p.store.begin_read()?, auth.user_id)?;
        Ok(Caller { user_id: auth.user_id, is_super: role.is_some_and(|r| r.is_super()) })
    }

    pub fn manages(&self, n: &Notice) -> bool {
        self.is_super || n.publisher_id == self.user_id
    }
}

/// A member allowed to publish, with what limits their audiences.
#[derive(Debug, Clone)]
pub struct Publisher {
    pub actor: Actor,
    pub caller: Caller,
    /// Branch admins without the granted right target only their own departments.
    pub role: Option<AdminRole>,
    pub granted: bool,
}

impl Publisher {
    /// The signed-in member as a publisher, or 403.
    pub fn of(p: &Platform, auth: &Auth) -> AppResult<Publisher> {
        let txn = p.store.begin_read()?;
        let role = role_of(&txn, auth.user_id)?;
        let granted = Publishers::load(&txn)?.user_ids.contains(&auth.user_id);
        drop(txn);
        if role.is_none() && !granted {
            return Err(AppError::forbidden("You may not publish announcements; ask an administrator for the right"));
        }
        let caller = Caller { user_id: auth.user_id, is_super: role.as_ref().is_some_and(|r| r.is_super()) };
        Ok(Publisher { actor: crate::org::service::actor(p, auth)?, caller, role, granted })
    }

    /// Where this publisher's audiences may reach.
    pub fn scope(&self, tree: &Tree) -> Scope {
        match &self.role {
            Some(role) if !self.granted => Scope::of(role, tree),
            _ => Scope::All,
        }
    }
}

/// Whether `user` may publish (an admin of any kind, or granted the right).
pub fn can_publish(txn: &redb::ReadTransaction, user: u64) -> AppResult<bool> {
    Ok(role_of(txn, user)?.is_some() || Publishers::load(txn)?.user_ids.contains(&user))
}

/// Why a notice may be shown to a caller.
#[derive(Debug, Clone)]
pub struct Seen {
    pub notice: Notice,
    /// The caller's copy, when they received it.
    pub delivery: Option<Delivery>,
    pub manages: bool,
}

fn expired() -> AppError {
    AppError::new(actix_web::http::StatusCode::NOT_FOUND, "notice_expired", "This announcement has expired")
}

/// The rule for every `{id}` route: managers always see the notice; recipients see it while it
/// has not expired (`notice_expired`); anybody else gets `not_found`, never a 403.
fn judge(caller: &Caller, n: Option<Notice>, d: Option<Delivery>, now: i64) -> AppResult<Seen> {
    let n = n.ok_or_else(|| AppError::not_found("announcement"))?;
    let manages = caller.manages(&n);
    let delivery = d.filter(|_| n.is_published());
    if !manages {
        if delivery.is_none() {
            return Err(AppError::not_found("announcement"));
        }
        if n.is_expired(now) {
            return Err(expired());
        }
    }
    Ok(Seen { notice: n, delivery, manages })
}

pub fn seen(txn: &redb::ReadTransaction, caller: &Caller, id: u64, now: i64) -> AppResult<Seen> {
    let n = NOTICES.get_in(txn, &id)?;
    let d = NOTICE_DELIVERIES.get_in(txn, &(id, caller.user_id))?;
    judge(caller, n, d, now)
}

pub fn seen_in(tx: &Tx, caller: &Caller, id: u64) -> AppResult<Seen> {
    let n = super::store::get_in(tx, id)?;
    let d = super::store::delivery_in(tx, id, caller.user_id)?;
    judge(caller, n, d, tx.now)
}

/// [`seen_in`] for managing use cases: a recipient who does not manage gets 403.
pub fn managed_in(tx: &Tx, caller: &Caller, id: u64) -> AppResult<Notice> {
    let s = seen_in(tx, caller, id)?;
    if !s.manages {
        return Err(AppError::forbidden("Only the publisher or a super administrator may do this"));
    }
    Ok(s.notice)
}

/// The same against a snapshot.
pub fn managed(txn: &redb::ReadTransaction, caller: &Caller, id: u64, now: i64) -> AppResult<Notice> {
    let s = seen(txn, caller, id, now)?;
    if !s.manages {
        return Err(AppError::forbidden("Only the publisher or a super administrator may do this"));
    }
    Ok(s.notice)
}

/// `notice:{id} ({title})` for audit entries.
pub fn target(n: &Notice) -> String {
    format!("notice:{} ({})", n.id, n.title)
}
