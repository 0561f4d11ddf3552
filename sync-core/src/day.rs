use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// A calendar day. Responses carry day precision only: a time of day would help single out a
/// respondent met at a known place and hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    year: i32,
    month: u8,
    day: u8,
}

impl Day {
    /// Parses exactly `YYYY-MM-DD` for a real calendar day between 1900 and 2999.
    pub fn parse(text: &str) -> Result<Day> {
        let bad = || Error::BadDay(text.chars().take(40).collect());
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(bad());
        }
        let number = |range: std::ops::Range<usize>| -> Result<u32> {
            let part = &text[range];
            if part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        if !(1900..=2999).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad());
        }
        let year = year as i32;
        if day < 1 || day > u32::from(days_in_month(year, month as u8)) {
            return Err(bad());
        }
        Ok(Day {
            year,
            month: month as u8,
            day: day as u8,
        })
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn to_days(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The day `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Day {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Day { year, month, day }
    }

    /// `YYYY-MM`, the month dimension of aggregates.
    pub fn month_key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// `YYYY-Www`, the ISO 8601 week dimension of aggregates.
    pub fn iso_week_key(self) -> String {
        let days = self.to_days();
        let weekday = (days + 3).rem_euclid(7); // Monday = 0
        let thursday = Day::from_days(days - weekday + 3);
        let jan1 = Day {
            year: thursday.year,
            month: 1,
            day: 1,
        }
        .to_days();
        let week = (thursday.to_days() - jan1) / 7 + 1;
        format!("{:04}-W{:02}", thursday.year, week)
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Day, D::Error> {
        let text = String::deserialize(deserializer)?;
        Day::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_days_only() {
        assert_eq!(
            Day::parse("2026-11-20").map(|d| d.to_string()),
            Ok("2026-11-20".into())
        );
        assert!(Day::parse("2024-02-29").is_ok());
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "26-11-20",
            "2026-11-20T10:00",
            "",
            "abcd-ef-gh",
            "+026-11-20",
        ] {
            assert!(Day::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn day_numbers_round_trip() {
        for days in (-30_000..40_000).step_by(17) {
            assert_eq!(Day::from_days(days).to_days(), days);
        }
        assert_eq!(Day::parse("1970-01-01").map(Day::to_days), Ok(0));
    }

    #[test]
    fn iso_weeks_match_the_calendar() {
        let week = |s: &str| Day::parse(s).map(Day::iso_week_key);
        assert_eq!(week("2026-11-25"), Ok("2026-W48".into()));
        assert_eq!(week("2021-01-03"), Ok("2020-W53".into()));
        assert_eq!(week("2024-12-30"), Ok("2025-W01".into()));
        assert_eq!(Day::parse("2026-11-25").map(Day::month_key), Ok("2026-11".into()));
    }
}
