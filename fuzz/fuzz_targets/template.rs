//! A merchant's reminder template (subject on the first line, body after):
//! checking never panics, and a template that passes the check renders
//! with every placeholder filled.
#![no_main]

use app::server::dunning::policy::Channel;
use app::server::dunning::templates::{ReminderContext, ReminderInvoice, Template};
use libfuzzer_sys::fuzz_target;

fn ctx() -> ReminderContext {
    ReminderContext {
        merchant_name: "Acme Co".into(),
        support_email: Some("billing@acme.example".into()),
        support_phone: None,
        customer_first_name: "Dana".into(),
        invoices: vec![ReminderInvoice {
            number: "INV-1".into(),
            amount_due: "$120.00".into(),
            due_on: "Mar 1, 2026".into(),
            days_overdue: 9,
        }],
        total_due: "$120.00".into(),
        access_link: "https://pay.example.com/p/acme/l/tok".into(),
        pay_link: "https://pay.example.com/p/acme/l/tok?to=pay".into(),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (subject, body) = text.split_once('\n').unwrap_or((&text, ""));
    let template = Template { subject: subject.into(), body: body.into() };
    for channel in [Channel::Email, Channel::Sms] {
        if template.check(channel).is_ok() {
            let rendered = template.render(&ctx()).expect("a template that passed the check renders");
            assert!(rendered.body.contains("https://pay.example.com/"), "the link is in the message");
        }
    }
});
