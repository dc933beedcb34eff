//! Gzip for the static bundle (wasm, JavaScript, CSS) when the browser
//! accepts it: the wasm the account page fetches is about a third of its raw
//! size gzipped. Pages and API responses are left alone: they carry
//! per-user data next to attacker-influenced input (BREACH), and they are
//! small next to the bundle.

use axum::http::{header, Extensions, HeaderMap, StatusCode, Version};
use tower_http::compression::CompressionLayer;

/// Content types worth compressing: the build output under `/pkg`.
const COMPRESSIBLE: [&str; 4] = ["application/wasm", "text/javascript", "application/javascript", "text/css"];

/// Smaller bodies gain nothing from gzip's framing.
const MIN_BYTES: u64 = 1024;

fn is_bundle_asset(status: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions) -> bool {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let big_enough = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_none_or(|n| n >= MIN_BYTES);
    status.is_success()
        && big_enough
        && COMPRESSIBLE.iter().any(|t| content_type.split(';').next().is_some_and(|c| c.trim().eq_ignore_ascii_case(t)))
}

type BundlePredicate = fn(StatusCode, Version, &HeaderMap, &Extensions) -> bool;

pub fn layer() -> CompressionLayer<BundlePredicate> {
    CompressionLayer::new().gzip(true).compress_when(is_bundle_asset as BundlePredicate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: &str, len: Option<u64>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        if let Some(n) = len {
            h.insert(header::CONTENT_LENGTH, n.into());
        }
        h
    }

    #[test]
    fn only_sizeable_bundle_files_are_compressed() {
        let ok = |ct: &str, len: Option<u64>| {
            is_bundle_asset(StatusCode::OK, Version::HTTP_11, &headers(ct, len), &Extensions::new())
        };
        assert!(ok("application/wasm", Some(400_000)));
        assert!(ok("text/javascript; charset=utf-8", None));
        assert!(ok("text/css", Some(2048)));
        assert!(!ok("text/html; charset=utf-8", Some(40_000)), "pages are never compressed");
        assert!(!ok("application/json", Some(40_000)), "API responses are never compressed");
        assert!(!ok("application/wasm", Some(200)), "too small to gain");
        let missing =
            is_bundle_asset(StatusCode::NOT_FOUND, Version::HTTP_11, &headers("text/css", None), &Extensions::new());
        assert!(!missing);
    }
}
