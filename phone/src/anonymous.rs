//! Recognising withheld callers.
//!
//! Aircall sends `raw_digits: "anonymous"` for a withheld number; CRMs and
//! carriers use other words (`withheld`, `unknown`, `private`, …) or leave the
//! field empty. None of these carry a digit, and a value without any digit can
//! never identify a caller, so the rule is simply: **no digit, anonymous**. The
//! word list below is documentation of what is known to arrive, and lets the
//! check answer before scanning the whole string.

/// Words known to mark a withheld caller (compared case-insensitively, after
/// trimming).
pub(crate) const KNOWN_WORDS: &[&str] = &["anonymous", "withheld", "unknown", "private", "restricted", "unavailable", "hidden", "blocked"];

/// Whether `raw` denotes an anonymous or withheld caller: one of
/// [`KNOWN_WORDS`], empty, whitespace, or anything without a single digit.
pub(crate) fn is_anonymous(raw: &str) -> bool {
    let trimmed = raw.trim();
    if trimmed.is_empty() || KNOWN_WORDS.iter().any(|w| trimmed.eq_ignore_ascii_case(w)) {
        return true;
    }
    !trimmed.chars().any(|c| crate::scan::digit_value(c).is_some())
}

#[cfg(test)]
mod tests {
    use super::is_anonymous;

    #[test]
    fn words_blank_and_digitless_are_anonymous() {
        for raw in ["anonymous", "ANONYMOUS", " Withheld ", "unknown", "private", "", "   ", "+", "n/a", "-"] {
            assert!(is_anonymous(raw), "{raw:?}");
        }
    }

    #[test]
    fn anything_with_a_digit_is_not() {
        for raw in ["0", "+33 7", "anonymous 1", "０"] {
            assert!(!is_anonymous(raw), "{raw:?}");
        }
    }
}
