//! E.164 → the stored formats to search a CRM with.
//!
//! CRMs search phone fields by string, so a connector asks for every form a
//! person may have typed. The list is ordered most likely first (a connector
//! that can afford only a few searches takes a prefix), has no duplicates, and
//! every entry normalises back to the same E.164 number with the number's
//! country as region hint — entries that would not (for instance a seed layout
//! that happens to read as a different valid number) are dropped.
//!
//! 1. The six forms of the Help Scout seed: international with spaces
//!    (`+33 7 62 04 35 75`), international digits (`+33762043575`), national
//!    with spaces (`07 62 04 35 75`), national digits (`0762043575`), the US
//!    local form `(123) 456 7890` for NANP numbers, and the local form without
//!    the trunk zero (`20 8765 3456`, Help Scout's UK example; it is also the
//!    "international without country code" form, `123 456 7890`), with and
//!    without spaces; then libphonenumber's own international form where it
//!    differs (`+1 442-249-7851`).
//! 2. The forms of the Intercom seed found in every country's list: the
//!    country code without `+` (`33762043575`), `00` + country code, the
//!    national groups joined by dots (`07.62.04.35.75`) and dashes
//!    (`442-249-7851`), `+44 (0)20 8765 3456` where the national form is the
//!    trunk zero + the number, and the country code with a space
//!    (`34 911 23 96 13`).
//! 3. The Intercom seed's country-specific layouts ([`seed_layouts`]),
//!    applied to any number of that country with the same length.

use crate::format::{Parsed, Style, international_groups, national_form, parse_e164, render};
use crate::national::itoa;
use crate::{Normalized, PhoneError, normalize};

/// The stored formats to search a CRM with for `e164`, most likely first.
///
/// # Errors
///
/// As [`format()`](crate::format()): `e164` must be a valid E.164 number.
pub fn variants(e164: &str) -> Result<Vec<String>, PhoneError> {
    let parsed = parse_e164(e164)?;
    let hint = Some(parsed.region.id()).filter(|id| *id != "001");
    let mut out: Vec<String> = Vec::with_capacity(24);
    for candidate in candidates(&parsed) {
        if out.contains(&candidate) {
            continue;
        }
        let round_trip = normalize(&candidate, hint);
        if matches!(&round_trip, Ok(Normalized::Number(n)) if *n == parsed.e164) {
            out.push(candidate);
        }
    }
    Ok(out)
}

/// All candidate forms, in order, possibly repeated.
fn candidates(parsed: &Parsed) -> Vec<String> {
    let code = itoa(parsed.code);
    let code = code.as_str();
    let nsn = parsed.nsn();
    let nanp = parsed.code == 1;
    let intl = render(parsed, Style::International);
    let local = international_groups(parsed.main, nsn);
    let local_groups: Vec<&str> = local.split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).collect();
    let local_spaced = local_groups.join(" ");
    let national = national_form(parsed.main, nsn);
    let national_digits: String = national.chars().filter(char::is_ascii_digit).collect();
    let groups: Vec<&str> = national.split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).collect();
    // The national form is the trunk zero + the national significant number
    // (France, UK, Germany…; not Argentina's `0 11 15 …`, not Italy's `06…`
    // whose zero belongs to the number).
    let trunk_zero = parsed.main.national_prefix() == Some("0") && national_digits.strip_prefix('0') == Some(nsn) && !nsn.starts_with('0');

    // 1. Help Scout's six. "International with spaces" is libphonenumber's
    //    grouping with every separator a space (`+1 442 249 7851`, where
    //    libphonenumber writes `+1 442-249-7851`).
    let mut c = vec![format!("+{code} {local_spaced}"), parsed.e164.clone(), national.clone(), national_digits];
    if nanp && let [area, exchange, line] = groups.as_slice() {
        c.push(format!("({area}) {exchange} {line}"));
    }
    c.push(local_spaced.clone());
    c.push(nsn.to_owned());
    // libphonenumber's own international form and its local part.
    c.push(intl);
    c.push(local.clone());

    // 2. Intercom's forms common to every country.
    c.push(format!("{code}{nsn}"));
    if !nanp {
        c.push(format!("00{code}{nsn}"));
    }
    if groups.len() > 1 {
        c.push(groups.join("."));
        c.push(groups.join("-"));
    }
    if trunk_zero {
        c.push(format!("+{code} (0){local}"));
    }
    c.push(format!("{code} {local}"));

    // 3. Intercom's per-country layouts.
    let id = if nanp { "US" } else { parsed.main.id() };
    for layout in seed_layouts(id) {
        if let Some(filled) = fill(layout, nsn) {
            c.push(filled);
        }
    }
    c
}

/// The Intercom seed's country-specific layouts, `#` standing for the digits
/// of the national significant number (applied only when the counts agree).
/// They are the seed's own examples, generalised: e.g. the UK list has
/// `(2087) 653 456` for +44 20 8765 3456, so any 10-digit UK number is also
/// searched as `(####) ### ###`.
pub(crate) fn seed_layouts(region: &str) -> &'static [&'static str] {
    match region {
        "FR" => &["0#.##.##.##.##", "0#-##-##-##-##", "00#########"],
        "US" => &[
            "(###) ###-####",
            "+1 ### ### ####",
            "1 (###) ###-####",
            "###-###-####",
            "### ### ####",
            "+1 ###-###-####",
            "+1 (###) ###-####",
            "0(###)###-####",
        ],
        "GB" => &["(####) ### ###", "(#####) #####", "(#### ##) ####", "00##########"],
        "BR" => &[
            "(##) ####-####",
            "+55 ## #### ####",
            "## ####-####",
            "## ########",
            "##-####-####",
            "##-########",
            "+55 ## ####-####",
            "0(##)####-####",
            "(##) #####-####",
            "## #####-####",
            "+55 ## #####-####",
        ],
        "ES" => &["### ## ## ##", "### ### ###", "34 ### ### ###", "34 #### #####", "0#########"],
        "DE" => &["0### ########", "0####/#######", "0## ### ######", "+49### ########", "00###########"],
        "AU" => &["(0#) #### ####", "(0#)########", "0(0#)########"],
        _ => &[],
    }
}

/// `layout` with its `#`s replaced by the digits of `nsn`, if the counts agree.
fn fill(layout: &str, nsn: &str) -> Option<String> {
    if layout.bytes().filter(|&b| b == b'#').count() != nsn.len() {
        return None;
    }
    let mut digits = nsn.chars();
    layout.chars().map(|c| if c == '#' { digits.next() } else { Some(c) }).collect()
}
