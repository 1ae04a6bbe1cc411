//! Deprecation rules: a newly deprecated operation, parameter or property needs a readable
//! sunset (far enough ahead under a policy), and a sunset may only move later.

use serde_json::Value;

use super::Differ;
use crate::rules;

/// A date at the start of a sunset value (`2027-06-01` or an RFC 3339 timestamp).
pub(super) fn sunset_date(v: &Value) -> Result<Option<time::Date>, String> {
    let Some(s) = v.as_str() else {
        return if v.is_null() {
            Ok(None)
        } else {
            Err(format!("x-sunset {v} is not a date"))
        };
    };
    date_prefix(s)
        .map(Some)
        .ok_or_else(|| format!("x-sunset {s:?} is not a date (YYYY-MM-DD)"))
}

/// The YYYY-MM-DD date `s` starts with.
pub(super) fn date_prefix(s: &str) -> Option<time::Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    s.get(..10).and_then(|d| time::Date::parse(d, format).ok())
}

impl Differ<'_> {
    /// Something (`what`) was deprecated in `rev` and not in `base`: its sunset must be
    /// readable, and with a policy, present and far enough ahead.
    pub(super) fn new_deprecation(&mut self, pointer: &str, what: &str, rev: &Value) {
        let days = self.options.min_sunset_days;
        match sunset_date(&rev["x-sunset"]) {
            Err(e) => self.push(
                rules::DEPRECATION_SUNSET_INVALID,
                pointer.to_owned(),
                format!("{what} is deprecated, but {e}"),
                "write the sunset as YYYY-MM-DD",
            ),
            Ok(None) if days > 0 => self.push(
                rules::DEPRECATION_SUNSET_INVALID,
                pointer.to_owned(),
                format!("{what} is deprecated without an x-sunset date"),
                &format!("give it an x-sunset at least {days} days ahead"),
            ),
            Ok(Some(date)) if days > 0 => {
                if let Some(today) = self.today
                    && date < today + time::Duration::days(i64::from(days))
                {
                    self.push(
                        rules::DEPRECATION_SUNSET_INVALID,
                        pointer.to_owned(),
                        format!("{what} is deprecated with a sunset ({date}) less than {days} days ahead"),
                        &format!("give it an x-sunset at least {days} days ahead"),
                    );
                }
            }
            Ok(_) => {}
        }
    }

    /// Both sides deprecated: a sunset may move later, never earlier or away.
    pub(super) fn sunset_kept(&mut self, pointer: &str, what: &str, base: &Value, rev: &Value) {
        let (before, after) = (
            sunset_date(&base["x-sunset"]),
            sunset_date(&rev["x-sunset"]),
        );
        let before = match (before, &after) {
            (Ok(Some(before)), _) => before,
            (Ok(None), Ok(Some(after))) => {
                return self.note(
                    rules::SUNSET_ADDED,
                    pointer.to_owned(),
                    format!("{what} now has a sunset: {after}"),
                );
            }
            _ => return,
        };
        match after {
            Ok(Some(after)) if after > before => self.note(
                rules::SUNSET_MOVED_LATER,
                pointer.to_owned(),
                format!("{what}'s sunset moved from {before} to {after}"),
            ),
            Ok(Some(after)) if after == before => {}
            Ok(Some(after)) => self.push(
                rules::SUNSET_MOVED_EARLIER,
                pointer.to_owned(),
                format!("{what}'s sunset moved from {before} to {after}"),
                "keep the promised sunset (or move it later)",
            ),
            _ => self.push(
                rules::SUNSET_MOVED_EARLIER,
                pointer.to_owned(),
                format!("{what}'s sunset ({before}) was removed"),
                "keep the promised sunset",
            ),
        }
    }
}
