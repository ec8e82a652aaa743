//! Timestamps. Stored as Unix seconds; shown in the two wire formats Twilio uses (API.md §1.5):
//! v1/v2 `2019-12-16T22:18:37Z` (the SDKs parse exactly `%Y-%m-%dT%H:%M:%SZ`) and 2010
//! `Thu, 30 Jul 2015 20:00:00 +0000` (RFC 2822 with a literal `+0000`, not `GMT`).

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Unix milliseconds (the webhook queue's clock).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Broken-down UTC time.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    weekday: u32, // 0 = Sunday
}

/// Howard Hinnant's `civil_from_days`, exact for the proleptic Gregorian calendar.
fn civil(ts: i64) -> Civil {
    let days = ts.div_euclid(86_400);
    let secs = ts.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (secs / 3600) as u32,
        minute: (secs % 3600 / 60) as u32,
        second: (secs % 60) as u32,
        weekday: (days + 4).rem_euclid(7) as u32,
    }
}

/// Howard Hinnant's `days_from_civil`: the inverse of `civil`'s date part.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses exactly the v1/v2 form `2019-12-16T22:18:37Z` (fixture dates); anything else is
/// `None`, including impossible dates such as February 30.
pub fn parse_iso8601(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z';
    if !shape_ok {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 59 || day < 1 {
        return None;
    }
    let ts = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    // Round-tripping rejects days past the month's end.
    (iso8601(ts) == text).then_some(ts)
}

/// Parses an ISO 8601 date-time as list filters receive it (`DateCreatedFrom`: the libraries
/// send `2019-12-16T22:18:37Z`, the spec describes `YYYY-MM-DDThh:mm:ss-hh:mm`): `Z` or a
/// `±hh:mm`/`±hhmm` offset, optional fractional seconds (dropped), or a bare date (midnight
/// UTC). `None` for anything else.
pub fn parse_iso8601_any(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.len() == 10 {
        return parse_iso8601(&format!("{text}T00:00:00Z"));
    }
    let (clock, offset_secs) = if let Some(clock) = text.strip_suffix('Z') {
        (clock, 0)
    } else {
        let split = text
            .len()
            .checked_sub(6)
            .filter(|&i| text.is_char_boundary(i))?;
        let (clock, offset) = if text[split..].contains(':') {
            (&text[..split], text[split..].replace(':', ""))
        } else {
            let split = text
                .len()
                .checked_sub(5)
                .filter(|&i| text.is_char_boundary(i))?;
            (&text[..split], text[split..].to_owned())
        };
        let sign = match offset.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let digits = offset.get(1..)?;
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let hours: i64 = digits[..2].parse().ok()?;
        let minutes: i64 = digits[2..].parse().ok()?;
        (clock, sign * (hours * 3600 + minutes * 60))
    };
    let whole = match clock.split_once('.') {
        Some((whole, fraction))
            if !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()) =>
        {
            whole
        }
        Some(_) => return None,
        None => clock,
    };
    parse_iso8601(&format!("{whole}Z")).map(|ts| ts - offset_secs)
}

/// `2019-12-16T22:18:37Z` (v1/v2 `date-time`).
///
/// Written digit by digit into a fixed buffer rather than through `format!`: every resource
/// carries two or three dates, and `format!`'s machinery was 11 % of a 50-item list page's CPU
/// (session 8's profile). Years outside 0–9999 take `format!`, as before.
pub fn iso8601(ts: i64) -> String {
    let c = civil(ts);
    let year = u16::try_from(c.year).ok().filter(|&y| y <= 9999);
    let Some(year) = year else {
        return iso8601_by_format(&c);
    };
    let mut out = *b"0000-00-00T00:00:00Z";
    four_digits(&mut out[0..4], year);
    two_digits(&mut out[5..7], c.month);
    two_digits(&mut out[8..10], c.day);
    two_digits(&mut out[11..13], c.hour);
    two_digits(&mut out[14..16], c.minute);
    two_digits(&mut out[17..19], c.second);
    ascii(&out)
}

/// `iso8601` through `format!`: the years the fixed buffer has no room for.
fn iso8601_by_format(c: &Civil) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// `rfc2822` through `format!`: the years the fixed buffer has no room for.
fn rfc2822_by_format(c: &Civil) -> String {
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
        DAYS[c.weekday as usize],
        c.day,
        MONTHS[(c.month - 1) as usize],
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// `value` (< 100) as two ASCII digits.
fn two_digits(out: &mut [u8], value: u32) {
    out[0] = b'0' + (value / 10 % 10) as u8;
    out[1] = b'0' + (value % 10) as u8;
}

/// `value` (< 10,000) as four ASCII digits.
fn four_digits(out: &mut [u8], value: u16) {
    let value = u32::from(value);
    two_digits(&mut out[0..2], value / 100);
    two_digits(&mut out[2..4], value % 100);
}

/// The buffer the formatters filled with ASCII only.
fn ascii(bytes: &[u8]) -> String {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .unwrap_or_default()
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Thu, 30 Jul 2015 20:00:00 +0000` (2010 `date-time-rfc-2822`). Written into a fixed buffer
/// like `iso8601`, for the same reason.
pub fn rfc2822(ts: i64) -> String {
    let c = civil(ts);
    let year = u16::try_from(c.year).ok().filter(|&y| y <= 9999);
    let Some(year) = year else {
        return rfc2822_by_format(&c);
    };
    let mut out = *b"Sun, 00 Jan 0000 00:00:00 +0000";
    out[0..3].copy_from_slice(DAYS[c.weekday as usize].as_bytes());
    two_digits(&mut out[5..7], c.day);
    out[8..11].copy_from_slice(MONTHS[(c.month - 1) as usize].as_bytes());
    four_digits(&mut out[12..16], year);
    two_digits(&mut out[17..19], c.hour);
    two_digits(&mut out[20..22], c.minute);
    two_digits(&mut out[23..25], c.second);
    ascii(&out)
}

/// `2015-07-30 08:00 pm`: the spec's default subaccount name is
/// `SubAccount Created at {YYYY-MM-DD HH:MM meridian}`.
pub fn meridian(ts: i64) -> String {
    let c = civil(ts);
    let (hour, half) = match c.hour {
        0 => (12, "am"),
        h @ 1..=11 => (h, "am"),
        12 => (12, "pm"),
        h => (h - 12, "pm"),
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} {}",
        c.year, c.month, c.day, hour, c.minute, half
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_dates_take_offsets_fractions_and_bare_dates() {
        let base = parse_iso8601("2024-03-01T10:00:00Z").unwrap();
        assert_eq!(parse_iso8601_any("2024-03-01T10:00:00Z"), Some(base));
        assert_eq!(parse_iso8601_any("2024-03-01T12:00:00+02:00"), Some(base));
        assert_eq!(parse_iso8601_any("2024-03-01T05:00:00-0500"), Some(base));
        assert_eq!(parse_iso8601_any("2024-03-01T10:00:00.123Z"), Some(base));
        assert_eq!(parse_iso8601_any("2024-03-01"), Some(base - 36_000));
        for bad in [
            "",
            "yesterday",
            "2024-03-01T10:00:00",
            "2024-02-30T00:00:00Z",
        ] {
            assert_eq!(parse_iso8601_any(bad), None, "{bad}");
        }
    }

    /// The digit-by-digit formatters write exactly what `format!` writes (and wrote before them).
    #[test]
    fn the_wire_formats_match_the_format_macro_across_the_calendar() {
        let mut ts = -62_167_219_200; // 0000-01-01T00:00:00Z
        while ts < 253_402_300_800 + 86_400 * 400 {
            let c = civil(ts);
            assert_eq!(iso8601(ts), iso8601_by_format(&c));
            assert_eq!(rfc2822(ts), rfc2822_by_format(&c));
            ts += 86_400 * 7 + 3_723; // a week, an hour, two minutes, three seconds
        }
        assert_eq!(iso8601(1_450_000_000), "2015-12-13T09:46:40Z");
        assert_eq!(rfc2822(1_438_286_400), "Thu, 30 Jul 2015 20:00:00 +0000");
    }

    #[test]
    fn parse_iso8601_inverts_iso8601_and_refuses_impossible_dates() {
        for ts in [0, 1_450_000_000, 951_782_400, 4_102_444_799] {
            assert_eq!(parse_iso8601(&iso8601(ts)), Some(ts));
        }
        assert_eq!(parse_iso8601("2000-02-29T00:00:00Z"), Some(951_782_400));
        assert_eq!(parse_iso8601("2001-02-29T00:00:00Z"), None);
        assert_eq!(parse_iso8601("2019-12-16 22:18:37Z"), None);
        assert_eq!(parse_iso8601("2019-12-16T24:00:00Z"), None);
        assert_eq!(parse_iso8601("2019-12-16T22:18:37+00:00"), None);
    }

    #[test]
    fn formats_match_the_spec_examples() {
        // 2015-07-30T20:00:00Z, the spec's example date for accounts.
        assert_eq!(rfc2822(1_438_286_400), "Thu, 30 Jul 2015 20:00:00 +0000");
        assert_eq!(iso8601(1_438_286_400), "2015-07-30T20:00:00Z");
        assert_eq!(meridian(1_438_286_400), "2015-07-30 08:00 pm");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc2822(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
    }
}
