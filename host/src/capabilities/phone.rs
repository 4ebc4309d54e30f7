//! `phone`: the shared phone-number engine (`switchboard-phone`), exposed to plugins.

use crate::contract::bindings::switchboard::plugin::phone::{Normalized, PhoneError, PhoneErrorKind, Style};

/// The engine's refusal as the contract's typed error: its reason and its sentence.
fn refusal(e: switchboard_phone::PhoneError) -> PhoneError {
    use switchboard_phone::PhoneError as E;
    let kind = match &e {
        E::UnknownRegion(_) => PhoneErrorKind::UnknownRegion,
        E::NoDigits(_) => PhoneErrorKind::NoDigits,
        E::InvalidCharacter { .. } => PhoneErrorKind::InvalidCharacter,
        E::TooManyDigits { .. } => PhoneErrorKind::TooManyDigits,
        E::NeedsRegion(_) => PhoneErrorKind::NeedsRegion,
        E::UnknownCountryCode(_) => PhoneErrorKind::UnknownCountryCode,
        E::TooShort { .. } => PhoneErrorKind::TooShort,
        E::TooLong { .. } => PhoneErrorKind::TooLong,
        E::InvalidForRegion { .. } => PhoneErrorKind::InvalidForRegion,
        E::NotE164(_) => PhoneErrorKind::NotE164,
    };
    PhoneError { kind, text: e.to_string() }
}

/// `phone.normalize`
pub fn normalize(raw: &str, region: Option<&str>) -> Result<Normalized, PhoneError> {
    match switchboard_phone::normalize(raw, region) {
        Ok(switchboard_phone::Normalized::Number(e164)) => Ok(Normalized::Number(e164)),
        Ok(switchboard_phone::Normalized::Anonymous) => Ok(Normalized::Anonymous),
        Err(e) => Err(refusal(e)),
    }
}

/// `phone.variants`
pub fn variants(e164: &str) -> Result<Vec<String>, PhoneError> {
    switchboard_phone::variants(e164).map_err(refusal)
}

/// `phone.format`
pub fn format(e164: &str, style: Style) -> Result<String, PhoneError> {
    let style = match style {
        Style::E164 => switchboard_phone::Style::E164,
        Style::International => switchboard_phone::Style::International,
        Style::National => switchboard_phone::Style::National,
        Style::Rfc3966 => switchboard_phone::Style::Rfc3966,
    };
    switchboard_phone::format(e164, style).map_err(refusal)
}

/// `phone.region-of`
pub fn region_of(e164: &str) -> Option<String> {
    switchboard_phone::region_of(e164)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_carry_the_engine_reason_and_its_sentence() {
        let e = normalize("06 12", Some("FR")).err().unwrap_or_else(|| panic!("06 12 is too short"));
        assert_eq!(e.kind, PhoneErrorKind::TooShort);
        assert!(e.text.contains("too short"), "{}", e.text);
        assert_eq!(normalize("0612345678", None).err().map(|e| e.kind), Some(PhoneErrorKind::NeedsRegion));
        assert_eq!(variants("0612").err().map(|e| e.kind), Some(PhoneErrorKind::NotE164));
    }
}
