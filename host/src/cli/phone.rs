//! `switchboard phone …`: the phone engine for operators.

use clap::Subcommand;

/// `phone …`
#[derive(Debug, Subcommand)]
pub enum PhoneAction {
    /// Print the E.164 form of a number (or `anonymous`).
    Normalize {
        /// Region hint (ISO 3166 alpha-2), e.g. FR.
        #[arg(long)]
        region: Option<String>,
        /// The number as stored.
        raw: String,
    },
    /// Print the formats to search a CRM with, one per line.
    Variants {
        /// An E.164 number.
        e164: String,
    },
}

/// Run; returns the exit code. Errors go to stderr with the reason.
pub fn run(action: PhoneAction) -> i32 {
    match action {
        PhoneAction::Normalize { region, raw } => match switchboard_phone::normalize(&raw, region.as_deref()) {
            Ok(switchboard_phone::Normalized::Number(n)) => {
                println!("{n}");
                0
            }
            Ok(switchboard_phone::Normalized::Anonymous) => {
                println!("anonymous");
                0
            }
            Err(e) => {
                eprintln!("{raw:?}: {e}");
                1
            }
        },
        PhoneAction::Variants { e164 } => match switchboard_phone::variants(&e164) {
            Ok(list) => {
                for v in list {
                    println!("{v}");
                }
                0
            }
            Err(e) => {
                eprintln!("{e164:?}: {e}");
                1
            }
        },
    }
}
