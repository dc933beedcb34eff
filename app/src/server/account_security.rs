//! Setting and changing a customer's password from the account page. A
//! password extends access beyond any link, so it needs proof beyond the
//! session: the current password, or a sign-in by emailed code or link in
//! the last 10 minutes (a forwarded access link alone is not enough). The
//! latter is also how a forgotten password is reset: sign in by code, then
//! set a new one.

use super::passwords::{self, PasswordProblem};
use super::portal_session::{PortalIdentity, SignInMethod};
use super::repo::merchants::MerchantRow;
use super::repo::{customers, rate_limits};
use super::{AppError, UtcMillis};
use sqlx::AnyPool;

pub const RECENT_PROOF_MS: i64 = 10 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetPasswordError {
    WrongCurrent,
    NeedsEmailProof,
    Mismatch,
    Policy(PasswordProblem),
    RateLimited,
}

impl SetPasswordError {
    /// The `?error=` code the account page turns back into words.
    pub fn code(&self) -> &'static str {
        match self {
            SetPasswordError::WrongCurrent => "current",
            SetPasswordError::NeedsEmailProof => "stepup",
            SetPasswordError::Mismatch => "mismatch",
            SetPasswordError::Policy(PasswordProblem::TooShort) => "short",
            SetPasswordError::Policy(PasswordProblem::TooLong) => "long",
            SetPasswordError::Policy(PasswordProblem::TooCommon) => "common",
            SetPasswordError::Policy(PasswordProblem::TooPersonal) => "personal",
            SetPasswordError::RateLimited => "limited",
        }
    }
}

/// Signed in by emailed code or link within the last 10 minutes.
pub fn has_recent_email_proof(identity: &PortalIdentity, now: UtcMillis) -> bool {
    matches!(identity.method, SignInMethod::EmailCode | SignInMethod::EmailLink)
        && now.0 - identity.signed_in_at <= RECENT_PROOF_MS
}

pub async fn set_password(
    pool: &AnyPool,
    now: UtcMillis,
    merchant: &MerchantRow,
    identity: &PortalIdentity,
    current: &str,
    new: &str,
    confirm: &str,
) -> Result<Result<(), SetPasswordError>, AppError> {
    let merchant_id = merchant.merchant_id();
    let customer = customers::find(pool, &merchant_id, &identity.customer_id).await?.ok_or(AppError::NotSignedIn)?;
    let stored = customers::password_hash(pool, &merchant_id, &identity.customer_id).await?;
    match stored {
        // Forgot it? A fresh emailed-code sign-in resets it without the old one.
        Some(_) if has_recent_email_proof(identity, now) && current.is_empty() => {}
        Some(hash) => {
            let hits = rate_limits::hit(pool, &format!("password-change:{}", customer.id), 15 * 60 * 1000, now).await?;
            if hits > 5 {
                return Ok(Err(SetPasswordError::RateLimited));
            }
            if !passwords::verify(Some(hash), current.to_string()).await {
                return Ok(Err(SetPasswordError::WrongCurrent));
            }
        }
        None if !has_recent_email_proof(identity, now) => return Ok(Err(SetPasswordError::NeedsEmailProof)),
        None => {}
    }
    if new != confirm {
        return Ok(Err(SetPasswordError::Mismatch));
    }
    if let Err(problem) = passwords::check_policy(new, &[&customer.name, &customer.email, &merchant.display_name]) {
        return Ok(Err(SetPasswordError::Policy(problem)));
    }
    let hash = passwords::hash(new.to_string()).await.map_err(AppError::internal)?;
    customers::set_password_hash(pool, &merchant_id, &identity.customer_id, &hash, now).await?;
    Ok(Ok(()))
}
