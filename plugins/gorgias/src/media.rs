//! Recordings, voicemails and MMS files: fetched from Aircall's storage and
//! uploaded to Gorgias as attachments, or linked when they are too big
//! (seed: recordings over 500 MB are not uploaded).
//!
//! Aircall's links are presigned S3 `GET` URLs: S3 answers `HEAD` on them with
//! 403 (the signature covers the method), so the size is learnt from one
//! bounded `GET` — `Range: bytes=0-{window}` — never from `HEAD`. S3 answers
//! 206 with `Content-Range: bytes 0-{end}/{total}`; a server that ignores the
//! range answers 200 with the whole file (which the host caps at its response
//! limit).

use crate::api::{Api, File};
use switchboard_sdk::{PluginError, http, log};

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

/// How many bytes the bounded download asks for: one more than the upload
/// limit (so a file just over it is recognised even without a
/// `Content-Range`), at most what the host hands a plugin.
pub fn window(max_bytes: u64) -> u64 {
    max_bytes.saturating_add(1).clamp(1, FETCH_MAX)
}

/// The file's total size from `Content-Range: bytes 0-99/1234` (`None` for
/// `bytes 0-99/*` or anything unreadable).
fn range_total(content_range: &str) -> Option<u64> {
    let (unit, rest) = content_range.trim().split_once(' ')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    rest.rsplit_once('/')?.1.trim().parse().ok()
}

/// Whether the answer to a `GET` with `Range: bytes=0-{window - 1}` holds the
/// whole file and the file may be uploaded; else why it is linked. Pure: the
/// decision from the status, the `Content-Range` header and the body's length.
pub fn judge(status: u16, content_range: Option<&str>, body_len: u64, window: u64, max_bytes: u64) -> Result<(), Linked> {
    let total = match status {
        206 => match content_range.and_then(range_total) {
            Some(total) => total,
            // No total: a body shorter than asked for is the whole file.
            None if body_len < window => body_len,
            None => {
                return Err(Linked::Unavailable(format!("the download's Content-Range ({content_range:?}) does not give the file's size")));
            }
        },
        // The server ignored the range: the body is the whole file.
        200..=299 => body_len,
        // S3 answers 416 to a range request on an empty object.
        416 => {
            return Err(Linked::Unavailable("the file is empty (416 to a range request)".into()));
        }
        s => return Err(Linked::Unavailable(format!("download answered {s}"))),
    };
    if total > max_bytes {
        return Err(Linked::TooLarge(total));
    }
    if total > body_len {
        return Err(Linked::Unavailable(format!("{total} bytes is more than the host hands a plugin ({body_len} received)")));
    }
    Ok(())
}

/// Upload `src` to Gorgias, or say why it is only linked. Rate limits and lost
/// credentials towards Gorgias are errors; trouble with the file itself is not.
pub fn upload(api: &Api, src: &Source, max_bytes: u64, boundary: &str) -> Result<Result<File, Linked>, PluginError> {
    let window = window(max_bytes);
    let resp = match http::get(src.url).header("range", &format!("bytes=0-{}", window - 1)).timeout_ms(8_000).send() {
        Ok(r) => r,
        Err(e) => return Ok(Err(Linked::Unavailable(format!("{e:?}")))),
    };
    let body = resp.body();
    if let Err(why) = judge(resp.status(), resp.header("content-range"), body.len() as u64, window, max_bytes) {
        if let Linked::TooLarge(n) = why {
            log::with(log::Level::Info, "file over the upload limit; linking it", &[("url", src.url), ("bytes", &n.to_string())]);
        }
        return Ok(Err(why));
    }
    let content_type = src
        .content_type
        .clone()
        .or_else(|| resp.header("content-type").map(str::to_string))
        .unwrap_or_else(|| "application/octet-stream".into());
    match api.upload(&src.name, &content_type, body, boundary)? {
        Some(f) => Ok(Ok(f)),
        None => Ok(Err(Linked::TooLarge(body.len() as u64))),
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

#[cfg(test)]
mod tests {
    use super::*;

    const MB500: u64 = 524_288_000;

    #[test]
    fn a_ranged_answer_with_the_whole_file_is_uploaded() {
        let w = window(MB500);
        assert_eq!(w, FETCH_MAX);
        assert_eq!(judge(206, Some("bytes 0-30000/30001"), 30_001, w, MB500), Ok(()));
        // A server that ignores Range sends the file with 200.
        assert_eq!(judge(200, None, 30_000, w, MB500), Ok(()));
        // 206 without a total but shorter than asked for: the whole file.
        assert_eq!(judge(206, Some("bytes 0-99/*"), 100, w, MB500), Ok(()));
    }

    #[test]
    fn the_total_in_content_range_decides_over_the_limit() {
        let w = window(MB500);
        assert_eq!(judge(206, Some("bytes 0-8388607/600000000"), FETCH_MAX, w, MB500), Err(Linked::TooLarge(600_000_000)));
        // Under the seed's limit but over what the host hands a plugin.
        assert!(matches!(judge(206, Some("bytes 0-8388607/9000000"), FETCH_MAX, w, MB500), Err(Linked::Unavailable(_))));
        // A small configured limit: the window is one byte past it.
        assert_eq!(window(2048), 2049);
        assert_eq!(judge(200, None, 4096, 2049, 2048), Err(Linked::TooLarge(4096)));
        assert_eq!(
            judge(206, None, 2049, 2049, 2048),
            Err(Linked::Unavailable("the download's Content-Range (None) does not give the file's size".into()))
        );
        assert_eq!(judge(206, Some("bytes 0-2048/2049"), 2049, 2049, 2048), Err(Linked::TooLarge(2049)));
    }

    #[test]
    fn refusals_and_empty_files_are_linked() {
        assert_eq!(judge(403, None, 0, 10, 10), Err(Linked::Unavailable("download answered 403".into())));
        assert!(matches!(judge(416, Some("bytes */0"), 0, 10, 10), Err(Linked::Unavailable(_))));
        assert_eq!(range_total("bytes 0-1/2"), Some(2));
        assert_eq!(range_total("items 0-1/2"), None);
    }
}
