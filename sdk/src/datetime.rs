//! UTC timestamps as text: UNIX seconds to ISO 8601 / RFC 3339 and back, and a
//! plain display form for notes. No time-zone database: everything is UTC.
//!
//! ```
//! use switchboard_sdk::datetime;
//! assert_eq!(datetime::iso8601(1_732_622_896), "2024-11-26T12:08:16Z");
//! assert_eq!(datetime::parse_rfc3339("2024-11-26T13:08:16.000000+01:00"), Some(1_732_622_896));
//! assert_eq!(datetime::display(1_732_622_896), "2024-11-26 12:08:16 UTC");
//! ```

/// Days since 1970-01-01 for a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

fn parts(secs: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `2024-11-26T12:08:16Z`.
pub fn iso8601(secs: i64) -> String {
    let (y, m, d, h, min, s) = parts(secs);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}Z")
}

/// `2024-11-26 12:08:16 UTC`, for people.
pub fn display(secs: i64) -> String {
    let (y, m, d, h, min, s) = parts(secs);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{s:02} UTC")
}

/// A duration as `1h 02m 03s`, `4m 05s` or `42s`.
pub fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s:02}s"),
        _ => format!("{h}h {m:02}m {s:02}s"),
    }
}

/// UNIX seconds of an RFC 3339 / ISO 8601 date-time (`T` or space separator,
/// optional fraction, `Z`, `±HH:MM`, `±HHMM` or no offset = UTC). `None` when it
/// is not one.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let t = text.trim();
    let num = |s: &str| -> Option<i64> { (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten() };
    let date = t.get(0..10)?;
    let (y, m, d) = (num(date.get(0..4)?)?, num(date.get(5..7)?)?, num(date.get(8..10)?)?);
    if date.as_bytes().get(4) != Some(&b'-') || date.as_bytes().get(7) != Some(&b'-') || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let rest = t.get(10..)?;
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix('t')).or_else(|| rest.strip_prefix(' ')).unwrap_or(rest);
    let (mut secs_of_day, mut rest) = (0i64, rest);
    if !rest.is_empty() && rest.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        let (h, min) = (num(rest.get(0..2)?)?, num(rest.get(3..5)?)?);
        let mut s = 0;
        rest = rest.get(5..)?;
        if let Some(r) = rest.strip_prefix(':') {
            s = num(r.get(0..2)?)?;
            rest = r.get(2..)?;
        }
        if let Some(r) = rest.strip_prefix('.') {
            rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
        }
        if h > 23 || min > 59 || s > 60 {
            return None;
        }
        secs_of_day = h * 3600 + min * 60 + s;
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let r = rest.get(1..)?.replace(':', "");
            if r.len() != 4 {
                return None;
            }
            sign * (num(r.get(0..2)?)? * 3600 + num(r.get(2..4)?)? * 60)
        }
    };
    Some(days_from_civil(y, m, d) * 86_400 + secs_of_day - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for secs in [0, 1, 951_782_400, 1_732_622_896, 4_102_444_800, -86_400] {
            assert_eq!(parse_rfc3339(&iso8601(secs)), Some(secs), "{secs}");
        }
    }

    #[test]
    fn offsets_and_fractions() {
        assert_eq!(parse_rfc3339("2019-06-21T15:34:03.000000+00:00"), parse_rfc3339("2019-06-21T15:34:03Z"));
        assert_eq!(parse_rfc3339("2019-06-21T17:34:03+0200"), parse_rfc3339("2019-06-21T15:34:03Z"));
        assert_eq!(parse_rfc3339("2019-06-21"), parse_rfc3339("2019-06-21T00:00:00Z"));
    }

    #[test]
    fn garbage_is_none() {
        for t in ["", "yesterday", "2019-13-01T00:00:00Z", "2019-06-21T25:00:00Z", "2019-06-21T10:00:00+2", "２０１９-06-21"] {
            assert_eq!(parse_rfc3339(t), None, "{t}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration(42), "42s");
        assert_eq!(duration(245), "4m 05s");
        assert_eq!(duration(3723), "1h 02m 03s");
    }
}
