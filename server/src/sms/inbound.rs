//! Replies to our sending number, as the SMS provider forwards them: the
//! opt-out keywords stop text messages to that number, the opt-in keywords
//! resume them. Twilio signs each forward with the account's auth token
//! over the URL it posted to and the form fields (`X-Twilio-Signature`).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Carrier-standard keywords (the ones Twilio itself honours).
const STOP_WORDS: &[&str] = &["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"];
const START_WORDS: &[&str] = &["START", "UNSTOP", "YES", "OPTIN"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    OptOut,
    OptIn,
    /// Anything else: nothing to do (the portal link is how to talk to us).
    Other,
}

/// What a reply asks for: one keyword alone, any case, spaces and trailing
/// punctuation ignored ("Stop." counts, "don't stop" does not).
pub fn intent(body: &str) -> Intent {
    let word = body.trim().trim_end_matches(['.', '!']).trim().to_ascii_uppercase();
    if STOP_WORDS.contains(&word.as_str()) {
        Intent::OptOut
    } else if START_WORDS.contains(&word.as_str()) {
        Intent::OptIn
    } else {
        Intent::Other
    }
}

/// Twilio's signature: base64(HMAC-SHA1(token, url + each field's name and
/// value, sorted by name)).
pub fn signature(auth_token: &str, url: &str, fields: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = fields.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Constant-time comparison of the header against the expected signature.
pub fn verify(auth_token: &str, url: &str, fields: &[(String, String)], header: &str) -> bool {
    use subtle::ConstantTimeEq;
    let expected = signature(auth_token, url, fields);
    expected.as_bytes().ct_eq(header.trim().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_recognised_alone_and_only_alone() {
        assert_eq!(intent("STOP"), Intent::OptOut);
        assert_eq!(intent("  stop. "), Intent::OptOut);
        assert_eq!(intent("Unsubscribe"), Intent::OptOut);
        assert_eq!(intent("start"), Intent::OptIn);
        assert_eq!(intent("please don't stop"), Intent::Other);
        assert_eq!(intent("paid yesterday"), Intent::Other);
    }

    /// The fixture Twilio's own libraries sign in their tests.
    #[test]
    fn signature_matches_twilios_documented_example() {
        let fields: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(signature("12345", url, &fields), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert!(verify("12345", url, &fields, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        assert!(!verify("12345", url, &fields, "0/KCTR6DLpKmkAf8muzZqo1nDgQ"));
        assert!(!verify("54321", url, &fields, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }
}
