//! The policy editor's form ↔ a `Policy`: what the merchant typed is read
//! field by field (each unreadable field said in words), then the policy's
//! own validation runs. Amounts are read as decimal text into minor units
//! and percentages into basis points, never through floats.

use crate::server::dunning::policy::{
    Channel, FinalAction, LateFee, Policy, QuietHours, RetrySchedule, Step, StepKind, Tone,
};
use crate::types::{Currency, Money, PolicyForm, PolicyStepRow};

/// Templates a step can use, with what each says.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("courtesy", "Upcoming: heads-up that invoices are due soon"),
    ("due_tomorrow", "Due tomorrow"),
    ("overdue_friendly", "Past due, friendly (text follows the tone)"),
    ("overdue_reminder", "Past due, second reminder (text follows the tone)"),
    ("overdue_firm", "Overdue, firm (text follows the tone)"),
    ("final_notice", "Final notice (text follows the tone)"),
];

/// Empty rows offered under the steps for adding new ones.
pub const BLANK_ROWS: usize = 2;

fn hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn list(days: &[i64]) -> String {
    days.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
}

/// The form showing `policy`, with blank rows to add steps.
pub fn from_policy(policy: &Policy, currency: Currency) -> PolicyForm {
    let mut steps: Vec<PolicyStepRow> = policy
        .steps
        .iter()
        .map(|s| PolicyStepRow {
            offset: s.offset_days.to_string(),
            channel: if s.channel == Channel::Sms { "sms" } else { "email" }.into(),
            template: s.template_key.clone(),
            tone: tone_str(s.tone).into(),
        })
        .collect();
    steps.extend(std::iter::repeat_n(PolicyStepRow::default(), BLANK_ROWS));
    let (late_fee_kind, late_fee_value) = match policy.late_fee {
        None => ("none", String::new()),
        Some(LateFee::Flat(minor)) => (
            "flat",
            Money::new(minor, currency).display().trim_start_matches(|c: char| !c.is_ascii_digit()).replace(',', ""),
        ),
        Some(LateFee::Percent(bp)) => {
            ("percent", format!("{}.{:02}", bp / 100, bp % 100).trim_end_matches('0').trim_end_matches('.').to_string())
        }
    };
    PolicyForm {
        steps,
        retry_days: list(&policy.retries.days),
        retry_hour: policy.retries.local_hour.to_string(),
        quiet_start: hhmm(policy.quiet_hours.start_minute),
        quiet_end: hhmm(policy.quiet_hours.end_minute),
        weekly_cap: policy.weekly_cap.to_string(),
        consolidate: policy.consolidate,
        final_action: final_str(policy.final_action).into(),
        final_after_days: policy.final_action_after_days.to_string(),
        late_fee_kind: late_fee_kind.into(),
        late_fee_value,
        expiry_days: list(&policy.expiry_warning_days),
    }
}

fn tone_str(t: Tone) -> &'static str {
    match t {
        Tone::Friendly => "friendly",
        Tone::Firm => "firm",
        Tone::Final => "final",
    }
}

fn final_str(f: FinalAction) -> &'static str {
    match f {
        FinalAction::None => "none",
        FinalAction::Suspend => "suspend",
        FinalAction::Collections => "collections",
        FinalAction::WriteOff => "write_off",
    }
}

/// The form from posted `name=value` pairs; steps come as `offset_0`,
/// `channel_0`, … in row order.
pub fn from_pairs(pairs: &[(String, String)]) -> PolicyForm {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let mut steps = Vec::new();
    for i in 0..64 {
        let row = PolicyStepRow {
            offset: get(&format!("offset_{i}")),
            channel: get(&format!("channel_{i}")),
            template: get(&format!("template_{i}")),
            tone: get(&format!("tone_{i}")),
        };
        let present = pairs.iter().any(|(n, _)| n.ends_with(&format!("_{i}")));
        if !present {
            break;
        }
        if get(&format!("remove_{i}")).is_empty() {
            steps.push(row);
        }
    }
    PolicyForm {
        steps,
        retry_days: get("retry_days"),
        retry_hour: get("retry_hour"),
        quiet_start: get("quiet_start"),
        quiet_end: get("quiet_end"),
        weekly_cap: get("weekly_cap"),
        consolidate: !get("consolidate").is_empty(),
        final_action: get("final_action"),
        final_after_days: get("final_after_days"),
        late_fee_kind: get("late_fee_kind"),
        late_fee_value: get("late_fee_value"),
        expiry_days: get("expiry_days"),
    }
}

fn int(text: &str, what: &str, errors: &mut Vec<String>) -> i64 {
    match text.trim().parse::<i64>() {
        Ok(v) => v,
        Err(_) => {
            errors.push(format!("{what}: {:?} is not a whole number.", text.trim()));
            0
        }
    }
}

fn days(text: &str, what: &str, errors: &mut Vec<String>) -> Vec<i64> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    text.split(',').map(|p| int(p, what, errors)).collect()
}

fn time_of_day(text: &str, what: &str, errors: &mut Vec<String>) -> u16 {
    let parsed = text.trim().split_once(':').and_then(|(h, m)| {
        let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
        (h < 24 && m < 60 && m.to_string().len() <= 2).then_some(h * 60 + m)
    });
    parsed.unwrap_or_else(|| {
        errors.push(format!("{what}: {:?} is not a time like 21:00.", text.trim()));
        0
    })
}

/// "2.5" → 250 basis points; at most two decimals.
fn basis_points(text: &str) -> Option<i64> {
    let t = text.trim().trim_end_matches('%').trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty()
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac = format!("{frac:0<2}");
    Some(whole.parse::<i64>().ok()? * 100 + frac.parse::<i64>().ok()?)
}

/// The policy the form describes, or every problem with it.
pub fn parse(form: &PolicyForm, currency: Currency) -> Result<Policy, Vec<String>> {
    let mut errors = Vec::new();
    let mut steps = Vec::new();
    for (i, row) in form.steps.iter().enumerate() {
        let n = i + 1;
        if row.offset.trim().is_empty() && row.template.trim().is_empty() {
            continue; // a blank row left for adding steps
        }
        let offset = int(&row.offset, &format!("Step {n}, days from the due date"), &mut errors);
        let channel = match row.channel.as_str() {
            "sms" => Channel::Sms,
            "email" | "" => Channel::Email,
            other => {
                errors.push(format!("Step {n}: {other:?} is not a channel (email or text)."));
                Channel::Email
            }
        };
        let tone = match row.tone.as_str() {
            "friendly" | "" => Tone::Friendly,
            "firm" => Tone::Firm,
            "final" => Tone::Final,
            other => {
                errors.push(format!("Step {n}: {other:?} is not a tone (friendly, firm or final)."));
                Tone::Friendly
            }
        };
        let kind = if offset < 0 { StepKind::PreDue } else { StepKind::Overdue };
        steps.push(Step { kind, offset_days: offset, channel, template_key: row.template.trim().to_string(), tone });
    }
    steps.sort_by_key(|s| s.offset_days);
    let retry_days = days(&form.retry_days, "Retry days", &mut errors);
    let retry_hour = int(&form.retry_hour, "Retry hour", &mut errors);
    let start = time_of_day(&form.quiet_start, "Quiet hours start", &mut errors);
    let end = time_of_day(&form.quiet_end, "Quiet hours end", &mut errors);
    let cap = int(&form.weekly_cap, "Weekly cap", &mut errors);
    let final_action = match form.final_action.as_str() {
        "none" | "" => FinalAction::None,
        "suspend" => FinalAction::Suspend,
        "collections" => FinalAction::Collections,
        "write_off" => FinalAction::WriteOff,
        other => {
            errors.push(format!("{other:?} is not a final action."));
            FinalAction::None
        }
    };
    let final_after = int(&form.final_after_days, "Days before the final action", &mut errors);
    let late_fee = match form.late_fee_kind.as_str() {
        "none" | "" => None,
        "flat" => match Money::parse_in(&form.late_fee_value, currency, "en-US") {
            Ok(m) => Some(LateFee::Flat(m.minor)),
            Err(e) => {
                errors.push(format!(
                    "Late fee: {:?} is not an amount in {}: {e}",
                    form.late_fee_value.trim(),
                    currency.code()
                ));
                None
            }
        },
        "percent" => match basis_points(&form.late_fee_value) {
            Some(bp) => Some(LateFee::Percent(bp)),
            None => {
                errors.push(format!(
                    "Late fee: {:?} is not a percentage like 2.5 (at most two decimals).",
                    form.late_fee_value.trim()
                ));
                None
            }
        },
        other => {
            errors.push(format!("{other:?} is not a kind of late fee."));
            None
        }
    };
    let expiry = days(&form.expiry_days, "Card-expiry warning days", &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let policy = Policy {
        steps,
        retries: RetrySchedule { days: retry_days, local_hour: retry_hour.clamp(0, 255) as u8 },
        quiet_hours: QuietHours { start_minute: start, end_minute: end },
        weekly_cap: cap.clamp(0, u32::MAX as i64) as u32,
        consolidate: form.consolidate,
        final_action,
        final_action_after_days: final_after,
        late_fee,
        expiry_warning_days: expiry,
    };
    // The hour is clamped only to fit; out-of-range values still fail here.
    let mut problems: Vec<String> = match policy.validate() {
        Ok(()) => Vec::new(),
        Err(e) => e.into_iter().map(|p| p.to_string()).collect(),
    };
    if retry_hour > 23 || retry_hour < 0 {
        problems.push("The retry hour must be between 0 and 23.".into());
        problems.dedup();
    }
    if problems.is_empty() {
        Ok(policy)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_round_trips_through_the_form() {
        let p = Policy { late_fee: Some(LateFee::Percent(250)), ..Policy::default() };
        let form = from_policy(&p, Currency::USD);
        assert_eq!(form.steps.len(), p.steps.len() + BLANK_ROWS);
        assert_eq!((form.quiet_start.as_str(), form.quiet_end.as_str()), ("21:00", "08:00"));
        assert_eq!(form.late_fee_value, "2.5");
        assert_eq!(parse(&form, Currency::USD).unwrap(), p);
        let flat = Policy { late_fee: Some(LateFee::Flat(2_500)), ..Policy::default() };
        let form = from_policy(&flat, Currency::USD);
        assert_eq!(form.late_fee_value, "25.00");
        assert_eq!(parse(&form, Currency::USD).unwrap(), flat);
    }

    #[test]
    fn every_unreadable_field_is_named() {
        let mut form = from_policy(&Policy::default(), Currency::USD);
        form.steps[0].offset = "seven".into();
        form.quiet_start = "9pm".into();
        form.weekly_cap = "".into();
        form.late_fee_kind = "percent".into();
        form.late_fee_value = "2.555".into();
        let errors = parse(&form, Currency::USD).unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].starts_with("Step 1, days from the due date: \"seven\""), "{errors:?}");
        assert!(errors.iter().any(|e| e.starts_with("Quiet hours start: \"9pm\"")));
        assert!(errors.iter().any(|e| e.starts_with("Weekly cap: \"\"")));
        assert!(errors.iter().any(|e| e.starts_with("Late fee: \"2.555\"")));
    }

    #[test]
    fn policy_rules_come_back_in_words_and_rows_are_read_in_order() {
        let pairs: Vec<(String, String)> = [
            ("offset_0", "3"),
            ("channel_0", "email"),
            ("template_0", "overdue_firm"),
            ("tone_0", "firm"),
            ("offset_1", "5"),
            ("channel_1", "email"),
            ("template_1", "overdue_friendly"),
            ("tone_1", "friendly"),
            ("offset_2", "9"),
            ("channel_2", "email"),
            ("template_2", "x"),
            ("tone_2", "final"),
            ("remove_2", "on"),
            ("offset_3", ""),
            ("channel_3", "email"),
            ("template_3", ""),
            ("tone_3", "friendly"),
            ("retry_days", "1, 3"),
            ("retry_hour", "10"),
            ("quiet_start", "21:00"),
            ("quiet_end", "08:00"),
            ("weekly_cap", "3"),
            ("final_action", "none"),
            ("final_after_days", "7"),
            ("late_fee_kind", "none"),
            ("expiry_days", "30, 7"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let form = from_pairs(&pairs);
        assert_eq!(form.steps.len(), 3, "the removed row is gone, the blank one kept");
        assert!(!form.consolidate, "an unticked box is absent from the post");
        let errors = parse(&form, Currency::USD).unwrap_err();
        assert_eq!(errors, ["Step 2: the tone can't soften after a firmer step."]);
    }
}
