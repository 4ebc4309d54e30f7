//! The configuration loader on any text: refused with an error naming the
//! problem, or loaded and validated; never a panic. Every `${VAR}` resolves,
//! so the checks behind interpolation are reached too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|text: &str| {
    let env = |name: &str| (name.len() < 40).then(|| format!("secret-value-of-{name}"));
    let _ = switchboard::config::Config::from_toml(text, Path::new("switchboard.toml"), Path::new("/fuzz"), &env);
});
