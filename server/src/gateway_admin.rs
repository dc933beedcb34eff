//! `settle gateway`: which payment gateway a merchant uses.

use crate::config::Config;
use app::server::repo::merchants;
use app::server::Db;

#[derive(Debug, thiserror::Error)]
pub enum GatewayAdminError {
    #[error("no merchant has the portal address `{0}`")]
    NoMerchant(String),
    #[error("Stripe is not configured: set SETTLE_STRIPE_SECRET_KEY and SETTLE_STRIPE_PUBLISHABLE_KEY first")]
    StripeNotConfigured,
    #[error("--webhook-secret is required for stripe: the signing secret (whsec_…) of the endpoint {0}")]
    MissingSecret(String),
    #[error("--webhook-secret must be a Stripe signing secret (whsec_…)")]
    BadSecret,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub async fn set_gateway(
    db: &Db,
    config: &Config,
    slug: &str,
    gateway: &str,
    webhook_secret: Option<&str>,
) -> Result<String, GatewayAdminError> {
    let merchant =
        merchants::find_by_slug(db.pool(), slug).await?.ok_or_else(|| GatewayAdminError::NoMerchant(slug.into()))?;
    let endpoint = format!("{}webhooks/stripe/{}", config.base_url, merchant.slug);
    let secret = match gateway {
        "stripe" => {
            if config.stripe.is_none() {
                return Err(GatewayAdminError::StripeNotConfigured);
            }
            let secret = webhook_secret.ok_or_else(|| GatewayAdminError::MissingSecret(endpoint.clone()))?;
            if !secret.starts_with("whsec_") || secret.len() < 12 {
                return Err(GatewayAdminError::BadSecret);
            }
            Some(secret.to_string())
        }
        _ => None,
    };
    sqlx::query("UPDATE merchants SET gateway = $1, webhook_secret = COALESCE($2, webhook_secret) WHERE id = $3")
        .bind(gateway)
        .bind(secret)
        .bind(&merchant.id)
        .execute(db.pool())
        .await?;
    Ok(match gateway {
        "stripe" => {
            format!("{} now takes payments through Stripe. Webhook endpoint: {endpoint}", merchant.display_name)
        }
        _ => format!("{} is in test mode (sandbox gateway).", merchant.display_name),
    })
}
