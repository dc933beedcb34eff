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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpenInvoice {
    pub id: String,
    pub number: String,
    /// ISO date (yyyy-mm-dd) in the customer's zone, for sorting and `<time>`.
    pub issued_on: String,
    pub due_on: String,
    /// Human form, e.g. "Mar 4, 2026".
    pub issued_on_display: String,
    pub due_on_display: String,
    pub total: Money,
    pub amount_due: Money,
    /// Positive when overdue, 0 on the due date, negative before it.
    pub days_overdue: i64,
    pub status: InvoiceStatusLabel,
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
