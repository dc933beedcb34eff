//! Payment gateways behind one object-safe trait, held as
//! `Arc<dyn PaymentGateway>`: `sandbox` (in-process test mode, the demo
//! default) and `stripe`. The portal only ever sees gateway references,
//! brand, last four digits and expiry: never a card number.

pub mod sandbox;
pub mod signature;
pub mod stripe;
pub mod stripe_wire;
mod types;

pub use types::*;

use crate::server::UtcMillis;
use async_trait::async_trait;

#[async_trait]
pub trait PaymentGateway: Send + Sync {
    fn kind(&self) -> GatewayKind;

    /// Creates the gateway's customer for ours, or returns `existing` when it
    /// is still valid there.
    async fn ensure_customer(&self, customer: &CustomerInfo, existing: Option<&str>) -> Result<String, GatewayError>;

    /// Starts adding a card (a Stripe SetupIntent, or the sandbox's own hosted
    /// card page); the card details go to the gateway, not to us.
    async fn start_card_setup(&self, customer_ref: &str) -> Result<CardSetup, GatewayError>;

    /// The card a finished setup saved, once the gateway says it succeeded.
    async fn finish_card_setup(&self, customer_ref: &str, setup_ref: &str) -> Result<SetupOutcome, GatewayError>;

    async fn list_cards(&self, customer_ref: &str) -> Result<Vec<Card>, GatewayError>;

    async fn detach_card(&self, card_ref: &str) -> Result<(), GatewayError>;

    /// Charges a saved card. The idempotency key makes a repeat of the same
    /// request (a retry after a lost response) return the first outcome
    /// instead of charging again.
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, GatewayError>;

    /// Where a payment stands now (reconciliation, webhooks, 3-D Secure return).
    async fn fetch_payment(&self, payment_ref: &str) -> Result<ChargeOutcome, GatewayError>;

    /// Cancels a payment still waiting for the customer (3-D Secure), so it
    /// can no longer complete; returns where it stands afterwards.
    async fn cancel_payment(&self, payment_ref: &str) -> Result<ChargeOutcome, GatewayError>;

    /// What the browser needs to finish a payment that requires action
    /// (the Stripe client secret, or the sandbox's authentication page).
    async fn payment_action(&self, payment_ref: &str) -> Result<PaymentAction, GatewayError>;

    /// Checks the signature of a webhook delivery and parses it.
    fn parse_webhook(
        &self,
        payload: &[u8],
        signature_header: &str,
        secret: &str,
        now: UtcMillis,
    ) -> Result<WebhookEvent, WebhookError>;
}

/// The gateways this install can use: the sandbox always (test mode), Stripe
/// when configured. Each merchant names one of them.
#[derive(Clone)]
pub struct Gateways {
    pub sandbox: std::sync::Arc<sandbox::SandboxGateway>,
    pub stripe: Option<std::sync::Arc<dyn PaymentGateway>>,
    /// Set only by `settle simulate`: every merchant's charges go to the
    /// behaviour model instead, so a simulation never reaches a real gateway.
    pub simulated: Option<std::sync::Arc<dyn PaymentGateway>>,
}

impl Gateways {
    /// The gateway for `kind` (a merchant's `gateway` column), if configured.
    pub fn get(&self, kind: &str) -> Option<std::sync::Arc<dyn PaymentGateway>> {
        if let Some(simulated) = &self.simulated {
            return Some(simulated.clone());
        }
        match GatewayKind::parse(kind)? {
            GatewayKind::Sandbox => Some(self.sandbox.clone()),
            GatewayKind::Stripe => self.stripe.clone(),
        }
    }
}
