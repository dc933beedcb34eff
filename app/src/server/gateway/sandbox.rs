//! Test mode: an in-process gateway that behaves like Stripe's test cards,
//! keeping its state in its own table of our database (so it survives a
//! restart and is shared by several processes, as Stripe would be). It only
//! ever accepts Stripe's published test card numbers; anything else is
//! refused, so no real card number is stored or even kept in memory beyond
//! the request that carried it.

use super::*;
use crate::server::ids::new_id_body;
use crate::server::{Clock, Db};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// How a test card behaves; chosen by its number, as at Stripe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestCardBehaviour {
    Succeeds,
    /// Declined when saved (generic_decline).
    DeclinedAtSetup,
    /// Saved, then every charge fails with this decline code.
    ChargeDeclined,
    InsufficientFunds,
    StolenCard,
    /// 3-D Secure: on-session charges need the customer to authenticate;
    /// off-session charges are declined with authentication_required.
    RequiresAuthentication,
}

pub struct TestCard {
    pub number: &'static str,
    pub brand: &'static str,
    pub behaviour: TestCardBehaviour,
    pub description: &'static str,
}

/// The numbers the sandbox knows, shown on its card page.
pub const TEST_CARDS: &[TestCard] = &[
    TestCard {
        number: "4242424242424242",
        brand: "visa",
        behaviour: TestCardBehaviour::Succeeds,
        description: "Succeeds",
    },
    TestCard {
        number: "5555555555554444",
        brand: "mastercard",
        behaviour: TestCardBehaviour::Succeeds,
        description: "Succeeds",
    },
    TestCard {
        number: "4000002500003155",
        brand: "visa",
        behaviour: TestCardBehaviour::RequiresAuthentication,
        description: "Asks for 3-D Secure authentication",
    },
    TestCard {
        number: "4000000000009995",
        brand: "visa",
        behaviour: TestCardBehaviour::InsufficientFunds,
        description: "Saved; payments declined (insufficient funds)",
    },
    TestCard {
        number: "4000000000000341",
        brand: "visa",
        behaviour: TestCardBehaviour::ChargeDeclined,
        description: "Saved; payments declined",
    },
    TestCard {
        number: "4000000000009979",
        brand: "visa",
        behaviour: TestCardBehaviour::StolenCard,
        description: "Saved; payments declined (stolen card)",
    },
    TestCard {
        number: "4000000000000002",
        brand: "visa",
        behaviour: TestCardBehaviour::DeclinedAtSetup,
        description: "Declined when saved",
    },
];

/// Why the sandbox card form refused what was typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardEntryError {
    #[error("Enter the card number.")]
    MissingNumber,
    #[error("This is test mode: use one of the test card numbers listed on this page, such as 4242 4242 4242 4242.")]
    NotATestCard,
    #[error("Enter the expiry as MM / YY.")]
    BadExpiry,
    #[error("This card has expired.")]
    Expired,
    #[error("Enter the 3- or 4-digit security code.")]
    BadCvc,
    #[error("Your card was declined.")]
    Declined,
    #[error("This card setup has already been used or does not exist. Start again.")]
    UnknownSetup,
}

impl CardEntryError {
    pub fn code(&self) -> &'static str {
        match self {
            CardEntryError::MissingNumber => "number",
            CardEntryError::NotATestCard => "not_test_card",
            CardEntryError::BadExpiry => "expiry",
            CardEntryError::Expired => "expired",
            CardEntryError::BadCvc => "cvc",
            CardEntryError::Declined => "declined",
            CardEntryError::UnknownSetup => "setup",
        }
    }

    pub fn from_code(code: &str) -> Option<CardEntryError> {
        [
            CardEntryError::MissingNumber,
            CardEntryError::NotATestCard,
            CardEntryError::BadExpiry,
            CardEntryError::Expired,
            CardEntryError::BadCvc,
            CardEntryError::Declined,
            CardEntryError::UnknownSetup,
        ]
        .into_iter()
        .find(|e| e.code() == code)
    }
}

/// Parses "MM/YY", "MM / YYYY", "MMYY" into (month, four-digit year).
pub fn parse_expiry(s: &str) -> Option<(i64, i64)> {
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    let (m, y) = match digits.len() {
        4 => (&digits[..2], &digits[2..]),
        6 => (&digits[..2], &digits[2..]),
        _ => return None,
    };
    let month: i64 = m.parse().ok()?;
    let mut year: i64 = y.parse().ok()?;
    if year < 100 {
        year += 2000;
    }
    (1..=12).contains(&month).then_some((month, year))
}

#[derive(Serialize, Deserialize)]
struct CardBody {
    brand: String,
    last4: String,
    exp_month: i64,
    exp_year: i64,
    behaviour: TestCardBehaviour,
    attached: bool,
}

#[derive(Serialize, Deserialize)]
struct SetupBody {
    status: String,
    card_ref: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct PaymentBody {
    /// succeeded | requires_action | declined
    status: String,
    amount_minor: i64,
    currency: String,
    card_ref: String,
    code: Option<String>,
    refunded_minor: i64,
}

#[derive(sqlx::FromRow)]
struct ObjectRow {
    id: String,
    customer_ref: Option<String>,
    body: String,
}

pub struct SandboxGateway {
    db: Db,
    clock: Arc<dyn Clock>,
    latency: Duration,
}

impl SandboxGateway {
    pub fn new(db: Db, clock: Arc<dyn Clock>, latency: Duration) -> SandboxGateway {
        SandboxGateway { db, clock, latency }
    }

    async fn pause(&self) {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
    }

    fn db_err(e: sqlx::Error) -> GatewayError {
        GatewayError::Server { status: 500, message: format!("sandbox storage: {e}") }
    }

    async fn get(&self, kind: &str, id: &str) -> Result<ObjectRow, GatewayError> {
        sqlx::query_as::<_, ObjectRow>("SELECT id, customer_ref, body FROM sandbox_objects WHERE id = $1 AND kind = $2")
            .bind(id)
            .bind(kind)
            .fetch_optional(self.db.pool())
            .await
            .map_err(Self::db_err)?
            .ok_or_else(|| GatewayError::NotFound(id.to_string()))
    }

    async fn insert(
        &self,
        id: &str,
        kind: &str,
        customer_ref: Option<&str>,
        key: Option<&str>,
        body: String,
    ) -> Result<bool, GatewayError> {
        let now = self.clock.now().0;
        let done = sqlx::query(
            "INSERT INTO sandbox_objects (id, kind, customer_ref, idempotency_key, body, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(kind)
        .bind(customer_ref)
        .bind(key)
        .bind(body)
        .bind(now)
        .execute(self.db.pool())
        .await
        .map_err(Self::db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn update(&self, id: &str, body: String) -> Result<(), GatewayError> {
        sqlx::query("UPDATE sandbox_objects SET body = $1, updated_at = $2 WHERE id = $3")
            .bind(body)
            .bind(self.clock.now().0)
            .bind(id)
            .execute(self.db.pool())
            .await
            .map_err(Self::db_err)?;
        Ok(())
    }

    /// Whether `setup_ref` is a card setup started for `customer_ref`.
    pub async fn setup_is_for(&self, setup_ref: &str, customer_ref: &str) -> Result<bool, sqlx::Error> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT 1 FROM sandbox_objects WHERE id = $1 AND kind = 'setup' AND customer_ref = $2")
                .bind(setup_ref)
                .bind(customer_ref)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(row.is_some())
    }

    /// The sandbox's hosted card form posts here: the typed card is checked
    /// against the test numbers and saved to the setup's customer, who must
    /// be `customer_ref`. Only the brand, last four digits and expiry are kept.
    pub async fn submit_card(
        &self,
        customer_ref: &str,
        setup_ref: &str,
        number: &str,
        expiry: &str,
        cvc: &str,
    ) -> Result<Card, CardEntryError> {
        self.pause().await;
        let digits: String = number.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        if digits.is_empty() {
            return Err(CardEntryError::MissingNumber);
        }
        let test_card = TEST_CARDS.iter().find(|c| c.number == digits).ok_or(CardEntryError::NotATestCard)?;
        let (exp_month, exp_year) = parse_expiry(expiry).ok_or(CardEntryError::BadExpiry)?;
        let today = crate::server::portal::local_date(self.clock.now().0, &jiff::tz::TimeZone::UTC);
        if (exp_year, exp_month) < (today.year() as i64, today.month() as i64) {
            return Err(CardEntryError::Expired);
        }
        if !(3..=4).contains(&cvc.trim().len()) || !cvc.trim().chars().all(|c| c.is_ascii_digit()) {
            return Err(CardEntryError::BadCvc);
        }
        let setup = self.get("setup", setup_ref).await.map_err(|_| CardEntryError::UnknownSetup)?;
        if setup.customer_ref.as_deref() != Some(customer_ref) {
            return Err(CardEntryError::UnknownSetup);
        }
        let body: SetupBody = serde_json::from_str(&setup.body).map_err(|_| CardEntryError::UnknownSetup)?;
        if body.status != "requires_payment_method" {
            return Err(CardEntryError::UnknownSetup);
        }
        if test_card.behaviour == TestCardBehaviour::DeclinedAtSetup {
            return Err(CardEntryError::Declined);
        }
        let card_ref = format!("sbpm_{}", new_id_body());
        let card = CardBody {
            brand: test_card.brand.to_string(),
            last4: digits[digits.len() - 4..].to_string(),
            exp_month,
            exp_year,
            behaviour: test_card.behaviour,
            attached: true,
        };
        let json = serde_json::to_string(&card).expect("serialisable");
        self.insert(&card_ref, "card", setup.customer_ref.as_deref(), None, json)
            .await
            .map_err(|_| CardEntryError::UnknownSetup)?;
        let done = SetupBody { status: "succeeded".into(), card_ref: Some(card_ref.clone()) };
        self.update(setup_ref, serde_json::to_string(&done).expect("serialisable"))
            .await
            .map_err(|_| CardEntryError::UnknownSetup)?;
        Ok(Card { gateway_ref: card_ref, brand: card.brand, last4: card.last4, exp_month, exp_year })
    }

    /// The sandbox's 3-D Secure page: the customer approves or fails the
    /// challenge, and the payment moves on accordingly.
    pub async fn complete_challenge(&self, payment_ref: &str, approve: bool) -> Result<ChargeOutcome, GatewayError> {
        self.pause().await;
        let row = self.get("payment", payment_ref).await?;
        let mut body: PaymentBody =
            serde_json::from_str(&row.body).map_err(|e| GatewayError::Malformed(e.to_string()))?;
        if body.status == "requires_action" {
            if approve {
                body.status = "succeeded".into();
            } else {
                body.status = "declined".into();
                body.code = Some("authentication_failed".into());
            }
            self.update(payment_ref, serde_json::to_string(&body).expect("serialisable")).await?;
        }
        Ok(outcome(&row.id, &body))
    }

    /// Puts a card that "already exists" at the sandbox under `card.gateway_ref`
    /// (demo data and test fixtures), creating the customer if needed.
    /// Returns the customer's reference. Idempotent.
    pub async fn seed_card(
        &self,
        customer: &CustomerInfo,
        customer_ref: Option<&str>,
        card: &Card,
        behaviour: TestCardBehaviour,
    ) -> Result<String, GatewayError> {
        let customer_ref = self.ensure_customer(customer, customer_ref).await?;
        let body = CardBody {
            brand: card.brand.clone(),
            last4: card.last4.clone(),
            exp_month: card.exp_month,
            exp_year: card.exp_year,
            behaviour,
            attached: true,
        };
        self.insert(
            &card.gateway_ref,
            "card",
            Some(&customer_ref),
            None,
            serde_json::to_string(&body).expect("serialisable"),
        )
        .await?;
        Ok(customer_ref)
    }

    /// Changes a saved card's expiry, as a card updater would (for tests of
    /// the refresh path and for the demo).
    pub async fn refresh_card_expiry(
        &self,
        card_ref: &str,
        exp_month: i64,
        exp_year: i64,
    ) -> Result<Card, GatewayError> {
        let row = self.get("card", card_ref).await?;
        let mut body: CardBody = serde_json::from_str(&row.body).map_err(|e| GatewayError::Malformed(e.to_string()))?;
        body.exp_month = exp_month;
        body.exp_year = exp_year;
        self.update(card_ref, serde_json::to_string(&body).expect("serialisable")).await?;
        Ok(to_card(&row.id, &body))
    }
}

fn to_card(id: &str, body: &CardBody) -> Card {
    Card {
        gateway_ref: id.to_string(),
        brand: body.brand.clone(),
        last4: body.last4.clone(),
        exp_month: body.exp_month,
        exp_year: body.exp_year,
    }
}

fn decline_message(code: &str) -> &'static str {
    match code {
        "insufficient_funds" => "Your card has insufficient funds.",
        "stolen_card" | "lost_card" => "Your card was declined.",
        "authentication_required" => "Your bank needs you to authenticate this payment.",
        "authentication_failed" => "Authentication with your bank failed.",
        "canceled" => "You cancelled this payment. Nothing was charged.",
        _ => "Your card was declined.",
    }
}

fn outcome(payment_ref: &str, body: &PaymentBody) -> ChargeOutcome {
    match body.status.as_str() {
        "succeeded" => ChargeOutcome::Succeeded { payment_ref: payment_ref.to_string() },
        "requires_action" => ChargeOutcome::RequiresAction { payment_ref: payment_ref.to_string() },
        _ => {
            let code = body.code.clone().unwrap_or_else(|| "card_declined".into());
            ChargeOutcome::Declined {
                payment_ref: Some(payment_ref.to_string()),
                message: decline_message(&code).to_string(),
                kind: DeclineKind::classify(&code),
                code,
            }
        }
    }
}

#[async_trait]
impl PaymentGateway for SandboxGateway {
    fn kind(&self) -> GatewayKind {
        GatewayKind::Sandbox
    }

    async fn ensure_customer(&self, customer: &CustomerInfo, existing: Option<&str>) -> Result<String, GatewayError> {
        self.pause().await;
        if let Some(existing) = existing {
            if self.get("customer", existing).await.is_ok() {
                return Ok(existing.to_string());
            }
        }
        let id = format!("sbcus_{}", new_id_body());
        let body = serde_json::json!({ "name": customer.name, "email": customer.email, "settle_id": customer.id });
        self.insert(&id, "customer", None, None, body.to_string()).await?;
        Ok(id)
    }

    async fn start_card_setup(&self, customer_ref: &str) -> Result<CardSetup, GatewayError> {
        self.pause().await;
        self.get("customer", customer_ref).await?;
        let id = format!("sbseti_{}", new_id_body());
        let body = SetupBody { status: "requires_payment_method".into(), card_ref: None };
        self.insert(&id, "setup", Some(customer_ref), None, serde_json::to_string(&body).expect("serialisable"))
            .await?;
        Ok(CardSetup { setup_ref: id, client: SetupClient::SandboxForm })
    }

    async fn finish_card_setup(&self, customer_ref: &str, setup_ref: &str) -> Result<SetupOutcome, GatewayError> {
        self.pause().await;
        let row = self.get("setup", setup_ref).await?;
        if row.customer_ref.as_deref() != Some(customer_ref) {
            return Err(GatewayError::NotFound(setup_ref.to_string()));
        }
        let body: SetupBody = serde_json::from_str(&row.body).map_err(|e| GatewayError::Malformed(e.to_string()))?;
        match (body.status.as_str(), body.card_ref) {
            ("succeeded", Some(card_ref)) => {
                let card = self.get("card", &card_ref).await?;
                let card_body: CardBody =
                    serde_json::from_str(&card.body).map_err(|e| GatewayError::Malformed(e.to_string()))?;
                Ok(SetupOutcome::Saved(to_card(&card.id, &card_body)))
            }
            _ => Ok(SetupOutcome::Pending),
        }
    }

    async fn list_cards(&self, customer_ref: &str) -> Result<Vec<Card>, GatewayError> {
        self.pause().await;
        let rows = sqlx::query_as::<_, ObjectRow>(
            "SELECT id, customer_ref, body FROM sandbox_objects WHERE kind = 'card' AND customer_ref = $1 ORDER BY id",
        )
        .bind(customer_ref)
        .fetch_all(self.db.pool())
        .await
        .map_err(Self::db_err)?;
        let mut cards = Vec::new();
        for row in rows {
            let body: CardBody = serde_json::from_str(&row.body).map_err(|e| GatewayError::Malformed(e.to_string()))?;
            if body.attached {
                cards.push(to_card(&row.id, &body));
            }
        }
        Ok(cards)
    }

    async fn detach_card(&self, card_ref: &str) -> Result<(), GatewayError> {
        self.pause().await;
        let row = self.get("card", card_ref).await?;
        let mut body: CardBody = serde_json::from_str(&row.body).map_err(|e| GatewayError::Malformed(e.to_string()))?;
        body.attached = false;
        self.update(card_ref, serde_json::to_string(&body).expect("serialisable")).await
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, GatewayError> {
        self.pause().await;
        let card = self.get("card", &request.card_ref).await?;
        if card.customer_ref.as_deref() != Some(request.customer_ref.as_str()) {
            return Err(GatewayError::InvalidRequest {
                code: "resource_missing".into(),
                message: "the card does not belong to this customer".into(),
            });
        }
        let card_body: CardBody =
            serde_json::from_str(&card.body).map_err(|e| GatewayError::Malformed(e.to_string()))?;
        if !card_body.attached {
            return Err(GatewayError::InvalidRequest {
                code: "payment_method_detached".into(),
                message: "the card was removed".into(),
            });
        }
        let (status, code) = match card_body.behaviour {
            TestCardBehaviour::Succeeds => ("succeeded", None),
            TestCardBehaviour::RequiresAuthentication if request.off_session => {
                ("declined", Some("authentication_required"))
            }
            TestCardBehaviour::RequiresAuthentication => ("requires_action", None),
            TestCardBehaviour::InsufficientFunds => ("declined", Some("insufficient_funds")),
            TestCardBehaviour::StolenCard => ("declined", Some("stolen_card")),
            TestCardBehaviour::ChargeDeclined | TestCardBehaviour::DeclinedAtSetup => {
                ("declined", Some("card_declined"))
            }
        };
        let body = PaymentBody {
            status: status.into(),
            amount_minor: request.amount.minor,
            currency: request.amount.currency.code().to_string(),
            card_ref: request.card_ref.clone(),
            code: code.map(str::to_string),
            refunded_minor: 0,
        };
        let id = format!("sbpi_{}", new_id_body());
        let json = serde_json::to_string(&body).expect("serialisable");
        // As at Stripe: the same key replays the first answer, never a second charge.
        self.insert(&id, "payment", Some(&request.customer_ref), Some(&request.idempotency_key), json).await?;
        let row = sqlx::query_as::<_, ObjectRow>(
            "SELECT id, customer_ref, body FROM sandbox_objects WHERE kind = 'payment' AND idempotency_key = $1",
        )
        .bind(&request.idempotency_key)
        .fetch_one(self.db.pool())
        .await
        .map_err(Self::db_err)?;
        let stored: PaymentBody =
            serde_json::from_str(&row.body).map_err(|e| GatewayError::Malformed(e.to_string()))?;
        if stored.amount_minor != body.amount_minor || stored.card_ref != body.card_ref {
            return Err(GatewayError::InvalidRequest {
                code: "idempotency_error".into(),
                message: "this idempotency key was used with different parameters".into(),
            });
        }
        Ok(outcome(&row.id, &stored))
    }

    async fn fetch_payment(&self, payment_ref: &str) -> Result<ChargeOutcome, GatewayError> {
        self.pause().await;
        let row = self.get("payment", payment_ref).await?;
        let body: PaymentBody = serde_json::from_str(&row.body).map_err(|e| GatewayError::Malformed(e.to_string()))?;
        Ok(outcome(&row.id, &body))
    }

    async fn cancel_payment(&self, payment_ref: &str) -> Result<ChargeOutcome, GatewayError> {
        self.pause().await;
        let row = self.get("payment", payment_ref).await?;
        let mut body: PaymentBody =
            serde_json::from_str(&row.body).map_err(|e| GatewayError::Malformed(e.to_string()))?;
        if body.status == "requires_action" {
            body.status = "declined".into();
            body.code = Some("canceled".into());
            self.update(payment_ref, serde_json::to_string(&body).expect("serialisable")).await?;
        }
        Ok(outcome(&row.id, &body))
    }

    async fn payment_action(&self, payment_ref: &str) -> Result<PaymentAction, GatewayError> {
        self.get("payment", payment_ref).await?;
        Ok(PaymentAction::SandboxChallenge)
    }

    fn parse_webhook(&self, _: &[u8], _: &str, _: &str, _: UtcMillis) -> Result<WebhookEvent, WebhookError> {
        Err(WebhookError::Unsupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_formats() {
        assert_eq!(parse_expiry("12/30"), Some((12, 2030)));
        assert_eq!(parse_expiry("04 / 2031"), Some((4, 2031)));
        assert_eq!(parse_expiry("0431"), Some((4, 2031)));
        assert_eq!(parse_expiry("13/30"), None);
        assert_eq!(parse_expiry("1/3"), None);
        assert_eq!(parse_expiry(""), None);
    }

    #[test]
    fn card_entry_error_codes_round_trip() {
        for e in [CardEntryError::NotATestCard, CardEntryError::Expired, CardEntryError::Declined] {
            assert_eq!(CardEntryError::from_code(e.code()), Some(e));
        }
        assert_eq!(CardEntryError::from_code("nope"), None);
    }
}
