//! One invoice in full, and the customer's payment history.

use super::{Branding, Money};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvoiceLineView {
    pub description: String,
    pub quantity: i64,
    pub unit: Money,
    pub amount: Money,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentView {
    pub id: String,
    /// Date in the customer's zone, human form.
    pub date: String,
    pub amount: Money,
    /// "Visa ending 4242", or how it was paid.
    pub method: String,
    /// "Paid", "Failed", "Refunded" …
    pub status: String,
    /// Invoice numbers this payment was applied to, with amounts.
    pub applied_to: Vec<(String, Money)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvoiceDetail {
    pub id: String,
    pub branding: Branding,
    /// Active promise to pay: its date, human form.
    pub promise: Option<String>,
    /// Open dispute: its reason, in words.
    pub dispute: Option<String>,
    /// Overdue, open, no promise or dispute yet.
    pub can_promise: bool,
    /// yyyy-mm-dd bounds for the promise date picker.
    pub promise_earliest: String,
    pub promise_latest: String,
    pub can_dispute: bool,
    /// (code, words) for the dispute form.
    pub dispute_reasons: Vec<(String, String)>,
    pub customer_name: String,
    pub locale: String,
    pub number: String,
    /// "Open", "Paid", "Void" …
    pub status: String,
    pub issued_on: String,
    pub due_on: String,
    pub lines: Vec<InvoiceLineView>,
    pub subtotal: Money,
    pub tax: Money,
    pub total: Money,
    pub paid: Money,
    pub amount_due: Money,
    pub payments: Vec<PaymentView>,
    pub memo: Option<String>,
    pub time_zone: String,
    /// What happened to this invoice, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Human date in the customer's locale and zone.
    pub date: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentHistory {
    pub branding: Branding,
    pub locale: String,
    pub customer_name: String,
    pub payments: Vec<PaymentView>,
    pub time_zone: String,
}

/// A printable receipt for one payment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub branding: Branding,
    pub customer_name: String,
    pub customer_email: String,
    pub locale: String,
    pub payment: PaymentView,
}
