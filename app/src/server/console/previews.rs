//! Sample renderings for the console: a reminder email as a customer
//! would get it, with the merchant's branding and made-up invoices.

use crate::server::dunning::policy::{Channel, Tone};
use crate::server::dunning::templates::{default_template, ReminderContext, ReminderInvoice};
use crate::server::mail::{render_branded, EmailContent};
use crate::server::repo::merchants::MerchantRow;

/// Made-up invoices for "Sam", with the merchant's name and contacts.
pub fn sample_context(merchant: &MerchantRow, base_url: &str) -> ReminderContext {
    let link = format!("{}/p/{}/l/sample-link", base_url.trim_end_matches('/'), merchant.slug);
    ReminderContext {
        merchant_name: merchant.display_name.clone(),
        support_email: merchant.support_email.clone(),
        support_phone: merchant.support_phone.clone(),
        customer_first_name: "Sam".into(),
        invoices: vec![
            ReminderInvoice {
                number: "INV-1001".into(),
                amount_due: "$240.00".into(),
                due_on: "Mar 3, 2026".into(),
                days_overdue: 3,
            },
            ReminderInvoice {
                number: "INV-1004".into(),
                amount_due: "$95.50".into(),
                due_on: "Mar 5, 2026".into(),
                days_overdue: 1,
            },
        ],
        total_due: "$335.50".into(),
        pay_link: format!("{link}?to=pay"),
        access_link: link,
    }
}

/// `template` rendered for Sam as an email: (subject, text, html).
pub fn render_sample(
    merchant: &MerchantRow,
    base_url: &str,
    template: &crate::server::dunning::templates::Template,
) -> Result<(String, String, String), String> {
    let ctx = sample_context(merchant, base_url);
    let rendered = template.render(&ctx).map_err(|e| e.to_string())?;
    let (text, html) = render_branded(
        merchant,
        base_url,
        &EmailContent {
            heading: rendered.subject.clone(),
            paragraphs: rendered.body.split("\n\n").map(str::to_string).collect(),
            action: Some(("Pay now".into(), ctx.pay_link.clone())),
        },
    );
    Ok((rendered.subject, text, html))
}

/// The HTML of a friendly overdue reminder to "Sam" for two sample invoices.
pub fn sample_reminder(merchant: &MerchantRow, base_url: &str) -> String {
    let ctx = sample_context(merchant, base_url);
    let rendered = match default_template("overdue_friendly", Tone::Friendly, Channel::Email).render(&ctx) {
        Ok(r) => r,
        Err(e) => return format!("<p>The sample reminder could not be rendered: {e}</p>"),
    };
    let (_, html) = render_branded(
        merchant,
        base_url,
        &EmailContent {
            heading: rendered.subject.clone(),
            paragraphs: rendered.body.split("\n\n").map(str::to_string).collect(),
            action: Some(("Pay now".into(), ctx.pay_link.clone())),
        },
    );
    html
}
