//! When a message may go out: on the customer's calendar day, outside quiet
//! hours in the customer's time zone, through daylight-saving changes.

use super::policy::QuietHours;
use crate::server::UtcMillis;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;

fn minute_of_day(t: Time) -> u16 {
    t.hour() as u16 * 60 + t.minute() as u16
}

/// Whether a local time of day (minutes after midnight) is quiet.
pub fn is_quiet(q: QuietHours, minute: u16) -> bool {
    if q.start_minute > q.end_minute {
        // Wraps midnight: 21:00–08:00.
        minute >= q.start_minute || minute < q.end_minute
    } else {
        minute >= q.start_minute && minute < q.end_minute
    }
}

fn timestamp(at: UtcMillis) -> Timestamp {
    Timestamp::from_millisecond(at.0).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// `day` at `minute` past midnight in `zone`. A time that doesn't exist
/// (the hour skipped when clocks go forward) moves forward by the gap; a
/// time that happens twice (clocks go back) is the first one.
pub fn local_instant(day: Date, minute: u16, zone: &TimeZone) -> UtcMillis {
    let time = Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).unwrap_or(Time::midnight());
    let ts = day.to_datetime(time).to_zoned(zone.clone()).map(|z| z.timestamp()).unwrap_or(Timestamp::UNIX_EPOCH);
    UtcMillis(ts.as_millisecond())
}

/// The first instant at or after `at` outside quiet hours in `zone`.
pub fn next_allowed(at: UtcMillis, zone: &TimeZone, q: QuietHours) -> UtcMillis {
    let local = timestamp(at).to_zoned(zone.clone());
    let minute = minute_of_day(local.time());
    if !is_quiet(q, minute) {
        return at;
    }
    let today = local.date();
    let end_day = if q.start_minute > q.end_minute && minute >= q.start_minute {
        today.tomorrow().unwrap_or(today)
    } else {
        today
    };
    let end = local_instant(end_day, q.end_minute, zone);
    if end.0 > at.0 {
        end
    } else {
        // The end fell into a skipped hour and was moved before `at`: go on.
        UtcMillis(at.0 + 60_000)
    }
}

/// When a message planned for the customer's calendar `day` goes out: the
/// first allowed moment of that day (08:00 with the default quiet hours).
pub fn send_time(day: Date, zone: &TimeZone, q: QuietHours) -> UtcMillis {
    next_allowed(local_instant(day, 0, zone), zone, q)
}

/// The customer's calendar date at `at`.
pub fn local_day(at: UtcMillis, zone: &TimeZone) -> Date {
    timestamp(at).to_zoned(zone.clone()).date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const DEFAULT: QuietHours = QuietHours { start_minute: 21 * 60, end_minute: 8 * 60 };

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn utc(s: &str) -> UtcMillis {
        UtcMillis(s.parse::<Timestamp>().unwrap().as_millisecond())
    }

    fn show(at: UtcMillis, z: &TimeZone) -> String {
        timestamp(at).to_zoned(z.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string()
    }

    #[test]
    fn quiet_hours_wrap_midnight_or_not() {
        assert!(is_quiet(DEFAULT, 21 * 60));
        assert!(is_quiet(DEFAULT, 3 * 60));
        assert!(!is_quiet(DEFAULT, 8 * 60));
        assert!(!is_quiet(DEFAULT, 20 * 60 + 59));
        let lunch = QuietHours { start_minute: 12 * 60, end_minute: 13 * 60 };
        assert!(is_quiet(lunch, 12 * 60 + 30));
        assert!(!is_quiet(lunch, 13 * 60));
    }

    #[test]
    fn a_day_starts_at_the_end_of_quiet_hours_in_each_zone() {
        let ny = zone("America/New_York");
        assert_eq!(show(send_time(date(2026, 1, 15), &ny, DEFAULT), &ny), "2026-01-15 08:00 EST");
        let kolkata = zone("Asia/Kolkata");
        let at = send_time(date(2026, 1, 15), &kolkata, DEFAULT);
        assert_eq!(at, utc("2026-01-15T02:30:00Z"));
        let auckland = zone("Pacific/Auckland");
        assert_eq!(send_time(date(2026, 1, 15), &auckland, DEFAULT), utc("2026-01-14T19:00:00Z"));
    }

    #[test]
    fn daylight_saving_changes_keep_the_local_hour() {
        let ny = zone("America/New_York");
        // Clocks go forward on 2026-03-08: 08:00 local moves from 13:00 to 12:00 UTC.
        assert_eq!(send_time(date(2026, 3, 7), &ny, DEFAULT), utc("2026-03-07T13:00:00Z"));
        assert_eq!(send_time(date(2026, 3, 8), &ny, DEFAULT), utc("2026-03-08T12:00:00Z"));
        // Clocks go back on 2026-11-01.
        assert_eq!(send_time(date(2026, 11, 1), &ny, DEFAULT), utc("2026-11-01T13:00:00Z"));
        let sydney = zone("Australia/Sydney");
        assert_eq!(show(send_time(date(2026, 4, 5), &sydney, DEFAULT), &sydney), "2026-04-05 08:00 AEST");
        assert_eq!(show(send_time(date(2026, 10, 4), &sydney, DEFAULT), &sydney), "2026-10-04 08:00 AEDT");
    }

    #[test]
    fn quiet_ending_in_the_skipped_hour_moves_past_it() {
        let ny = zone("America/New_York");
        let q = QuietHours { start_minute: 22 * 60, end_minute: 2 * 60 + 30 };
        let at = send_time(date(2026, 3, 8), &ny, q);
        assert_eq!(show(at, &ny), "2026-03-08 03:30 EDT");
    }

    #[test]
    fn a_moment_in_quiet_hours_waits_for_the_morning() {
        let berlin = zone("Europe/Berlin");
        // 22:30 in Berlin → 08:00 next day; 07:59 → 08:00 same day; 12:00 stays.
        assert_eq!(show(next_allowed(utc("2026-06-10T20:30:00Z"), &berlin, DEFAULT), &berlin), "2026-06-11 08:00 CEST");
        assert_eq!(show(next_allowed(utc("2026-06-10T05:59:00Z"), &berlin, DEFAULT), &berlin), "2026-06-10 08:00 CEST");
        let noon = utc("2026-06-10T10:00:00Z");
        assert_eq!(next_allowed(noon, &berlin, DEFAULT), noon);
        assert_eq!(local_day(utc("2026-06-10T22:30:00Z"), &berlin), date(2026, 6, 11));
    }
}
