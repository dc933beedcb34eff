//! Customer passwords: argon2id (OWASP: m = 19 MiB, t = 2, p = 1), hashed
//! off the async runtime, checked against a dummy hash when the account has
//! none (same work, so timing reveals nothing), and a policy that rejects
//! short or commonly used passwords.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

pub const MIN_LEN: usize = 8;
/// Long enough for any passphrase, short enough that hashing can't be abused.
pub const MAX_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("Use at least {MIN_LEN} characters.")]
    TooShort,
    #[error("Use at most {MAX_LEN} characters.")]
    TooLong,
    #[error("That password is too common or easy to guess. Try a few unrelated words together.")]
    TooCommon,
    #[error("Don't use your name or email address as your password.")]
    TooPersonal,
}

/// Letters and digits only, lower case: "Dana.Whitfield" → "danawhitfield".
fn squash(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A real hash of a random string, computed once: what unknown accounts are
/// "checked" against.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(b"settle-dummy-password", &salt).expect("hashing works").to_string()
    })
}

/// `user_inputs`: words a guesser would try first (name, email, merchant).
pub fn check_policy(password: &str, user_inputs: &[&str]) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_LEN {
        return Err(PasswordProblem::TooLong);
    }
    // zxcvbn knows the most common passwords (and keyboard walks, dates,
    // repeats, the user's own details); below score 2 is guessable online.
    let squashed = squash(password);
    for input in user_inputs {
        let local = input.split('@').next().unwrap_or(input);
        if !squashed.is_empty() && (squash(input).contains(&squashed) || squash(local) == squashed) {
            return Err(PasswordProblem::TooPersonal);
        }
    }
    let mut words: Vec<String> = user_inputs.iter().map(|s| s.to_lowercase()).collect();
    for input in user_inputs {
        words.extend(
            input.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2).map(String::from),
        );
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    if (zxcvbn::zxcvbn(password, &words).score() as u8) < 2 {
        return Err(PasswordProblem::TooCommon);
    }
    Ok(())
}

/// PHC-format argon2id hash, computed on a blocking thread.
pub async fn hash(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// True when `password` matches `stored`. With no stored hash, the dummy is
/// checked instead and the answer is always false.
pub async fn verify(stored: Option<String>, password: String) -> bool {
    let has_real = stored.is_some();
    let stored = stored.unwrap_or_else(|| dummy_hash().to_string());
    if password.len() > MAX_LEN * 4 {
        return false;
    }
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored).map(|h| argon2().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    ok && has_real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_rejects_short_long_and_common_passwords() {
        assert_eq!(check_policy("short", &[]), Err(PasswordProblem::TooShort));
        assert_eq!(check_policy(&"x".repeat(129), &[]), Err(PasswordProblem::TooLong));
        for common in ["password", "password1", "12345678", "qwertyuiop", "iloveyou", "sunshine1"] {
            assert_eq!(check_policy(common, &[]), Err(PasswordProblem::TooCommon), "{common}");
        }
        assert_eq!(
            check_policy("dana.whitfield", &["dana.whitfield@example.com", "Dana Whitfield"]),
            Err(PasswordProblem::TooPersonal)
        );
        assert_eq!(check_policy("violet tractor harbour", &[]), Ok(()));
    }

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("violet tractor harbour".into()).await.unwrap();
        let b = hash("violet tractor harbour".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(verify(Some(a.clone()), "violet tractor harbour".into()).await);
        assert!(!verify(Some(a), "violet tractor harbor".into()).await);
        assert!(!verify(None, "settle-dummy-password".into()).await, "no account, never a match");
    }
}
