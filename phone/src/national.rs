//! Reading national digits as a national significant number.
//!
//! Both the standard interpretations ([`crate::normalize`]) and the repairs
//! ([`crate::repair`]) end here: given digits that should be a national number
//! of some calling code, strip the national (trunk) prefix the way
//! libphonenumber does, and accept the result only if it is a *valid* number
//! for that calling code.

use crate::metadata::{Region, Table};

/// libphonenumber's `maybeStripNationalPrefixAndCarrierCode`: the national
/// number with the trunk prefix (and carrier code) removed, or `None` when the
/// region's rules do not apply to `national`.
///
/// Some regions rewrite rather than strip: Argentina turns `011 15 2345-6789`
/// into `9 11 2345 6789` (`national_prefix_transform_rule` = `9$1`).
pub(crate) fn strip_national_prefix(region: &Region, national: &str) -> Option<String> {
    let rules = region.rules();
    let Some(parsing) = rules.prefix_for_parsing.as_ref() else {
        // Without a parsing rule, the national prefix itself is the rule.
        let prefix = region.national_prefix().filter(|p| !p.is_empty())?;
        return national.strip_prefix(prefix).map(str::to_owned);
    };
    let caps = parsing.captures(national)?;
    let whole = caps.get(0)?;
    let rest = national.get(whole.end()..)?;
    let general_matches = |s: &str| rules.general.as_ref().is_some_and(|g| g.matches(s));
    let viable = general_matches(national);
    let last_group = caps.len().checked_sub(1).and_then(|n| if n == 0 { None } else { caps.get(n) });

    match rules.transform.as_deref().filter(|t| !t.is_empty()) {
        Some(transform) if last_group.is_some() => {
            let mut out = String::with_capacity(national.len() + 2);
            expand(transform, &caps, &mut out);
            out.push_str(rest);
            (!viable || general_matches(&out)).then_some(out)
        }
        _ => (!viable || general_matches(rest)).then(|| rest.to_owned()),
    }
}

/// Expands `$1`…`$9` in `template` from `caps` into `out`.
pub(crate) fn expand(template: &str, caps: &regex::Captures<'_>, out: &mut String) {
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$'
            && let Some(group) = chars.peek().and_then(|d| d.to_digit(10))
        {
            chars.next();
            if let Some(m) = usize::try_from(group).ok().and_then(|g| caps.get(g)) {
                out.push_str(m.as_str());
            }
            continue;
        }
        out.push(c);
    }
}

/// Reads `national` — digits after country code `code`, or a national number
/// as dialled in `parsing` — as a national significant number: first with the
/// trunk prefix stripped by `parsing`'s rules, then as is (Italy's `06…`
/// keeps its zero). Returns the E.164 form of the first valid reading.
pub(crate) fn resolve(table: &Table, parsing: &Region, code: u16, national: &str) -> Option<String> {
    let stripped = strip_national_prefix(parsing, national).filter(|s| s != national);
    stripped
        .as_deref()
        .into_iter()
        .chain(std::iter::once(national))
        .filter(|nsn| (2..=17).contains(&nsn.len()))
        .find(|nsn| table.region_for(code, nsn).is_some())
        .map(|nsn| e164(code, nsn))
}

/// `+<code><nsn>`.
pub(crate) fn e164(code: u16, nsn: &str) -> String {
    let mut out = String::with_capacity(nsn.len() + 4);
    out.push('+');
    out.push_str(itoa(code).as_str());
    out.push_str(nsn);
    out
}

/// A calling code as text, without going through `fmt`.
pub(crate) fn itoa(code: u16) -> CodeText {
    let mut buf = [0u8; 5];
    let mut n = code;
    let mut start = buf.len();
    loop {
        start -= 1;
        if let Some(slot) = buf.get_mut(start) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    CodeText { buf, start }
}

/// A small decimal number rendered on the stack.
pub(crate) struct CodeText {
    buf: [u8; 5],
    start: usize,
}

impl CodeText {
    /// The code's decimal digits, without `+` or leading zeros.
    pub(crate) fn as_str(&self) -> &str {
        self.buf.get(self.start..).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::table;

    #[test]
    fn trunk_zero_is_stripped() {
        let fr = table().by_id("FR").map(|r| strip_national_prefix(r, "0762043575"));
        assert_eq!(fr, Some(Some("762043575".into())));
    }

    #[test]
    fn argentina_mobile_token_is_inserted() {
        let ar = table().by_id("AR").map(|r| strip_national_prefix(r, "01115 23456789".replace(' ', "").as_str()));
        assert_eq!(ar, Some(Some("91123456789".into())));
    }

    #[test]
    fn itoa_renders_codes() {
        assert_eq!(itoa(1).as_str(), "1");
        assert_eq!(itoa(44).as_str(), "44");
        assert_eq!(itoa(880).as_str(), "880");
    }
}
