//! The pay-all flow's pages: review and confirm, authenticate, add a card.

use super::{Branding, CardView};
use serde::{Deserialize, Serialize};

/// One open invoice on the review page, chosen or not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PayableInvoice {
    pub id: String,
    pub number: String,
    pub due_on_display: String,
    pub amount_due: String,
    pub selected: bool,
}

/// One line of what the payment will cover.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AllocationView {
    pub invoice_id: String,
    pub number: String,
    pub due_on_display: String,
    pub amount_due: String,
    pub paying: String,
    /// Pays only part of what the invoice owes.
    pub partial: bool,
}

/// Exactly what will be charged, as confirmed by the customer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    pub total: String,
    pub total_minor: i64,
    /// The partial amount in minor units, when the customer typed one.
    pub amount_minor: Option<i64>,
    pub allocations: Vec<AllocationView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PayReview {
    pub branding: Branding,
    pub invoices: Vec<PayableInvoice>,
    /// What the customer typed as a partial amount ("" for the full balance).
    pub amount_text: String,
    pub plan: Option<PlanView>,
    /// Why there is no plan (nothing selected, bad amount, …).
    pub problem: Option<String>,
    pub cards: Vec<CardView>,
    /// The card pre-selected: the one asked for, else the default.
    pub card_id: Option<String>,
    /// A fresh idempotency token for this confirmation.
    pub attempt: String,
    /// A payment of this customer that is still undecided.
    pub in_flight: Option<InFlightView>,
    /// The outcome of the payment just tried, when it failed.
    pub declined: Option<DeclineView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InFlightView {
    pub payment_id: String,
    pub amount: String,
    pub needs_authentication: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeclineView {
    pub message: String,
    /// This card won't work again: choose or add another one.
    pub hard: bool,
    pub card_label: Option<String>,
}

/// A payment waiting for the customer's bank (3-D Secure).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthenticateView {
    pub branding: Branding,
    pub payment_id: String,
    pub amount: String,
    pub card_label: String,
    pub status: String,
    pub method: AuthMethod,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AuthMethod {
    /// The sandbox's stand-in for the bank's page.
    Sandbox,
    Stripe {
        publishable_key: String,
        client_secret: String,
        js_url: String,
    },
    /// Already decided; nothing left to authenticate.
    Done,
}

/// The add-a-card page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AddCardView {
    pub branding: Branding,
    pub setup_ref: String,
    pub form: CardForm,
    /// Where to go back after the card is saved (a portal path).
    pub return_to: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CardForm {
    /// Test mode: our own form, accepting only published test numbers.
    Sandbox {
        test_cards: Vec<TestCardView>,
    },
    Stripe {
        publishable_key: String,
        client_secret: String,
        js_url: String,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestCardView {
    pub number: String,
    pub description: String,
}
