//! Who the portal session belongs to. The merchant and customer are only
//! ever taken from here, never from the request.

use super::ids::{CustomerId, MerchantId};
use super::{AppError, UtcMillis};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

const PORTAL_KEY: &str = "portal";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInMethod {
    AccessLink,
    EmailCode,
    EmailLink,
    Password,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalIdentity {
    pub merchant_id: MerchantId,
    pub customer_id: CustomerId,
    pub method: SignInMethod,
    /// Unix ms; the absolute session lifetime is measured from here.
    pub signed_in_at: i64,
    /// Unix ms of the last request seen (refreshed at most once a minute);
    /// the idle timeout is measured from here. 0 means "at sign-in".
    #[serde(default)]
    pub last_seen_at: i64,
}

/// A session unused this long is over.
pub const IDLE_TIMEOUT_MS: i64 = 30 * 60 * 1000;
/// However active, a session ends this long after sign-in.
pub const ABSOLUTE_TIMEOUT_MS: i64 = 12 * 60 * 60 * 1000;
/// Don't rewrite the session on every request just to move the idle clock.
const TOUCH_EVERY_MS: i64 = 60 * 1000;

/// Starts a fresh portal session: a new session id (no fixation), replacing
/// whatever identity the browser had before.
pub async fn sign_in(session: &Session, identity: PortalIdentity) -> Result<(), AppError> {
    session.cycle_id().await?;
    session.insert(PORTAL_KEY, identity).await?;
    Ok(())
}

pub async fn current(session: &Session) -> Result<Option<PortalIdentity>, AppError> {
    Ok(session.get::<PortalIdentity>(PORTAL_KEY).await?)
}

/// The identity, if it belongs to this merchant's portal and has been
/// neither idle for 30 minutes nor signed in for more than 12 hours (an
/// expired session is deleted on the server, not just ignored).
pub async fn for_merchant(
    session: &Session,
    merchant_id: &MerchantId,
    now: UtcMillis,
) -> Result<PortalIdentity, AppError> {
    let Some(mut id) = current(session).await? else { return Err(AppError::NotSignedIn) };
    if &id.merchant_id != merchant_id {
        return Err(AppError::NotSignedIn);
    }
    let last_seen = id.last_seen_at.max(id.signed_in_at);
    if now.0 - id.signed_in_at > ABSOLUTE_TIMEOUT_MS || now.0 - last_seen > IDLE_TIMEOUT_MS {
        session.flush().await?;
        return Err(AppError::NotSignedIn);
    }
    if now.0 - last_seen > TOUCH_EVERY_MS {
        id.last_seen_at = now.0;
        session.insert(PORTAL_KEY, id.clone()).await?;
    }
    Ok(id)
}

/// Deletes the session server-side; the old cookie is worthless afterwards.
pub async fn sign_out(session: &Session) -> Result<(), AppError> {
    session.flush().await?;
    Ok(())
}

const PENDING_KEY: &str = "pending_sign_in";

/// A sign-in started by email and waiting for its code. Present even when
/// the email matched no customer (with a challenge that cannot succeed), so
/// the two cases look the same from outside.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    pub merchant_id: MerchantId,
    pub challenge_id: String,
    pub email: String,
}

pub async fn set_pending(session: &Session, pending: PendingSignIn) -> Result<(), AppError> {
    session.insert(PENDING_KEY, pending).await?;
    Ok(())
}

pub async fn pending_for(session: &Session, merchant_id: &MerchantId) -> Result<Option<PendingSignIn>, AppError> {
    Ok(session.get::<PendingSignIn>(PENDING_KEY).await?.filter(|p| &p.merchant_id == merchant_id))
}

const STEP_UP_KEY: &str = "stepped_up_at";
/// A step-up (password or emailed code, again) counts for this long.
pub const STEP_UP_TTL_MS: i64 = 10 * 60 * 1000;

/// Records a fresh proof of identity; the session id is cycled, as at sign-in.
pub async fn record_step_up(session: &Session, now: UtcMillis) -> Result<(), AppError> {
    session.cycle_id().await?;
    session.insert(STEP_UP_KEY, now.0).await?;
    Ok(())
}

/// Proved again within the last 10 minutes (sign-in by code or password
/// counts as proof too).
pub async fn is_stepped_up(session: &Session, identity: &PortalIdentity, now: UtcMillis) -> Result<bool, AppError> {
    let at = session.get::<i64>(STEP_UP_KEY).await?.unwrap_or(0);
    let signed_in_strongly = !matches!(identity.method, SignInMethod::AccessLink);
    let proof = if signed_in_strongly { at.max(identity.signed_in_at) } else { at };
    Ok(proof > 0 && now.0 - proof <= STEP_UP_TTL_MS)
}

const STEP_UP_CHALLENGE_KEY: &str = "step_up_challenge";

pub async fn set_step_up_challenge(session: &Session, challenge_id: &str) -> Result<(), AppError> {
    session.insert(STEP_UP_CHALLENGE_KEY, challenge_id.to_string()).await?;
    Ok(())
}

pub async fn step_up_challenge(session: &Session) -> Result<Option<String>, AppError> {
    Ok(session.get::<String>(STEP_UP_CHALLENGE_KEY).await?)
}
