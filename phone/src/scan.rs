//! Reading the digits out of whatever people type.
//!
//! A CRM field holds spaces, dots, dashes, slashes, brackets, a leading `+`,
//! sometimes an extension (`x12`, `ext. 12`, `#12`) or a `tel:` URI. This
//! module reduces all of that to "was there a leading plus" and "which
//! digits", without allocating: the digits live in a fixed buffer, because no
//! dialable number has more than [`MAX_DIGITS`] of them.
//!
//! Interpretation (country codes, trunk prefixes, repairs) happens later, in
//! [`crate::normalize`] and [`crate::repair`].

use crate::PhoneError;

/// The most digits accepted: 15 for an E.164 number plus a 4-digit
/// international prefix (`0011` from Australia) and one stray trunk zero.
pub(crate) const MAX_DIGITS: usize = 20;

/// The digits of a raw number, ASCII, in a fixed buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Digits {
    buf: [u8; MAX_DIGITS],
    len: usize,
}

impl Digits {
    const fn new() -> Self {
        Self { buf: [0; MAX_DIGITS], len: 0 }
    }

    /// Appends one ASCII digit; `false` when the buffer is full.
    fn push(&mut self, digit: u8) -> bool {
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = digit;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// The digits as a string slice (always ASCII digits).
    pub(crate) fn as_str(&self) -> &str {
        self.buf.get(..self.len).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("")
    }
}

impl std::fmt::Debug for Digits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A raw number reduced to its parts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialled {
    /// A `+` (or a `tel:` URI's `phone-context=+…`) came before the digits.
    pub plus: bool,
    /// All digits, in order, separators removed.
    pub digits: Digits,
}

/// The value of a decimal digit in ASCII, full-width, Arabic-Indic or Eastern
/// Arabic-Indic script (what libphonenumber accepts too).
pub(crate) fn digit_value(c: char) -> Option<u8> {
    let base = match c {
        '0'..='9' => '0',
        '\u{FF10}'..='\u{FF19}' => '\u{FF10}',
        '\u{0660}'..='\u{0669}' => '\u{0660}',
        '\u{06F0}'..='\u{06F9}' => '\u{06F0}',
        _ => return None,
    };
    u8::try_from(u32::from(c) - u32::from(base)).ok()
}

/// Characters that separate digit groups and carry no meaning.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '.' | '-'
                | '/'
                | '('
                | ')'
                | '['
                | ']'
                | '~'
                | '\u{2010}'..='\u{2015}'
                | '\u{2212}'
                | '\u{30FC}'
                | '\u{FF0D}'..='\u{FF0F}'
                | '\u{FF08}'
                | '\u{FF09}'
                | '\u{FF3B}'
                | '\u{FF3D}'
                | '\u{00AD}'
                | '\u{200B}'
                | '\u{2060}'
                | '\u{2053}'
                | '\u{223C}'
                | '\u{FF5E}'
        )
}

fn is_plus(c: char) -> bool {
    c == '+' || c == '\u{FF0B}'
}

/// Whether `rest` (starting at the first non-number character after some
/// digits) is an extension: `x12`, `ext 12`, `ext. 12`, `extension 12`,
/// `#12`, `;ext=12`, `, 12`. Extensions are dropped: a CRM search is by
/// number.
fn is_extension(rest: &str) -> bool {
    const MARKERS: &[&str] = &[";ext=", "extension", "ext.", "ext", "x", "#", ","];
    let lower = rest.trim_start();
    let Some(after) =
        MARKERS.iter().find_map(|m| lower.get(..m.len()).filter(|head| head.eq_ignore_ascii_case(m)).and_then(|_| lower.get(m.len()..)))
    else {
        return false;
    };
    let body = after.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '.' | ':' | '='));
    let body = body.trim_end_matches(|c: char| c.is_whitespace() || c == '#');
    !body.is_empty() && body.chars().all(|c| digit_value(c).is_some())
}

/// Splits a `tel:` URI (RFC 3966) into its number and the digits of a
/// `phone-context=+…` parameter, if any. Other parameters (`ext`, `isub`,
/// domain contexts) are dropped.
fn split_tel_uri(raw: &str) -> (&str, Option<&str>) {
    let body = match raw.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("tel:") => raw.get(4..).unwrap_or(""),
        _ => return (raw, None),
    };
    let mut parts = body.split(';');
    let number = parts.next().unwrap_or("");
    let context = parts.find_map(|p| {
        let (key, value) = p.split_once('=')?;
        (key.trim().eq_ignore_ascii_case("phone-context") && value.trim_start().starts_with('+')).then_some(value.trim())
    });
    (number, context)
}

/// Reads the plus and the digits of `raw`.
///
/// Errors on characters that cannot belong to a number (letters other than an
/// extension marker, a `+` after digits, …) and on more than [`MAX_DIGITS`]
/// digits. Input without digits yields empty digits; callers treat that as
/// anonymous.
pub(crate) fn scan(raw: &str) -> Result<Dialled, PhoneError> {
    let (number, context) = split_tel_uri(raw.trim());
    let mut out = Dialled { plus: false, digits: Digits::new() };
    let mut count = 0usize;

    if let Some(context) = context {
        // `tel:0762043575;phone-context=+33` means +33 0762043575: the context
        // is the prefix; the national handling strips the trunk zero.
        push_digits(context, &mut out, &mut count, raw)?;
        out.plus = true;
    }

    for (index, c) in number.char_indices() {
        if let Some(d) = digit_value(c) {
            count += 1;
            if !out.digits.push(b'0' + d) {
                continue; // keep counting for the error message
            }
        } else if is_plus(c) {
            if count > 0 || context.is_some() {
                return Err(invalid(raw, c));
            }
            out.plus = true;
        } else if is_separator(c) {
        } else if count > 0 && is_extension(number.get(index..).unwrap_or("")) {
            break;
        } else {
            return Err(invalid(raw, c));
        }
    }
    if count > MAX_DIGITS {
        return Err(PhoneError::TooManyDigits { digits: count });
    }
    Ok(out)
}

fn push_digits(text: &str, out: &mut Dialled, count: &mut usize, raw: &str) -> Result<(), PhoneError> {
    for c in text.chars() {
        if let Some(d) = digit_value(c) {
            *count += 1;
            out.digits.push(b'0' + d);
        } else if !(is_plus(c) || is_separator(c)) {
            return Err(invalid(raw, c));
        }
    }
    Ok(())
}

fn invalid(raw: &str, character: char) -> PhoneError {
    PhoneError::InvalidCharacter { input: raw.to_owned(), character }
}

#[cfg(test)]
mod tests {
    use super::scan;

    fn parts(raw: &str) -> (bool, String) {
        match scan(raw) {
            Ok(d) => (d.plus, d.digits.as_str().to_owned()),
            Err(e) => panic!("{raw:?}: {e}"),
        }
    }

    #[test]
    fn separators_are_dropped() {
        assert_eq!(parts("07.62.04.35.75"), (false, "0762043575".into()));
        assert_eq!(parts("+1 (442) 249-7851"), (true, "14422497851".into()));
        assert_eq!(parts("01766/7402970"), (false, "017667402970".into()));
        assert_eq!(parts("+44 (0)20 8765 3456"), (true, "4402087653456".into()));
        assert_eq!(parts("＋３３ ７６２０４３５７５"), (true, "33762043575".into()));
    }

    #[test]
    fn tel_uris() {
        assert_eq!(parts("tel:+33-7-62-04-35-75"), (true, "33762043575".into()));
        assert_eq!(parts("TEL:0762043575;phone-context=+33"), (true, "330762043575".into()));
        assert_eq!(parts("tel:+1-442-249-7851;ext=12"), (true, "14422497851".into()));
    }

    #[test]
    fn extensions_are_dropped() {
        assert_eq!(parts("+1 442 249 7851 x12"), (true, "14422497851".into()));
        assert_eq!(parts("+1 442 249 7851 ext. 12"), (true, "14422497851".into()));
        assert_eq!(parts("020 8765 3456 #12"), (false, "02087653456".into()));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(scan("1-800-FLOWERS").is_err());
        assert!(scan("33+762043575").is_err());
        assert!(scan("123456789012345678901").is_err());
        assert!(scan("x12").is_err());
    }
}
