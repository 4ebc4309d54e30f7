//! Repairs: readings of malformed input that plain libphonenumber parsing
//! rejects, tried only after every standard reading failed.
//!
//! Each repair is accepted only if it yields a number that is *valid* for the
//! calling code concerned, and they are tried in the order of [`Repair`]. Because
//! they run last, they never change the result for input that parses
//! normally — an Italian `06 1234 5678` or an Argentine `011 15 2345-6789` is
//! read by the standard rules before any repair is considered.

use crate::metadata::{Region, Table};
use crate::national::resolve;
use crate::scan::Dialled;

/// The repairs, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repair {
    /// `+` followed by an international prefix: `+0033 7 62 04 35 75`,
    /// `+00 44 …`. The `00` is dropped and the rest read as country code and
    /// number.
    PlusThenIdd,
    /// One or two superfluous leading zeros before a national number of the
    /// hint's country. This single rule covers every zero-related form of the
    /// Intercom seed, which are indistinguishable digit-wise:
    /// - a doubled trunk zero: `00762043575` (FR, 0 + 0762043575),
    ///   `0(02)81032081` (AU, 0 + 02 8103 2081);
    /// - a European trunk zero typed for a country without one:
    ///   `0(442)249-7851` (US), `0911239613` (Spain);
    /// - an international `00` followed by the national number *without* the
    ///   country code: `002087653456` (UK), `0017667402970` (Germany).
    ///
    /// The zeros are dropped one at a time and the rest read as a national
    /// number of the hint's country (trunk prefix stripped if present).
    ExtraLeadingZero,
    /// `00` used as the international prefix with a hint whose own prefix is
    /// different: `0033 7 62 04 35 75` stored in a contact of a US account
    /// (the US dials `011`).
    ForeignDoubleZero,
    /// A foreign country code without `+`, when the digits are too long to be
    /// a national number of the hint's country: `4917667402970` with a French
    /// hint.
    ForeignCountryCode,
}

/// Tries the repairs in order; the E.164 number and the repair that produced
/// it.
pub(crate) fn repair(table: &Table, dialled: &Dialled, hint: Option<&Region>) -> Option<(String, Repair)> {
    let digits = dialled.digits.as_str();

    if dialled.plus {
        return digits.strip_prefix("00").and_then(|rest| international(table, rest)).map(|e| (e, Repair::PlusThenIdd));
    }
    let hint = hint?;

    let mut rest = digits;
    for _ in 0..2 {
        let Some(after) = rest.strip_prefix('0') else {
            break;
        };
        rest = after;
        if let Some(e) = resolve(table, hint, hint.code(), rest) {
            return Some((e, Repair::ExtraLeadingZero));
        }
    }

    if let Some(e) = digits.strip_prefix("00").and_then(|rest| international(table, rest)) {
        return Some((e, Repair::ForeignDoubleZero));
    }

    let longest = hint.possible_lengths().iter().copied().max().map_or(0, usize::from);
    let trunk = hint.national_prefix().map_or(0, str::len);
    if digits.len() > longest + trunk {
        return international(table, digits).map(|e| (e, Repair::ForeignCountryCode));
    }
    None
}

/// Reads `digits` as country code followed by a national number.
pub(crate) fn international(table: &Table, digits: &str) -> Option<String> {
    let (code, rest) = table.split_code(digits)?;
    let main = table.main_for_code(code)?;
    resolve(table, main, code, rest)
}
