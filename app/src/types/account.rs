//! The signed-in customer's account page, computed on the server (dates in the
//! customer's time zone, amounts due, days overdue) and hydrated as-is.

use super::{Branding, Money};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub branding: Branding,
    pub customer_name: String,
    pub customer_email: String,
    /// BCP 47 tag amounts and dates are formatted for, e.g. "de-DE".
    pub locale: String,
    /// IANA zone the dates below are rendered in.
    pub time_zone: String,
    /// Open invoices, oldest due date first.
    pub invoices: Vec<OpenInvoice>,
    /// One line per currency the customer owes in.
    pub balance: Vec<BalanceLine>,
    pub security: AccountSecurity,
    /// The last autopay charge failed (and nothing was paid since): what
    /// happened, for the customer to act on.
    pub autopay_problem: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountSecurity {
    pub has_password: bool,
    /// Signed in by emailed code or link in the last 10 minutes: may set a
    /// first password without more proof.
    pub recent_email_proof: bool,
}

/// One row of the account page's table.
///
/// On the wire (the `account` server function's reply) it is a JSON array,
/// not an object (see [`OpenInvoiceWire`]): when the page still carried it
/// as hydration data, field names were a third of the page with 50 invoices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "OpenInvoiceWire", into = "OpenInvoiceWire")]
pub struct OpenInvoice {
    pub id: String,
    pub number: String,
    /// ISO date (yyyy-mm-dd) in the customer's zone, for sorting and `<time>`.
    pub issued_on: String,
    pub due_on: String,
    /// Human form, e.g. "Mar 4, 2026".
    pub issued_on_display: String,
    pub due_on_display: String,
    pub amount_due: Money,
    /// Positive when overdue, 0 on the due date, negative before it.
    pub days_overdue: i64,
    pub status: InvoiceStatusLabel,
}

/// [`OpenInvoice`]'s fields in declaration order, as a tuple.
#[derive(Serialize, Deserialize)]
struct OpenInvoiceWire(String, String, String, String, String, String, Money, i64, InvoiceStatusLabel);

impl From<OpenInvoice> for OpenInvoiceWire {
    fn from(i: OpenInvoice) -> Self {
        OpenInvoiceWire(
            i.id,
            i.number,
            i.issued_on,
            i.due_on,
            i.issued_on_display,
            i.due_on_display,
            i.amount_due,
            i.days_overdue,
            i.status,
        )
    }
}

impl From<OpenInvoiceWire> for OpenInvoice {
    fn from(w: OpenInvoiceWire) -> Self {
        let OpenInvoiceWire(
            id,
            number,
            issued_on,
            due_on,
            issued_on_display,
            due_on_display,
            amount_due,
            days_overdue,
            status,
        ) = w;
        OpenInvoice {
            id,
            number,
            issued_on,
            due_on,
            issued_on_display,
            due_on_display,
            amount_due,
            days_overdue,
            status,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvoiceStatusLabel {
    NotYetDue,
    DueToday,
    Overdue,
    PartlyPaid,
}

impl InvoiceStatusLabel {
    pub fn css_class(&self) -> &'static str {
        match self {
            Self::NotYetDue => "status status--upcoming",
            Self::DueToday => "status status--today",
            Self::Overdue => "status status--overdue",
            Self::PartlyPaid => "status status--partial",
        }
    }
}

impl OpenInvoice {
    /// The words in the status column: "Due in 3 days", "12 days overdue".
    pub fn status_text(&self) -> String {
        let d = self.days_overdue;
        let when = match d {
            d if d > 1 => format!("{d} days overdue"),
            1 => "1 day overdue".to_string(),
            0 => "Due today".to_string(),
            -1 => "Due tomorrow".to_string(),
            d => format!("Due in {} days", -d),
        };
        match self.status {
            InvoiceStatusLabel::PartlyPaid => format!("Partly paid · {when}"),
            _ => when,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BalanceLine {
    pub total: Money,
    pub overdue: Money,
    pub invoice_count: usize,
}

// serde_json comes with the server build.
#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::types::Currency;

    #[test]
    fn an_open_invoice_travels_as_a_compact_array_and_comes_back_whole() {
        let inv = OpenInvoice {
            id: "inv_1".into(),
            number: "A-1".into(),
            issued_on: "2026-01-01".into(),
            due_on: "2026-02-01".into(),
            issued_on_display: "Jan 1, 2026".into(),
            due_on_display: "Feb 1, 2026".into(),
            amount_due: Money::new(12_850, Currency::USD),
            days_overdue: -3,
            status: InvoiceStatusLabel::PartlyPaid,
        };
        let json = serde_json::to_string(&inv).unwrap();
        assert!(json.starts_with(r#"["inv_1","A-1","2026-01-01""#), "{json}");
        assert!(!json.contains("amount_due"), "{json}");
        assert_eq!(serde_json::from_str::<OpenInvoice>(&json).unwrap(), inv);
    }
}
