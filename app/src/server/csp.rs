//! The Content-Security-Policy of every rendered page: our own scripts and
//! the inline ones Leptos writes (each carrying this response's nonce), and
//! of other origins exactly the configured Stripe.js and its API. Set from
//! inside the render, where the nonce is known.

use super::AppState;
use axum::http::header::CONTENT_SECURITY_POLICY;
use axum::http::HeaderValue;
use leptos::prelude::use_context;

fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    // Only a plain origin may go into the policy (no spaces, quotes or ;).
    host.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        .then(|| format!("{scheme}://{host}"))
}

/// The policy for a page rendered with `nonce`.
pub fn policy(nonce: &str, stripe_js_url: &str, stripe_api_base: Option<&str>) -> String {
    let js = origin(stripe_js_url).unwrap_or_default();
    let api = stripe_api_base.and_then(origin).filter(|a| *a != js).unwrap_or_default();
    // Stripe shows 3-D Secure and its card fields in frames of its own.
    let frames = if js == "https://js.stripe.com" { format!("{js} https://hooks.stripe.com") } else { js.clone() };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval' {js}; \
         connect-src 'self' {js} {api}; frame-src {frames}; img-src 'self' data: https:; \
         style-src 'self' 'unsafe-inline'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
    .replace("  ", " ")
}

/// Adds the policy to the response being rendered.
pub fn set_header() {
    let (Some(nonce), Some(response), Some(state)) =
        (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>(), use_context::<AppState>())
    else {
        return;
    };
    let value = policy(&nonce.to_string(), &state.portal.stripe_js_url, state.portal.stripe_api_base.as_deref());
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.insert_header(CONTENT_SECURITY_POLICY, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_exactly_the_configured_stripe() {
        let p = policy("abc", "https://js.stripe.com/v3/", Some("https://api.stripe.com"));
        assert!(p.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval' https://js.stripe.com;"));
        assert!(p.contains("connect-src 'self' https://js.stripe.com https://api.stripe.com;"));
        assert!(p.contains("frame-src https://js.stripe.com https://hooks.stripe.com;"));
        assert!(p.contains("frame-ancestors 'none'"));
        let local = policy("n", "http://127.0.0.1:8420/js.stripe.com/v3/", Some("http://127.0.0.1:8420"));
        assert!(local.contains("script-src 'self' 'nonce-n' 'wasm-unsafe-eval' http://127.0.0.1:8420;"));
        assert!(!local.contains("js.stripe.com;"));
    }

    #[test]
    fn refuses_to_inject_through_a_bad_url() {
        assert_eq!(origin("https://evil.example; script-src *"), None);
        assert_eq!(origin("not a url"), None);
        assert_eq!(origin("https://js.stripe.com/v3/"), Some("https://js.stripe.com".into()));
    }
}
