//! E.164 → display forms, with libphonenumber's formatting rules.
//!
//! The rules are those of the main region of the calling code (as in
//! libphonenumber): the first format whose leading digits match the start of
//! the national significant number and whose pattern matches all of it. In
//! the national style the format's national prefix rule adds the trunk prefix
//! (`07 62 04 35 75`), or Argentina's `0… 15` mobile form.

use crate::PhoneError;
use crate::metadata::{Format, Region, table};
use crate::national::{expand, itoa};
use crate::repair::international;
use crate::scan::scan;

/// How to write a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Style {
    /// `+33762043575`.
    E164,
    /// `+33 7 62 04 35 75`.
    International,
    /// `07 62 04 35 75`, as dialled within the country.
    National,
    /// `tel:+33-7-62-04-35-75` (RFC 3966).
    Rfc3966,
}

/// A valid E.164 number taken apart.
pub(crate) struct Parsed {
    /// Canonical E.164 form.
    pub e164: String,
    /// Calling code.
    pub code: u16,
    /// The region the number is valid in.
    pub region: &'static Region,
    /// Main region of the calling code (whose formats apply).
    pub main: &'static Region,
}

impl Parsed {
    /// National significant number.
    pub(crate) fn nsn(&self) -> &str {
        let skip = 1 + itoa(self.code).as_str().len();
        self.e164.get(skip..).unwrap_or("")
    }
}

/// Parses an E.164 number (`+` required; separators tolerated).
pub(crate) fn parse_e164(input: &str) -> Result<Parsed, PhoneError> {
    let table = table();
    let dialled = scan(input)?;
    let digits = dialled.digits.as_str();
    if digits.is_empty() {
        return Err(PhoneError::NoDigits(input.to_owned()));
    }
    if !dialled.plus {
        return Err(PhoneError::NotE164(input.to_owned()));
    }
    let not_valid = || match crate::normalize(input, None) {
        Err(e) => e,
        Ok(_) => PhoneError::NotE164(input.to_owned()),
    };
    let e164 = international(table, digits).ok_or_else(not_valid)?;
    let (code, nsn) = e164.get(1..).and_then(|d| table.split_code(d)).ok_or_else(not_valid)?;
    let region = table.region_for(code, nsn).ok_or_else(not_valid)?;
    let main = table.main_for_code(code).ok_or_else(not_valid)?;
    Ok(Parsed { e164, code, region, main })
}

/// Formats a valid E.164 number for display.
///
/// # Errors
///
/// [`PhoneError::NotE164`] when `e164` does not start with `+`, and the
/// normalisation errors when it is not a valid number.
pub fn format(e164: &str, style: Style) -> Result<String, PhoneError> {
    let parsed = parse_e164(e164)?;
    Ok(render(&parsed, style))
}

/// Renders a parsed number in `style`.
pub(crate) fn render(parsed: &Parsed, style: Style) -> String {
    let code = itoa(parsed.code);
    let nsn = parsed.nsn();
    match style {
        Style::E164 => parsed.e164.clone(),
        Style::International => format!("+{} {}", code.as_str(), international_groups(parsed.main, nsn)),
        Style::National => national_form(parsed.main, nsn),
        Style::Rfc3966 => {
            let grouped = international_groups(parsed.main, nsn);
            let dashed: Vec<&str> = grouped.split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).collect();
            format!("tel:+{}-{}", code.as_str(), dashed.join("-"))
        }
    }
}

/// The national significant number grouped as in the international format
/// (`7 62 04 35 75`), or plain when no format applies.
pub(crate) fn international_groups(main: &Region, nsn: &str) -> String {
    let formats = main.formats();
    let list = if formats.international.is_empty() { &formats.national } else { &formats.international };
    choose(list, nsn).map_or_else(|| nsn.to_owned(), |f| apply(f, nsn, None))
}

/// The national format (`07 62 04 35 75`, `(442) 249-7851`,
/// `011 15-2345-6789`), or the plain number when no format applies.
pub(crate) fn national_form(main: &Region, nsn: &str) -> String {
    let formats = main.formats();
    choose(&formats.national, nsn).map_or_else(|| nsn.to_owned(), |f| apply(f, nsn, f.national_rule.as_deref()))
}

fn choose<'f>(formats: &'f [Format], nsn: &str) -> Option<&'f Format> {
    formats.iter().find(|f| f.applies(nsn))
}

/// Applies `format`, first replacing its first group reference with the
/// national prefix rule when one is given (libphonenumber's
/// `formatNsnUsingPattern`).
fn apply(format: &Format, nsn: &str, national_rule: Option<&str>) -> String {
    let Some(caps) = format.pattern().and_then(|p| p.captures(nsn)) else {
        return nsn.to_owned();
    };
    let mut template = format.template().to_owned();
    if let Some(rule) = national_rule
        && let Some(at) = template.find('$').filter(|&i| template.as_bytes().get(i + 1).is_some_and(u8::is_ascii_digit))
        && let Some(token) = template.get(at..at + 2).map(str::to_owned)
    {
        template.replace_range(at..at + 2, &rule.replace("$FG", &token));
    }
    let mut out = String::with_capacity(nsn.len() + 8);
    expand(&template, &caps, &mut out);
    out
}
