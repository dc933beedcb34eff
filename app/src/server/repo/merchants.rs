use crate::server::ids::MerchantId;
use crate::server::UtcMillis;
use crate::types::{Branding, Currency};
use sqlx::any::AnyExecutor;
use sqlx::AnyPool;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MerchantRow {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub display_name: String,
    pub logo_url: Option<String>,
    pub primary_color: String,
    pub accent_color: String,
    pub support_email: Option<String>,
    pub support_phone: Option<String>,
    pub email_footer: Option<String>,
    pub default_currency: String,
    pub time_zone: String,
    pub gateway: String,
    pub access_link_ttl_days: i64,
    pub promise_max_days: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Its own portal address (`pay.acme.com`), if it has one.
    pub custom_domain: Option<String>,
}

impl MerchantRow {
    /// Where this merchant's links point: its own domain (over https) when
    /// it has one, else the install's base URL.
    pub fn public_base_url(&self, default: &str) -> String {
        match &self.custom_domain {
            Some(domain) => format!("https://{domain}"),
            None => default.trim_end_matches('/').to_string(),
        }
    }

    pub fn merchant_id(&self) -> MerchantId {
        MerchantId::from_trusted(self.id.clone())
    }

    pub fn branding(&self) -> Branding {
        Branding {
            slug: self.slug.clone(),
            display_name: self.display_name.clone(),
            logo_url: self.logo_url.clone(),
            primary_color: self.primary_color.clone(),
            accent_color: self.accent_color.clone(),
            support_email: self.support_email.clone(),
            support_phone: self.support_phone.clone(),
            test_mode: self.gateway == "sandbox",
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewMerchant {
    pub slug: String,
    pub name: String,
    pub display_name: String,
    pub logo_url: Option<String>,
    pub primary_color: String,
    pub accent_color: String,
    pub support_email: Option<String>,
    pub support_phone: Option<String>,
    pub email_footer: Option<String>,
    pub default_currency: Currency,
    pub time_zone: String,
    pub access_link_ttl_days: i64,
}

pub(crate) const COLUMNS: &str = "id, slug, name, display_name, logo_url, primary_color, accent_color, support_email, \
    support_phone, email_footer, default_currency, time_zone, gateway, access_link_ttl_days, promise_max_days, created_at, \
    updated_at, custom_domain";

pub async fn insert<'c>(ex: impl AnyExecutor<'c>, m: &NewMerchant, now: UtcMillis) -> Result<MerchantId, sqlx::Error> {
    let id = MerchantId::new();
    sqlx::query(
        "INSERT INTO merchants (id, slug, name, display_name, logo_url, primary_color, accent_color, support_email, \
         support_phone, email_footer, default_currency, time_zone, access_link_ttl_days, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(id.as_str())
    .bind(&m.slug)
    .bind(&m.name)
    .bind(&m.display_name)
    .bind(&m.logo_url)
    .bind(&m.primary_color)
    .bind(&m.accent_color)
    .bind(&m.support_email)
    .bind(&m.support_phone)
    .bind(&m.email_footer)
    .bind(m.default_currency.code())
    .bind(&m.time_zone)
    .bind(m.access_link_ttl_days)
    .bind(now.0)
    .execute(ex)
    .await?;
    Ok(id)
}

pub async fn find_by_slug(pool: &AnyPool, slug: &str) -> Result<Option<MerchantRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM merchants WHERE slug = $1")).bind(slug).fetch_optional(pool).await
}

pub async fn find<'c>(ex: impl AnyExecutor<'c>, id: &MerchantId) -> Result<Option<MerchantRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM merchants WHERE id = $1")).bind(id.as_str()).fetch_optional(ex).await
}

/// The merchant whose own domain is `host` (lower-case, no port).
pub async fn find_by_custom_domain(pool: &AnyPool, host: &str) -> Result<Option<MerchantRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM merchants WHERE custom_domain = $1"))
        .bind(host)
        .fetch_optional(pool)
        .await
}
