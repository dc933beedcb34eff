//! Bearer secrets for access links: 128 random bits, shown once (in the link),
//! stored only as a SHA-256 hash. A plain hash is enough: with 128 bits of
//! entropy there is nothing to brute-force, and lookups stay a single index hit.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 16 bytes in unpadded base64url.
const TOKEN_LEN: usize = 22;

/// A token as it appears in a link. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl std::fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretToken(…)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed token")]
pub struct MalformedToken;

impl SecretToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        SecretToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The exact shape we generate, nothing else: 22 base64url characters
    /// that decode to 16 bytes.
    pub fn parse(s: &str) -> Result<Self, MalformedToken> {
        if s.len() != TOKEN_LEN {
            return Err(MalformedToken);
        }
        match URL_SAFE_NO_PAD.decode(s) {
            Ok(bytes) if bytes.len() == 16 => Ok(SecretToken(s.to_string())),
            _ => Err(MalformedToken),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Hex SHA-256: the only form the database ever sees.
    pub fn hash(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_unique_and_parse_back() {
        let a = SecretToken::generate();
        let b = SecretToken::generate();
        assert_ne!(a, b);
        assert_eq!(SecretToken::parse(a.expose()).unwrap(), a);
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        let good = SecretToken::generate();
        let truncated = &good.expose()[..21];
        assert!(SecretToken::parse(truncated).is_err());
        assert!(SecretToken::parse("!!!!!!!!!!!!!!!!!!!!!!").is_err());
        assert!(SecretToken::parse("").is_err());
        assert!(SecretToken::parse(&format!("{}A", good.expose())).is_err());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let t = SecretToken::generate();
        assert!(!format!("{t:?}").contains(t.expose()));
    }
}
