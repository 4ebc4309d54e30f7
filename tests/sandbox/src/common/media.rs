//! A stand-in for Aircall's file storage (recordings, voicemails and MMS media
//! behind signed S3 links), served by every emulator at `/_sandbox/media/NAME`,
//! so that a connector can fetch a file from a host its test allows. Like a
//! presigned S3 `GET` URL it refuses `HEAD` (403: the signature covers the
//! method) and answers a `Range: bytes=a-b` request with 206 and
//! `Content-Range: bytes a-b/TOTAL`.

use axum::extract::RawQuery;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::util::query_pairs;

/// Largest body the media route really sends; bigger files only in ranges.
const MEDIA_BODY_MAX: u64 = 16 * 1024 * 1024;

fn media_params(q: Option<&str>) -> (u64, String) {
    let pairs = query_pairs(q);
    let param = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let bytes = param("bytes").and_then(|b| b.parse().ok()).unwrap_or(1024);
    let ct = param("type").unwrap_or_else(|| "application/octet-stream".into());
    (bytes, ct)
}

/// The first range of a `Range: bytes=a-b` / `bytes=a-` header.
fn range(headers: &HeaderMap) -> Option<(u64, Option<u64>)> {
    let v = headers.get(header::RANGE)?.to_str().ok()?.trim().strip_prefix("bytes=")?;
    let (a, b) = v.split(',').next()?.split_once('-')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()))
}

/// `GET /_sandbox/media/{name}?bytes=N&type=MIME` (also `/_media/{name}` on
/// Gorgias) answers N bytes of that type (at most 16 MiB; aircall-api.md §4.1),
/// or the asked range of them (206, any total size).
pub async fn media(RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
    let (bytes, ct) = media_params(q.as_deref());
    if let Some((start, end)) = range(&headers) {
        if start >= bytes {
            return (StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{bytes}"))]).into_response();
        }
        let end = end.unwrap_or(u64::MAX).min(bytes - 1);
        if end < start || end - start >= MEDIA_BODY_MAX {
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        }
        let body = vec![b'x'; usize::try_from(end - start + 1).unwrap_or(0)];
        return (
            StatusCode::PARTIAL_CONTENT,
            [(header::CONTENT_TYPE, ct), (header::CONTENT_RANGE, format!("bytes {start}-{end}/{bytes}"))],
            body,
        )
            .into_response();
    }
    if bytes > MEDIA_BODY_MAX {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let body = vec![b'x'; usize::try_from(bytes).unwrap_or(0)];
    ([(header::CONTENT_TYPE, ct)], body).into_response()
}

/// `HEAD /_sandbox/media/{name}`: 403, as S3 answers `HEAD` on a URL presigned
/// for `GET` (the signature covers the method), with S3's empty body.
pub async fn media_head() -> Response {
    StatusCode::FORBIDDEN.into_response()
}
