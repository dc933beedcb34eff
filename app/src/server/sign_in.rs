//! Signing in without an access link: the customer gives an email address
//! and receives a 6-digit code and a one-time link (10 minutes, 5 tries).
//! The response never reveals whether the address belongs to a customer.

use super::ids::{new_id_body, CustomerId};
use super::mail::{render_branded, EmailContent};
use super::portal_session::{PortalIdentity, SignInMethod};
use super::repo::merchants::MerchantRow;
use super::repo::messages::{self, NewEmail};
use super::repo::{access_tokens, customers, rate_limits, sign_in_challenges as challenges};
use super::tokens::SecretToken;
use super::{passwords, portal, AppError, UtcMillis};
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::AnyPool;

pub const CODE_TTL_MS: i64 = 10 * 60 * 1000;
pub const MAX_CODE_ATTEMPTS: i64 = 5;
/// Sign-in emails per address, and requests per IP, per window.
pub const RATE_WINDOW_MS: i64 = 15 * 60 * 1000;
pub const MAX_PER_EMAIL: i64 = 5;
pub const MAX_PER_IP: i64 = 20;

pub enum StartOutcome {
    /// Same for known and unknown addresses: remember this challenge id.
    CodeSent {
        challenge_id: String,
    },
    RateLimited {
        retry_after_secs: i64,
    },
}

pub enum PasswordOutcome {
    SignedIn(PortalIdentity),
    /// Wrong password, unknown email, or no password set: one answer for all.
    Refused,
    RateLimited {
        retry_after_secs: i64,
    },
}

pub enum CodeOutcome {
    SignedIn(PortalIdentity),
    Wrong { tries_left: i64 },
    Expired,
    TooManyTries,
}

fn code_hash(challenge_id: &str, code: &str) -> String {
    let digest = Sha256::digest(format!("{challenge_id}:{code}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal-time comparison, so response timing says nothing about the code.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// "123 456", "123456", " 123-456 " all mean 123456; anything else is None.
pub fn normalise_code(input: &str) -> Option<String> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// A loose check: one @, something either side, no spaces, sane length.
pub fn looks_like_email(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && s.len() <= 254
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// Counts the request against the per-IP and per-email limits.
async fn over_limit(
    pool: &AnyPool,
    now: UtcMillis,
    merchant: &MerchantRow,
    email: &str,
    ip: &str,
) -> Result<bool, AppError> {
    let ip_hits = rate_limits::hit(pool, &format!("signin-ip:{ip}"), RATE_WINDOW_MS, now).await?;
    let email_key = format!("signin-email:{}:{}", merchant.id, email.trim().to_lowercase());
    let email_hits = rate_limits::hit(pool, &email_key, RATE_WINDOW_MS, now).await?;
    Ok(ip_hits > MAX_PER_IP || email_hits > MAX_PER_EMAIL)
}

pub async fn start(
    pool: &AnyPool,
    now: UtcMillis,
    merchant: &MerchantRow,
    email: &str,
    ip: &str,
    base_url: &str,
) -> Result<StartOutcome, AppError> {
    if over_limit(pool, now, merchant, email, ip).await? {
        return Ok(StartOutcome::RateLimited { retry_after_secs: rate_limits::retry_after_secs(RATE_WINDOW_MS, now) });
    }
    let challenge_id = format!("sic_{}", new_id_body());
    let merchant_id = merchant.merchant_id();
    let Some(customer) = customers::find_by_email(pool, &merchant_id, email).await? else {
        // Nothing is stored or sent; the id in the session matches no row.
        return Ok(StartOutcome::CodeSent { challenge_id });
    };
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    let link = SecretToken::generate();
    challenges::insert(
        pool,
        &challenge_id,
        &merchant_id,
        &customer.customer_id(),
        &code_hash(&challenge_id, &code),
        &link.hash(),
        now,
        now.plus_millis(CODE_TTL_MS),
    )
    .await?;
    let link_url = format!("{}/p/{}/s/{}", base_url.trim_end_matches('/'), merchant.slug, link.expose());
    let (text, html) = render_branded(
        merchant,
        base_url,
        &EmailContent {
            heading: format!("Your sign-in code: {} {}", &code[..3], &code[3..]),
            paragraphs: vec![
                format!(
                    "Enter this code to sign in to your {} account. It works for 10 minutes.",
                    merchant.display_name
                ),
                "Or use the button below on this device.".into(),
                "If you didn't ask to sign in, you can ignore this email: nobody can sign in without the code.".into(),
            ],
            action: Some(("Sign in".into(), link_url)),
        },
    );
    messages::enqueue_email(
        pool,
        &merchant_id,
        &NewEmail {
            customer: Some(customer.customer_id()),
            to_address: customer.email.clone(),
            subject: format!("{} is your {} sign-in code", code, merchant.display_name),
            body_text: text,
            body_html: html,
            template_key: "sign_in_code".into(),
            dedupe_key: format!("sign_in:{challenge_id}"),
        },
        now,
    )
    .await?;
    Ok(StartOutcome::CodeSent { challenge_id })
}

/// Email + password. Unknown addresses and accounts without a password get
/// the same answer, after the same argon2 work, as a wrong password.
pub async fn with_password(
    pool: &AnyPool,
    now: UtcMillis,
    merchant: &MerchantRow,
    email: &str,
    password: &str,
    ip: &str,
) -> Result<PasswordOutcome, AppError> {
    if over_limit(pool, now, merchant, email, ip).await? {
        return Ok(PasswordOutcome::RateLimited {
            retry_after_secs: rate_limits::retry_after_secs(RATE_WINDOW_MS, now),
        });
    }
    let merchant_id = merchant.merchant_id();
    let customer = customers::find_by_email(pool, &merchant_id, email).await?;
    let stored = match &customer {
        Some(c) => customers::password_hash(pool, &merchant_id, &c.customer_id()).await?,
        None => None,
    };
    if !passwords::verify(stored, password.to_string()).await {
        return Ok(PasswordOutcome::Refused);
    }
    let Some(customer) = customer else { return Ok(PasswordOutcome::Refused) };
    Ok(PasswordOutcome::SignedIn(PortalIdentity {
        merchant_id,
        customer_id: customer.customer_id(),
        method: SignInMethod::Password,
        signed_in_at: now.0,
        last_seen_at: now.0,
    }))
}

pub async fn verify_code(
    pool: &AnyPool,
    now: UtcMillis,
    merchant: &MerchantRow,
    challenge_id: &str,
    input: &str,
) -> Result<CodeOutcome, AppError> {
    let merchant_id = merchant.merchant_id();
    let Some(ch) = challenges::find(pool, &merchant_id, challenge_id).await? else {
        // Unknown address: behaves like a wrong code, counting down the same way.
        return Ok(CodeOutcome::Wrong { tries_left: MAX_CODE_ATTEMPTS - 1 });
    };
    if ch.consumed_at.is_some() || ch.expires_at <= now.0 {
        return Ok(CodeOutcome::Expired);
    }
    if ch.attempts >= MAX_CODE_ATTEMPTS {
        return Ok(CodeOutcome::TooManyTries);
    }
    let matches = normalise_code(input).map(|c| same(&code_hash(challenge_id, &c), &ch.code_hash)).unwrap_or(false);
    if !matches {
        let attempts = challenges::record_failed_attempt(pool, &ch.id).await?;
        return Ok(if attempts >= MAX_CODE_ATTEMPTS {
            CodeOutcome::TooManyTries
        } else {
            CodeOutcome::Wrong { tries_left: MAX_CODE_ATTEMPTS - attempts }
        });
    }
    if !challenges::consume(pool, &ch.id, MAX_CODE_ATTEMPTS, now).await? {
        return Ok(CodeOutcome::Expired);
    }
    Ok(CodeOutcome::SignedIn(PortalIdentity {
        merchant_id,
        customer_id: CustomerId::from_trusted(ch.customer_id),
        method: SignInMethod::EmailCode,
        signed_in_at: now.0,
        last_seen_at: now.0,
    }))
}

/// The emailed one-time link: valid once, within the code's 10 minutes.
pub async fn redeem_link(
    pool: &AnyPool,
    now: UtcMillis,
    merchant: &MerchantRow,
    raw_token: &str,
) -> Result<Option<PortalIdentity>, AppError> {
    let Ok(token) = SecretToken::parse(raw_token) else { return Ok(None) };
    let merchant_id = merchant.merchant_id();
    let Some(ch) = challenges::find_by_link(pool, &merchant_id, &token.hash()).await? else { return Ok(None) };
    if !challenges::consume(pool, &ch.id, MAX_CODE_ATTEMPTS, now).await? {
        return Ok(None);
    }
    Ok(Some(PortalIdentity {
        merchant_id,
        customer_id: CustomerId::from_trusted(ch.customer_id),
        method: SignInMethod::EmailLink,
        signed_in_at: now.0,
        last_seen_at: now.0,
    }))
}

/// Whether a sign-in link exists here, and whether it is still usable, for
/// the GET page (reads only).
pub async fn link_state(
    pool: &AnyPool,
    now: UtcMillis,
    merchant: &MerchantRow,
    raw_token: &str,
) -> Result<(bool, bool), AppError> {
    let Ok(token) = SecretToken::parse(raw_token) else { return Ok((false, false)) };
    let ch = challenges::find_by_link(pool, &merchant.merchant_id(), &token.hash()).await?;
    let usable =
        matches!(&ch, Some(c) if c.consumed_at.is_none() && c.expires_at > now.0 && c.attempts < MAX_CODE_ATTEMPTS);
    Ok((ch.is_some(), usable))
}

/// "Email me a new link" from an expired access link: a fresh access link
/// to the address on file for that link's customer. Rate limited per link.
pub async fn renew_access_link(
    pool: &AnyPool,
    now: UtcMillis,
    merchant: &MerchantRow,
    raw_token: &str,
    base_url: &str,
) -> Result<Result<(), i64>, AppError> {
    let Ok(token) = SecretToken::parse(raw_token) else { return Ok(Ok(())) };
    let merchant_id = merchant.merchant_id();
    let Some(row) = access_tokens::find_by_hash(pool, &merchant_id, &token.hash()).await? else { return Ok(Ok(())) };
    if row.expires_at > now.0 || row.revoked_at.is_some() {
        return Ok(Ok(()));
    }
    let hits = rate_limits::hit(pool, &format!("renew:{}", row.id), RATE_WINDOW_MS, now).await?;
    if hits > 3 {
        return Ok(Err(rate_limits::retry_after_secs(RATE_WINDOW_MS, now)));
    }
    let customer_id = CustomerId::from_trusted(row.customer_id.clone());
    let Some(customer) = customers::find(pool, &merchant_id, &customer_id).await? else { return Ok(Ok(())) };
    let fresh = portal::issue_access_link(pool, now, merchant, &customer_id).await?;
    let url = format!("{}{}", base_url.trim_end_matches('/'), portal::access_link_path(&merchant.slug, &fresh));
    let (text, html) = render_branded(
        merchant,
        base_url,
        &EmailContent {
            heading: "Your new account link".into(),
            paragraphs: vec![
                format!("Here is a fresh link to your {} account, as you asked.", merchant.display_name),
                format!("It works for {} days.", merchant.access_link_ttl_days),
            ],
            action: Some(("Open your account".into(), url)),
        },
    );
    messages::enqueue_email(
        pool,
        &merchant_id,
        &NewEmail {
            customer: Some(customer_id),
            to_address: customer.email,
            subject: format!("Your new {} account link", merchant.display_name),
            body_text: text,
            body_html: html,
            template_key: "access_link_renewal".into(),
            dedupe_key: format!("renew:{}:{}", row.id, hits),
        },
        now,
    )
    .await?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_forgivingly_but_exactly() {
        assert_eq!(normalise_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(normalise_code("123-456").as_deref(), Some("123456"));
        assert_eq!(normalise_code("12345"), None);
        assert_eq!(normalise_code("12345a"), None);
        assert_eq!(normalise_code("١٢٣٤٥٦"), None, "only ASCII digits");
    }

    #[test]
    fn emails_are_checked_loosely() {
        assert!(looks_like_email("dana@example.com"));
        assert!(!looks_like_email("dana"));
        assert!(!looks_like_email("dana@localhost"));
        assert!(!looks_like_email("da na@example.com"));
        assert!(!looks_like_email(&format!("{}@example.com", "a".repeat(260))));
    }

    #[test]
    fn code_hashes_depend_on_the_challenge() {
        assert_ne!(code_hash("sic_a", "123456"), code_hash("sic_b", "123456"));
        assert!(same(&code_hash("x", "1"), &code_hash("x", "1")));
        assert!(!same("ab", "abc"));
    }
}
