//! `phone`: the shared phone-number engine (`switchboard-phone`), exposed to plugins.

use crate::runtime::bindings::switchboard::plugin::phone::{Normalized, Style};

/// `phone.normalize`
pub fn normalize(raw: &str, region: Option<&str>) -> Result<Normalized, String> {
    match switchboard_phone::normalize(raw, region) {
        Ok(switchboard_phone::Normalized::Number(e164)) => Ok(Normalized::Number(e164)),
        Ok(switchboard_phone::Normalized::Anonymous) => Ok(Normalized::Anonymous),
        Err(e) => Err(e.to_string()),
    }
}

/// `phone.variants`
pub fn variants(e164: &str) -> Result<Vec<String>, String> {
    switchboard_phone::variants(e164).map_err(|e| e.to_string())
}

/// `phone.format`
pub fn format(e164: &str, style: Style) -> Result<String, String> {
    let style = match style {
        Style::E164 => switchboard_phone::Style::E164,
        Style::International => switchboard_phone::Style::International,
        Style::National => switchboard_phone::Style::National,
        Style::Rfc3966 => switchboard_phone::Style::Rfc3966,
    };
    switchboard_phone::format(e164, style).map_err(|e| e.to_string())
}

/// `phone.region-of`
pub fn region_of(e164: &str) -> Option<String> {
    switchboard_phone::region_of(e164)
}
