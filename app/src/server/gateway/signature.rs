//! Stripe's webhook signature scheme (`Stripe-Signature: t=…,v1=…,v1=…`):
//! HMAC-SHA256 over `"{t}.{payload}"` with the endpoint secret. Every `v1`
//! value is tried, because during a secret roll Stripe sends one per secret.

use super::WebhookError;
use crate::server::UtcMillis;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Stripe's default: deliveries older or newer than five minutes are refused.
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, PartialEq, Eq)]
pub struct SignatureHeader {
    pub timestamp: i64,
    pub v1: Vec<Vec<u8>>,
}

pub fn parse_header(header: &str) -> Result<SignatureHeader, WebhookError> {
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(WebhookError::MalformedHeader)?;
        match key {
            "t" => {
                let t: i64 = value.parse().map_err(|_| WebhookError::MalformedHeader)?;
                if timestamp.replace(t).is_some() {
                    return Err(WebhookError::MalformedHeader);
                }
            }
            // A malformed v1 can't match; skip it rather than reject the rest.
            "v1" => {
                if let Some(bytes) = decode_hex(value) {
                    v1.push(bytes)
                }
            }
            _ => {}
        }
    }
    match timestamp {
        Some(timestamp) if !v1.is_empty() => Ok(SignatureHeader { timestamp, v1 }),
        Some(_) => Err(WebhookError::BadSignature),
        None => Err(WebhookError::MalformedHeader),
    }
}

fn mac(secret: &str, timestamp: i64, payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

/// Checks the header against the payload: a matching `v1` and a timestamp
/// within the tolerance. Comparisons are constant-time.
pub fn verify(payload: &[u8], header: &str, secret: &str, now: UtcMillis) -> Result<(), WebhookError> {
    let parsed = parse_header(header)?;
    let matched =
        parsed.v1.iter().any(|candidate| mac(secret, parsed.timestamp, payload).verify_slice(candidate).is_ok());
    if !matched {
        return Err(WebhookError::BadSignature);
    }
    // abs_diff: a timestamp near i64's ends would overflow a subtraction
    // (found by the fuzz target; only a validly signed header gets here).
    if (now.0 / 1000).abs_diff(parsed.timestamp) > TOLERANCE_SECS as u64 {
        return Err(WebhookError::StaleTimestamp);
    }
    Ok(())
}

/// A header as Stripe would send it (for tests and for the sandbox's own tools).
pub fn sign(payload: &[u8], secret: &str, timestamp: i64) -> String {
    let digest = mac(secret, timestamp, payload).finalize().into_bytes();
    format!("t={timestamp},v1={}", encode_hex(&digest))
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || s.len() > 128 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const NOW: i64 = 1_780_000_000;

    fn at(secs: i64) -> UtcMillis {
        UtcMillis(secs * 1000)
    }

    #[test]
    fn extreme_timestamps_are_stale_not_a_crash() {
        for t in [i64::MIN, i64::MIN + 1, i64::MAX, -1] {
            let header = sign(b"{}", SECRET, t);
            assert_eq!(verify(b"{}", &header, SECRET, at(NOW)), Err(WebhookError::StaleTimestamp), "t={t}");
        }
    }

    #[test]
    fn accepts_its_own_signature() {
        let header = sign(b"{\"id\":\"evt_1\"}", SECRET, NOW);
        assert_eq!(verify(b"{\"id\":\"evt_1\"}", &header, SECRET, at(NOW + 10)), Ok(()));
    }

    #[test]
    fn refuses_a_changed_payload_or_other_secret() {
        let header = sign(b"{\"amount\":100}", SECRET, NOW);
        assert_eq!(verify(b"{\"amount\":999}", &header, SECRET, at(NOW)), Err(WebhookError::BadSignature));
        assert_eq!(verify(b"{\"amount\":100}", &header, "whsec_other", at(NOW)), Err(WebhookError::BadSignature));
    }

    #[test]
    fn refuses_stale_and_future_timestamps() {
        let header = sign(b"{}", SECRET, NOW);
        assert_eq!(verify(b"{}", &header, SECRET, at(NOW + 301)), Err(WebhookError::StaleTimestamp));
        assert_eq!(verify(b"{}", &header, SECRET, at(NOW - 301)), Err(WebhookError::StaleTimestamp));
        assert_eq!(verify(b"{}", &header, SECRET, at(NOW + 300)), Ok(()));
    }

    #[test]
    fn any_v1_may_match_during_a_secret_roll() {
        let good = sign(b"{}", SECRET, NOW);
        let good_v1 = good.split("v1=").nth(1).unwrap();
        let rolled = format!("t={NOW},v1={},v1={good_v1},v0=abcd", "00".repeat(32));
        assert_eq!(verify(b"{}", &rolled, SECRET, at(NOW)), Ok(()));
        let rolled_last_bad = format!("t={NOW},v1={good_v1},v1={}", "11".repeat(32));
        assert_eq!(verify(b"{}", &rolled_last_bad, SECRET, at(NOW)), Ok(()));
    }

    #[test]
    fn malformed_headers_are_refused_not_panicked_on() {
        for header in ["", "garbage", "t=abc,v1=00", "v1=00", "t=1,t=2,v1=00", "t=1", "t=1,v1=zz", "t=1,v1=0"] {
            assert!(verify(b"{}", header, SECRET, at(1)).is_err(), "{header}");
        }
        assert_eq!(parse_header("t=5,v1=0a0b").unwrap(), SignatureHeader { timestamp: 5, v1: vec![vec![10, 11]] });
    }
}
