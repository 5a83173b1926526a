//! Times and durations as the site and its JSON spell them: always UTC, always
//! explicit, never "local time" (the pages are static and read from anywhere).

use jiff::Timestamp;

/// ISO 8601 in UTC with seconds (`2026-09-22T13:46:40Z`); `None` outside jiff's range.
pub(crate) fn iso(unix: i64) -> Option<String> {
    let at = Timestamp::from_second(unix).ok()?;
    Some(at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// For people: `2026-09-22 13:46 UTC`; the raw number when out of range.
pub(crate) fn human(unix: i64) -> String {
    match Timestamp::from_second(unix) {
        Ok(at) => at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => unix.to_string(),
    }
}

/// Just the day: `2026-09-22`.
pub(crate) fn day(unix: i64) -> String {
    match Timestamp::from_second(unix) {
        Ok(at) => at.strftime("%Y-%m-%d").to_string(),
        Err(_) => unix.to_string(),
    }
}

/// A duration in its two largest units: `3 d 4 h`, `2 h 5 min`, `40 s`.
pub(crate) fn duration(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    if d > 0 {
        format!("{sign}{d} d {h} h")
    } else if h > 0 {
        format!("{sign}{h} h {m} min")
    } else if m > 0 {
        format!("{sign}{m} min")
    } else {
        format!("{sign}{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_spelled_in_utc() {
        assert_eq!(iso(1_790_000_000).as_deref(), Some("2026-09-21T14:13:20Z"));
        assert_eq!(human(1_790_000_000), "2026-09-21 14:13 UTC");
        assert_eq!(day(0), "1970-01-01");
    }

    #[test]
    fn out_of_range_times_do_not_panic() {
        assert_eq!(iso(i64::MAX), None);
        assert_eq!(human(i64::MIN), i64::MIN.to_string());
    }

    #[test]
    fn durations_keep_their_two_largest_units() {
        assert_eq!(duration(3 * 86_400 + 4 * 3600 + 59), "3 d 4 h");
        assert_eq!(duration(2 * 3600 + 5 * 60), "2 h 5 min");
        assert_eq!(duration(40), "40 s");
        assert_eq!(duration(-120), "-2 min");
    }
}
