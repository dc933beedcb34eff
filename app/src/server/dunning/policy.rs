//! A merchant's dunning policy: what is sent when, in which tone, through
//! which channel; how failed autopay charges are retried; quiet hours, a
//! weekly cap, consolidation, the final action and an optional late fee.
//! Pure data with a sensible default and validation that says what is wrong.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    Friendly,
    Firm,
    Final,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Before the due date (courtesy reminder); skipped for autopay invoices.
    PreDue,
    /// After the due date.
    Overdue,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub kind: StepKind,
    /// Days from the due date: negative before it, positive after.
    pub offset_days: i64,
    pub channel: Channel,
    pub template_key: String,
    pub tone: Tone,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrySchedule {
    /// Days after the failed charge, e.g. [1, 3, 5, 7].
    pub days: Vec<i64>,
    /// Local hour (customer's zone) retries run at.
    pub local_hour: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    /// Minutes after local midnight when quiet starts (21:00 = 1260)…
    pub start_minute: u16,
    /// …and when it ends (08:00 = 480). Start after end wraps midnight.
    pub end_minute: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinalAction {
    None,
    Suspend,
    Collections,
    WriteOff,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum LateFee {
    /// Minor units of the invoice's currency.
    Flat(i64),
    /// Basis points of the amount due (250 = 2.5 %).
    Percent(i64),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub steps: Vec<Step>,
    pub retries: RetrySchedule,
    pub quiet_hours: QuietHours,
    /// At most this many messages to one customer in any 7 days.
    pub weekly_cap: u32,
    /// One message covers all of a customer's invoices due for a reminder.
    pub consolidate: bool,
    pub final_action: FinalAction,
    /// Days after the last overdue step the final action is taken.
    pub final_action_after_days: i64,
    pub late_fee: Option<LateFee>,
    /// Card-expiry warnings, days before the card expires.
    pub expiry_warning_days: Vec<i64>,
}

impl Default for Policy {
    /// Two courtesy reminders (7 days and 1 day before), four overdue steps
    /// (+1, +3, +7, +14) from friendly to final, four charge retries over a
    /// week at 10:00 local time, quiet from 21:00 to 08:00, at most three
    /// messages a week, consolidated, no final action and no late fee until
    /// the merchant chooses them.
    fn default() -> Policy {
        let step = |kind, offset_days, template: &str, tone| Step {
            kind,
            offset_days,
            channel: Channel::Email,
            template_key: template.to_string(),
            tone,
        };
        Policy {
            steps: vec![
                step(StepKind::PreDue, -7, "courtesy", Tone::Friendly),
                step(StepKind::PreDue, -1, "due_tomorrow", Tone::Friendly),
                step(StepKind::Overdue, 1, "overdue_friendly", Tone::Friendly),
                step(StepKind::Overdue, 3, "overdue_reminder", Tone::Friendly),
                step(StepKind::Overdue, 7, "overdue_firm", Tone::Firm),
                step(StepKind::Overdue, 14, "final_notice", Tone::Final),
            ],
            retries: RetrySchedule { days: vec![1, 3, 5, 7], local_hour: 10 },
            quiet_hours: QuietHours { start_minute: 21 * 60, end_minute: 8 * 60 },
            weekly_cap: 3,
            consolidate: true,
            final_action: FinalAction::None,
            final_action_after_days: 7,
            late_fee: None,
            expiry_warning_days: vec![30, 7],
        }
    }
}

/// One thing wrong with a policy, in words for the merchant.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("Add at least one overdue step.")]
    NoOverdueStep,
    #[error("Step {0}: a reminder before the due date needs a negative offset (days before), and one after it a positive offset.")]
    OffsetSide(usize),
    #[error("Step {0}: offsets must be within 90 days of the due date.")]
    OffsetRange(usize),
    #[error("Steps {0} and {1} fall on the same day.")]
    SameDay(usize, usize),
    #[error("Step {0}: the tone can't soften after a firmer step.")]
    ToneSoftens(usize),
    #[error("Step {0}: choose a template.")]
    NoTemplate(usize),
    #[error("Retries must be on days 1 to 30 after the failure, in order, at most 8 of them.")]
    Retries,
    #[error("The retry hour must be between 0 and 23.")]
    RetryHour,
    #[error("Quiet hours must be times of day (00:00–23:59) and leave some time to send.")]
    QuietHours,
    #[error("The weekly cap must be between 1 and 14 messages.")]
    Cap,
    #[error("A late fee must be above zero (and at most 25 % if a percentage).")]
    LateFee,
    #[error("Card-expiry warnings must be 1 to 90 days before expiry.")]
    ExpiryWarnings,
    #[error("The final action must come 0 to 60 days after the last step.")]
    FinalDelay,
}

impl Policy {
    /// Every problem at once, so a form can show them all.
    pub fn validate(&self) -> Result<(), Vec<PolicyError>> {
        let mut errors = Vec::new();
        if !self.steps.iter().any(|s| s.kind == StepKind::Overdue) {
            errors.push(PolicyError::NoOverdueStep);
        }
        let mut firmest = Tone::Friendly;
        for (i, s) in self.steps.iter().enumerate() {
            let n = i + 1;
            let right_side = match s.kind {
                StepKind::PreDue => s.offset_days < 0,
                StepKind::Overdue => s.offset_days > 0,
            };
            if !right_side {
                errors.push(PolicyError::OffsetSide(n));
            }
            if s.offset_days.abs() > 90 {
                errors.push(PolicyError::OffsetRange(n));
            }
            if s.template_key.trim().is_empty() {
                errors.push(PolicyError::NoTemplate(n));
            }
            if let Some(j) = self.steps[..i].iter().position(|o| o.offset_days == s.offset_days) {
                errors.push(PolicyError::SameDay(j + 1, n));
            }
            if s.kind == StepKind::Overdue {
                if s.tone < firmest {
                    errors.push(PolicyError::ToneSoftens(n));
                }
                firmest = firmest.max(s.tone);
            }
        }
        let r = &self.retries.days;
        if r.len() > 8 || r.iter().any(|d| !(1..=30).contains(d)) || r.windows(2).any(|w| w[0] >= w[1]) {
            errors.push(PolicyError::Retries);
        }
        if self.retries.local_hour > 23 {
            errors.push(PolicyError::RetryHour);
        }
        let q = self.quiet_hours;
        if q.start_minute >= 24 * 60 || q.end_minute >= 24 * 60 || q.start_minute == q.end_minute {
            errors.push(PolicyError::QuietHours);
        }
        if !(1..=14).contains(&self.weekly_cap) {
            errors.push(PolicyError::Cap);
        }
        match self.late_fee {
            Some(LateFee::Flat(v)) if v <= 0 => errors.push(PolicyError::LateFee),
            Some(LateFee::Percent(bp)) if !(1..=2500).contains(&bp) => errors.push(PolicyError::LateFee),
            _ => {}
        }
        if self.expiry_warning_days.iter().any(|d| !(1..=90).contains(d)) {
            errors.push(PolicyError::ExpiryWarnings);
        }
        if !(0..=60).contains(&self.final_action_after_days) {
            errors.push(PolicyError::FinalDelay);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The late fee on `amount_due_minor`, rounded half up to a minor unit.
    pub fn late_fee_on(&self, amount_due_minor: i64) -> Option<i64> {
        match self.late_fee? {
            LateFee::Flat(v) => Some(v),
            LateFee::Percent(bp) => Some((amount_due_minor * bp + 5_000) / 10_000).filter(|f| *f > 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_is_valid_and_escalates() {
        let p = Policy::default();
        assert_eq!(p.validate(), Ok(()));
        let overdue: Vec<(i64, Tone)> =
            p.steps.iter().filter(|s| s.kind == StepKind::Overdue).map(|s| (s.offset_days, s.tone)).collect();
        assert_eq!(overdue, [(1, Tone::Friendly), (3, Tone::Friendly), (7, Tone::Firm), (14, Tone::Final)]);
        assert_eq!(p.retries.days, [1, 3, 5, 7]);
        assert_eq!((p.quiet_hours.start_minute, p.quiet_hours.end_minute), (1260, 480));
    }

    #[test]
    fn every_problem_is_reported_in_words() {
        let mut p = Policy::default();
        p.steps[0].offset_days = 2; // a pre-due step after the due date
        p.steps[3].tone = Tone::Final;
        p.steps[4].tone = Tone::Friendly; // softens after final
        p.steps[5].offset_days = 3; // same day as step 4
        p.retries.days = vec![5, 2];
        p.weekly_cap = 0;
        p.late_fee = Some(LateFee::Percent(0));
        let errors = p.validate().unwrap_err();
        assert!(errors.contains(&PolicyError::OffsetSide(1)));
        assert!(errors.contains(&PolicyError::ToneSoftens(5)));
        assert!(errors.contains(&PolicyError::SameDay(4, 6)));
        assert!(errors.contains(&PolicyError::Retries));
        assert!(errors.contains(&PolicyError::Cap));
        assert!(errors.contains(&PolicyError::LateFee));
        assert_eq!(PolicyError::SameDay(4, 6).to_string(), "Steps 4 and 6 fall on the same day.");
        p.steps.retain(|s| s.kind == StepKind::PreDue);
        assert!(p.validate().unwrap_err().contains(&PolicyError::NoOverdueStep));
    }

    #[test]
    fn late_fees_in_minor_units() {
        let mut p = Policy { late_fee: Some(LateFee::Percent(250)), ..Policy::default() };
        assert_eq!(p.late_fee_on(12_345), Some(309)); // 2.5 % of $123.45 = $3.086 → $3.09
        p.late_fee = Some(LateFee::Flat(1_500));
        assert_eq!(p.late_fee_on(1), Some(1_500));
        p.late_fee = None;
        assert_eq!(p.late_fee_on(10_000), None);
    }

    #[test]
    fn policies_round_trip_as_json() {
        let p =
            Policy { late_fee: Some(LateFee::Flat(2_500)), final_action: FinalAction::Suspend, ..Policy::default() };
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains("\"final_action\":\"suspend\""));
        assert_eq!(serde_json::from_str::<Policy>(&json).unwrap(), p);
    }
}
