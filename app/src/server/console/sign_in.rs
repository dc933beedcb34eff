//! Staff sign-in to a merchant's console: email and password, checked
//! with argon2id, rate limited per IP and per address like the portal's.

use super::session::ConsoleIdentity;
use crate::server::repo::merchant_users;
use crate::server::repo::merchants::MerchantRow;
use crate::server::repo::rate_limits;
use crate::server::sign_in::{MAX_PER_EMAIL, MAX_PER_IP, RATE_WINDOW_MS};
use crate::server::{passwords, AppError, UtcMillis};
use sqlx::AnyPool;

pub enum ConsoleSignIn {
    SignedIn(ConsoleIdentity),
    /// Wrong password, unknown address, or no password set: one answer for all.
    Refused,
    RateLimited {
        retry_after_secs: i64,
    },
}

pub async fn with_password(
    pool: &AnyPool,
    now: UtcMillis,
    merchant: &MerchantRow,
    email: &str,
    password: &str,
    ip: &str,
) -> Result<ConsoleSignIn, AppError> {
    let email = email.trim().to_lowercase();
    let ip_hits = rate_limits::hit(pool, &format!("console-signin-ip:{ip}"), RATE_WINDOW_MS, now).await?;
    let email_key = format!("console-signin-email:{}:{email}", merchant.id);
    let email_hits = rate_limits::hit(pool, &email_key, RATE_WINDOW_MS, now).await?;
    if ip_hits > MAX_PER_IP || email_hits > MAX_PER_EMAIL {
        return Ok(ConsoleSignIn::RateLimited { retry_after_secs: rate_limits::retry_after_secs(RATE_WINDOW_MS, now) });
    }
    let merchant_id = merchant.merchant_id();
    let user = merchant_users::find_by_email(pool, &merchant_id, &email).await?;
    // Verified even for an unknown address, so timing doesn't tell them apart.
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    if !passwords::verify(stored, password.to_string()).await {
        return Ok(ConsoleSignIn::Refused);
    }
    let Some(user) = user else { return Ok(ConsoleSignIn::Refused) };
    Ok(ConsoleSignIn::SignedIn(ConsoleIdentity {
        merchant_id,
        user_id: user.user_id(),
        signed_in_at: now.0,
        last_seen_at: now.0,
    }))
}
