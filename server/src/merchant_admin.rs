//! `settle create-merchant`: a new merchant and its owner, so a fresh
//! install can be set up without touching the database.

use app::server::passwords::{self, PasswordProblem};
use app::server::portal::is_valid_slug;
use app::server::repo::merchant_users::{self, Role};
use app::server::repo::{events, merchants, unique_violation};
use app::server::sign_in::looks_like_email;
use app::server::{Clock, Db};
use app::types::Currency;

/// What `create-merchant` is given (the password comes from the
/// environment or stdin, never the command line, where `ps` shows it).
#[derive(Clone, Debug)]
pub struct NewMerchantRequest {
    pub slug: String,
    pub name: String,
    pub owner_email: String,
    pub owner_name: String,
    pub time_zone: String,
    pub currency: String,
    pub owner_password: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MerchantAdminError {
    #[error("--slug `{0}` is not a valid portal address: use 1-63 lower-case letters, digits and dashes, not starting or ending with a dash")]
    BadSlug(String),
    #[error("the portal address `{0}` is taken by another merchant")]
    SlugTaken(String),
    #[error("--name must not be empty (at most 100 characters)")]
    BadName,
    #[error("--owner-email `{0}` is not an email address")]
    BadEmail(String),
    #[error("--time-zone `{0}` is not an IANA time zone (e.g. Europe/London)")]
    BadTimeZone(String),
    #[error("--currency `{0}` is not a supported ISO 4217 code (e.g. USD, EUR)")]
    BadCurrency(String),
    #[error("the owner's password is not accepted: {0}")]
    WeakPassword(PasswordProblem),
    #[error("could not hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Checks everything first, then writes the merchant, its owner and an
/// audit entry in one transaction; returns what to tell the operator.
pub async fn create_merchant(
    db: &Db,
    clock: &dyn Clock,
    req: NewMerchantRequest,
) -> Result<String, MerchantAdminError> {
    let slug = req.slug.trim().to_string();
    if !is_valid_slug(&slug) {
        return Err(MerchantAdminError::BadSlug(req.slug));
    }
    let name = req.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(MerchantAdminError::BadName);
    }
    let email = req.owner_email.trim().to_lowercase();
    if !looks_like_email(&email) {
        return Err(MerchantAdminError::BadEmail(req.owner_email));
    }
    if jiff::tz::TimeZone::get(&req.time_zone).is_err() {
        return Err(MerchantAdminError::BadTimeZone(req.time_zone));
    }
    let currency =
        Currency::parse(req.currency.trim()).map_err(|_| MerchantAdminError::BadCurrency(req.currency.clone()))?;
    passwords::check_policy(&req.owner_password, &[&email, &req.owner_name, &name, &slug])
        .map_err(MerchantAdminError::WeakPassword)?;
    let hash = passwords::hash(req.owner_password).await.map_err(MerchantAdminError::Hash)?;

    let now = clock.now();
    let mut tx = app::server::db::begin_write(db.pool()).await?;
    let new = merchants::NewMerchant {
        slug: slug.clone(),
        name: name.clone(),
        display_name: name.clone(),
        logo_url: None,
        primary_color: "#1d4ed8".into(),
        accent_color: "#0f766e".into(),
        support_email: Some(email.clone()),
        support_phone: None,
        email_footer: None,
        default_currency: currency,
        time_zone: req.time_zone.clone(),
        access_link_ttl_days: 14,
    };
    let merchant = match merchants::insert(&mut *tx, &new, now).await {
        Ok(id) => id,
        Err(e) if unique_violation(&e, "merchants_slug_key", "merchants.slug") => {
            return Err(MerchantAdminError::SlugTaken(slug));
        }
        Err(e) => return Err(e.into()),
    };
    let owner =
        merchant_users::insert(&mut *tx, &merchant, &email, req.owner_name.trim(), Some(&hash), Role::Owner, now)
            .await?;
    let detail = serde_json::json!({ "slug": slug, "owner": owner.as_str() });
    events::audit(&mut *tx, &merchant, "system", Some("cli"), "merchant_created", None, &detail, None, None, now)
        .await?;
    tx.commit().await?;
    Ok(format!(
        "Created merchant {name} (portal address `{slug}`, {}, {}) with owner {email}.",
        currency.code(),
        req.time_zone
    ))
}
