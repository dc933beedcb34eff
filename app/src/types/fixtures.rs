//! Values the unit tests build pages and figures from (test builds only).

use super::{Branding, Currency, InvoiceStatusLabel, Money, OpenInvoice};

/// Acme's branding: no logo, valid colours, not in test mode.
pub fn branding() -> Branding {
    Branding {
        slug: "acme".into(),
        display_name: "Acme".into(),
        logo_url: None,
        primary_color: "#1f4e8c".into(),
        accent_color: "#0f766e".into(),
        support_email: None,
        support_phone: None,
        test_mode: false,
    }
}

/// An overdue USD invoice numbered (and id'd) `number`, issued 1 January 2026.
pub fn open_invoice(number: &str, due: &str, minor: i64) -> OpenInvoice {
    OpenInvoice {
        id: number.into(),
        number: number.into(),
        issued_on: "2026-01-01".into(),
        due_on: due.into(),
        issued_on_display: String::new(),
        due_on_display: String::new(),
        amount_due: Money::new(minor, Currency::USD),
        days_overdue: 0,
        status: InvoiceStatusLabel::Overdue,
    }
}
