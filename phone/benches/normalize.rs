//! Normalisation throughput on one core, per format class and for a mix.
//!
//! Run with `cargo bench -p switchboard-phone`. Each group reports the time per
//! iteration over its whole list of inputs and, through `Throughput::Elements`,
//! the normalisations per second.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use switchboard_phone::{normalize, variants};

/// (raw, region hint) per format class.
const E164: &[(&str, Option<&str>)] = &[
    ("+33762043575", Some("FR")),
    ("+14422497851", Some("US")),
    ("+442087653456", Some("GB")),
    ("+551146803559", Some("BR")),
    ("+34911239613", Some("ES")),
    ("+4917667402970", Some("DE")),
    ("+61281032081", Some("AU")),
    ("+390612345678", None),
];

const NATIONAL: &[(&str, Option<&str>)] = &[
    ("07 62 04 35 75", Some("FR")),
    ("(442) 249-7851", Some("US")),
    ("020 8765 3456", Some("GB")),
    ("(11) 4680-3559", Some("BR")),
    ("911 23 96 13", Some("ES")),
    ("0176 67402970", Some("DE")),
    ("(02) 8103 2081", Some("AU")),
    ("06 1234 5678", Some("IT")),
];

const INTERNATIONAL_PREFIX: &[(&str, Option<&str>)] = &[
    ("0033 7 62 04 35 75", Some("FR")),
    ("004917667402970", Some("DE")),
    ("0044 20 8765 3456", Some("FR")),
    ("011 44 20 8765 3456", Some("US")),
    ("0011 61 2 8103 2081", Some("AU")),
    ("33762043575", Some("FR")),
    ("+44 (0)20 8765 3456", None),
    ("tel:+1-442-249-7851", None),
];

const SEED_REPAIRS: &[(&str, Option<&str>)] = &[
    ("00762043575", Some("FR")),
    ("0(442)249-7851", Some("US")),
    ("002087653456", Some("GB")),
    ("0911239613", Some("ES")),
    ("0017667402970", Some("DE")),
    ("0(02)81032081", Some("AU")),
];

const ANONYMOUS: &[(&str, Option<&str>)] = &[("anonymous", Some("FR")), ("", Some("US")), ("withheld", None), ("  ", None)];

fn run(list: &[(&str, Option<&str>)]) {
    for &(raw, hint) in list {
        let _ = black_box(normalize(black_box(raw), black_box(hint)));
    }
}

fn bench_normalize(c: &mut Criterion) {
    // A realistic mix: mostly E.164 (webhooks) and national forms (CRM
    // records), some international prefixes, a few repairs and withheld calls.
    let mix: Vec<(&str, Option<&str>)> = E164
        .iter()
        .chain(E164)
        .chain(E164)
        .chain(NATIONAL)
        .chain(NATIONAL)
        .chain(INTERNATIONAL_PREFIX)
        .chain(SEED_REPAIRS)
        .chain(ANONYMOUS)
        .copied()
        .collect();

    // Build the table and compile the regions' patterns once, outside timing.
    run(&mix);

    let mut group = c.benchmark_group("normalize");
    for (name, list) in [
        ("mix", mix.as_slice()),
        ("e164", E164),
        ("national", NATIONAL),
        ("international_prefix", INTERNATIONAL_PREFIX),
        ("seed_repairs", SEED_REPAIRS),
        ("anonymous", ANONYMOUS),
    ] {
        group.throughput(Throughput::Elements(list.len() as u64));
        group.bench_function(name, |b| b.iter(|| run(list)));
    }
    group.finish();

    // Baseline: the phonenumber crate's own parse + validation on the same
    // national inputs (no repairs), to show what the compiled tables buy.
    let mut group = c.benchmark_group("baseline_phonenumber");
    let parsed: Vec<(&str, phonenumber::country::Id)> =
        NATIONAL.iter().filter_map(|&(raw, hint)| Some((raw, hint?.parse().ok()?))).collect();
    group.throughput(Throughput::Elements(parsed.len() as u64));
    group.bench_function("parse_and_is_valid", |b| {
        b.iter(|| {
            for &(raw, id) in &parsed {
                let ok = phonenumber::parse(Some(id), black_box(raw)).map(|n| phonenumber::is_valid(&n));
                let _ = black_box(ok);
            }
        });
    });
    group.finish();

    let mut group = c.benchmark_group("variants");
    group.throughput(Throughput::Elements(E164.len() as u64));
    group.bench_function("seed_numbers", |b| {
        b.iter(|| {
            for &(e164, _) in E164 {
                let _ = black_box(variants(black_box(e164)));
            }
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bench_normalize
}
criterion_main!(benches);
