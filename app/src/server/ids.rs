//! Typed, prefixed, time-ordered ids: `cus_01jd…`. The prefix says what the id
//! names; the leading 48 bits are milliseconds so ids sort by creation time
//! (good index locality); the remaining 80 bits are random.

use rand::RngCore;
use std::time::{SystemTime, UNIX_EPOCH};

const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// 128 bits in base32 = 26 characters.
const BODY_LEN: usize = 26;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {kind} id")]
pub struct InvalidId {
    pub kind: &'static str,
    pub value: String,
}

/// A fresh id body: 48-bit timestamp, 80 random bits, Crockford base32.
pub fn new_id_body() -> String {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let mut random = [0u8; 10];
    rand::rng().fill_bytes(&mut random);
    let mut value: u128 = (ms & 0xFFFF_FFFF_FFFF) << 80;
    for (i, b) in random.iter().enumerate() {
        value |= (*b as u128) << (8 * (9 - i));
    }
    let mut out = vec![0u8; BODY_LEN];
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD[(value & 31) as usize];
        value >>= 5;
    }
    String::from_utf8(out).expect("alphabet is ASCII")
}

fn valid_body(body: &str) -> bool {
    body.len() == BODY_LEN && body.bytes().all(|b| CROCKFORD.contains(&b))
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn new() -> Self {
                $name(format!("{}_{}", $prefix, new_id_body()))
            }

            /// Accepts only ids of this type: right prefix, right length, right alphabet.
            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                match s.strip_prefix(concat!($prefix, "_")) {
                    Some(body) if valid_body(body) => Ok($name(s.to_string())),
                    _ => Err(InvalidId { kind: $kind, value: s.to_string() }),
                }
            }

            /// For values read back from our own database.
            pub fn from_trusted(s: String) -> Self {
                $name(s)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

typed_id!(MerchantId, "mer", "merchant");
typed_id!(MerchantUserId, "usr", "merchant user");
typed_id!(CustomerId, "cus", "customer");
typed_id!(PaymentMethodId, "pm", "payment method");
typed_id!(InvoiceId, "inv", "invoice");
typed_id!(InvoiceLineId, "il", "invoice line");
typed_id!(PaymentId, "pay", "payment");
typed_id!(DunningPolicyId, "dpol", "dunning policy");
typed_id!(DunningStepId, "dstp", "dunning step");
typed_id!(TemplateId, "tpl", "template");
typed_id!(JobId, "job", "job");
typed_id!(MessageId, "msg", "message");
typed_id!(AccessTokenId, "atk", "access token");
typed_id!(WebhookEventId, "whe", "webhook event");
typed_id!(AuditId, "aud", "audit entry");
typed_id!(PromiseId, "prm", "promise");
typed_id!(DisputeId, "dsp", "dispute");
typed_id!(EventId, "evt", "event");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_parse_back() {
        let id = CustomerId::new();
        assert!(id.as_str().starts_with("cus_"));
        assert_eq!(CustomerId::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn ids_of_another_type_or_shape_are_rejected() {
        let inv = InvoiceId::new();
        assert!(CustomerId::parse(inv.as_str()).is_err());
        assert!(CustomerId::parse("cus_").is_err());
        assert!(CustomerId::parse("cus_0123456789abcdefghjkmnpqrU").is_err());
        assert!(CustomerId::parse("cus_../../etc/passwd").is_err());
    }

    #[test]
    fn ids_sort_by_creation_time() {
        let a = PaymentId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = PaymentId::new();
        assert!(a < b, "{a} should sort before {b}");
    }
}
