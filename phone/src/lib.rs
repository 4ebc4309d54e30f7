//! The phone engine every switchboard connector shares.
//!
//! Matching a caller to a CRM record means matching the E.164 number Aircall
//! sends to whatever a person typed into the CRM. This crate does both
//! directions, on libphonenumber's metadata (the [`phonenumber`] crate):
//!
//! - [`normalize`] reads a stored or received number — spaces, dots, dashes,
//!   slashes, brackets, `+`, `00`, a country code without `+`, a trunk `0`,
//!   `(0)`, `tel:` URIs, and the malformed forms the Intercom seed lists (see
//!   the `repair` module) — with a region hint, and returns E.164 or
//!   [`Normalized::Anonymous`] for withheld callers;
//! - [`variants`] lists the forms to search a CRM with, most likely first;
//! - [`format()`] writes a number for display;
//! - [`region_of`] names the country of a number.
//!
//! Errors ([`PhoneError`]) say why a number was rejected, for operators
//! asking "why did this number not match".
//!
//! ```
//! use switchboard_phone::{format, normalize, region_of, variants, Normalized, Style};
//!
//! // The French number of the Intercom seed, as people store it.
//! for raw in ["07 62 04 35 75", "07.62.04.35.75", "+33 7 62 04 35 75", "00762043575"] {
//!     assert_eq!(normalize(raw, Some("FR"))?, Normalized::Number("+33762043575".into()));
//! }
//! assert_eq!(normalize("anonymous", Some("FR"))?, Normalized::Anonymous);
//!
//! let forms = variants("+33762043575")?;
//! assert_eq!(&forms[..4], ["+33 7 62 04 35 75", "+33762043575", "07 62 04 35 75", "0762043575"]);
//! assert!(forms.contains(&"07.62.04.35.75".to_string()));
//!
//! assert_eq!(format("+14422497851", Style::National)?, "(442) 249-7851");
//! assert_eq!(region_of("+442087653456").as_deref(), Some("GB"));
//!
//! let why = normalize("07 62 04 35", Some("FR")).unwrap_err();
//! assert_eq!(why.to_string(), "too short for region FR: national number 7620435 has 7 digits, expected 9");
//! # Ok::<(), switchboard_phone::PhoneError>(())
//! ```
//!
//! The metadata is indexed on first use and each region's patterns are
//! compiled the first time that region is needed, then kept (see the
//! `metadata` module); all functions are thread-safe.

#![deny(missing_docs)]

mod anonymous;
mod error;
mod format;
mod metadata;
mod national;
mod normalize;
mod repair;
mod scan;
mod variants;

pub use crate::error::PhoneError;
pub use crate::format::{Style, format};
pub use crate::normalize::{Normalized, normalize};
pub use crate::variants::variants;

/// Loads libphonenumber's metadata now instead of on the first number: the
/// first call otherwise pays for deserialising and indexing the whole
/// database (about half a second in a debug build, and many times that on a
/// loaded machine), which a host would charge to its first job's deadline.
/// `regions` (ISO codes such as `"FR"`) also get their patterns compiled;
/// unknown codes are ignored. Calling it again costs nothing.
pub fn warm_up<'a>(regions: impl IntoIterator<Item = &'a str>) {
    let table = metadata::table();
    for id in regions {
        if let Some(region) = table.by_id(id) {
            region.rules();
            region.formats();
        }
    }
}

/// The ISO 3166 alpha-2 code of the country a valid E.164 number belongs to
/// (`+14165550123` → `CA`), or `None` when the input is not a valid E.164
/// number or belongs to a non-geographic code (`+800`, …).
pub fn region_of(e164: &str) -> Option<String> {
    let parsed = format::parse_e164(e164).ok()?;
    let id = parsed.region.id();
    (id != "001").then(|| id.to_owned())
}
