//! Every format of the seeds, as a table.
//!
//! - The Intercom seed (`000_e6e512e308edd16a.txt`, end of file, "Unterstützte
//!   Telefonnummernformate nach Land"): every listed format of every country,
//!   mapped to that country's number, with that country as region hint.
//! - The Help Scout seed (`001_e7b89ab92eca125c.txt`, "Kontakt-Suche bei jedem
//!   Anruf"): the six search formats, both as inputs to `normalize` and as
//!   outputs of `variants`.
//! - Regressions for countries the repairs must not break (Italy keeps its
//!   leading zero, Argentina has a mobile token) and others.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use switchboard_phone::{Normalized, PhoneError, Style, format, normalize, region_of, variants};

/// (region hint, expected E.164, stored format), verbatim from the seed.
const INTERCOM: &[(&str, &str, &str)] = &[
    // Frankreich
    ("FR", "+33762043575", "+33762043575"),
    ("FR", "+33762043575", "33762043575"),
    ("FR", "+33762043575", "07 62 04 35 75"),
    ("FR", "+33762043575", "+33 7 62 04 35 75"),
    ("FR", "+33762043575", "00762043575"),
    ("FR", "+33762043575", "07 62 04 35 75"),
    ("FR", "+33762043575", "0762043575"),
    ("FR", "+33762043575", "07.62.04.35.75"),
    ("FR", "+33762043575", "07-62-04-35-75"),
    // Vereinigte Staaten
    ("US", "+14422497851", "+14422497851"),
    ("US", "+14422497851", "14422497851"),
    ("US", "+14422497851", "(442) 249-7851"),
    ("US", "+14422497851", "+1 442 249 7851"),
    ("US", "+14422497851", "0(442)249-7851"),
    ("US", "+14422497851", "1 (442) 249-7851"),
    ("US", "+14422497851", "442-249-7851"),
    ("US", "+14422497851", "442 249 7851"),
    ("US", "+14422497851", "4422497851"),
    ("US", "+14422497851", "+1 442-249-7851"),
    ("US", "+14422497851", "+1 (442) 249-7851"),
    // Vereinigtes Königreich
    ("GB", "+442087653456", "+442087653456"),
    ("GB", "+442087653456", "442087653456"),
    ("GB", "+442087653456", "020 8765 3456"),
    ("GB", "+442087653456", "+44 20 8765 3456"),
    ("GB", "+442087653456", "002087653456"),
    ("GB", "+442087653456", "(2087) 653 456"),
    ("GB", "+442087653456", "02087653456"),
    ("GB", "+442087653456", "(20876) 53456"),
    ("GB", "+442087653456", "(2087 65) 3456"),
    // Brasilien
    ("BR", "+551146803559", "+551146803559"),
    ("BR", "+551146803559", "551146803559"),
    ("BR", "+551146803559", "(11) 4680-3559"),
    ("BR", "+551146803559", "+55 11 4680 3559"),
    ("BR", "+551146803559", "0(11)4680-3559"),
    ("BR", "+551146803559", "11 4680-3559"),
    ("BR", "+551146803559", "11 46803559"),
    ("BR", "+551146803559", "11-4680-3559"),
    ("BR", "+551146803559", "11-46803559"),
    ("BR", "+551146803559", "+55 11 4680-3559"),
    // Spanien
    ("ES", "+34911239613", "+34911239613"),
    ("ES", "+34911239613", "34911239613"),
    ("ES", "+34911239613", "911 23 96 13"),
    ("ES", "+34911239613", "+34 911 23 96 13"),
    ("ES", "+34911239613", "0911239613"),
    ("ES", "+34911239613", "911239613"),
    ("ES", "+34911239613", "911 239 613"),
    ("ES", "+34911239613", "34 9112 39613"),
    ("ES", "+34911239613", "34 911 239 613"),
    // Deutschland
    ("DE", "+4917667402970", "+4917667402970"),
    ("DE", "+4917667402970", "4917667402970"),
    ("DE", "+4917667402970", "0176 67402970"),
    ("DE", "+4917667402970", "+49 176 67402970"),
    ("DE", "+4917667402970", "0017667402970"),
    ("DE", "+4917667402970", "01766/7402970"),
    ("DE", "+4917667402970", "17667402970"),
    ("DE", "+4917667402970", "017667402970"),
    ("DE", "+4917667402970", "017 667 402970"),
    ("DE", "+4917667402970", "+49176 67402970"),
    ("DE", "+4917667402970", "004917667402970"),
    // Australien
    ("AU", "+61281032081", "+61281032081"),
    ("AU", "+61281032081", "61281032081"),
    ("AU", "+61281032081", "(02) 8103 2081"),
    ("AU", "+61281032081", "+61 2 8103 2081"),
    ("AU", "+61281032081", "0(02)81032081"),
    ("AU", "+61281032081", "(02)81032081"),
    ("AU", "+61281032081", "0281032081"),
];

/// The Help Scout seed's six search formats, for its own examples
/// (`+1 123 456 7890` is not a valid NANP number — area codes never start
/// with 1 — so a real one with the same shape stands in) and for the UK
/// example `+44 1256 274690`.
const HELP_SCOUT: &[(&str, &str, &str)] = &[
    ("US", "+14422497851", "+1 442 249 7851"), // Internationales Format
    ("US", "+14422497851", "+14422497851"),    // International nur Ziffern
    ("US", "+14422497851", "442 249 7851"),    // ohne Ländervorwahl
    ("US", "+14422497851", "4422497851"),      // ohne Ländervorwahl, nur Ziffern
    ("US", "+14422497851", "(442) 249 7851"),  // US-Lokalnummer-Konvertierung
    ("GB", "+441256274690", "+44 1256 274690"),
    ("GB", "+441256274690", "+441256274690"),
    ("GB", "+441256274690", "1256 274690"), // UK-Lokalnummer (ohne 0)
    ("GB", "+441256274690", "1256274690"),
    ("GB", "+441256274690", "01256 274690"),
];

/// Countries the repairs must not break, and other forms people store.
const REGRESSIONS: &[(Option<&str>, &str, &str)] = &[
    // Italy: the leading 0 is part of the number, not a trunk prefix.
    (Some("IT"), "+390612345678", "06 1234 5678"),
    (Some("IT"), "+390612345678", "+39 06 1234 5678"),
    (Some("IT"), "+390612345678", "0039 06 1234 5678"),
    (Some("IT"), "+390612345678", "390612345678"),
    (Some("IT"), "+393123456789", "312 345 6789"),
    (None, "+390612345678", "+39 (0)6 1234 5678"),
    // Argentina: national mobile form 0 + area + 15 + number ↔ +54 9 …
    (Some("AR"), "+5491123456789", "011 15-2345-6789"),
    (Some("AR"), "+5491123456789", "+54 9 11 2345-6789"),
    (Some("AR"), "+5491123456789", "+5491123456789"),
    (Some("AR"), "+541123456789", "011 2345-6789"),
    // Mexico, Japan, India, Switzerland, Netherlands, Canada (shared +1).
    (Some("MX"), "+525512345678", "55 1234 5678"),
    (Some("JP"), "+81312345678", "03-1234-5678"),
    (Some("IN"), "+919876543210", "098765 43210"),
    (Some("CH"), "+41446681800", "044 668 18 00"),
    (Some("NL"), "+31612345678", "06-12345678"),
    (Some("US"), "+14165550123", "(416) 555-0123"),
    // (0) inside an international number, with and without +.
    (None, "+442087653456", "+44 (0)20 8765 3456"),
    (Some("FR"), "+442087653456", "0044 (0)20 8765 3456"),
    (Some("GB"), "+442087653456", "44 (0)20 8765 3456"),
    // tel: URIs.
    (None, "+33762043575", "tel:+33-7-62-04-35-75"),
    (None, "+33762043575", "tel:07-62-04-35-75;phone-context=+33"),
    // International prefixes of other countries than the hint's.
    (Some("US"), "+33762043575", "011 33 7 62 04 35 75"),
    (Some("US"), "+33762043575", "0033 7 62 04 35 75"),
    (Some("AU"), "+33762043575", "0011 33 7 62 04 35 75"),
    (Some("FR"), "+4917667402970", "4917667402970"),
    (Some("FR"), "+33762043575", "+0033 7 62 04 35 75"),
    // No hint: only international forms can be read.
    (None, "+33762043575", "0033762043575"),
    (None, "+33762043575", "33762043575"),
    (None, "+14422497851", "011 1 442 249 7851"),
    // Extensions are dropped, lower-case hints accepted.
    (Some("us"), "+14422497851", "442-249-7851 x123"),
    (Some("FR"), "+33762043575", "07 62 04 35 75 ext. 12"),
];

fn number(raw: &str, hint: Option<&str>) -> Result<String, String> {
    match normalize(raw, hint) {
        Ok(Normalized::Number(n)) => Ok(n),
        Ok(Normalized::Anonymous) => Err("anonymous".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn every_intercom_seed_format_normalises_to_its_country_number() {
    let failures: Vec<String> = INTERCOM
        .iter()
        .filter_map(|&(hint, want, raw)| {
            let got = number(raw, Some(hint));
            (got.as_deref() != Ok(want)).then(|| format!("{hint} {raw:?}: want {want}, got {got:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(INTERCOM.len(), 9 + 11 + 9 + 10 + 9 + 11 + 7, "the table lists every seed line");
}

#[test]
fn every_help_scout_format_normalises() {
    for &(hint, want, raw) in HELP_SCOUT {
        assert_eq!(number(raw, Some(hint)).as_deref(), Ok(want), "{hint} {raw:?}");
    }
}

#[test]
fn regressions_normalise() {
    let failures: Vec<String> = REGRESSIONS
        .iter()
        .filter_map(|&(hint, want, raw)| {
            let got = number(raw, hint);
            (got.as_deref() != Ok(want)).then(|| format!("{hint:?} {raw:?}: want {want}, got {got:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn help_scout_six_are_among_the_first_variants() {
    let us = variants("+14422497851").unwrap();
    for want in ["+1 442 249 7851", "+14422497851", "442 249 7851", "4422497851", "(442) 249 7851"] {
        let at = us.iter().position(|v| v == want);
        assert!(at.is_some_and(|i| i < 8), "{want} in {us:?}");
    }
    let uk = variants("+441256274690").unwrap();
    for want in ["+44 1256 274690", "+441256274690", "01256 274690", "01256274690", "1256 274690", "1256274690"] {
        let at = uk.iter().position(|v| v == want);
        assert!(at.is_some_and(|i| i < 8), "{want} in {uk:?}");
    }
    let fr = variants("+33762043575").unwrap();
    assert_eq!(&fr[..4], ["+33 7 62 04 35 75", "+33762043575", "07 62 04 35 75", "0762043575"]);
}

#[test]
fn variants_cover_the_intercom_seed_forms() {
    // Every seed line except the arbitrary regroupings nobody can enumerate
    // in general is produced as a search variant (exact string).
    for (e164, hint) in [
        ("+33762043575", "FR"),
        ("+14422497851", "US"),
        ("+442087653456", "GB"),
        ("+551146803559", "BR"),
        ("+34911239613", "ES"),
        ("+4917667402970", "DE"),
        ("+61281032081", "AU"),
    ] {
        let list = variants(e164).unwrap();
        let missing: Vec<&str> = INTERCOM
            .iter()
            .filter(|&&(h, want, _)| h == hint && want == e164)
            .map(|&(_, _, raw)| raw)
            .filter(|raw| !list.iter().any(|v| v == raw))
            .collect();
        assert!(missing.is_empty(), "{e164}: missing {missing:?} from {list:?}");
    }
}

#[test]
fn variants_have_no_duplicates_and_round_trip() {
    for (e164, hint) in [("+33762043575", "FR"), ("+14422497851", "US"), ("+5491123456789", "AR"), ("+390612345678", "IT")] {
        let list = variants(e164).unwrap();
        let mut sorted = list.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), list.len(), "{list:?}");
        for v in &list {
            assert_eq!(number(v, Some(hint)).as_deref(), Ok(e164), "{v:?}");
        }
    }
}

#[test]
fn withheld_callers_are_anonymous() {
    for raw in ["anonymous", "Anonymous", "withheld", "unknown", "private", "", "   ", "+", "--", "n/a"] {
        assert_eq!(normalize(raw, Some("FR")), Ok(Normalized::Anonymous), "{raw:?}");
        assert_eq!(normalize(raw, None), Ok(Normalized::Anonymous), "{raw:?}");
    }
}

#[test]
fn errors_say_why() {
    let err = |raw: &str, hint: Option<&str>| normalize(raw, hint).unwrap_err().to_string();
    assert_eq!(err("0762043575", Some("XX")), "unknown region hint \"XX\" (expected an ISO 3166 alpha-2 code such as FR or US)");
    assert_eq!(err("07 62 04 35", Some("FR")), "too short for region FR: national number 7620435 has 7 digits, expected 9");
    assert_eq!(err("07 62 04 35 75 12", Some("FR")), "too long for region FR: national number 76204357512 has 11 digits, expected 9");
    // The Help Scout seed's own example: NANP area codes never start with 1.
    assert_eq!(err("+1 123 456 7890", None), "not a valid number for region +1: national number 1234567890 is not in any allocated range");
    assert!(err("0762043575", None).contains("no region hint"));
    assert!(err("1-800-FLOWERS", Some("US")).contains("unexpected character 'F'"));
    assert!(err("+999 123456", None).contains("no known country calling code"));
    assert!(matches!(normalize("123456789012345678901234", Some("FR")), Err(PhoneError::TooManyDigits { digits: 24 })));
}

#[test]
fn formats_for_display() {
    assert_eq!(format("+33762043575", Style::International).unwrap(), "+33 7 62 04 35 75");
    assert_eq!(format("+33762043575", Style::National).unwrap(), "07 62 04 35 75");
    assert_eq!(format("+33762043575", Style::E164).unwrap(), "+33762043575");
    assert_eq!(format("+33762043575", Style::Rfc3966).unwrap(), "tel:+33-7-62-04-35-75");
    assert_eq!(format("+14422497851", Style::National).unwrap(), "(442) 249-7851");
    assert_eq!(format("+442087653456", Style::National).unwrap(), "020 8765 3456");
    assert_eq!(format("+5491123456789", Style::National).unwrap(), "011 15-2345-6789");
    assert_eq!(format("+5491123456789", Style::International).unwrap(), "+54 9 11 2345-6789");
    assert_eq!(format("+390612345678", Style::National).unwrap(), "06 1234 5678");
    assert!(matches!(format("0762043575", Style::National), Err(PhoneError::NotE164(_))));
}

#[test]
fn regions_of_numbers() {
    assert_eq!(region_of("+33762043575").as_deref(), Some("FR"));
    assert_eq!(region_of("+14165550123").as_deref(), Some("CA"));
    assert_eq!(region_of("+14422497851").as_deref(), Some("US"));
    assert_eq!(region_of("+79123456789").as_deref(), Some("RU"));
    assert_eq!(region_of("+77012345678").as_deref(), Some("KZ"));
    assert_eq!(region_of("+80012345678"), None);
    assert_eq!(region_of("0762043575"), None);
    assert_eq!(region_of("+3376204357"), None);
}
