//! Why a number could not be normalised or formatted.
//!
//! The messages are read by operators in the CLI ("why did this number not
//! match"), so every variant says what was wrong and, where it helps, what was
//! expected.

/// Why a raw number could not be turned into an E.164 number, or why an
/// E.164 number could not be formatted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// The region hint is not an ISO 3166 alpha-2 code known to libphonenumber.
    #[error("unknown region hint \"{0}\" (expected an ISO 3166 alpha-2 code such as FR or US)")]
    UnknownRegion(String),

    /// The input has no digits at all (only reported where a number is
    /// required, e.g. by [`format()`](crate::format()); `normalize` reports such
    /// input as anonymous instead).
    #[error("no digits in \"{0}\"")]
    NoDigits(String),

    /// The input contains a character that cannot be part of a phone number.
    #[error("unexpected character '{character}' in \"{input}\"")]
    InvalidCharacter {
        /// The raw input.
        input: String,
        /// The first offending character.
        character: char,
    },

    /// More digits than any phone number (with prefixes) can have.
    #[error("too long: {digits} digits, a phone number has at most 15 (plus an international prefix)")]
    TooManyDigits {
        /// How many digits the input has.
        digits: usize,
    },

    /// The input has no country code and there is no region hint to read it
    /// as a national number.
    #[error("\"{0}\" has no country code (write it as +<country code>…) and no region hint to read it as a national number")]
    NeedsRegion(String),

    /// The digits after `+` (or an international prefix) do not start with a
    /// known country calling code.
    #[error("no known country calling code at the start of \"{0}\"")]
    UnknownCountryCode(String),

    /// The national number is shorter than any number of the region.
    #[error("too short for region {region}: national number {national} has {length} digits, expected {expected}")]
    TooShort {
        /// ISO 3166 alpha-2 code (or `+<code>` for non-geographic codes).
        region: String,
        /// The national significant number that was checked.
        national: String,
        /// Its length in digits.
        length: usize,
        /// The possible lengths, e.g. `9` or `10 or 11`.
        expected: String,
    },

    /// The national number is longer than any number of the region.
    #[error("too long for region {region}: national number {national} has {length} digits, expected {expected}")]
    TooLong {
        /// ISO 3166 alpha-2 code (or `+<code>` for non-geographic codes).
        region: String,
        /// The national significant number that was checked.
        national: String,
        /// Its length in digits.
        length: usize,
        /// The possible lengths, e.g. `9` or `10 or 11`.
        expected: String,
    },

    /// The length is plausible but no number range of the region matches.
    #[error("not a valid number for region {region}: national number {national} is not in any allocated range")]
    InvalidForRegion {
        /// ISO 3166 alpha-2 code (or `+<code>` for non-geographic codes).
        region: String,
        /// The national significant number that was checked.
        national: String,
    },

    /// [`format()`](crate::format()) and [`variants`](crate::variants) take an
    /// E.164 number (`+` followed by digits); this input is not one.
    #[error("\"{0}\" is not an E.164 number (expected + followed by the country code and number, e.g. +33762043575)")]
    NotE164(String),
}
