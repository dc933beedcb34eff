//! What goes in and out of a gateway, in our terms rather than a wire format.

use crate::types::Money;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GatewayKind {
    Sandbox,
    Stripe,
}

impl GatewayKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            GatewayKind::Sandbox => "sandbox",
            GatewayKind::Stripe => "stripe",
        }
    }

    /// Whether a stored gateway customer reference was made by this kind of
    /// gateway (a merchant may have switched from test mode to Stripe).
    pub fn owns_customer_ref(&self, reference: &str) -> bool {
        match self {
            GatewayKind::Sandbox => reference.starts_with("sbcus_"),
            GatewayKind::Stripe => reference.starts_with("cus_"),
        }
    }

    pub fn parse(s: &str) -> Option<GatewayKind> {
        match s {
            "sandbox" => Some(GatewayKind::Sandbox),
            "stripe" => Some(GatewayKind::Stripe),
            _ => None,
        }
    }
}

/// Who the gateway customer is for (our id goes into the gateway's metadata).
#[derive(Clone, Debug)]
pub struct CustomerInfo {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// A saved card as the gateway describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Card {
    pub gateway_ref: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
}

/// A card setup the browser finishes with the gateway directly.
#[derive(Clone, Debug)]
pub struct CardSetup {
    pub setup_ref: String,
    pub client: SetupClient,
}

#[derive(Clone, Debug)]
pub enum SetupClient {
    /// The sandbox's own card form, served by us in test mode only.
    SandboxForm,
    /// Stripe.js Elements confirms the SetupIntent in the browser.
    StripeElements { client_secret: String, publishable_key: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SetupOutcome {
    Saved(Card),
    Declined {
        code: String,
        message: String,
    },
    /// Not finished yet (e.g. waiting for 3-D Secure).
    Pending,
}

#[derive(Clone, Debug)]
pub struct ChargeRequest {
    pub customer_ref: String,
    pub card_ref: String,
    pub amount: Money,
    pub idempotency_key: String,
    /// True for autopay: the customer is not there to authenticate.
    pub off_session: bool,
    /// Our payment id, kept in the gateway's metadata for reconciliation.
    pub payment_id: String,
    pub description: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeclineKind {
    /// Retrying later may work (insufficient funds, a processing error).
    Soft,
    /// Retrying the same card will not work (stolen, expired, closed account,
    /// or the bank wants the customer present): ask for another card.
    Hard,
}

/// Card-network decline codes that retrying cannot fix.
const HARD_DECLINES: &[&str] = &[
    "authentication_required",
    "card_not_supported",
    "currency_not_supported",
    "expired_card",
    "fraudulent",
    "incorrect_cvc",
    "incorrect_number",
    "invalid_account",
    "invalid_cvc",
    "invalid_expiry_month",
    "invalid_expiry_year",
    "invalid_number",
    "lost_card",
    "merchant_blacklist",
    "new_account_information_available",
    "no_action_taken",
    "pickup_card",
    "restricted_card",
    "revocation_of_all_authorizations",
    "revocation_of_authorization",
    "security_violation",
    "stolen_card",
    "stop_payment_order",
    "transaction_not_allowed",
];

impl DeclineKind {
    pub fn classify(code: &str) -> DeclineKind {
        if HARD_DECLINES.contains(&code) {
            DeclineKind::Hard
        } else {
            DeclineKind::Soft
        }
    }

    pub fn is_hard(&self) -> bool {
        *self == DeclineKind::Hard
    }
}

/// What happened to a charge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeOutcome {
    Succeeded {
        payment_ref: String,
    },
    /// The bank wants the customer to authenticate (3-D Secure).
    RequiresAction {
        payment_ref: String,
    },
    Declined {
        payment_ref: Option<String>,
        code: String,
        message: String,
        kind: DeclineKind,
    },
    /// The gateway has not decided (processing), or we could not tell: the
    /// payment is reconciled later by fetching it, never charged again.
    Unknown {
        payment_ref: Option<String>,
        reason: String,
    },
}

/// What the browser needs to finish a payment that requires action.
#[derive(Clone, Debug)]
pub enum PaymentAction {
    SandboxChallenge,
    StripeNextAction { client_secret: String, publishable_key: String },
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    /// No response in time: the request may or may not have taken effect.
    #[error("the gateway did not answer in time")]
    Timeout,
    /// The connection failed or broke; as with a timeout, the outcome is unknown.
    #[error("could not reach the gateway: {0}")]
    Network(String),
    /// The gateway failed on its side (5xx); the outcome is unknown.
    #[error("the gateway failed (HTTP {status}): {message}")]
    Server { status: u16, message: String },
    /// Our request was wrong; repeating it will not help.
    #[error("the gateway refused the request ({code}): {message}")]
    InvalidRequest { code: String, message: String },
    #[error("the gateway refused our credentials")]
    Authentication,
    #[error("the gateway does not know {0}")]
    NotFound(String),
    #[error("the gateway's answer could not be read: {0}")]
    Malformed(String),
}

impl GatewayError {
    /// Whether the same request, under the same idempotency key, may be sent again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, GatewayError::Timeout | GatewayError::Network(_) | GatewayError::Server { .. })
    }

    /// Whether money may have moved even though we got no clear answer.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            GatewayError::Timeout | GatewayError::Network(_) | GatewayError::Server { .. } | GatewayError::Malformed(_)
        )
    }
}

/// A verified webhook delivery, reduced to what Settle acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookEvent {
    pub id: String,
    pub event_type: String,
    /// Seconds since the epoch, as the gateway stamped the event.
    pub created: i64,
    pub kind: WebhookKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookKind {
    /// payment_intent.succeeded / payment_failed / requires_action: the
    /// handler re-fetches the payment, so order of arrival does not matter.
    PaymentChanged {
        payment_ref: String,
    },
    SetupSucceeded {
        setup_ref: String,
        customer_ref: Option<String>,
        card_ref: Option<String>,
    },
    /// payment_method.attached / updated / automatically_updated (card updater).
    CardChanged {
        card: Card,
        customer_ref: Option<String>,
    },
    ChargeRefunded {
        payment_ref: String,
        amount_refunded_minor: i64,
    },
    DisputeOpened {
        payment_ref: String,
        amount_minor: i64,
        reason: String,
    },
    /// A type Settle does not act on; stored and acknowledged.
    Ignored,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the signature header is missing or malformed")]
    MalformedHeader,
    #[error("no signature matches")]
    BadSignature,
    #[error("the timestamp is outside the tolerance")]
    StaleTimestamp,
    #[error("the payload is not a valid event: {0}")]
    MalformedPayload(String),
    #[error("this gateway does not send webhooks")]
    Unsupported,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declines_split_into_hard_and_soft() {
        assert!(DeclineKind::classify("stolen_card").is_hard());
        assert!(DeclineKind::classify("expired_card").is_hard());
        assert!(DeclineKind::classify("authentication_required").is_hard());
        assert!(!DeclineKind::classify("insufficient_funds").is_hard());
        assert!(!DeclineKind::classify("generic_decline").is_hard());
        assert!(!DeclineKind::classify("something_new").is_hard());
    }

    #[test]
    fn unknown_outcomes_are_the_ones_that_may_have_charged() {
        assert!(GatewayError::Timeout.outcome_unknown());
        assert!(GatewayError::Server { status: 502, message: String::new() }.outcome_unknown());
        assert!(!GatewayError::Authentication.outcome_unknown());
        assert!(!GatewayError::InvalidRequest { code: "x".into(), message: String::new() }.outcome_unknown());
        assert!(GatewayError::Timeout.is_retryable());
        assert!(!GatewayError::NotFound("pi".into()).is_retryable());
    }
}
