//! Reminder texts: a subject and a body per step, with `{{variables}}`
//! filled from the customer's invoices. Defaults escalate in tone; a
//! merchant's own template is checked for unknown variables before it is
//! saved, so a typo can never reach a customer as `{{custmer}}`.

use super::policy::{Channel, Tone};

/// One invoice in a reminder, already formatted for the customer's locale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReminderInvoice {
    pub number: String,
    pub amount_due: String,
    pub due_on: String,
    /// Negative: due in that many days.
    pub days_overdue: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReminderContext {
    pub merchant_name: String,
    pub support_email: Option<String>,
    pub support_phone: Option<String>,
    pub customer_first_name: String,
    pub invoices: Vec<ReminderInvoice>,
    pub total_due: String,
    /// Absolute URL of a fresh access link.
    pub access_link: String,
    /// The same link, landing on the payment page.
    pub pay_link: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("Unknown variable {{{{{0}}}}}. Available: {1}.")]
    UnknownVariable(String, String),
    #[error("A {{{{ is not closed with }}}}.")]
    Unclosed,
    #[error("The subject can't be empty.")]
    EmptySubject,
    #[error("A text message must fit in 320 characters with its link; this one has {0}.")]
    SmsTooLong(usize),
    #[error("Every message carries the customer's link: put {{{{pay_link}}}} or {{{{access_link}}}} in the text.")]
    NoLink,
}

/// The variables a template may use, with what each one says.
pub const VARIABLES: &[(&str, &str)] = &[
    ("customer_first_name", "the customer's first name"),
    ("merchant_name", "your business name"),
    ("invoice_count", "how many invoices the message is about"),
    ("invoice_list", "one line per invoice: number, amount due, due date"),
    ("total_due", "the total due on those invoices"),
    ("oldest_due_date", "the earliest due date among them"),
    ("days_overdue", "days the oldest one is overdue"),
    ("support_contact", "your support email and phone"),
    ("access_link", "a link that signs the customer in"),
    ("pay_link", "a link straight to paying"),
];

fn value(name: &str, ctx: &ReminderContext) -> Option<String> {
    let oldest = ctx.invoices.iter().max_by_key(|i| i.days_overdue);
    Some(match name {
        "customer_first_name" => ctx.customer_first_name.clone(),
        "merchant_name" => ctx.merchant_name.clone(),
        "invoice_count" => ctx.invoices.len().to_string(),
        "invoice_list" => ctx
            .invoices
            .iter()
            .map(|i| format!("• {}: {} (due {})", i.number, i.amount_due, i.due_on))
            .collect::<Vec<_>>()
            .join("\n"),
        "total_due" => ctx.total_due.clone(),
        "oldest_due_date" => oldest.map(|i| i.due_on.clone()).unwrap_or_default(),
        "days_overdue" => oldest.map(|i| i.days_overdue.max(0).to_string()).unwrap_or_default(),
        "support_contact" => match (&ctx.support_email, &ctx.support_phone) {
            (Some(e), Some(p)) => format!("{e} or {p}"),
            (Some(e), None) => e.clone(),
            (None, Some(p)) => p.clone(),
            (None, None) => format!("{} directly", ctx.merchant_name),
        },
        "access_link" => ctx.access_link.clone(),
        "pay_link" => ctx.pay_link.clone(),
        _ => return None,
    })
}

/// Fills `{{name}}` placeholders; with `ctx` = None only checks them.
/// Returns the text and the names it used.
fn fill<'t>(text: &'t str, ctx: Option<&ReminderContext>) -> Result<(String, Vec<&'t str>), TemplateError> {
    let mut out = String::with_capacity(text.len());
    let mut used = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or(TemplateError::Unclosed)?;
        let name = after[..close].trim();
        let known = VARIABLES.iter().any(|(v, _)| *v == name);
        if !known {
            let names = VARIABLES.iter().map(|(v, _)| format!("{{{{{v}}}}}")).collect::<Vec<_>>().join(", ");
            return Err(TemplateError::UnknownVariable(name.to_string(), names));
        }
        if let Some(ctx) = ctx {
            out.push_str(&value(name, ctx).unwrap_or_default());
        }
        used.push(name);
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok((out, used))
}

impl Template {
    /// What a merchant's edit must pass before it is saved.
    pub fn check(&self, channel: Channel) -> Result<(), TemplateError> {
        if channel == Channel::Email && self.subject.trim().is_empty() {
            return Err(TemplateError::EmptySubject);
        }
        fill(&self.subject, None)?;
        let (_, used) = fill(&self.body, None)?;
        if channel == Channel::Sms {
            // Links are about 60 characters once filled in.
            let length = self.body.chars().count();
            if length > 320 {
                return Err(TemplateError::SmsTooLong(length));
            }
        }
        // The placeholders as rendering will see them: `{ {pay_link}}` is
        // text, not a link (the fuzz target found that a whitespace-blind
        // check let it through).
        if !used.iter().any(|n| *n == "pay_link" || *n == "access_link") {
            return Err(TemplateError::NoLink);
        }
        Ok(())
    }

    pub fn render(&self, ctx: &ReminderContext) -> Result<Rendered, TemplateError> {
        Ok(Rendered { subject: fill(&self.subject, Some(ctx))?.0, body: fill(&self.body, Some(ctx))?.0 })
    }
}

/// The built-in text for a step's template key, in its tone.
pub fn default_template(key: &str, tone: Tone, channel: Channel) -> Template {
    if channel == Channel::Sms {
        let body = match tone {
            Tone::Friendly => "{{merchant_name}}: a reminder that {{total_due}} is due. Pay here: {{pay_link}}",
            Tone::Firm => "{{merchant_name}}: {{total_due}} is overdue. Please pay today: {{pay_link}}",
            Tone::Final => "{{merchant_name}}: final notice, {{total_due}} is overdue. Pay now: {{pay_link}}",
        };
        return Template { subject: String::new(), body: body.into() };
    }
    let (subject, body) = match key {
        "courtesy" => (
            "Upcoming: {{total_due}} due to {{merchant_name}} on {{oldest_due_date}}",
            "Hi {{customer_first_name}},\n\nJust a heads-up: the following is due soon.\n\n{{invoice_list}}\n\nYou can pay ahead of time, or set up autopay, here: {{pay_link}}\n\nThank you!",
        ),
        "due_tomorrow" => (
            "Due tomorrow: {{total_due}} to {{merchant_name}}",
            "Hi {{customer_first_name}},\n\nA friendly reminder that this is due tomorrow:\n\n{{invoice_list}}\n\nPay in a minute here: {{pay_link}}\n\nIf you've already paid, thank you, and please ignore this note.",
        ),
        "card_expiring" => (
            "Your card on file with {{merchant_name}} expires soon",
            "Hi {{customer_first_name}},\n\nThe card {{merchant_name}} charges automatically expires before your next payment. Add a new one so nothing is interrupted: {{access_link}}\n\nThank you!",
        ),
        "update_card" => (
            "Action needed: your payment to {{merchant_name}} didn't go through",
            "Hi {{customer_first_name}},\n\nWe couldn't charge your card for:\n\n{{invoice_list}}\n\nPlease pay with another card or update your card here: {{pay_link}}\n\nQuestions? Contact {{support_contact}}.",
        ),
        _ => match tone {
            Tone::Friendly => (
                "Reminder: {{total_due}} to {{merchant_name}} is past due",
                "Hi {{customer_first_name}},\n\nWe noticed the following hasn't been paid yet. It may simply have slipped through.\n\n{{invoice_list}}\n\nPay here: {{pay_link}}\n\nCan't pay right now? You can tell us when you can, or ask a question, from the same page. Questions? Contact {{support_contact}}.",
            ),
            Tone::Firm => (
                "Overdue: {{total_due}} to {{merchant_name}}, {{days_overdue}} days late",
                "Hi {{customer_first_name}},\n\nThese invoices are now {{days_overdue}} days overdue:\n\n{{invoice_list}}\n\nPlease pay today: {{pay_link}}\n\nIf something is wrong with an invoice, let us know from the same page so we can sort it out. Questions? Contact {{support_contact}}.",
            ),
            Tone::Final => (
                "Final notice: {{total_due}} to {{merchant_name}}",
                "Hi {{customer_first_name}},\n\nThis is our final reminder about:\n\n{{invoice_list}}\n\nPlease pay now to avoid further action on your account: {{pay_link}}\n\nIf you need to arrange something, contact {{support_contact}} today.",
            ),
        },
    };
    Template { subject: subject.into(), body: body.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ReminderContext {
        ReminderContext {
            merchant_name: "Acme Co".into(),
            support_email: Some("billing@acme.example".into()),
            support_phone: None,
            customer_first_name: "Dana".into(),
            invoices: vec![
                ReminderInvoice {
                    number: "INV-1".into(),
                    amount_due: "$120.00".into(),
                    due_on: "Mar 1, 2026".into(),
                    days_overdue: 9,
                },
                ReminderInvoice {
                    number: "INV-2".into(),
                    amount_due: "$80.50".into(),
                    due_on: "Mar 5, 2026".into(),
                    days_overdue: 5,
                },
            ],
            total_due: "$200.50".into(),
            access_link: "https://pay.example.com/p/acme/l/tok".into(),
            pay_link: "https://pay.example.com/p/acme/l/tok?to=pay".into(),
        }
    }

    #[test]
    fn defaults_escalate_and_carry_both_links() {
        let friendly = default_template("overdue_friendly", Tone::Friendly, Channel::Email).render(&ctx()).unwrap();
        let firm = default_template("overdue_firm", Tone::Firm, Channel::Email).render(&ctx()).unwrap();
        let last = default_template("final_notice", Tone::Final, Channel::Email).render(&ctx()).unwrap();
        assert_eq!(friendly.subject, "Reminder: $200.50 to Acme Co is past due");
        assert_eq!(firm.subject, "Overdue: $200.50 to Acme Co, 9 days late");
        assert_eq!(last.subject, "Final notice: $200.50 to Acme Co");
        for r in [&friendly, &firm, &last] {
            assert!(r.body.contains("https://pay.example.com/p/acme/l/tok?to=pay"));
            assert!(r.body.contains("• INV-1: $120.00 (due Mar 1, 2026)\n• INV-2: $80.50 (due Mar 5, 2026)"));
            assert!(!r.body.contains("{{"));
        }
        assert!(friendly.body.contains("billing@acme.example"));
        let sms = default_template("overdue_firm", Tone::Firm, Channel::Sms);
        assert_eq!(sms.check(Channel::Sms), Ok(()));
    }

    #[test]
    fn merchant_templates_are_checked_before_saving() {
        let typo = Template { subject: "Hi {{custmer_first_name}}".into(), body: "x".into() };
        let Err(TemplateError::UnknownVariable(name, available)) = typo.check(Channel::Email) else { panic!() };
        assert_eq!(name, "custmer_first_name");
        assert!(available.contains("{{customer_first_name}}"));
        let open = Template { subject: "Hi".into(), body: "Pay {{pay_link".into() };
        assert_eq!(open.check(Channel::Email), Err(TemplateError::Unclosed));
        let empty = Template { subject: " ".into(), body: "x".into() };
        assert_eq!(empty.check(Channel::Email), Err(TemplateError::EmptySubject));
        let long = Template { subject: String::new(), body: "x".repeat(400) };
        assert_eq!(long.check(Channel::Sms), Err(TemplateError::SmsTooLong(400)));
        let linkless = Template { subject: "Hi".into(), body: "Please pay soon.".into() };
        assert_eq!(linkless.check(Channel::Email), Err(TemplateError::NoLink));
        let linked = Template { subject: "Hi".into(), body: "Pay here: {{ pay_link }}".into() };
        assert_eq!(linked.check(Channel::Email), Ok(()));
        // Found by fuzzing: a brace pair split by whitespace is text, not a link.
        let split = Template { subject: "Hi".into(), body: "Pay here: {\r{access_link}} or { {pay_link}}".into() };
        assert_eq!(split.check(Channel::Email), Err(TemplateError::NoLink));
        let spaced = Template { subject: "{{ merchant_name }}".into(), body: String::new() };
        assert_eq!(spaced.render(&ctx()).unwrap().subject, "Acme Co");
    }

    #[test]
    fn every_built_in_template_uses_only_known_variables() {
        for key in ["courtesy", "due_tomorrow", "card_expiring", "update_card", "overdue_friendly", "x"] {
            for tone in [Tone::Friendly, Tone::Firm, Tone::Final] {
                for channel in [Channel::Email, Channel::Sms] {
                    assert_eq!(
                        default_template(key, tone, channel).check(channel),
                        Ok(()),
                        "{key} {tone:?} {channel:?}"
                    );
                }
            }
        }
    }
}
