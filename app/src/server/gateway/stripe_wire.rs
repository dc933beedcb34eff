//! Stripe's wire formats, turned into our types: API errors into declines,
//! webhook events into [`WebhookKind`]. Events are read as plain JSON rather
//! than typed models: Settle needs a handful of fields, and an event from an
//! older or newer API version must not be lost over a field it doesn't use.

use super::{Card, ChargeOutcome, DeclineKind, WebhookError, WebhookEvent, WebhookKind};
use serde_json::Value;
use stripe_shared::ApiErrors;

/// The most specific code of an API error: the card network's decline code
/// when there is one ("insufficient_funds"), else Stripe's ("card_declined").
pub fn error_code(err: &ApiErrors) -> String {
    err.decline_code
        .clone()
        .or_else(|| err.code.as_ref().map(|c| c.as_str().to_string()))
        .unwrap_or_else(|| "card_declined".into())
}

pub fn decline(payment_ref: Option<String>, err: &ApiErrors) -> ChargeOutcome {
    let code = error_code(err);
    ChargeOutcome::Declined {
        payment_ref,
        message: err.message.clone().unwrap_or_else(|| "Your card was declined.".into()),
        kind: DeclineKind::classify(&code),
        code,
    }
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut at = v;
    for key in path {
        at = at.get(*key)?;
    }
    match at {
        Value::String(s) => Some(s.clone()),
        // An expanded object in place of an id.
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

fn number(v: &Value, path: &[&str]) -> Option<i64> {
    let mut at = v;
    for key in path {
        at = at.get(*key)?;
    }
    // localstripe sends card expiry as strings after an update.
    at.as_i64().or_else(|| at.as_str().and_then(|s| s.parse().ok()))
}

fn required(v: Option<String>, what: &str) -> Result<String, WebhookError> {
    v.ok_or_else(|| WebhookError::MalformedPayload(format!("missing {what}")))
}

/// Parses a verified event payload.
pub fn parse_event(payload: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let event: Value = serde_json::from_slice(payload).map_err(|e| WebhookError::MalformedPayload(e.to_string()))?;
    let id = required(text(&event, &["id"]), "id")?;
    let event_type = required(text(&event, &["type"]), "type")?;
    let created = number(&event, &["created"]).unwrap_or(0);
    let object = event
        .get("data")
        .and_then(|d| d.get("object"))
        .ok_or_else(|| WebhookError::MalformedPayload("missing data.object".into()))?;
    let kind = match event_type.as_str() {
        "payment_intent.succeeded"
        | "payment_intent.payment_failed"
        | "payment_intent.requires_action"
        | "payment_intent.canceled"
        | "payment_intent.processing" => {
            WebhookKind::PaymentChanged { payment_ref: required(text(object, &["id"]), "payment intent id")? }
        }
        "setup_intent.succeeded" => WebhookKind::SetupSucceeded {
            setup_ref: required(text(object, &["id"]), "setup intent id")?,
            customer_ref: text(object, &["customer"]),
            card_ref: text(object, &["payment_method"]),
        },
        "payment_method.attached" | "payment_method.updated" | "payment_method.automatically_updated" => {
            if object.get("card").is_none() {
                WebhookKind::Ignored
            } else {
                WebhookKind::CardChanged {
                    card: Card {
                        gateway_ref: required(text(object, &["id"]), "payment method id")?,
                        brand: text(object, &["card", "brand"]).unwrap_or_default(),
                        last4: text(object, &["card", "last4"]).unwrap_or_default(),
                        exp_month: required(
                            number(object, &["card", "exp_month"]).map(|n| n.to_string()),
                            "exp_month",
                        )?
                        .parse()
                        .unwrap_or(0),
                        exp_year: required(number(object, &["card", "exp_year"]).map(|n| n.to_string()), "exp_year")?
                            .parse()
                            .unwrap_or(0),
                    },
                    customer_ref: text(object, &["customer"]),
                }
            }
        }
        "charge.refunded" => WebhookKind::ChargeRefunded {
            payment_ref: required(text(object, &["payment_intent"]), "charge.payment_intent")?,
            amount_refunded_minor: number(object, &["amount_refunded"]).unwrap_or(0),
        },
        "charge.dispute.created" => WebhookKind::DisputeOpened {
            payment_ref: required(text(object, &["payment_intent"]), "dispute.payment_intent")?,
            amount_minor: number(object, &["amount"]).unwrap_or(0),
            reason: text(object, &["reason"]).unwrap_or_else(|| "unknown".into()),
        },
        _ => WebhookKind::Ignored,
    };
    Ok(WebhookEvent { id, event_type, created, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(t: &str, object: Value) -> Vec<u8> {
        serde_json::json!({ "id": "evt_1", "type": t, "created": 1_780_000_000, "data": { "object": object } })
            .to_string()
            .into_bytes()
    }

    #[test]
    fn payment_events_name_the_intent() {
        for t in ["payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.requires_action"] {
            let e = parse_event(&event(t, serde_json::json!({ "id": "pi_1", "object": "payment_intent" }))).unwrap();
            assert_eq!(e.kind, WebhookKind::PaymentChanged { payment_ref: "pi_1".into() });
            assert_eq!((e.id.as_str(), e.created), ("evt_1", 1_780_000_000));
        }
    }

    #[test]
    fn card_updater_events_carry_the_new_expiry() {
        let e = parse_event(&event(
            "payment_method.automatically_updated",
            serde_json::json!({ "id": "pm_1", "customer": "cus_1",
                "card": { "brand": "visa", "last4": "4242", "exp_month": "4", "exp_year": 2031 } }),
        ))
        .unwrap();
        let WebhookKind::CardChanged { card, customer_ref } = e.kind else { panic!("{:?}", e.kind) };
        assert_eq!((card.exp_month, card.exp_year, card.last4.as_str()), (4, 2031, "4242"));
        assert_eq!(customer_ref.as_deref(), Some("cus_1"));
    }

    #[test]
    fn refunds_disputes_and_others() {
        let refund = parse_event(&event(
            "charge.refunded",
            serde_json::json!({ "id": "ch_1", "payment_intent": "pi_9", "amount_refunded": 500 }),
        ))
        .unwrap();
        assert_eq!(refund.kind, WebhookKind::ChargeRefunded { payment_ref: "pi_9".into(), amount_refunded_minor: 500 });
        let dispute = parse_event(&event(
            "charge.dispute.created",
            serde_json::json!({ "id": "dp_1", "payment_intent": "pi_9", "amount": 700, "reason": "fraudulent" }),
        ))
        .unwrap();
        assert_eq!(
            dispute.kind,
            WebhookKind::DisputeOpened { payment_ref: "pi_9".into(), amount_minor: 700, reason: "fraudulent".into() }
        );
        let other = parse_event(&event("customer.created", serde_json::json!({ "id": "cus_1" }))).unwrap();
        assert_eq!(other.kind, WebhookKind::Ignored);
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        for payload in [&b"not json"[..], b"{}", b"{\"id\":\"evt\",\"type\":\"x\"}", b"[]", b"{\"id\":1}"] {
            assert!(parse_event(payload).is_err(), "{}", String::from_utf8_lossy(payload));
        }
        assert!(parse_event(&event("payment_intent.succeeded", serde_json::json!({}))).is_err());
    }
}
