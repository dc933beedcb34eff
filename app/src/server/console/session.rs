//! Who is signed in to a merchant's console. Kept beside the portal
//! identity in the same session, under its own key, with the same idle and
//! absolute timeouts; the role is read again from the database on every
//! request, so a demotion or removal takes effect at once.

use super::access::{allows, Action};
use crate::server::ids::{MerchantId, MerchantUserId};
use crate::server::portal_session::{ABSOLUTE_TIMEOUT_MS, IDLE_TIMEOUT_MS};
use crate::server::repo::merchant_users::{self, MerchantUserRow, Role};
use crate::server::{AppError, UtcMillis};
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use tower_sessions::Session;

const CONSOLE_KEY: &str = "console";
const TOUCH_EVERY_MS: i64 = 60 * 1000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleIdentity {
    pub merchant_id: MerchantId,
    pub user_id: MerchantUserId,
    pub signed_in_at: i64,
    pub last_seen_at: i64,
}

/// A signed-in staff member as they stand now.
#[derive(Clone, Debug)]
pub struct Staff {
    pub identity: ConsoleIdentity,
    pub user: MerchantUserRow,
    pub role: Role,
}

impl Staff {
    /// `Forbidden` (403) unless the role allows `action`.
    pub fn require(&self, action: Action) -> Result<(), AppError> {
        if allows(self.role, action) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("Your role ({}) may not {}.", self.role.as_str(), action.describe())))
        }
    }
}

/// Starts a fresh console session (new session id: no fixation).
pub async fn sign_in(session: &Session, identity: ConsoleIdentity) -> Result<(), AppError> {
    session.cycle_id().await?;
    session.insert(CONSOLE_KEY, identity).await?;
    Ok(())
}

/// Ends the console session; the customer portal's identity, if this
/// browser has one, goes with it (one session, one sign-out).
pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await?;
    Ok(())
}

/// The staff member signed in to this merchant's console, with their
/// current role; `NotSignedIn` when there is none, it timed out, it
/// belongs to another merchant, or the user was removed.
pub async fn for_merchant(
    pool: &AnyPool,
    session: &Session,
    merchant_id: &MerchantId,
    now: UtcMillis,
) -> Result<Staff, AppError> {
    let Some(mut identity) = session.get::<ConsoleIdentity>(CONSOLE_KEY).await? else {
        return Err(AppError::NotSignedIn);
    };
    if &identity.merchant_id != merchant_id {
        return Err(AppError::NotSignedIn);
    }
    let last_seen = identity.last_seen_at.max(identity.signed_in_at);
    if now.0 - identity.signed_in_at > ABSOLUTE_TIMEOUT_MS || now.0 - last_seen > IDLE_TIMEOUT_MS {
        session.remove::<ConsoleIdentity>(CONSOLE_KEY).await?;
        return Err(AppError::NotSignedIn);
    }
    let Some(user) = merchant_users::find(pool, merchant_id, &identity.user_id).await? else {
        session.remove::<ConsoleIdentity>(CONSOLE_KEY).await?;
        return Err(AppError::NotSignedIn);
    };
    let role = Role::parse(&user.role).ok_or_else(|| AppError::internal(format!("unknown role {:?}", user.role)))?;
    if now.0 - last_seen > TOUCH_EVERY_MS {
        identity.last_seen_at = now.0;
        session.insert(CONSOLE_KEY, identity.clone()).await?;
    }
    Ok(Staff { identity, user, role })
}

const NOTICE_KEY: &str = "console_notice";

/// A one-time message for the next console page ("Voided invoice A-1."),
/// kept in the session rather than the URL so nobody can forge one.
pub async fn set_notice(session: &Session, ok: bool, text: String) -> Result<(), AppError> {
    session.insert(NOTICE_KEY, (ok, text)).await?;
    Ok(())
}

/// What an action did, as the next page's notice.
pub async fn set_outcome(session: &Session, outcome: super::actions::Outcome) -> Result<(), AppError> {
    let (ok, text) = match outcome {
        super::actions::Outcome::Done(t) => (true, t),
        super::actions::Outcome::Unchanged(t) => (false, t),
    };
    set_notice(session, ok, text).await
}

/// The notice, once: reading it removes it.
pub async fn take_notice(session: &Session) -> Result<Option<(bool, String)>, AppError> {
    Ok(session.remove::<(bool, String)>(NOTICE_KEY).await?)
}

/// A form that couldn't be saved, with what was typed and what was wrong,
/// for the page the browser is sent back to: nothing typed is lost.
pub async fn set_rejected<T: Serialize>(session: &Session, key: &'static str, value: &T) -> Result<(), AppError> {
    session.insert(key, value).await?;
    Ok(())
}

pub async fn take_rejected<T: serde::de::DeserializeOwned>(
    session: &Session,
    key: &'static str,
) -> Result<Option<T>, AppError> {
    Ok(session.remove::<T>(key).await?)
}
