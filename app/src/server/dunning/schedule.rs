//! When each step of a policy is sent for an invoice, in the customer's
//! zone, and a memo of those times for a sweep: invoices share a handful of
//! (zone, due day) pairs, and each step's time is a zone conversion, so a
//! sweep over many invoices computes each schedule once.

use super::calendar::{local_day, send_time};
use super::policy::{Policy, Step, StepKind};
use crate::server::portal::customer_zone;
use crate::server::UtcMillis;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::collections::HashMap;

/// The steps that apply to an invoice: no courtesy reminders when autopay
/// will pay it anyway.
pub fn steps_for(policy: &Policy, autopay: bool) -> Vec<&Step> {
    policy.steps.iter().filter(|s| !(autopay && s.kind == StepKind::PreDue)).collect()
}

/// When each step is sent, for an invoice due on `due_day` (local).
pub fn step_times(steps: &[&Step], due_day: Date, zone: &TimeZone, policy: &Policy) -> Vec<UtcMillis> {
    steps
        .iter()
        .map(|s| {
            let day = due_day.checked_add(jiff::Span::new().days(s.offset_days)).unwrap_or(due_day);
            send_time(day, zone, policy.quiet_hours)
        })
        .collect()
}

/// Which step comes next at `now`: the latest one whose time has passed
/// (an invoice that arrives late, or a sweep that ran late, sends only the
/// most recent reminder, not every one it missed), else the first to come.
pub fn place(times: &[UtcMillis], now: UtcMillis) -> Option<(usize, UtcMillis)> {
    match times.iter().rposition(|t| t.0 <= now.0) {
        Some(i) => Some((i, times[i])),
        None => times.first().map(|t| (0, *t)),
    }
}

/// Zones by name and step times by (merchant, zone, due day, autopay), for
/// one sweep (a policy does not change within it).
#[derive(Default)]
pub struct ScheduleMemo {
    zones: HashMap<(String, String), TimeZone>,
    times: HashMap<(String, String, Date, bool), Vec<UtcMillis>>,
}

impl ScheduleMemo {
    /// The customer's zone, else the merchant's (see `customer_zone`).
    pub fn zone(&mut self, customer_tz: &str, merchant_tz: &str) -> TimeZone {
        self.zones
            .entry((customer_tz.to_string(), merchant_tz.to_string()))
            .or_insert_with(|| customer_zone(customer_tz, merchant_tz))
            .clone()
    }

    /// `step_times` for an invoice due at `due_at`, computed once per
    /// merchant, zone, local due day and autopay.
    pub fn times(
        &mut self,
        merchant_id: &str,
        zone: &TimeZone,
        due_at: i64,
        autopay: bool,
        policy: &Policy,
    ) -> &[UtcMillis] {
        let due_day = local_day(UtcMillis(due_at), zone);
        let name = zone.iana_name().map(str::to_string).unwrap_or_else(|| format!("{zone:?}"));
        let key = (merchant_id.to_string(), name, due_day, autopay);
        self.times.entry(key).or_insert_with(|| step_times(&steps_for(policy, autopay), due_day, zone, policy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_invoice_gets_only_its_latest_step() {
        let t = |v| UtcMillis(v);
        let times = [t(10), t(20), t(30)];
        assert_eq!(place(&times, t(5)), Some((0, t(10))));
        assert_eq!(place(&times, t(20)), Some((1, t(20))));
        assert_eq!(place(&times, t(99)), Some((2, t(30))));
        assert_eq!(place(&[], t(1)), None);
    }

    #[test]
    fn autopay_invoices_get_no_courtesy_reminders() {
        let p = Policy::default();
        assert_eq!(steps_for(&p, false).len(), 6);
        assert!(steps_for(&p, true).iter().all(|s| s.kind == StepKind::Overdue));
    }

    #[test]
    fn the_memo_gives_the_same_times_as_computing_them() {
        let p = Policy::default();
        let mut memo = ScheduleMemo::default();
        let zone = memo.zone("Europe/London", "UTC");
        // 2026-03-27 12:00 UTC: the steps around it cross London's DST change.
        let due_at = 1_774_612_800_000;
        let direct = step_times(&steps_for(&p, false), local_day(UtcMillis(due_at), &zone), &zone, &p);
        assert_eq!(memo.times("mer_a", &zone, due_at, false, &p), direct.as_slice());
        assert_eq!(memo.times("mer_a", &zone, due_at + 1000, false, &p), direct.as_slice());
        let autopay = memo.times("mer_a", &zone, due_at, true, &p).to_vec();
        assert_eq!(autopay.len(), steps_for(&p, true).len());
        // An unknown customer zone falls back to the merchant's.
        let unknown = memo.zone("Not/AZone", "Asia/Tokyo");
        assert_eq!(unknown.iana_name(), Some("Asia/Tokyo"));
    }
}
