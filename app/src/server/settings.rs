//! The customer's contact details and preferences. Changing where messages
//! go (email, phone) needs a fresh step-up; opting out of a channel and the
//! time zone do not.

use super::portal_session::PortalIdentity;
use super::repo::customers;
use super::repo::events;
use super::repo::merchants::MerchantRow;
use super::sign_in::looks_like_email;
use super::{AppError, UtcMillis};
use crate::types::settings::AutopayView;
use crate::types::{CardView, SettingsView};
use serde_json::json;
use sqlx::AnyPool;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsError {
    BadEmail,
    BadPhone,
    BadTimeZone,
    BadLocale,
    EmailTaken,
}

impl SettingsError {
    pub fn code(&self) -> &'static str {
        match self {
            SettingsError::BadEmail => "email",
            SettingsError::BadPhone => "phone",
            SettingsError::BadTimeZone => "time_zone",
            SettingsError::BadLocale => "locale",
            SettingsError::EmailTaken => "email_taken",
        }
    }
}

/// "+1 555 010 2030" style: optional +, then 7–15 digits with spaces,
/// dashes, dots or parentheses. Stored as typed (trimmed).
pub fn valid_phone(p: &str) -> bool {
    let digits = p.chars().filter(char::is_ascii_digit).count();
    (7..=15).contains(&digits)
        && p.chars().enumerate().all(|(i, c)| c.is_ascii_digit() || " -.()".contains(c) || (c == '+' && i == 0))
}

/// The number in international (E.164) form, which text messages need:
/// only a number typed with its country code (leading +) has one.
pub fn sms_number(p: &str) -> Option<String> {
    let p = p.trim();
    (valid_phone(p) && p.starts_with('+')).then(|| {
        let digits: String = p.chars().filter(char::is_ascii_digit).collect();
        format!("+{digits}")
    })
}

pub async fn view(
    pool: &AnyPool,
    now: UtcMillis,
    merchant: &MerchantRow,
    identity: &PortalIdentity,
    stepped_up: bool,
) -> Result<SettingsView, AppError> {
    let c = customers::find(pool, &identity.merchant_id, &identity.customer_id).await?.ok_or(AppError::NotSignedIn)?;
    let (email_opt_out, sms_opt_out): (i64, i64) =
        sqlx::query_as("SELECT email_opt_out, sms_opt_out FROM customers WHERE merchant_id = $1 AND id = $2")
            .bind(identity.merchant_id.as_str())
            .bind(identity.customer_id.as_str())
            .fetch_one(pool)
            .await?;
    let zone = super::portal::customer_zone(&c.time_zone, &merchant.time_zone);
    let today = super::portal::local_date(now.0, &zone);
    let cards: Vec<CardView> =
        super::repo::payment_methods::list_active(pool, &identity.merchant_id, &identity.customer_id)
            .await?
            .into_iter()
            .filter(|pm| pm.gateway == merchant.gateway)
            .map(|pm| card_view(pm, today))
            .collect();
    let consent = super::payments::autopay::active_consent(pool, &identity.merchant_id, &identity.customer_id).await?;
    let default_card = cards.iter().find(|c| c.is_default && !c.expired);
    let autopay = AutopayView {
        enabled: c.autopay_enabled != 0 && consent.is_some(),
        since: consent
            .as_ref()
            .map(|(_, at)| super::portal::human_date(super::portal::local_date(*at, &zone), &c.locale)),
        consent_text: consent.map(|(text, _)| text),
        offer_card_id: default_card.map(|d| d.id.clone()),
        offer_text: default_card.map(|d| super::payments::autopay::consent_text(&merchant.display_name, &d.label)),
    };
    Ok(SettingsView {
        cards,
        autopay,
        branding: merchant.branding(),
        email: c.email,
        phone: c.phone.unwrap_or_default(),
        time_zone: c.time_zone,
        locale: c.locale,
        locales: crate::types::locale::LOCALES.iter().map(|(c, n)| (c.to_string(), n.to_string())).collect(),
        email_reminders: email_opt_out == 0,
        sms_reminders: sms_opt_out == 0,
        stepped_up,
        has_password: customers::password_hash(pool, &identity.merchant_id, &identity.customer_id).await?.is_some(),
        time_zones: jiff::tz::db()
            .available()
            .map(|n| n.to_string())
            .filter(|n| n.contains('/') && !n.starts_with("Etc/"))
            .collect(),
    })
}

/// Requires a step-up; the caller checks it.
pub async fn change_contact(
    pool: &AnyPool,
    now: UtcMillis,
    identity: &PortalIdentity,
    email: &str,
    phone: &str,
) -> Result<Result<(), SettingsError>, AppError> {
    let email = email.trim();
    let phone = phone.trim();
    if !looks_like_email(email) {
        return Ok(Err(SettingsError::BadEmail));
    }
    if !phone.is_empty() && !valid_phone(phone) {
        return Ok(Err(SettingsError::BadPhone));
    }
    let mid = &identity.merchant_id;
    if let Some(other) = customers::find_by_email(pool, mid, email).await? {
        if other.id != identity.customer_id.as_str() {
            return Ok(Err(SettingsError::EmailTaken));
        }
    }
    let mut tx = super::db::begin_write(pool).await?;
    sqlx::query(
        "UPDATE customers SET email = $1, phone = $2, sms_number = $6, updated_at = $3 WHERE merchant_id = $4 AND id = $5",
    )
    .bind(email)
    .bind((!phone.is_empty()).then(|| phone.to_string()))
        .bind(now.0)
        .bind(mid.as_str())
        .bind(identity.customer_id.as_str())
        .bind(sms_number(phone))
        .execute(&mut *tx)
        .await?;
    let detail = json!({ "email": email, "phone": phone });
    events::audit(
        &mut *tx,
        mid,
        "customer",
        Some(identity.customer_id.as_str()),
        "customer.contact_changed",
        Some(("customer", identity.customer_id.as_str())),
        &detail,
        None,
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

pub async fn change_preferences(
    pool: &AnyPool,
    now: UtcMillis,
    identity: &PortalIdentity,
    email_reminders: bool,
    sms_reminders: bool,
    time_zone: &str,
    locale: &str,
) -> Result<Result<(), SettingsError>, AppError> {
    if jiff::tz::TimeZone::get(time_zone).is_err() {
        return Ok(Err(SettingsError::BadTimeZone));
    }
    if !crate::types::locale::is_supported(locale) {
        return Ok(Err(SettingsError::BadLocale));
    }
    let mid = &identity.merchant_id;
    let mut tx = super::db::begin_write(pool).await?;
    sqlx::query(
        "UPDATE customers SET email_opt_out = $1, sms_opt_out = $2, time_zone = $3, updated_at = $4, locale = $7 \
         WHERE merchant_id = $5 AND id = $6",
    )
    .bind(i64::from(!email_reminders))
    .bind(i64::from(!sms_reminders))
    .bind(time_zone)
    .bind(now.0)
    .bind(mid.as_str())
    .bind(identity.customer_id.as_str())
    .bind(locale)
    .execute(&mut *tx)
    .await?;
    let detail = json!({ "email_reminders": email_reminders, "sms_reminders": sms_reminders, "time_zone": time_zone, "locale": locale });
    events::audit(
        &mut *tx,
        mid,
        "customer",
        Some(identity.customer_id.as_str()),
        "customer.preferences_changed",
        Some(("customer", identity.customer_id.as_str())),
        &detail,
        None,
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// A saved card as the customer sees it: "Visa ending 4242", expiry, and
/// whether it has expired by `today` (in the customer's zone).
pub(crate) fn card_view(pm: super::repo::payment_methods::PaymentMethodRow, today: jiff::civil::Date) -> CardView {
    let this_month = today.year() as i64 * 12 + today.month() as i64;
    let mut brand = pm.brand.clone();
    if let Some(first) = brand.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    CardView {
        id: pm.id,
        label: format!("{brand} ending {}", pm.last4),
        expires: format!("{:02}/{}", pm.exp_month, pm.exp_year),
        expired: pm.exp_year * 12 + pm.exp_month < this_month,
        is_default: pm.is_default != 0,
    }
}

#[cfg(test)]
mod tests {
    use super::valid_phone;

    #[test]
    fn phones_are_checked_loosely() {
        assert!(valid_phone("+1 555 010 2030"));
        assert!(valid_phone("(555) 010-2030"));
        assert!(!valid_phone("555"));
        assert!(!valid_phone("call me"));
        assert!(!valid_phone("1+555 010 2030"));
        assert_eq!(super::sms_number("+1 (555) 010-2030").as_deref(), Some("+15550102030"));
        assert_eq!(super::sms_number("(555) 010-2030"), None);
    }
}

/// Removes a saved card (step-up checked by the caller). The gateway detach
/// arrives with the payments work; here the card stops being offered or used.
pub async fn remove_card(state: &super::AppState, identity: &PortalIdentity, raw_id: &str) -> Result<(), AppError> {
    let pool = state.db.pool();
    let now = state.clock.now();
    let id = super::ids::PaymentMethodId::parse(raw_id).map_err(|_| AppError::NotFound)?;
    let mid = &identity.merchant_id;
    let card = super::repo::payment_methods::find_any(pool, mid, &identity.customer_id, id.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    // Detached at the gateway first: a card we no longer show must not stay
    // chargeable there. Already gone there is fine.
    if let Some(gateway) = state.gateways.get(&card.gateway) {
        match gateway.detach_card(&card.gateway_ref).await {
            Ok(()) | Err(super::gateway::GatewayError::NotFound(_)) => {}
            Err(e) => return Err(AppError::internal(format!("gateway detach: {e}"))),
        }
    }
    if !super::repo::payment_methods::detach(pool, mid, &identity.customer_id, &id, now).await? {
        return Err(AppError::NotFound);
    }
    let detail = json!({ "payment_method": id.as_str() });
    events::audit(
        pool,
        mid,
        "customer",
        Some(identity.customer_id.as_str()),
        "payment_method.removed",
        Some(("payment_method", id.as_str())),
        &detail,
        None,
        None,
        now,
    )
    .await?;
    Ok(())
}
