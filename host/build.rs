//! Compiles the bundled scenarios (`scenarios/*.toml` but `world.toml`) into
//! the binary, so `switchboard simulate NAME` works from any folder.

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dir = Path::new(&manifest).join("../scenarios");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir).map(|entries| entries.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "toml") && p.file_name().is_some_and(|n| n != "world.toml"));
    files.sort();
    let mut out = String::from("/// `(name, text)` of every bundled scenario.\npub const BUNDLED: &[(&str, &str)] = &[\n");
    for f in &files {
        let name = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        let path = f.canonicalize().unwrap_or_else(|_| f.clone());
        out += &format!("    ({name:?}, include_str!({:?})),\n", path.display().to_string());
    }
    out += "];\n";
    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    if let Err(e) = std::fs::write(Path::new(&out_dir).join("scenarios.rs"), out) {
        panic!("cannot write scenarios.rs: {e}");
    }
}
