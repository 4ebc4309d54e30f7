//! The operator's command line, run as a person would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn switchboard(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn phone_normalize_prints_e164_and_explains_failures() {
    let (code, out, _) = switchboard(&["phone", "normalize", "--region", "FR", "07 62 04 35 75"]);
    assert_eq!((code, out.trim()), (0, "+33762043575"));
    // A seed form plain libphonenumber rejects.
    let (code, out, _) = switchboard(&["phone", "normalize", "--region", "ES", "0911239613"]);
    assert_eq!((code, out.trim()), (0, "+34911239613"));
    let (code, out, _) = switchboard(&["phone", "normalize", "anonymous"]);
    assert_eq!((code, out.trim()), (0, "anonymous"));
    let (code, out, err) = switchboard(&["phone", "normalize", "--region", "FR", "07 62"]);
    assert_ne!(code, 0);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("too short"), "stderr should say why: {err}");
}

#[test]
fn phone_variants_prints_one_per_line_each_normalising_back() {
    let (code, out, _) = switchboard(&["phone", "variants", "+33762043575"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    for expected in ["+33762043575", "+33 7 62 04 35 75", "07 62 04 35 75", "0762043575"] {
        assert!(lines.contains(&expected), "{expected} missing from {lines:?}");
    }
    for line in &lines {
        let (code, back, _) = switchboard(&["phone", "normalize", "--region", "FR", line]);
        assert_eq!((code, back.trim()), (0, "+33762043575"), "{line}");
    }
    let (code, _, err) = switchboard(&["phone", "variants", "not-a-number"]);
    assert_ne!(code, 0);
    assert!(!err.is_empty());
}

#[test]
fn check_names_the_bad_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[[accounts]]\nid = \"main\"\nwebhook_token = \"long-enough-token\"\n[[integrations]]\nid = \"x\"\naccount = \"nope\"\nplugin = \"example\"\n",
    )
    .unwrap();
    let (code, _, err) = switchboard(&["check", "--config", path.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("integrations[0].account") && err.contains("nope"), "{err}");
}
