//! The client's address when Settle runs behind reverse proxies. For a
//! request from a configured proxy, the address every handler sees
//! (`ConnectInfo`) becomes the client's, read from `X-Forwarded-For`; so
//! rate limits count clients, not the proxy, and the audit log names them.
//! From anyone else the header is ignored: a client could write anything there.

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub Arc<Vec<IpAddr>>);

/// The rightmost `X-Forwarded-For` address that isn't one of our proxies:
/// each proxy appends the address it received from, so anything left of
/// that could have been sent by the client itself.
pub fn forwarded_client(headers: &axum::http::HeaderMap, proxies: &[IpAddr]) -> Option<IpAddr> {
    let mut hops: Vec<IpAddr> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        for part in value.to_str().ok()?.split(',') {
            hops.push(part.trim().parse().ok()?);
        }
    }
    hops.into_iter().rev().find(|ip| !proxies.contains(ip))
}

pub async fn resolve(State(proxies): State<TrustedProxies>, mut req: Request, next: Next) -> Response {
    if proxies.0.is_empty() {
        return next.run(req).await;
    }
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        if proxies.0.contains(&peer.ip()) {
            if let Some(client) = forwarded_client(req.headers(), &proxies.0) {
                req.extensions_mut().insert(ConnectInfo(SocketAddr::new(client, 0)));
            }
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::forwarded_client;
    use axum::http::{HeaderMap, HeaderValue};
    use std::net::IpAddr;

    fn xff(values: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_rightmost_address_that_is_not_a_proxy_is_the_client() {
        let proxies: Vec<IpAddr> = vec!["10.0.0.2".parse().unwrap(), "10.0.0.3".parse().unwrap()];
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(forwarded_client(&xff(&["203.0.113.7"]), &proxies), ip("203.0.113.7"));
        // A client that sends its own header can't choose its address.
        assert_eq!(forwarded_client(&xff(&["1.2.3.4, 203.0.113.7"]), &proxies), ip("203.0.113.7"));
        assert_eq!(forwarded_client(&xff(&["1.2.3.4", "203.0.113.7, 10.0.0.3"]), &proxies), ip("203.0.113.7"));
        assert_eq!(forwarded_client(&xff(&["2001:db8::1"]), &proxies), ip("2001:db8::1"));
        assert_eq!(forwarded_client(&xff(&[]), &proxies), None);
        assert_eq!(forwarded_client(&xff(&["not an address"]), &proxies), None, "garbage: keep the proxy's");
        assert_eq!(forwarded_client(&xff(&["10.0.0.2"]), &proxies), None);
    }
}
