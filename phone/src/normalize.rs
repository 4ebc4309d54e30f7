//! Raw number + region hint → E.164.
//!
//! The standard readings, tried in order, each accepted only if it yields a
//! number that is valid for its calling code:
//!
//! 1. **`+` present**: country code, then the national number (a trunk prefix
//!    such as the `0` of `+44 (0)20 …` is stripped if the number is not valid
//!    with it; Italy's `+39 06 …` is valid with it and keeps it).
//! 2. **With a region hint**, no `+`:
//!    1. the hint country's international prefix (`00` in France, `011` in
//!       the US, `0011` in Australia) followed by country code and number;
//!    2. a national number of the hint's country, trunk prefix stripped
//!       (libphonenumber's rules, including Argentina's mobile `9` token and
//!       Brazil's carrier codes);
//!    3. the hint's country code without `+` (`33762043575`).
//!
//!    Where 2 and 3 are both valid, 3 wins if the hint's country has a trunk
//!    prefix and the digits do not start with it: `4917667402970` in Germany
//!    is +49 176 67402970 (the Intercom seed), not the 13-digit national
//!    number libphonenumber would read — a German typing a national number
//!    types its `0`. Countries without a trunk prefix (Italy, Spain) keep
//!    libphonenumber's preference for the national reading.
//! 3. **Without a hint**, no `+`: an international prefix `00` or `011`
//!    followed by country code and number, or a country code without `+`.
//!
//! When all of them fail, the [repairs](crate::repair) are tried; when those
//! fail too, [`explain`] builds an error from the most natural reading.

use crate::PhoneError;
use crate::anonymous::is_anonymous;
use crate::metadata::{Region, Table, table};
use crate::national::{resolve, strip_national_prefix};
use crate::repair::{international, repair};
use crate::scan::{Dialled, scan};

/// Outcome of normalising a raw number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Normalized {
    /// The number in E.164 form, e.g. `+33762043575`.
    Number(String),
    /// A withheld caller (`anonymous`, `withheld`, empty, no digits…).
    Anonymous,
}

/// Normalises `raw` to E.164, reading national forms as numbers of
/// `region_hint` (an ISO 3166 alpha-2 code such as `FR`; the country of the
/// Aircall number involved, or a configured default).
///
/// Withheld callers give [`Normalized::Anonymous`]; input with digits that is
/// not a valid number gives an error saying why.
///
/// # Errors
///
/// [`PhoneError::UnknownRegion`] for a hint libphonenumber does not know, and
/// the other variants for input that is not a valid number.
pub fn normalize(raw: &str, region_hint: Option<&str>) -> Result<Normalized, PhoneError> {
    let table = table();
    let hint = match region_hint.map(str::trim).filter(|h| !h.is_empty()) {
        Some(h) => Some(table.by_id(h).ok_or_else(|| PhoneError::UnknownRegion(h.to_owned()))?),
        None => None,
    };
    if is_anonymous(raw) {
        return Ok(Normalized::Anonymous);
    }
    let dialled = scan(raw)?;
    if dialled.digits.as_str().is_empty() {
        return Ok(Normalized::Anonymous);
    }
    if let Some(e164) = standard(table, &dialled, hint) {
        return Ok(Normalized::Number(e164));
    }
    if let Some((e164, _repair)) = repair(table, &dialled, hint) {
        return Ok(Normalized::Number(e164));
    }
    Err(explain(table, raw, &dialled, hint))
}

/// The standard readings (see the module documentation), in order.
fn standard(table: &Table, dialled: &Dialled, hint: Option<&Region>) -> Option<String> {
    let digits = dialled.digits.as_str();
    if dialled.plus {
        return international(table, digits);
    }
    let Some(hint) = hint else {
        return ["00", "011"]
            .iter()
            .filter_map(|idd| digits.strip_prefix(idd))
            .find_map(|rest| international(table, rest))
            .or_else(|| international(table, digits));
    };

    let after_idd = hint
        .rules()
        .idd
        .as_ref()
        .and_then(|idd| idd.find(digits))
        .and_then(|m| digits.get(m.end()..))
        .filter(|rest| !rest.starts_with('0'));
    if let Some(e164) = after_idd.and_then(|rest| international(table, rest)) {
        return Some(e164);
    }
    let code = crate::national::itoa(hint.code());
    let after_code = digits.strip_prefix(code.as_str());
    let trunk_prefix_missing = hint.national_prefix().filter(|p| !p.is_empty()).is_some_and(|p| !digits.starts_with(p));
    if trunk_prefix_missing && let Some(e164) = after_code.and_then(|rest| resolve(table, hint, hint.code(), rest)) {
        return Some(e164);
    }
    if let Some(e164) = resolve(table, hint, hint.code(), digits) {
        return Some(e164);
    }
    after_code.and_then(|rest| resolve(table, hint, hint.code(), rest))
}

/// Why no reading worked, judged on the most natural one: the country code
/// after a `+`, else a national number of the hint's country, else a country
/// code without `+`.
fn explain(table: &Table, raw: &str, dialled: &Dialled, hint: Option<&Region>) -> PhoneError {
    let digits = dialled.digits.as_str();
    let (region, code, national) = match hint {
        Some(hint) if !dialled.plus => (hint, hint.code(), digits),
        _ => {
            if !dialled.plus && digits.starts_with('0') {
                return PhoneError::NeedsRegion(raw.to_owned());
            }
            let Some((code, rest)) = table.split_code(digits) else {
                return if dialled.plus { PhoneError::UnknownCountryCode(raw.to_owned()) } else { PhoneError::NeedsRegion(raw.to_owned()) };
            };
            let Some(main) = table.main_for_code(code) else {
                return PhoneError::UnknownCountryCode(raw.to_owned());
            };
            (main, code, rest)
        }
    };
    let lengths = region.possible_lengths();
    let (min, max) = (lengths.first().copied(), lengths.last().copied());
    // As libphonenumber: the stripped number, unless stripping is what made
    // it too short.
    let too_short = |s: &str| min.is_some_and(|min| s.len() < usize::from(min));
    let nsn =
        strip_national_prefix(region, national).filter(|s| !too_short(s) || too_short(national)).unwrap_or_else(|| national.to_owned());
    let label = if hint.is_some() && !dialled.plus {
        region.label()
    } else if table.by_code(code).nth(1).is_some() {
        format!("+{code}")
    } else {
        region.label()
    };
    let length = nsn.len();
    let expected = describe_lengths(lengths);
    match (min, max) {
        (Some(min), _) if length < usize::from(min) => PhoneError::TooShort { region: label, national: nsn, length, expected },
        (_, Some(max)) if length > usize::from(max) => PhoneError::TooLong { region: label, national: nsn, length, expected },
        _ => PhoneError::InvalidForRegion { region: label, national: nsn },
    }
}

/// `9`, `10 or 11`, `5 to 8`, `4, 6 or 9` — for error messages.
fn describe_lengths(lengths: &[u16]) -> String {
    let mut sorted = lengths.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    match sorted.as_slice() {
        [] => "any length".to_owned(),
        [one] => one.to_string(),
        [first, .., last] if usize::from(last - first) + 1 == sorted.len() && sorted.len() > 2 => {
            format!("{first} to {last}")
        }
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(u16::to_string).collect();
            format!("{} or {last}", init.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::describe_lengths;

    #[test]
    fn lengths_read_naturally() {
        assert_eq!(describe_lengths(&[9]), "9");
        assert_eq!(describe_lengths(&[10, 11]), "10 or 11");
        assert_eq!(describe_lengths(&[5, 6, 7, 8]), "5 to 8");
        assert_eq!(describe_lengths(&[4, 6, 9]), "4, 6 or 9");
    }
}
