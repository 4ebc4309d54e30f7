//! Recordings, voicemails and MMS files: fetched from Aircall's storage and
//! uploaded to Gorgias as attachments, or linked when they are too big
//! (seed: recordings over 500 MB are not uploaded).

use crate::api::{Api, File};
use switchboard_sdk::bindings::switchboard::plugin::http::{self as wit, Method};
use switchboard_sdk::{CapabilityError, PluginError, http, log};

/// The most the host hands a plugin in one response (its default
/// `limits.http_max_response_bytes`); bigger files are linked.
const FETCH_MAX: u64 = 8 * 1024 * 1024;

/// A file to attach.
pub struct Source<'a> {
    /// Where Aircall keeps it.
    pub url: &'a str,
    /// File name to show.
    pub name: String,
    /// MIME type when known.
    pub content_type: Option<String>,
}

/// Why a file was linked instead of attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linked {
    /// Over the configured limit (500 MB by default).
    TooLarge(u64),
    /// Could not be fetched or uploaded (expired link, undeclared host, …).
    Unavailable(String),
}

fn head_length(url: &str) -> Result<Option<u64>, CapabilityError> {
    let req = wit::Request { method: Method::Head, url: url.to_string(), headers: Vec::new(), body: None, credential: None, timeout_ms: Some(5_000) };
    let resp = wit::send(&req)?;
    if !(200..300).contains(&resp.status) {
        return Err(CapabilityError::NotFound(format!("HEAD answered {}", resp.status)));
    }
    Ok(resp.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length")).and_then(|(_, v)| v.trim().parse().ok()))
}

/// Upload `src` to Gorgias, or say why it is only linked. Rate limits and lost
/// credentials towards Gorgias are errors; trouble with the file itself is not.
pub fn upload(api: &Api, src: &Source, max_bytes: u64, boundary: &str) -> Result<Result<File, Linked>, PluginError> {
    let length = match head_length(src.url) {
        Ok(l) => l,
        Err(e) => return Ok(Err(Linked::Unavailable(format!("{e:?}")))),
    };
    if let Some(n) = length {
        if n > max_bytes {
            log::with(log::Level::Info, "file over the upload limit; linking it", &[("url", src.url), ("bytes", &n.to_string())]);
            return Ok(Err(Linked::TooLarge(n)));
        }
        if n > FETCH_MAX {
            return Ok(Err(Linked::Unavailable(format!("{n} bytes is more than the host hands a plugin"))));
        }
    }
    let resp = match http::get(src.url).timeout_ms(8_000).send() {
        Ok(r) if (200..300).contains(&r.status()) => r,
        Ok(r) => return Ok(Err(Linked::Unavailable(format!("download answered {}", r.status())))),
        Err(e) => return Ok(Err(Linked::Unavailable(format!("{e:?}")))),
    };
    let content_type = src
        .content_type
        .clone()
        .or_else(|| resp.header("content-type").map(str::to_string))
        .unwrap_or_else(|| "application/octet-stream".into());
    match api.upload(&src.name, &content_type, resp.body(), boundary)? {
        Some(f) => Ok(Ok(f)),
        None => Ok(Err(Linked::TooLarge(resp.body().len() as u64))),
    }
}

/// Whether an MMS file is one the seed uploads: images and PDFs.
pub fn is_image_or_pdf(content_type: Option<&str>, name: Option<&str>) -> bool {
    let ct = content_type.unwrap_or_default().to_ascii_lowercase();
    if ct.starts_with("image/") || ct == "application/pdf" {
        return true;
    }
    let n = name.unwrap_or_default().to_ascii_lowercase();
    ct.is_empty() && [".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".pdf"].iter().any(|e| n.ends_with(e))
}
