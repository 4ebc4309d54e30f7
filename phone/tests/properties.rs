//! Properties over libphonenumber's own example numbers (every region and
//! every number type that has one) and over arbitrary input.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use std::sync::LazyLock;

use phonenumber::metadata::DATABASE;
use proptest::prelude::*;
use switchboard_phone::{Normalized, Style, format, normalize, region_of, variants};

/// (region, E.164) for every example number of every geographic region.
static EXAMPLES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let mut out = Vec::new();
    for meta in DATABASE.iter() {
        if meta.id() == "001" {
            continue;
        }
        let d = meta.descriptors();
        for desc in [
            d.fixed_line(),
            d.mobile(),
            d.toll_free(),
            d.premium_rate(),
            d.voip(),
            d.personal_number(),
            d.uan(),
            d.pager(),
            d.shared_cost(),
            d.voicemail(),
        ]
        .into_iter()
        .flatten()
        {
            if let Some(example) = desc.example() {
                out.push((meta.id().to_owned(), format!("+{}{}", meta.country_code(), example)));
            }
        }
    }
    out.sort();
    out
});

fn number(raw: &str, hint: Option<&str>) -> Result<String, String> {
    match normalize(raw, hint) {
        Ok(Normalized::Number(n)) => Ok(n),
        Ok(Normalized::Anonymous) => Err("anonymous".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn there_are_many_regions() {
    let regions: std::collections::BTreeSet<&str> = EXAMPLES.iter().map(|(r, _)| r.as_str()).collect();
    assert!(regions.len() > 200, "{}", regions.len());
    assert!(EXAMPLES.len() > 1000, "{}", EXAMPLES.len());
}

/// Every example number is valid, idempotent, and belongs to a region with
/// its calling code; every variant reads back with the region as hint.
#[test]
fn every_example_number_round_trips_through_every_variant() {
    let mut failures = Vec::new();
    for (region, e164) in EXAMPLES.iter() {
        for hint in [None, Some(region.as_str())] {
            if number(e164, hint).as_deref() != Ok(e164) {
                failures.push(format!("{region} {e164} hint {hint:?}: {:?}", number(e164, hint)));
            }
        }
        let Ok(list) = variants(e164) else {
            failures.push(format!("{region} {e164}: no variants"));
            continue;
        };
        if list.len() < 4 {
            failures.push(format!("{region} {e164}: only {list:?}"));
        }
        for v in &list {
            let back = number(v, Some(region));
            if back.as_deref() != Ok(e164) {
                failures.push(format!("{region} {e164}: variant {v:?} -> {back:?}"));
            }
        }
        for style in [Style::International, Style::National, Style::Rfc3966] {
            match format(e164, style) {
                Ok(text) if number(&text, Some(region)).as_deref() == Ok(e164) => {}
                other => failures.push(format!("{region} {e164} {style:?}: {other:?}")),
            }
        }
        if region_of(e164).is_none() {
            failures.push(format!("{region} {e164}: no region"));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

fn example() -> impl Strategy<Value = (String, String)> {
    (0..EXAMPLES.len()).prop_map(|i| EXAMPLES[i].clone())
}

/// Separator soup: what people put between digit groups.
fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "", "", " ", " ", "-", ".", "/", "  ", " - ", "\u{a0}"])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// The national form, re-punctuated at random, reads back with the
    /// region as hint; so do the international form and E.164 without hint.
    #[test]
    fn repunctuated_forms_read_back((region, e164) in example(), seps in prop::collection::vec(separator(), 20)) {
        for style in [Style::National, Style::International] {
            let text = format(&e164, style).unwrap();
            let mut seps = seps.iter().cycle();
            let mut soup = String::new();
            for c in text.chars().filter(|c| c.is_ascii_digit() || *c == '+') {
                soup.push(c);
                soup.push_str(seps.next().copied().unwrap_or(""));
            }
            prop_assert_eq!(number(&soup, Some(&region)), Ok(e164.clone()), "{:?} from {:?}", soup, text);
        }
    }

    /// Normalising is idempotent: whatever reads as a number reads as the
    /// same number again, with or without the hint.
    #[test]
    fn normalising_is_idempotent(raw in "[+]?[0-9 ().-]{0,20}", hint in prop::sample::select(vec!["FR", "US", "GB", "DE", "IT", "AR", "BR", "AU", "ES", "JP"])) {
        if let Ok(Normalized::Number(e164)) = normalize(&raw, Some(hint)) {
            prop_assert_eq!(number(&e164, None), Ok(e164.clone()));
            prop_assert_eq!(number(&e164, Some(hint)), Ok(e164.clone()));
            let list = variants(&e164).unwrap();
            prop_assert_eq!(list.get(1), Some(&e164));
        }
    }

    /// Nothing panics, whatever the input.
    #[test]
    fn arbitrary_strings_never_panic(raw in any::<String>(), hint in prop::option::of("[A-Za-z0-9]{0,3}")) {
        let _ = normalize(&raw, hint.as_deref());
        let _ = variants(&raw);
        let _ = format(&raw, Style::National);
        let _ = region_of(&raw);
    }

    /// Nor on phone-shaped garbage, which goes deeper into the engine.
    #[test]
    fn phone_shaped_garbage_never_panics(raw in "(tel:)?[+＋]?[0-9０-９ ()\\[\\]./#;=xe-]{0,40}(;phone-context=[+0-9]{0,5})?", hint in prop::sample::select(vec!["FR", "US", "GB", "DE", "IT", "AR", "BR", "AU", "RU", "KZ", "CA", "IN"])) {
        let _ = normalize(&raw, Some(hint));
        let _ = normalize(&raw, None);
        let _ = variants(&raw);
        let _ = format(&raw, Style::Rfc3966);
        let _ = region_of(&raw);
    }
}
