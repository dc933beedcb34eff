//! Who the portal session belongs to. The merchant and customer are only
//! ever taken from here, never from the request.

use super::ids::{CustomerId, MerchantId};
use super::{AppError, UtcMillis};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

/// The session key the portal identity is kept under.
pub(crate) const PORTAL_KEY: &str = "portal";

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
    match freshness(&id, now) {
        Freshness::Expired => {
            session.flush().await?;
            return Err(AppError::NotSignedIn);
        }
        Freshness::DueATouch => {
            id.last_seen_at = now.0;
            session.insert(PORTAL_KEY, id.clone()).await?;
        }
        Freshness::Fresh => {}
    }
    Ok(id)
}

/// [`for_merchant`] for a page that read the session's stored data itself,
/// in the same query as its own rows, rather than through `session`:
/// `stored` is that data as [`DbSessionStore`](super::session_store) keeps
/// it (`None`: no live session row). A fresh identity of this merchant's
/// portal needs nothing more. One due its once-a-minute touch, or expired,
/// goes through `for_merchant`, which loads the session to update or delete
/// it.
pub async fn for_merchant_from_stored(
    session: &Session,
    stored: Option<&str>,
    merchant_id: &MerchantId,
    now: UtcMillis,
) -> Result<PortalIdentity, AppError> {
    let stored: Option<StoredData> = stored.map(serde_json::from_str).transpose().map_err(AppError::internal)?;
    match stored.and_then(|data| data.portal) {
        Some(id) if &id.merchant_id != merchant_id => Err(AppError::NotSignedIn),
        Some(id) if freshness(&id, now) == Freshness::Fresh => Ok(id),
        Some(_) => for_merchant(session, merchant_id, now).await,
        None => Err(AppError::NotSignedIn),
    }
}

/// The part of a session record's data (a map of keys to JSON values) that
/// holds the portal identity; the other keys are skipped unread.
#[derive(Deserialize)]
struct StoredData {
    portal: Option<PortalIdentity>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Freshness {
    Fresh,
    /// Still valid, but its idle clock was last moved over a minute ago.
    DueATouch,
    /// Idle for 30 minutes or signed in more than 12 hours ago.
    Expired,
}

fn freshness(id: &PortalIdentity, now: UtcMillis) -> Freshness {
    let last_seen = id.last_seen_at.max(id.signed_in_at);
    if now.0 - id.signed_in_at > ABSOLUTE_TIMEOUT_MS || now.0 - last_seen > IDLE_TIMEOUT_MS {
        Freshness::Expired
    } else if now.0 - last_seen > TOUCH_EVERY_MS {
        Freshness::DueATouch
    } else {
        Freshness::Fresh
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(signed_in_at: i64, last_seen_at: i64) -> PortalIdentity {
        PortalIdentity {
            merchant_id: MerchantId::new(),
            customer_id: CustomerId::new(),
            method: SignInMethod::AccessLink,
            signed_in_at,
            last_seen_at,
        }
    }

    #[test]
    fn freshness_follows_the_touch_idle_and_absolute_limits() {
        let id = identity(0, 0);
        assert_eq!(freshness(&id, UtcMillis(TOUCH_EVERY_MS)), Freshness::Fresh);
        assert_eq!(freshness(&id, UtcMillis(TOUCH_EVERY_MS + 1)), Freshness::DueATouch);
        assert_eq!(freshness(&id, UtcMillis(IDLE_TIMEOUT_MS)), Freshness::DueATouch);
        assert_eq!(freshness(&id, UtcMillis(IDLE_TIMEOUT_MS + 1)), Freshness::Expired);
        // Seen recently, but signed in over 12 hours ago.
        let old = identity(0, ABSOLUTE_TIMEOUT_MS);
        assert_eq!(freshness(&old, UtcMillis(ABSOLUTE_TIMEOUT_MS)), Freshness::Fresh);
        assert_eq!(freshness(&old, UtcMillis(ABSOLUTE_TIMEOUT_MS + 1)), Freshness::Expired);
    }

    #[test]
    fn stored_data_yields_the_portal_identity_and_skips_other_keys() {
        let id = identity(5, 0);
        let data = serde_json::json!({ PORTAL_KEY: id, STEP_UP_KEY: 7, "pending_sign_in": { "email": "x" } });
        let stored: StoredData = serde_json::from_value(data).unwrap();
        assert_eq!(stored.portal, Some(id));
        let stored: StoredData = serde_json::from_value(serde_json::json!({ STEP_UP_KEY: 7 })).unwrap();
        assert_eq!(stored.portal, None, "a session with no portal identity");
    }
}
