//! A Stripe webhook delivery: the signature header (first line of the
//! input) and the payload (the rest) are parsed without a panic, and a
//! payload signed with the secret at any timestamp verifies or is refused
//! as stale, never crashes.
#![no_main]

use app::server::gateway::{signature, stripe_wire};
use app::server::UtcMillis;
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "whsec_fuzz_secret";
const NOW: UtcMillis = UtcMillis(1_780_000_000_000);

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let header = String::from_utf8_lossy(&data[..split]);
    let payload = data.get(split + 1..).unwrap_or_default();
    let _ = signature::parse_header(&header);
    let _ = signature::verify(payload, &header, SECRET, NOW);
    let _ = stripe_wire::parse_event(payload);
    // Our own signature, at a timestamp taken from the input.
    let t = payload.iter().take(8).fold(0i64, |acc, b| acc.wrapping_shl(8) | i64::from(*b));
    let signed = signature::sign(payload, SECRET, t);
    match signature::verify(payload, &signed, SECRET, NOW) {
        Ok(()) => assert!((NOW.0 / 1000).abs_diff(t) <= signature::TOLERANCE_SECS as u64),
        Err(e) => assert!(matches!(e, app::server::gateway::WebhookError::StaleTimestamp), "{e:?}"),
    }
});
