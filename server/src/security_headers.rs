//! Headers every response carries, whoever produced it (a Leptos page, a
//! redirect, a JSON answer, a static file, an error).

use axum::extract::State;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::response::Response;

/// The policy of responses that are not Leptos pages (those set their own,
/// with a nonce, in `app::server::csp`): our stylesheet and images only,
/// no scripts, never framed.
pub const FALLBACK_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// A year, the figure browsers' preload lists ask for.
const HSTS: &str = "max-age=31536000; includeSubDomains";

#[derive(Clone, Copy, Debug)]
pub struct Transport {
    /// The public base URL is https (TLS ends at a proxy in front of us).
    pub https: bool,
}

pub async fn add(State(transport): State<Transport>, mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Access links carry their token in the path: never send it to another site.
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    // For browsers that predate CSP's frame-ancestors.
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(CONTENT_SECURITY_POLICY) {
        h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(FALLBACK_CSP));
    }
    // Over plain http the header is meaningless (and browsers ignore it);
    // sending it from a local demo would pin localhost to https.
    if transport.https {
        h.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    res
}
