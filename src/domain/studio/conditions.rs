//! Split Based On's conditions: the 17 condition `type`s Studio offers (RJPearson94's
//! terraform provider validates exactly these; twilio/ai widgets.md), with Studio's documented
//! semantics: "Studio conditions are not case-sensitive and automatically trim leading and
//! trailing spaces of the values" (widget-library/split-based-on). Where Studio is silent
//! *(ours)*: `regex` searches the tested value (anchor with `^…$` for a whole match) and an
//! invalid pattern never matches; `less_than`/`greater_than` compare numbers and never match
//! a value that is not one; dates are `YYYY-MM-DD` (a longer ISO 8601 text is cut to its date),
//! times `HH:MM` or `HH:MM:SS` on a 24-hour clock, both compared as written (no timezone is
//! applied to either side); an unknown type never matches.

/// Every condition type Studio knows.
pub const CONDITION_TYPES: [&str; 17] = [
    "equal_to",
    "not_equal_to",
    "matches_any_of",
    "does_not_match_any_of",
    "is_blank",
    "is_not_blank",
    "regex",
    "contains",
    "does_not_contain",
    "starts_with",
    "does_not_start_with",
    "less_than",
    "greater_than",
    "is_before_time",
    "is_after_time",
    "is_before_date",
    "is_after_date",
];

/// Studio's normal form of a compared value: trimmed, case folded.
fn folded(value: &str) -> String {
    value.trim().to_lowercase()
}

/// Whether `tested` (the rendered input) meets condition `kind` with the rendered `value`.
pub fn holds(kind: &str, tested: &str, value: &str) -> bool {
    let (a, v) = (folded(tested), folded(value));
    let any_of = || v.split(',').map(str::trim).any(|choice| choice == a);
    match kind {
        "equal_to" => a == v,
        "not_equal_to" => a != v,
        "matches_any_of" => any_of(),
        "does_not_match_any_of" => !any_of(),
        "is_blank" => a.is_empty(),
        "is_not_blank" => !a.is_empty(),
        "regex" => regex::RegexBuilder::new(value.trim())
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
            .is_ok_and(|re| re.is_match(tested.trim())),
        "contains" => a.contains(&v),
        "does_not_contain" => !a.contains(&v),
        "starts_with" => a.starts_with(&v),
        "does_not_start_with" => !a.starts_with(&v),
        "less_than" => compare(number(&a), number(&v)).is_some_and(|o| o.is_lt()),
        "greater_than" => compare(number(&a), number(&v)).is_some_and(|o| o.is_gt()),
        "is_before_time" => compare(time(&a), time(&v)).is_some_and(|o| o.is_lt()),
        "is_after_time" => compare(time(&a), time(&v)).is_some_and(|o| o.is_gt()),
        "is_before_date" => compare(date(&a), date(&v)).is_some_and(|o| o.is_lt()),
        "is_after_date" => compare(date(&a), date(&v)).is_some_and(|o| o.is_gt()),
        _ => false,
    }
}

fn compare<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Option<std::cmp::Ordering> {
    a?.partial_cmp(&b?)
}

fn number(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// Seconds since midnight of `HH:MM[:SS]`.
fn time(text: &str) -> Option<u32> {
    let mut parts = text.split(':');
    let hour: u32 = parts.next()?.parse().ok()?;
    let minute: u32 = parts.next()?.parse().ok()?;
    let second: u32 = match parts.next() {
        Some(s) => s.parse().ok()?,
        None => 0,
    };
    (parts.next().is_none() && hour < 24 && minute < 60 && second < 60)
        .then_some(hour * 3600 + minute * 60 + second)
}

/// `(year, month, day)` of `YYYY-MM-DD` (or the date part of a longer ISO 8601 text).
fn date(text: &str) -> Option<(u32, u32, u32)> {
    let day_part = text.get(..10)?;
    let mut parts = day_part.split('-');
    let year: u32 = parts.next().filter(|y| y.len() == 4)?.parse().ok()?;
    let month: u32 = parts.next().filter(|m| m.len() == 2)?.parse().ok()?;
    let day: u32 = parts.next().filter(|d| d.len() == 2)?.parse().ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some((year, month, day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_case_insensitive_and_trimmed() {
        let cases: &[(&str, &str, &str, bool)] = &[
            ("equal_to", " YES ", "yes", true),
            ("equal_to", "yes", "no", false),
            ("not_equal_to", "Yes", "YES ", false),
            ("matches_any_of", "Stop", "start, stop ,quit", true),
            ("matches_any_of", "halt", "start,stop", false),
            ("does_not_match_any_of", "halt", "start,stop", true),
            ("is_blank", "   ", "", true),
            ("is_blank", "x", "", false),
            ("is_not_blank", "x", "", true),
            ("regex", "Order 1234", r"^order \d+$", true),
            ("regex", "nope", r"^\d+$", false),
            ("regex", "x", "(", false),
            ("contains", "I want PIZZA now", "pizza", true),
            ("does_not_contain", "salad", "pizza", true),
            ("starts_with", "  Hello there", "hello", true),
            ("does_not_start_with", "Hello", "bye", true),
            ("less_than", "9", "10", true),
            ("less_than", "abc", "10", false),
            ("greater_than", " 10.5 ", "10", true),
            ("is_before_time", "08:30", "09:00", true),
            ("is_after_time", "17:00:01", "17:00", true),
            ("is_before_time", "25:00", "09:00", false),
            ("is_before_date", "2024-01-31", "2024-02-01", true),
            ("is_after_date", "2024-02-01T10:00:00Z", "2024-01-31", true),
            ("is_after_date", "tomorrow", "2024-01-31", false),
            ("no_such_type", "a", "a", false),
        ];
        for (kind, tested, value, want) in cases {
            assert_eq!(
                holds(kind, tested, value),
                *want,
                "{kind} {tested:?} {value:?}"
            );
        }
        assert_eq!(CONDITION_TYPES.len(), 17);
    }
}
