//! A small command line over the engine, for trying inputs by hand:
//!
//! ```text
//! cargo run -p switchboard-phone --example phone -- normalize FR "07 62 04 35 75"
//! cargo run -p switchboard-phone --example phone -- variants +33762043575
//! cargo run -p switchboard-phone --example phone -- format +33762043575
//! ```
//!
//! (The operators' CLI is `switchboard phone …` in the host crate.)

use std::process::ExitCode;

use switchboard_phone::{Normalized, Style, format, normalize, region_of, variants};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["normalize", region, raw] => normalize(raw, Some(*region).filter(|r| *r != "-")).map(|n| match n {
            Normalized::Number(e164) => vec![e164],
            Normalized::Anonymous => vec!["anonymous".to_owned()],
        }),
        ["variants", e164] => variants(e164),
        ["format", e164] => [Style::E164, Style::International, Style::National, Style::Rfc3966]
            .into_iter()
            .map(|style| format(e164, style))
            .collect::<Result<Vec<_>, _>>()
            .map(|mut lines| {
                lines.push(region_of(e164).unwrap_or_else(|| "-".to_owned()));
                lines
            }),
        _ => {
            eprintln!("usage: phone normalize <REGION|-> <raw> | variants <e164> | format <e164>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("{why}");
            ExitCode::FAILURE
        }
    }
}
