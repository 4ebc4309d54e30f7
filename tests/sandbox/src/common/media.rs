//! A stand-in for Aircall's file storage (recordings, voicemails and MMS media
//! behind signed S3 links), served by every emulator at `/_sandbox/media/NAME`,
//! so that a connector can fetch a file from a host its test allows.

use axum::extract::RawQuery;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::util::query_pairs;

/// Largest body the media route really sends; bigger files are announced by `HEAD` only.
const MEDIA_BODY_MAX: u64 = 16 * 1024 * 1024;

fn media_params(q: Option<&str>) -> (u64, String) {
    let pairs = query_pairs(q);
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let bytes = param("bytes").and_then(|b| b.parse().ok()).unwrap_or(1024);
    let ct = param("type").unwrap_or_else(|| "application/octet-stream".into());
    (bytes, ct)
}

/// `GET /_sandbox/media/{name}?bytes=N&type=MIME` (also `/_media/{name}` on
/// Gorgias) answers N bytes of that type (at most 16 MiB; aircall-api.md §4.1).
pub async fn media(RawQuery(q): RawQuery) -> Response {
    let (bytes, ct) = media_params(q.as_deref());
    if bytes > MEDIA_BODY_MAX {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let body = vec![b'x'; usize::try_from(bytes).unwrap_or(0)];
    ([(header::CONTENT_TYPE, ct)], body).into_response()
}

/// `HEAD /_sandbox/media/{name}?bytes=N`: the size without the body, however large.
pub async fn media_head(RawQuery(q): RawQuery) -> Response {
    let (bytes, ct) = media_params(q.as_deref());
    (
        [(header::CONTENT_TYPE, ct), (header::CONTENT_LENGTH, bytes.to_string())],
        axum::body::Body::empty(),
    )
        .into_response()
}
