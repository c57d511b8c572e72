//! Times and days as a reader sees them: `HH:MM` beside a message, a day
//! separator ("Today", "Yesterday", "Monday 30 November", "30 November
//! 2025") where the day changes, and the full date on hover.
//!
//! Plain arithmetic on the proleptic Gregorian calendar, the same in the
//! server's render and in the browser, so hydration finds what the server
//! wrote. The server renders in UTC at its own clock; the browser then
//! sets its offset and clock ([`LocalClock`]) and the labels follow.

use serde::{Deserialize, Serialize};

use crate::i18n::{fill, words};

/// The reader's clock: where "today" is and how far from UTC they live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalClock {
    /// Minutes east of UTC.
    pub offset_minutes: i32,
    /// Now, in milliseconds since the Unix epoch.
    pub now_ms: i64,
}

const DAY_MS: i64 = 86_400_000;

impl LocalClock {
    fn local_ms(self, at_ms: i64) -> i64 {
        at_ms.saturating_add(i64::from(self.offset_minutes) * 60_000)
    }

    /// The reader's day `at_ms` falls on, in days since 1970-01-01.
    pub fn day(self, at_ms: i64) -> i64 {
        self.local_ms(at_ms).div_euclid(DAY_MS)
    }

    /// `HH:MM` on the reader's clock.
    pub fn time(self, at_ms: i64) -> String {
        let minutes = self.local_ms(at_ms).rem_euclid(DAY_MS) / 60_000;
        format!("{:02}:{:02}", minutes / 60, minutes % 60)
    }

    /// What a day separator says for `day` (see [`LocalClock::day`]).
    pub fn day_label(self, day: i64) -> String {
        let today = self.day(self.now_ms);
        let (year, month, date) = civil(day);
        let words = words();
        let date = date.to_string();
        if day == today {
            words.day_today().inner().to_owned()
        } else if day == today - 1 {
            words.day_yesterday().inner().to_owned()
        } else if year == civil(today).0 {
            fill(
                words.day_this_year().inner(),
                &[("weekday", weekday(day)), ("date", &date), ("month", month_name(month))],
            )
        } else {
            let year = year.to_string();
            fill(words.day_other_year().inner(), &[("date", &date), ("month", month_name(month)), ("year", &year)])
        }
    }

    /// How long ago `at_ms` was, within the last hour: "just now", "a
    /// minute ago", "5 minutes ago" ("刚刚", "5 分钟前"). A time ahead of
    /// the reader's clock (clocks differ) is "just now".
    pub fn ago(self, at_ms: i64) -> Option<String> {
        let minutes = self.now_ms.saturating_sub(at_ms) / 60_000;
        let words = words();
        match minutes {
            ..=0 => Some(words.ago_just_now().inner().to_owned()),
            1 => Some(words.ago_minute().inner().to_owned()),
            2..=59 => Some(fill(words.ago_minutes().inner(), &[("count", &minutes.to_string())])),
            _ => None,
        }
    }

    /// When something last happened (someone was seen, a thread was
    /// answered): within the hour, how long ago; else "today at 14:03",
    /// "yesterday at 09:12", "on Monday 30 November", "on 30 October 2025".
    pub fn when(self, at_ms: i64) -> String {
        if let Some(ago) = self.ago(at_ms) {
            return ago;
        }
        let day = self.day(at_ms);
        let words = words();
        let time = self.time(at_ms);
        match self.day(self.now_ms) - day {
            0 => fill(words.seen_today().inner(), &[("time", &time)]),
            1 => fill(words.seen_yesterday().inner(), &[("time", &time)]),
            _ => fill(words.seen_on().inner(), &[("day", &self.day_label(day))]),
        }
    }

    /// The full date and time on the reader's clock, for a tooltip:
    /// "Friday 4 December 2026, 09:26".
    pub fn full(self, at_ms: i64) -> String {
        let day = self.day(at_ms);
        let (year, month, date) = civil(day);
        let (date, year, time) = (date.to_string(), year.to_string(), self.time(at_ms));
        let values = [
            ("weekday", weekday(day)),
            ("date", &date),
            ("month", month_name(month)),
            ("year", &year),
            ("time", &time),
        ];
        fill(words().full_time().inner(), &values)
    }
}

/// A machine-readable UTC instant for `<time datetime>`:
/// `2026-12-04T09:26:07Z`.
pub fn iso_instant(at_ms: i64) -> String {
    let (year, month, date) = civil(at_ms.div_euclid(DAY_MS));
    let seconds = at_ms.rem_euclid(DAY_MS) / 1000;
    format!("{year:04}-{month:02}-{date:02}T{:02}:{:02}:{:02}Z", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

/// A day as `YYYY-MM-DD`, for a separator's `<time datetime>`.
pub fn iso_day(day: i64) -> String {
    let (year, month, date) = civil(day);
    format!("{year:04}-{month:02}-{date:02}")
}

/// Year, month (1–12) and day of the month of a day counted from
/// 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil(day: i64) -> (i64, usize, i64) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let of_era = z.rem_euclid(146_097);
    let year_of_era = (of_era - of_era / 1460 + of_era / 36_524 - of_era / 146_096) / 365;
    let of_year = of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * of_year + 2) / 153;
    let date = of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, usize::try_from(month).unwrap_or(1), date)
}

/// The day's name in the page's language (Monday first).
fn weekday(day: i64) -> &'static str {
    // 1970-01-01 was a Thursday.
    let index = usize::try_from((day + 3).rem_euclid(7)).unwrap_or(0);
    words().weekdays().inner().split(',').nth(index).unwrap_or_default()
}

/// A month's name (1–12) in the page's language.
fn month_name(month: usize) -> &'static str {
    words().months().inner().split(',').nth(month.wrapping_sub(1)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;
    /// 2026-12-04T09:26:07Z, a Friday.
    const NOW: i64 = 1_796_376_367_000;

    #[test]
    fn civil_dates_match_the_calendar() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(-1), (1969, 12, 31));
        assert_eq!(civil(19_782), (2024, 2, 29));
        assert_eq!(iso_instant(NOW), "2026-12-04T09:26:07Z");
        assert_eq!(iso_day(NOW / DAY_MS), "2026-12-04");
        assert_eq!(weekday(NOW / DAY_MS), "Friday");
    }

    #[test]
    fn times_wrap_at_midnight_on_the_readers_clock() {
        let utc = LocalClock { offset_minutes: 0, now_ms: NOW };
        assert_eq!(utc.time(0), "00:00");
        assert_eq!(LocalClock { offset_minutes: -60, ..utc }.time(0), "23:00");
        assert_eq!(LocalClock { offset_minutes: 120, ..utc }.time((13 * 60 + 7) * 60_000), "15:07");
        assert_eq!(utc.full(NOW), "Friday 4 December 2026, 09:26");
    }

    #[test]
    fn the_last_hour_is_said_as_how_long_ago() {
        let clock = LocalClock { offset_minutes: 0, now_ms: NOW };
        let minute = 60_000;
        assert_eq!(clock.when(NOW - 20_000), "just now");
        assert_eq!(clock.when(NOW + 5_000), "just now", "a clock a little ahead");
        assert_eq!(clock.when(NOW - minute - 1), "a minute ago");
        assert_eq!(clock.when(NOW - 5 * minute), "5 minutes ago");
        assert_eq!(clock.when(NOW - 59 * minute), "59 minutes ago");
        assert_eq!(clock.when(NOW - 60 * minute), "today at 08:26");
    }

    /// The same in Chinese: the page's language is the server's context.
    #[cfg(feature = "ssr")]
    #[test]
    fn chinese_readers_read_how_long_ago_in_chinese() {
        use leptos::prelude::{provide_context, Owner};
        let owner = Owner::new();
        owner.set();
        provide_context(crate::i18n::Locale::zh_CN);
        let clock = LocalClock { offset_minutes: 0, now_ms: NOW };
        assert_eq!(clock.when(NOW - 1_000), "刚刚");
        assert_eq!(clock.when(NOW - 5 * 60_000), "5 分钟前");
        assert_eq!(clock.when(NOW - 2 * HOUR), "今天 07:26");
    }

    #[test]
    fn separators_name_today_yesterday_this_year_and_older_days() {
        let clock = LocalClock { offset_minutes: 0, now_ms: NOW };
        let day = |at| clock.day_label(clock.day(at));
        assert_eq!(day(NOW - HOUR), "Today");
        assert_eq!(day(NOW - 24 * HOUR), "Yesterday");
        assert_eq!(day(NOW - 4 * 24 * HOUR), "Monday 30 November");
        assert_eq!(day(NOW - 400 * 24 * HOUR), "30 October 2025");
        assert_eq!(clock.when(NOW - HOUR), "today at 08:26");
        assert_eq!(clock.when(NOW - 24 * HOUR), "yesterday at 09:26");
        assert_eq!(clock.when(NOW - 4 * 24 * HOUR), "on Monday 30 November");
        // Fifteen hours east it is already Saturday: an hour ago was Friday.
        let east = LocalClock { offset_minutes: 15 * 60, ..clock };
        assert_eq!(east.day_label(east.day(NOW)), "Today");
        assert_eq!(east.day_label(east.day(NOW - HOUR)), "Yesterday");
    }
}
