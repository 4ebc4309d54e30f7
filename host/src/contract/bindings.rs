//! Host bindings generated from the frozen contracts, one module per released
//! version: `wit/v0.1.0` (`switchboard:plugin@0.1.0`) and `wit/v0.2.0`
//! (`switchboard:plugin@0.2.0`).
//!
//! The host implements the capabilities once, on the **newest** version's types
//! (re-exported at the top of this module); an older version is served by an
//! adapter ([`super::compat_v0_1`]) that converts its calls to the newest
//! types, the way a WASI preview 1 adapter serves old modules on preview 2.
//! A plugin's version is read from what its component imports.

/// `switchboard:plugin@0.1.0`, kept for plugins built against it.
#[allow(missing_docs)]
pub mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1.0",
        world: "connector",
        imports: { default: async },
        exports: { default: async },
        additional_derives: [serde::Serialize, serde::Deserialize],
    });
}

/// `switchboard:plugin@0.2.0`, the newest version: the host's own types.
#[allow(missing_docs)]
pub mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.2.0",
        world: "connector",
        imports: { default: async },
        exports: { default: async },
        additional_derives: [serde::Serialize, serde::Deserialize],
    });
}

pub use v0_2::*;

/// The newest contract version, whose types the host works with.
pub const CONTRACT_VERSION: &str = "0.2.0";

/// Every contract version this host loads plugins for, oldest first.
pub const SUPPORTED_CONTRACTS: &[&str] = &["0.1.0", "0.2.0"];

/// The WIT package every version's interfaces belong to.
pub const PACKAGE: &str = "switchboard:plugin";

pub use v0_2::switchboard::plugin::types::{CapabilityError, SettingValue};

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};
    use std::path::Path;

    /// SHA-256 over a version folder: each `.wit` file's name and bytes, by name.
    fn digest(folder: &Path) -> String {
        let mut files: Vec<_> = std::fs::read_dir(folder)
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "wit"))
            .collect();
        files.sort();
        let mut h = Sha256::new();
        for f in files {
            h.update(f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default().as_bytes());
            h.update([0]);
            h.update(std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display())));
            h.update([0]);
        }
        hex::encode(h.finalize())
    }

    /// Released contracts are frozen: `wit/RELEASED` records each version's
    /// digest, and any change to a released folder fails here. A new version
    /// gets a new folder and a new line.
    #[test]
    fn released_contract_folders_never_change() {
        let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
        let released = std::fs::read_to_string(wit.join("RELEASED")).unwrap_or_else(|e| panic!("wit/RELEASED: {e}"));
        let mut versions = Vec::new();
        for line in released.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (version, expected) = line.split_once(char::is_whitespace).unwrap_or_else(|| panic!("wit/RELEASED: bad line {line:?}"));
            let actual = digest(&wit.join(format!("v{version}")));
            assert_eq!(actual, expected.trim(), "wit/v{version} changed after its release; put changes in a new version folder");
            versions.push(version.to_string());
        }
        assert_eq!(versions, super::SUPPORTED_CONTRACTS, "every served contract version is released and recorded");
    }
}
