//! The `datetime` module conda-build (and cf-scripts) put into the Jinja context, as far
//! as recipes use it: `datetime.datetime.utcnow().strftime('%Y.%m.%d')`,
//! `datetime.datetime.now()`, `datetime.date.today()` and the date fields.
//!
//! Times are UTC (the sandbox has no time zone), computed from the system clock.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use minijinja::value::{Object, ObjectRepr};
use minijinja::{Error, ErrorKind, State, Value};

/// The `datetime` module value.
pub(super) fn datetime_module() -> Value {
    Value::from_object(Module)
}

/// `datetime` (the module).
#[derive(Debug)]
struct Module;

impl Object for Module {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "datetime" => Some(Value::from_object(Class { date_only: false })),
            "date" => Some(Value::from_object(Class { date_only: true })),
            _ => None,
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<module 'datetime'>")
    }
}

/// `datetime.datetime` or `datetime.date`.
#[derive(Debug)]
struct Class {
    date_only: bool,
}

impl Object for Class {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "now" | "utcnow" | "today" => Ok(Value::from_object(Stamp::now(self.date_only))),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.date_only {
            "<class 'datetime.date'>"
        } else {
            "<class 'datetime.datetime'>"
        })
    }
}

/// A point in time, broken down in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    date_only: bool,
}

impl Stamp {
    fn now(date_only: bool) -> Stamp {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Stamp::from_unix(i64::try_from(secs).unwrap_or(0), date_only)
    }

    /// Breaks Unix seconds into a civil UTC date (Howard Hinnant's `civil_from_days`).
    fn from_unix(secs: i64, date_only: bool) -> Stamp {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Stamp {
            year,
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
            hour: u32::try_from(rem / 3600).unwrap_or(0),
            minute: u32::try_from(rem % 3600 / 60).unwrap_or(0),
            second: u32::try_from(rem % 60).unwrap_or(0),
            date_only,
        }
    }

    /// Python's `strftime` for the numeric directives; others are kept as written.
    fn strftime(&self, format: &str) -> String {
        let mut out = String::with_capacity(format.len() + 8);
        let mut chars = format.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('Y') => out.push_str(&format!("{:04}", self.year)),
                Some('y') => out.push_str(&format!("{:02}", self.year.rem_euclid(100))),
                Some('m') => out.push_str(&format!("{:02}", self.month)),
                Some('d') => out.push_str(&format!("{:02}", self.day)),
                Some('H') => out.push_str(&format!("{:02}", self.hour)),
                Some('M') => out.push_str(&format!("{:02}", self.minute)),
                Some('S') => out.push_str(&format!("{:02}", self.second)),
                Some('%') => out.push('%'),
                Some(other) => {
                    out.push('%');
                    out.push(other);
                }
                None => out.push('%'),
            }
        }
        out
    }
}

impl Object for Stamp {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "year" => Value::from(self.year),
            "month" => Value::from(self.month),
            "day" => Value::from(self.day),
            "hour" => Value::from(self.hour),
            "minute" => Value::from(self.minute),
            "second" => Value::from(self.second),
            _ => return None,
        })
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "strftime" => {
                let format = args.first().and_then(Value::as_str).unwrap_or("");
                Ok(Value::from(self.strftime(format)))
            }
            "isoformat" => Ok(Value::from(self.to_string().replace(' ', "T"))),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)?;
        if !self.date_only {
            write!(f, " {:02}:{:02}:{:02}", self.hour, self.minute, self.second)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_break_into_a_civil_date() {
        // 2024-02-29 13:45:07 UTC
        let stamp = Stamp::from_unix(1_709_214_307, false);
        assert_eq!(stamp.to_string(), "2024-02-29 13:45:07");
        assert_eq!(stamp.strftime("%Y.%m.%d.%H.%M.%S"), "2024.02.29.13.45.07");
    }

    #[test]
    fn epoch_is_the_first_of_january_1970() {
        assert_eq!(Stamp::from_unix(0, true).to_string(), "1970-01-01");
    }

    #[test]
    fn utcnow_strftime_renders_like_the_pinning_recipe() {
        let env = minijinja::Environment::new();
        let ctx = minijinja::context! { datetime => datetime_module() };
        let out = env
            .render_str(
                "{{ datetime.datetime.utcnow().strftime('%Y.%m.%d.%H.%M.%S') }}",
                ctx,
            )
            .unwrap();
        let parts: Vec<&str> = out.split('.').collect();
        assert_eq!(parts.len(), 6, "{out}");
        assert!(parts[0].parse::<i64>().unwrap() >= 2025);
    }
}
