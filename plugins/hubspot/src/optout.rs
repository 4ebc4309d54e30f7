//! Opt-out replies (beyond the seed, which leaves opt-out to the customer): a
//! reply that is exactly an opt-out keyword ("STOP", "Stopp!", "arrêt") marks
//! the contact, and the action skips marked recipients.

/// Upper-case, accents removed, everything but letters and digits dropped, so
/// "Arrêt !" and "ARRET", or "opt-out" and "OPT OUT", compare equal.
pub fn fold(text: &str) -> String {
    text.chars().map(strip_accent).filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect()
}

fn strip_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'A',
        'ç' => 'c',
        'Ç' => 'C',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'È' | 'É' | 'Ê' | 'Ë' => 'E',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
        'ñ' => 'n',
        'Ñ' => 'N',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'O',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
        other => other,
    }
}

/// Whether a reply asks to opt out, given the folded keywords.
pub fn is_opt_out(reply: &str, folded_keywords: &[String]) -> bool {
    let reply = fold(reply);
    !reply.is_empty() && folded_keywords.contains(&reply)
}

/// Whether a property value means "opted out" (the configured value, or an obvious yes).
pub fn is_marked(value: Option<&str>, opted_out_value: &str) -> bool {
    match value.map(str::trim) {
        None | Some("") => false,
        Some(v) => v.eq_ignore_ascii_case(opted_out_value) || matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<String> {
        ["STOP", "Stopp", "arrêt", "opt out"].iter().map(|k| fold(k)).collect()
    }

    #[test]
    fn keywords_match_whole_replies_only() {
        for yes in ["STOP", "stop", " Stop. ", "STOPP!", "Arrêt", "ARRET", "opt-out", "Opt  out"] {
            assert!(is_opt_out(yes, &keys()), "{yes}");
        }
        for no in ["", "please don't stop", "stopped", "Bonjour", "!!"] {
            assert!(!is_opt_out(no, &keys()), "{no}");
        }
    }

    #[test]
    fn marked_values() {
        assert!(is_marked(Some("true"), "true"));
        assert!(is_marked(Some("Opted out"), "opted out"));
        assert!(!is_marked(Some("false"), "true"));
        assert!(!is_marked(None, "true"));
    }
}
