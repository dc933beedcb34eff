//! Stripe through async-stripe's 1.0 line. Card entry happens in the
//! browser with Stripe.js and a SetupIntent; this side only ever sees
//! PaymentMethod ids, brand, last four digits and expiry. Every charge
//! carries our idempotency key as Stripe's `Idempotency-Key`.

use super::stripe_wire;
use super::*;
use ::stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use std::str::FromStr;
use std::time::Duration;
use stripe_core::customer::RetrieveCustomerReturned;
use stripe_core::customer::{CreateCustomer, ListPaymentMethodsCustomer, RetrieveCustomer};
use stripe_core::payment_intent::{
    CancelPaymentIntent, CreatePaymentIntent, CreatePaymentIntentAutomaticPaymentMethods,
    CreatePaymentIntentAutomaticPaymentMethodsAllowRedirects, CreatePaymentIntentOffSession, RetrievePaymentIntent,
};
use stripe_core::setup_intent::{CreateSetupIntent, RetrieveSetupIntent};
use stripe_payment::payment_method::{DetachPaymentMethod, RetrievePaymentMethod};
use stripe_shared::{PaymentIntent, PaymentIntentStatus, SetupIntentStatus};

/// How Settle reaches Stripe (from configuration).
#[derive(Clone)]
pub struct StripeSettings {
    pub secret_key: String,
    pub publishable_key: String,
    /// `https://api.stripe.com` in production; the local stand-in in tests.
    pub api_base: String,
    pub timeout: Duration,
}

impl std::fmt::Debug for StripeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret key never reaches a log.
        f.debug_struct("StripeSettings")
            .field("publishable_key", &self.publishable_key)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

pub struct StripeGateway {
    client: Client,
    publishable_key: String,
}

impl StripeGateway {
    pub fn new(settings: &StripeSettings) -> Result<StripeGateway, String> {
        let client = ClientBuilder::new(settings.secret_key.clone())
            .url(settings.api_base.trim_end_matches('/'))
            .timeout(settings.timeout)
            .build()
            .map_err(|e| format!("Stripe client: {e}"))?;
        Ok(StripeGateway { client, publishable_key: settings.publishable_key.clone() })
    }
}

/// A Stripe failure as a gateway error. 402s are declines and are handled
/// where they can occur; here they are only the leftovers.
fn gateway_error(e: StripeError) -> GatewayError {
    match e {
        StripeError::Timeout => GatewayError::Timeout,
        StripeError::ClientError(m) => GatewayError::Network(m),
        StripeError::JSONDeserialize(m) => GatewayError::Malformed(m),
        StripeError::ConfigError(m) => GatewayError::InvalidRequest { code: "config".into(), message: m },
        StripeError::Stripe(err, status) => {
            let code = err.code.as_ref().map(|c| c.as_str().to_string()).unwrap_or_else(|| "unknown".into());
            let message = err.message.clone().unwrap_or_default();
            match status {
                401 | 403 => GatewayError::Authentication,
                404 => GatewayError::NotFound(message),
                s if s >= 500 => GatewayError::Server { status: s, message },
                _ => GatewayError::InvalidRequest { code, message },
            }
        }
    }
}

fn card_of(pm: &stripe_shared::PaymentMethod) -> Option<Card> {
    let card = pm.card.as_ref()?;
    Some(Card {
        gateway_ref: pm.id.as_str().to_string(),
        brand: card.brand.clone(),
        last4: card.last4.clone(),
        exp_month: card.exp_month,
        exp_year: card.exp_year,
    })
}

/// Where a PaymentIntent stands, in our terms.
fn outcome_of(pi: &PaymentIntent) -> ChargeOutcome {
    let payment_ref = pi.id.as_str().to_string();
    match &pi.status {
        PaymentIntentStatus::Succeeded => ChargeOutcome::Succeeded { payment_ref },
        PaymentIntentStatus::RequiresAction => ChargeOutcome::RequiresAction { payment_ref },
        PaymentIntentStatus::Canceled => ChargeOutcome::Declined {
            payment_ref: Some(payment_ref),
            code: "canceled".into(),
            message: "This payment was cancelled. Nothing was charged.".into(),
            kind: DeclineKind::Soft,
        },
        PaymentIntentStatus::RequiresPaymentMethod => match pi.last_payment_error.as_deref() {
            Some(err) => stripe_wire::decline(Some(payment_ref), err),
            // Never attempted: nothing was charged, nothing decided.
            None => ChargeOutcome::Unknown { payment_ref: Some(payment_ref), reason: "requires_payment_method".into() },
        },
        other => ChargeOutcome::Unknown { payment_ref: Some(payment_ref), reason: other.as_str().to_string() },
    }
}

#[async_trait]
impl PaymentGateway for StripeGateway {
    fn kind(&self) -> GatewayKind {
        GatewayKind::Stripe
    }

    async fn ensure_customer(&self, customer: &CustomerInfo, existing: Option<&str>) -> Result<String, GatewayError> {
        if let Some(id) = existing {
            match RetrieveCustomer::new(id).send(&self.client).await {
                Ok(RetrieveCustomerReturned::Customer(c)) => return Ok(c.id.as_str().to_string()),
                // Deleted at Stripe: make a new one.
                Ok(RetrieveCustomerReturned::DeletedCustomer(_)) => {}
                Err(StripeError::Stripe(_, 404)) => {}
                Err(e) => return Err(gateway_error(e)),
            }
        }
        let created = CreateCustomer::new()
            .name(customer.name.clone())
            .email(customer.email.clone())
            .metadata([("settle_customer_id".to_string(), customer.id.clone())])
            .customize()
            // One gateway customer per Settle customer, even if two requests race.
            .request_strategy(idempotent(&format!("customer:{}", customer.id))?)
            .send(&self.client)
            .await
            .map_err(gateway_error)?;
        Ok(created.id.as_str().to_string())
    }

    async fn start_card_setup(&self, customer_ref: &str) -> Result<CardSetup, GatewayError> {
        let setup = CreateSetupIntent::new().customer(customer_ref).send(&self.client).await.map_err(gateway_error)?;
        let client_secret = setup
            .client_secret
            .clone()
            .ok_or_else(|| GatewayError::Malformed("SetupIntent without a client secret".into()))?;
        Ok(CardSetup {
            setup_ref: setup.id.as_str().to_string(),
            client: SetupClient::StripeElements { client_secret, publishable_key: self.publishable_key.clone() },
        })
    }

    async fn finish_card_setup(&self, customer_ref: &str, setup_ref: &str) -> Result<SetupOutcome, GatewayError> {
        if !setup_ref.starts_with("seti_") {
            return Err(GatewayError::NotFound(setup_ref.to_string()));
        }
        let setup = RetrieveSetupIntent::new(setup_ref).send(&self.client).await.map_err(gateway_error)?;
        // The browser's word is not taken: the setup must be this customer's.
        let owner = setup.customer.as_ref().map(|c| c.id().as_str().to_string());
        if owner.as_deref() != Some(customer_ref) {
            return Err(GatewayError::NotFound(setup_ref.to_string()));
        }
        match setup.status {
            SetupIntentStatus::Succeeded => {
                let pm_id = setup
                    .payment_method
                    .as_ref()
                    .map(|p| p.id().as_str().to_string())
                    .ok_or_else(|| GatewayError::Malformed("succeeded SetupIntent without a card".into()))?;
                let pm = RetrievePaymentMethod::new(pm_id.as_str()).send(&self.client).await.map_err(gateway_error)?;
                card_of(&pm).map(SetupOutcome::Saved).ok_or_else(|| GatewayError::Malformed("not a card".into()))
            }
            SetupIntentStatus::Canceled => Ok(SetupOutcome::Declined {
                code: "setup_canceled".into(),
                message: "The card could not be saved.".into(),
            }),
            _ => match setup.last_setup_error.as_deref() {
                Some(err) => Ok(SetupOutcome::Declined {
                    code: stripe_wire::error_code(err),
                    message: err.message.clone().unwrap_or_else(|| "Your card was declined.".into()),
                }),
                None => Ok(SetupOutcome::Pending),
            },
        }
    }

    async fn list_cards(&self, customer_ref: &str) -> Result<Vec<Card>, GatewayError> {
        let list = ListPaymentMethodsCustomer::new(customer_ref).send(&self.client).await.map_err(gateway_error)?;
        Ok(list.data.iter().filter_map(card_of).collect())
    }

    async fn detach_card(&self, card_ref: &str) -> Result<(), GatewayError> {
        DetachPaymentMethod::new(card_ref).send(&self.client).await.map_err(gateway_error)?;
        Ok(())
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, GatewayError> {
        let currency =
            stripe_types::Currency::from_str(&request.amount.currency.code().to_lowercase()).map_err(|_| {
                GatewayError::InvalidRequest { code: "currency".into(), message: "unsupported currency".into() }
            })?;
        let mut create = CreatePaymentIntent::new(request.amount.minor, currency)
            .customer(request.customer_ref.clone())
            .payment_method(request.card_ref.clone())
            // Cards only, confirmed here: no redirect-based methods, no return URL.
            .automatic_payment_methods(CreatePaymentIntentAutomaticPaymentMethods {
                enabled: true,
                allow_redirects: Some(CreatePaymentIntentAutomaticPaymentMethodsAllowRedirects::Never),
            })
            .confirm(true)
            .description(request.description.clone())
            .metadata([("settle_payment_id".to_string(), request.payment_id.clone())]);
        if request.off_session {
            create = create.off_session(CreatePaymentIntentOffSession::Bool(true));
        }
        let sent = create.customize().request_strategy(idempotent(&request.idempotency_key)?).send(&self.client).await;
        match sent {
            Ok(pi) => Ok(outcome_of(&pi)),
            // A decline: Stripe answers 402 with the intent it created.
            Err(StripeError::Stripe(err, 402)) => {
                let payment_ref = err.payment_intent.as_ref().map(|pi| pi.id.as_str().to_string());
                Ok(stripe_wire::decline(payment_ref, &err))
            }
            Err(e) => Err(gateway_error(e)),
        }
    }

    async fn fetch_payment(&self, payment_ref: &str) -> Result<ChargeOutcome, GatewayError> {
        let pi = RetrievePaymentIntent::new(payment_ref).send(&self.client).await.map_err(gateway_error)?;
        Ok(outcome_of(&pi))
    }

    async fn cancel_payment(&self, payment_ref: &str) -> Result<ChargeOutcome, GatewayError> {
        match CancelPaymentIntent::new(payment_ref).send(&self.client).await {
            Ok(pi) => Ok(outcome_of(&pi)),
            // Already decided (succeeded meanwhile): report where it stands.
            Err(StripeError::Stripe(_, 400)) => self.fetch_payment(payment_ref).await,
            Err(e) => Err(gateway_error(e)),
        }
    }

    async fn payment_action(&self, payment_ref: &str) -> Result<PaymentAction, GatewayError> {
        let pi = RetrievePaymentIntent::new(payment_ref).send(&self.client).await.map_err(gateway_error)?;
        let client_secret =
            pi.client_secret.ok_or_else(|| GatewayError::Malformed("PaymentIntent without a client secret".into()))?;
        Ok(PaymentAction::StripeNextAction { client_secret, publishable_key: self.publishable_key.clone() })
    }

    fn parse_webhook(
        &self,
        payload: &[u8],
        signature_header: &str,
        secret: &str,
        now: UtcMillis,
    ) -> Result<WebhookEvent, WebhookError> {
        super::signature::verify(payload, signature_header, secret, now)?;
        stripe_wire::parse_event(payload)
    }
}

fn idempotent(key: &str) -> Result<RequestStrategy, GatewayError> {
    IdempotencyKey::new(key)
        .map(RequestStrategy::Idempotent)
        .map_err(|e| GatewayError::InvalidRequest { code: "idempotency_key".into(), message: e.to_string() })
}
