//! Builds the pay-all pages from the database: what is open, what the
//! selection would pay (the same plan the charge uses), which cards can pay.

use super::gateway::sandbox::TEST_CARDS;
use super::gateway::{PaymentAction, SetupClient};
use super::payments::{self, plan};
use super::portal::{customer_zone, human_date, local_date};
use super::portal_session::PortalIdentity;
use super::repo::merchants::MerchantRow;
use super::repo::{customers, invoices, payment_methods};
use super::settings::card_view;
use super::tokens::SecretToken;
use super::{AppError, AppState};
use crate::types::pay::*;
use crate::types::{Currency, Money};

fn money(minor: i64, currency: &str, locale: &str) -> Result<String, AppError> {
    Ok(Money::new(minor, Currency::parse(currency).map_err(AppError::internal)?).display_in(locale))
}

/// The review-and-confirm page for `selected` invoices (none: all open ones)
/// and an optional partial amount as typed.
#[allow(clippy::too_many_arguments)]
pub async fn review(
    state: &AppState,
    merchant: &MerchantRow,
    identity: &PortalIdentity,
    selected: Vec<String>,
    amount_text: String,
    amount_minor: Option<i64>,
    card: Option<String>,
    declined_payment: Option<String>,
) -> Result<PayReview, AppError> {
    let pool = state.db.pool();
    let now = state.clock.now();
    let customer =
        customers::find(pool, &identity.merchant_id, &identity.customer_id).await?.ok_or(AppError::NotSignedIn)?;
    let locale = customer.locale.clone();
    let zone = customer_zone(&customer.time_zone, &merchant.time_zone);
    let today = local_date(now.0, &zone);
    let open = invoices::open_for_customer(pool, &identity.merchant_id, &identity.customer_id).await?;
    let selected: Vec<String> =
        if selected.is_empty() { open.iter().map(|r| r.id.clone()).collect() } else { selected };

    let mut invoice_views = Vec::with_capacity(open.len());
    for row in &open {
        invoice_views.push(PayableInvoice {
            id: row.id.clone(),
            number: row.number.clone(),
            due_on_display: human_date(local_date(row.due_at, &zone), &locale),
            amount_due: money(row.amount_due_minor(), &row.currency, &locale)?,
            selected: selected.contains(&row.id),
        });
    }

    // The currency a typed amount is read in: that of the chosen invoices.
    let currency = open.iter().find(|r| selected.contains(&r.id)).map(|r| r.currency.clone());
    let mut problem = None;
    // A partial amount carried back in minor units (after a decline) is
    // shown as the customer would type it.
    let amount_text = match (amount_minor, &currency) {
        (Some(m), Some(c)) if m > 0 => {
            Money::new(m, Currency::parse(c).map_err(AppError::internal)?).display_in(&locale)
        }
        _ => amount_text,
    };
    let amount_minor = match (amount_text.trim().is_empty(), &currency) {
        (true, _) | (_, None) => None,
        (false, Some(c)) => {
            let c = Currency::parse(c).map_err(AppError::internal)?;
            match Money::parse_in(&amount_text, c, &locale) {
                Ok(m) => Some(m.minor),
                Err(e) => {
                    problem = Some(e.to_string());
                    None
                }
            }
        }
    };
    let plan_view = if problem.is_some() {
        None
    } else {
        match plan::plan(&open, &selected, amount_minor) {
            Ok(p) => {
                let mut allocations = Vec::new();
                for a in &p.allocations {
                    allocations.push(AllocationView {
                        invoice_id: a.invoice_id.clone(),
                        number: a.number.clone(),
                        due_on_display: human_date(local_date(a.due_at, &zone), &locale),
                        amount_due: money(a.amount_due_minor, p.total.currency.code(), &locale)?,
                        paying: money(a.amount_minor, p.total.currency.code(), &locale)?,
                        partial: a.amount_minor < a.amount_due_minor,
                    });
                }
                Some(PlanView {
                    total: p.total.display_in(&locale),
                    total_minor: p.total.minor,
                    amount_minor,
                    allocations,
                })
            }
            Err(e) => {
                problem = Some(e.to_string());
                None
            }
        }
    };

    let cards: Vec<_> = payment_methods::list_active(pool, &identity.merchant_id, &identity.customer_id)
        .await?
        .into_iter()
        .filter(|pm| pm.gateway == merchant.gateway)
        .map(|pm| card_view(pm, today))
        .collect();
    let usable = |id: &str| cards.iter().any(|c| c.id == id && !c.expired);
    let card_id = card
        .filter(|id| usable(id))
        .or_else(|| cards.iter().find(|c| c.is_default && !c.expired).map(|c| c.id.clone()))
        .or_else(|| cards.iter().find(|c| !c.expired).map(|c| c.id.clone()));

    let in_flight = match super::repo::payments::in_flight_for_customer(
        pool,
        &identity.merchant_id,
        &identity.customer_id,
    )
    .await?
    {
        Some(p) => Some(InFlightView {
            amount: money(p.amount_minor, &p.currency, &locale)?,
            needs_authentication: p.status == "requires_action",
            payment_id: p.id,
        }),
        None => None,
    };

    let declined = match declined_payment {
        Some(id) => match payments::customer_payment(state, identity, &id).await {
            Ok(p) if p.status == "failed" => {
                let label = cards_label(state, identity, p.payment_method_id.as_deref(), today).await?;
                Some(DeclineView {
                    message: p.failure_message.unwrap_or_else(|| "Your card was declined.".into()),
                    hard: p.decline_kind.as_deref() == Some("hard"),
                    card_label: label,
                })
            }
            Ok(_) | Err(AppError::NotFound) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };

    Ok(PayReview {
        branding: merchant.branding(),
        invoices: invoice_views,
        amount_text,
        plan: plan_view,
        problem,
        cards,
        card_id,
        attempt: SecretToken::generate().expose().to_string(),
        in_flight,
        declined,
    })
}

/// "Visa ending 4242" for one of the customer's cards (even a removed one).
async fn cards_label(
    state: &AppState,
    identity: &PortalIdentity,
    card: Option<&str>,
    today: jiff::civil::Date,
) -> Result<Option<String>, AppError> {
    let Some(card) = card else { return Ok(None) };
    let row = payment_methods::find_any(state.db.pool(), &identity.merchant_id, &identity.customer_id, card).await?;
    Ok(row.map(|pm| card_view(pm, today).label))
}

/// The page for a payment that needs the customer's bank.
pub async fn authenticate(
    state: &AppState,
    merchant: &MerchantRow,
    identity: &PortalIdentity,
    payment_id: &str,
) -> Result<AuthenticateView, AppError> {
    let record = payments::customer_payment(state, identity, payment_id).await?;
    let customer = customers::find(state.db.pool(), &identity.merchant_id, &identity.customer_id)
        .await?
        .ok_or(AppError::NotSignedIn)?;
    let zone = customer_zone(&customer.time_zone, &merchant.time_zone);
    let today = local_date(state.clock.now().0, &zone);
    let card_label =
        cards_label(state, identity, record.payment_method_id.as_deref(), today).await?.unwrap_or_default();
    let method = match (record.status.as_str(), record.gateway_ref.as_deref()) {
        ("requires_action", Some(gateway_ref)) => {
            let gateway =
                state.gateways.get(&record.gateway).ok_or_else(|| AppError::internal("gateway not configured"))?;
            match gateway.payment_action(gateway_ref).await.map_err(|e| AppError::internal(format!("gateway: {e}")))? {
                PaymentAction::SandboxChallenge => AuthMethod::Sandbox,
                PaymentAction::StripeNextAction { client_secret, publishable_key } => {
                    AuthMethod::Stripe { publishable_key, client_secret, js_url: state.stripe_js_url() }
                }
            }
        }
        _ => AuthMethod::Done,
    };
    Ok(AuthenticateView {
        branding: merchant.branding(),
        payment_id: record.id.clone(),
        amount: money(record.amount_minor, &record.currency, &customer.locale)?,
        card_label,
        status: record.status,
        method,
    })
}

/// The add-a-card page: starts a card setup at the gateway.
pub async fn add_card(
    state: &AppState,
    merchant: &MerchantRow,
    identity: &PortalIdentity,
    return_to: &str,
) -> Result<AddCardView, AppError> {
    let gateway = state.gateways.get(&merchant.gateway).ok_or_else(|| AppError::internal("gateway not configured"))?;
    let customer_ref = payments::gateway_customer_ref_of(state, gateway.as_ref(), identity).await?;
    let setup =
        gateway.start_card_setup(&customer_ref).await.map_err(|e| AppError::internal(format!("gateway: {e}")))?;
    let form = match setup.client {
        SetupClient::SandboxForm => CardForm::Sandbox {
            test_cards: TEST_CARDS
                .iter()
                .map(|c| TestCardView { number: group4(c.number), description: c.description.to_string() })
                .collect(),
        },
        SetupClient::StripeElements { client_secret, publishable_key } => {
            CardForm::Stripe { publishable_key, client_secret, js_url: state.stripe_js_url() }
        }
    };
    Ok(AddCardView {
        branding: merchant.branding(),
        setup_ref: setup.setup_ref,
        form,
        return_to: safe_return_path(&merchant.slug, return_to),
    })
}

/// "4242 4242 4242 4242"
fn group4(number: &str) -> String {
    number.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

/// Only a path inside this merchant's portal may be returned to (no open
/// redirect); anything else goes to the account page.
pub fn safe_return_path(slug: &str, wanted: &str) -> String {
    let prefix = format!("/p/{slug}/");
    let ok = wanted.starts_with(&prefix)
        && !wanted.contains("//")
        && !wanted.contains('\\')
        && wanted.chars().all(|c| c.is_ascii_graphic());
    if ok {
        wanted.to_string()
    } else {
        format!("/p/{slug}/account")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_paths_stay_in_the_portal() {
        assert_eq!(safe_return_path("acme", "/p/acme/pay?invoice=inv_1"), "/p/acme/pay?invoice=inv_1");
        assert_eq!(safe_return_path("acme", "https://evil.example/p/acme/"), "/p/acme/account");
        assert_eq!(safe_return_path("acme", "//evil.example/p/acme/"), "/p/acme/account");
        assert_eq!(safe_return_path("acme", "/p/other/account"), "/p/acme/account");
        assert_eq!(safe_return_path("acme", "/p/acme//evil"), "/p/acme/account");
        assert_eq!(safe_return_path("acme", "/p/acme/x\r\nSet-Cookie: a"), "/p/acme/account");
        assert_eq!(group4("4242424242424242"), "4242 4242 4242 4242");
    }
}
