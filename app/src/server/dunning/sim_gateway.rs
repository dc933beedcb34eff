//! The simulator's payment gateway: answers autopay charges the way the
//! behaviour model says the customer's card would, and nothing else. No
//! request ever leaves the process, whatever gateway the merchant uses.

use crate::server::gateway::*;
use crate::server::UtcMillis;
use async_trait::async_trait;

/// How cards behave in a simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardBehaviour {
    /// Every charge succeeds.
    Pays,
    /// Soft declines (insufficient funds); succeeds from retry `n` on, if given.
    SoftDecline { recovers_on_retry: Option<u32> },
    /// Hard declines (stolen card): never retried.
    HardDecline,
}

pub struct SimGateway {
    pub behaviour: CardBehaviour,
}

/// Which retry a charge is, from its idempotency key (`…:retryN`).
fn retry_number(key: &str) -> u32 {
    key.rsplit_once(":retry").and_then(|(_, n)| n.parse().ok()).unwrap_or(0)
}

fn unsupported(what: &str) -> GatewayError {
    GatewayError::InvalidRequest { code: "simulation".into(), message: format!("{what} is not simulated") }
}

#[async_trait]
impl PaymentGateway for SimGateway {
    fn kind(&self) -> GatewayKind {
        GatewayKind::Sandbox
    }

    async fn ensure_customer(&self, _c: &CustomerInfo, existing: Option<&str>) -> Result<String, GatewayError> {
        Ok(existing.unwrap_or("sim_customer").to_string())
    }

    async fn start_card_setup(&self, _customer_ref: &str) -> Result<CardSetup, GatewayError> {
        Err(unsupported("adding a card"))
    }

    async fn finish_card_setup(&self, _customer_ref: &str, _setup_ref: &str) -> Result<SetupOutcome, GatewayError> {
        Err(unsupported("adding a card"))
    }

    async fn list_cards(&self, _customer_ref: &str) -> Result<Vec<Card>, GatewayError> {
        Ok(vec![])
    }

    async fn detach_card(&self, _card_ref: &str) -> Result<(), GatewayError> {
        Ok(())
    }

    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeOutcome, GatewayError> {
        let payment_ref = format!("sim_{}", request.payment_id);
        let declined = |code: &str, message: &str, kind| ChargeOutcome::Declined {
            payment_ref: Some(payment_ref.clone()),
            code: code.into(),
            message: message.into(),
            kind,
        };
        Ok(match self.behaviour {
            CardBehaviour::Pays => ChargeOutcome::Succeeded { payment_ref },
            CardBehaviour::SoftDecline { recovers_on_retry: Some(n) }
                if retry_number(&request.idempotency_key) >= n =>
            {
                ChargeOutcome::Succeeded { payment_ref }
            }
            CardBehaviour::SoftDecline { .. } => {
                declined("insufficient_funds", "Your card has insufficient funds.", DeclineKind::Soft)
            }
            CardBehaviour::HardDecline => declined("stolen_card", "Your card was declined.", DeclineKind::Hard),
        })
    }

    async fn fetch_payment(&self, payment_ref: &str) -> Result<ChargeOutcome, GatewayError> {
        Err(GatewayError::NotFound(payment_ref.to_string()))
    }

    async fn cancel_payment(&self, payment_ref: &str) -> Result<ChargeOutcome, GatewayError> {
        Err(GatewayError::NotFound(payment_ref.to_string()))
    }

    async fn payment_action(&self, _payment_ref: &str) -> Result<PaymentAction, GatewayError> {
        Err(unsupported("customer authentication"))
    }

    fn parse_webhook(&self, _: &[u8], _: &str, _: &str, _: UtcMillis) -> Result<WebhookEvent, WebhookError> {
        Err(WebhookError::Unsupported)
    }
}

#[cfg(test)]
mod tests {
    use super::retry_number;

    #[test]
    fn retry_numbers_come_from_the_key() {
        assert_eq!(retry_number("autopay:inv_1:123"), 0);
        assert_eq!(retry_number("autopay:inv_1:123:retry3"), 3);
    }
}
