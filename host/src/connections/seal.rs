//! Encryption at rest for tokens: XChaCha20-Poly1305 under a master key, a
//! random 24-byte nonce per value, and what the value belongs to (connection
//! id and field) as associated data, so a ciphertext moved to another row or
//! field does not open. Each value names its key id, so keys can be rotated:
//! `switchboard keys rotate` appends a key to the key file and re-seals every
//! value under it while hosts keep running (a host that meets an unknown key id
//! re-reads the file).
//!
//! Keys come from the key file (`[connections] key_file`: one `KEY_ID BASE64`
//! per line, the last one current) or from `SWITCHBOARD_MASTER_KEY` (`BASE64`
//! or `KEY_ID:BASE64`; one key, so no rotation).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// The environment variable holding the master key.
pub const MASTER_KEY_ENV: &str = "SWITCHBOARD_MASTER_KEY";

/// A sealed value as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// The key it is sealed under.
    pub kid: String,
    /// Nonce, base64.
    pub nonce: String,
    /// Ciphertext with tag, base64.
    pub ct: String,
}

/// Where the keys come from.
#[derive(Debug, Clone)]
enum Source {
    File(PathBuf),
    Env,
}

/// The master keys: every key still needed to open values, and the current one.
pub struct Keyring {
    source: Source,
    keys: RwLock<Vec<(String, [u8; 32])>>,
    /// The key file's modification time when last read.
    read_at: RwLock<Option<std::time::SystemTime>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("source", &self.source).field("current", &self.current_id()).finish_non_exhaustive()
    }
}

impl Keyring {
    /// Loads the keys from `key_file`, else from [`MASTER_KEY_ENV`]. Errors say
    /// what is missing or malformed, never a key.
    pub fn load(key_file: Option<&Path>) -> Result<Keyring, String> {
        match key_file {
            Some(path) => {
                let read_at = modified(path);
                let keys = read_key_file(path)?;
                Ok(Keyring { source: Source::File(path.to_path_buf()), keys: RwLock::new(keys), read_at: RwLock::new(read_at) })
            }
            None => {
                let value = std::env::var(MASTER_KEY_ENV).map_err(|_| {
                    format!(
                        "no master key: set {MASTER_KEY_ENV} (32 random bytes, base64) or [connections] key_file; \
                         `switchboard keys generate --file master.keys` makes one"
                    )
                })?;
                let (kid, b64) = value.trim().split_once(':').unwrap_or(("env", value.trim()));
                let key = decode_key(b64).map_err(|e| format!("{MASTER_KEY_ENV}: {e}"))?;
                Ok(Keyring { source: Source::Env, keys: RwLock::new(vec![(kid.to_string(), key)]), read_at: RwLock::new(None) })
            }
        }
    }

    /// A keyring holding one key (tests, benchmarks).
    pub fn with_key(kid: &str, key: [u8; 32]) -> Keyring {
        Keyring { source: Source::Env, keys: RwLock::new(vec![(kid.to_string(), key)]), read_at: RwLock::new(None) }
    }

    /// The id of the key new values are sealed under.
    pub fn current_id(&self) -> String {
        self.keys.read().map(|k| k.last().map(|(id, _)| id.clone()).unwrap_or_default()).unwrap_or_default()
    }

    /// The key file, when keys come from one.
    pub fn key_file(&self) -> Option<&Path> {
        match &self.source {
            Source::File(p) => Some(p),
            Source::Env => None,
        }
    }

    /// Re-reads the key file (after a rotation by another process).
    pub fn reload(&self) -> Result<(), String> {
        if let Source::File(path) = &self.source {
            let read_at = modified(path);
            let keys = read_key_file(path)?;
            if let Ok(mut k) = self.keys.write() {
                *k = keys;
            }
            if let Ok(mut r) = self.read_at.write() {
                *r = read_at;
            }
        }
        Ok(())
    }

    /// Re-reads the key file when it changed since it was read.
    fn reload_if_changed(&self) -> Result<(), String> {
        if let Source::File(path) = &self.source {
            let now = modified(path);
            if self.read_at.read().map(|r| *r != now).unwrap_or(true) {
                self.reload()?;
            }
        }
        Ok(())
    }

    /// Seals `plaintext` for `aad` under the current key, re-reading the key
    /// file first when it changed, so values are never sealed under a retired key.
    pub fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Sealed, String> {
        self.reload_if_changed()?;
        let (kid, key) = {
            let keys = self.keys.read().map_err(|_| "keyring poisoned".to_string())?;
            keys.last().cloned().ok_or("the key file holds no key")?
        };
        let nonce: [u8; 24] = rand::random();
        let ct = XChaCha20Poly1305::new(&key.into())
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: aad.as_bytes() })
            .map_err(|_| "encryption failed".to_string())?;
        Ok(Sealed { kid, nonce: B64.encode(nonce), ct: B64.encode(ct) })
    }

    /// Opens a sealed value. An unknown key id re-reads the key file once.
    pub fn open(&self, aad: &str, sealed: &Sealed) -> Result<Vec<u8>, String> {
        let key = match self.key(&sealed.kid) {
            Some(k) => k,
            None => {
                self.reload()?;
                self.key(&sealed.kid)
                    .ok_or_else(|| format!("the value is sealed under key {:?}, which the master key source does not hold", sealed.kid))?
            }
        };
        let nonce = B64.decode(&sealed.nonce).map_err(|_| "sealed value: bad nonce".to_string())?;
        let ct = B64.decode(&sealed.ct).map_err(|_| "sealed value: bad ciphertext".to_string())?;
        if nonce.len() != 24 {
            return Err("sealed value: bad nonce".into());
        }
        XChaCha20Poly1305::new(&key.into())
            .decrypt(XNonce::from_slice(&nonce), Payload { msg: &ct, aad: aad.as_bytes() })
            .map_err(|_| format!("key {:?} does not open this value (wrong master key, or the value was moved)", sealed.kid))
    }

    fn key(&self, kid: &str) -> Option<[u8; 32]> {
        self.keys.read().ok()?.iter().find(|(id, _)| id == kid).map(|(_, k)| *k)
    }
}

/// A new random key as base64.
pub fn generate_key() -> String {
    B64.encode(rand::random::<[u8; 32]>())
}

/// Appends a new key to `path` (creating it, readable by its owner only) and
/// returns its id; it becomes the current key.
pub fn append_key(path: &Path) -> Result<String, String> {
    let existing = if path.exists() { read_key_file(path)? } else { Vec::new() };
    let kid = format!("k{}", existing.len() + 1);
    let mut text =
        if path.exists() { std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))? } else { String::new() };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("{kid} {}\n", generate_key()));
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        f.write_all(text.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| format!("{}: {e}", tmp.display()))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(kid)
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn read_key_file(path: &Path) -> Result<Vec<(String, [u8; 32])>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!("master key file {}: {e} (`switchboard keys generate --file {}` makes one)", path.display(), path.display())
    })?;
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (kid, b64) =
            line.split_once(char::is_whitespace).ok_or_else(|| format!("{} line {}: expected `KEY_ID BASE64`", path.display(), n + 1))?;
        let key = decode_key(b64.trim()).map_err(|e| format!("{} line {}: {e}", path.display(), n + 1))?;
        if keys.iter().any(|(k, _)| k == kid) {
            return Err(format!("{} line {}: key id {kid:?} appears twice", path.display(), n + 1));
        }
        keys.push((kid.to_string(), key));
    }
    if keys.is_empty() {
        return Err(format!("master key file {} holds no key", path.display()));
    }
    Ok(keys)
}

fn decode_key(b64: &str) -> Result<[u8; 32], String> {
    let bytes = B64.decode(b64.trim()).map_err(|_| "the key is not base64".to_string())?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| format!("the key must be 32 bytes; it is {}", bytes.len()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_its_place() {
        let ring = Keyring::with_key("k1", [7; 32]);
        let sealed = ring.seal("conn:crm/access", b"secret-token").unwrap();
        assert!(!sealed.ct.contains("secret"));
        assert_eq!(ring.open("conn:crm/access", &sealed).unwrap(), b"secret-token");
        let err = ring.open("conn:other/access", &sealed).unwrap_err();
        assert!(err.contains("does not open"), "{err}");
        let other = Keyring::with_key("k1", [8; 32]);
        assert!(other.open("conn:crm/access", &sealed).is_err());
        // Two seals of one value differ (random nonce).
        assert_ne!(ring.seal("a", b"x").unwrap().ct, ring.seal("a", b"x").unwrap().ct);
    }

    #[test]
    fn rotation_appends_a_key_and_old_values_still_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.keys");
        assert_eq!(append_key(&path).unwrap(), "k1");
        let ring = Keyring::load(Some(&path)).unwrap();
        let old = ring.seal("x", b"v").unwrap();
        assert_eq!(old.kid, "k1");
        // Another process rotates: this ring meets the new key id and re-reads the file.
        assert_eq!(append_key(&path).unwrap(), "k2");
        let other = Keyring::load(Some(&path)).unwrap();
        let new = other.seal("x", b"v2").unwrap();
        assert_eq!(new.kid, "k2");
        assert_eq!(ring.open("x", &new).unwrap(), b"v2");
        assert_eq!(ring.current_id(), "k2");
        assert_eq!(ring.open("x", &old).unwrap(), b"v");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn bad_key_sources_are_named_without_showing_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let err = Keyring::load(Some(&path)).unwrap_err();
        assert!(err.contains("keys generate"), "{err}");
        std::fs::write(&path, "k1 c2hvcnQ=\n").unwrap();
        let err = Keyring::load(Some(&path)).unwrap_err();
        assert!(err.contains("line 1") && err.contains("32 bytes") && !err.contains("c2hvcnQ"), "{err}");
    }
}
