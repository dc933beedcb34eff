use crate::server::ids::{CustomerId, MerchantId};
use crate::server::UtcMillis;
use sqlx::any::AnyExecutor;
use sqlx::AnyPool;

/// Deserializes from a JSON array of [`COLUMNS`] in order (the account
/// page reads it that way).
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct CustomerRow {
    pub id: String,
    pub merchant_id: String,
    pub external_ref: Option<String>,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub time_zone: String,
    pub locale: String,
    pub status: String,
    pub autopay_enabled: i64,
    pub created_at: i64,
}

impl CustomerRow {
    pub fn customer_id(&self) -> CustomerId {
        CustomerId::from_trusted(self.id.clone())
    }

    /// "Dana" from "Dana Whitfield"; the whole name if it has one word.
    pub fn first_name(&self) -> &str {
        first_name(&self.name)
    }
}

/// "Dana" from "Dana Whitfield"; the whole name if it has one word.
pub fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

#[derive(Clone, Debug)]
pub struct NewCustomer {
    pub external_ref: Option<String>,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub time_zone: String,
    pub locale: String,
    pub autopay_enabled: bool,
}

pub(crate) const COLUMNS: &str =
    "id, merchant_id, external_ref, name, email, phone, time_zone, locale, status, autopay_enabled, created_at";

pub async fn insert<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    c: &NewCustomer,
    now: UtcMillis,
) -> Result<CustomerId, sqlx::Error> {
    let id = CustomerId::new();
    sqlx::query(
        "INSERT INTO customers (id, merchant_id, external_ref, name, email, phone, time_zone, locale, \
         autopay_enabled, created_at, updated_at, sms_number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11)",
    )
    .bind(id.as_str())
    .bind(merchant.as_str())
    .bind(&c.external_ref)
    .bind(&c.name)
    .bind(&c.email)
    .bind(&c.phone)
    .bind(&c.time_zone)
    .bind(&c.locale)
    .bind(c.autopay_enabled as i64)
    .bind(now.0)
    .bind(c.phone.as_deref().and_then(crate::server::settings::sms_number))
    .execute(ex)
    .await?;
    Ok(id)
}

/// A customer of this merchant; another merchant's customer id finds nothing.
pub async fn find<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    id: &CustomerId,
) -> Result<Option<CustomerRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM customers WHERE merchant_id = $1 AND id = $2"))
        .bind(merchant.as_str())
        .bind(id.as_str())
        .fetch_optional(ex)
        .await
}

pub async fn find_by_external_ref<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    external_ref: &str,
) -> Result<Option<CustomerRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM customers WHERE merchant_id = $1 AND external_ref = $2"))
        .bind(merchant.as_str())
        .bind(external_ref)
        .fetch_optional(ex)
        .await
}

/// Case-insensitive lookup by email within one merchant.
pub async fn find_by_email(
    pool: &AnyPool,
    merchant: &MerchantId,
    email: &str,
) -> Result<Option<CustomerRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM customers WHERE merchant_id = $1 AND lower(email) = lower($2) ORDER BY created_at LIMIT 1"
    ))
    .bind(merchant.as_str())
    .bind(email.trim())
    .fetch_optional(pool)
    .await
}

/// The customer's password hash, if one is set.
pub async fn password_hash(
    pool: &AnyPool,
    merchant: &MerchantId,
    id: &CustomerId,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT password_hash FROM customers WHERE merchant_id = $1 AND id = $2")
            .bind(merchant.as_str())
            .bind(id.as_str())
            .fetch_optional(pool)
            .await?;
    Ok(row.and_then(|(h,)| h))
}

pub async fn set_password_hash(
    pool: &AnyPool,
    merchant: &MerchantId,
    id: &CustomerId,
    hash: &str,
    now: UtcMillis,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE customers SET password_hash = $1, updated_at = $2 WHERE merchant_id = $3 AND id = $4")
        .bind(hash)
        .bind(now.0)
        .bind(merchant.as_str())
        .bind(id.as_str())
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn gateway_customer_ref(
    pool: &AnyPool,
    merchant: &MerchantId,
    id: &CustomerId,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT gateway_customer_ref FROM customers WHERE merchant_id = $1 AND id = $2")
            .bind(merchant.as_str())
            .bind(id.as_str())
            .fetch_optional(pool)
            .await?;
    Ok(row.and_then(|r| r.0))
}

pub async fn set_gateway_customer_ref(
    pool: &AnyPool,
    merchant: &MerchantId,
    id: &CustomerId,
    gateway_ref: &str,
    now: UtcMillis,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE customers SET gateway_customer_ref = $1, updated_at = $2 WHERE merchant_id = $3 AND id = $4")
        .bind(gateway_ref)
        .bind(now.0)
        .bind(merchant.as_str())
        .bind(id.as_str())
        .execute(pool)
        .await?;
    Ok(())
}

/// Stops text messages to a number, for every merchant's customer who has
/// it (one STOP reply reaches the shared sending number, so it counts for
/// all), recording an event for each merchant. Returns how many customers
/// were opted out now (already opted-out ones are left alone).
pub async fn opt_out_of_sms(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    sms_number: &str,
    source: &str,
    now: UtcMillis,
) -> Result<usize, sqlx::Error> {
    set_sms_opt_out(tx, sms_number, true, source, now).await
}

/// Undoes [`opt_out_of_sms`] when the number replies START.
pub async fn opt_in_to_sms(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    sms_number: &str,
    source: &str,
    now: UtcMillis,
) -> Result<usize, sqlx::Error> {
    set_sms_opt_out(tx, sms_number, false, source, now).await
}

async fn set_sms_opt_out(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    sms_number: &str,
    opt_out: bool,
    source: &str,
    now: UtcMillis,
) -> Result<usize, sqlx::Error> {
    let changed: Vec<(String, String)> = sqlx::query_as(
        "UPDATE customers SET sms_opt_out = $1, updated_at = $2 WHERE sms_number = $3 AND sms_opt_out <> $1 \
         RETURNING merchant_id, id",
    )
    .bind(opt_out as i64)
    .bind(now.0)
    .bind(sms_number)
    .fetch_all(&mut **tx)
    .await?;
    let kind = if opt_out { "sms_opt_out" } else { "sms_opt_in" };
    for (merchant, customer) in &changed {
        let merchant = MerchantId::from_trusted(merchant.clone());
        let customer = CustomerId::from_trusted(customer.clone());
        let detail = serde_json::json!({ "source": source });
        super::events::record(&mut **tx, &merchant, Some(&customer), None, kind, &detail, now).await?;
    }
    Ok(changed.len())
}

/// When the merchant paused this customer's reminders and retries, if they did.
pub async fn dunning_paused_at<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    customer: &CustomerId,
) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT dunning_paused_at FROM customers WHERE merchant_id = $1 AND id = $2")
            .bind(merchant.as_str())
            .bind(customer.as_str())
            .fetch_optional(ex)
            .await?;
    Ok(row.and_then(|(at,)| at))
}
