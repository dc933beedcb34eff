//! CSRF defence for every state-changing request (forms and server
//! functions alike): a browser tells us where a request came from through
//! `Sec-Fetch-Site` and `Origin`; anything cross-site is refused.
//! Requests carrying neither header come from non-browser clients, which
//! cannot be tricked into sending a victim's cookies, so they pass.

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct OriginPolicy {
    /// The configured public origin, e.g. `https://pay.example.com`.
    pub public_origin: String,
    /// `http` or `https`: the scheme the Host header is served under.
    pub scheme: String,
}

impl OriginPolicy {
    pub fn new(base_url: &url::Url) -> Self {
        OriginPolicy { public_origin: base_url.origin().ascii_serialization(), scheme: base_url.scheme().to_string() }
    }

    /// `None` when allowed; the reason when refused.
    pub fn check(&self, method: &Method, headers: &axum::http::HeaderMap) -> Option<&'static str> {
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return None;
        }
        // Sec-Fetch-Site is set by the browser itself and cannot be forged
        // by a page; when present it decides (Origin may then be "null"
        // under a strict referrer policy).
        if let Some(site) = headers.get("sec-fetch-site") {
            return match site.to_str() {
                Ok("same-origin") | Ok("none") => None,
                _ => Some("cross-site request"),
            };
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let Ok(origin) = origin.to_str() else { return Some("unreadable Origin header") };
            let host_origin = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(|host| format!("{}://{}", self.scheme, host));
            if origin != self.public_origin && Some(origin) != host_origin.as_deref() {
                return Some("request from another origin");
            }
        }
        None
    }
}

pub async fn enforce(State(policy): State<Arc<OriginPolicy>>, req: Request, next: Next) -> Response {
    if let Some(why) = policy.check(req.method(), req.headers()) {
        tracing::warn!(reason = why, path = %crate::routes::redact_path(req.uri().path()), "cross-origin request refused");
        return (StatusCode::FORBIDDEN, format!("Forbidden: {why}.\n")).into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn same_origin_posts_pass_and_cross_site_posts_are_refused() {
        let p = OriginPolicy::new(&url::Url::parse("https://pay.acme.test").unwrap());
        let post = Method::POST;
        assert_eq!(p.check(&post, &headers(&[("origin", "https://pay.acme.test")])), None);
        assert_eq!(p.check(&post, &headers(&[("sec-fetch-site", "same-origin")])), None);
        assert_eq!(p.check(&post, &headers(&[])), None, "non-browser clients send neither header");
        assert!(p.check(&post, &headers(&[("origin", "https://evil.test")])).is_some());
        assert!(p.check(&post, &headers(&[("origin", "null")])).is_some());
        assert!(p.check(&post, &headers(&[("sec-fetch-site", "cross-site")])).is_some());
        assert!(p.check(&post, &headers(&[("sec-fetch-site", "same-site")])).is_some());
        assert_eq!(p.check(&Method::GET, &headers(&[("sec-fetch-site", "cross-site")])), None);
        // A same-origin form POST under a strict referrer policy carries Origin: null.
        assert_eq!(p.check(&post, &headers(&[("sec-fetch-site", "same-origin"), ("origin", "null")])), None);
        assert!(p
            .check(&post, &headers(&[("sec-fetch-site", "cross-site"), ("origin", "https://pay.acme.test")]))
            .is_some());
    }

    #[test]
    fn the_host_header_origin_is_accepted_for_local_addresses() {
        let p = OriginPolicy::new(&url::Url::parse("http://127.0.0.1:3000").unwrap());
        let h = headers(&[("origin", "http://localhost:3000"), ("host", "localhost:3000")]);
        assert_eq!(p.check(&Method::POST, &h), None);
    }
}
