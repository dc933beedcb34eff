//! Twilio's Messages API (and any provider that speaks it): one form POST
//! per message with HTTP basic auth, answered with the message's `sid` or a
//! JSON error carrying Twilio's numeric code.

use super::{SmsEnvelope, SmsError, SmsSender};
use std::time::Duration;

/// Twilio: "Attempt to send to unsubscribed recipient".
const UNSUBSCRIBED: i64 = 21610;

#[derive(Clone, PartialEq)]
pub struct TwilioSettings {
    /// `https://api.twilio.com`, or a compatible provider's base URL.
    pub api_base: url::Url,
    pub account_sid: String,
    /// Secret: signs inbound webhooks too. Never logged.
    pub auth_token: String,
    /// Sender number (E.164) or messaging service id (`MG…`).
    pub from: String,
}

impl std::fmt::Debug for TwilioSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioSettings")
            .field("api_base", &self.api_base.as_str())
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"(hidden)")
            .field("from", &self.from)
            .finish()
    }
}

pub struct TwilioSms {
    client: reqwest::Client,
    settings: TwilioSettings,
}

impl TwilioSms {
    pub fn new(settings: TwilioSettings) -> Result<TwilioSms, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(TwilioSms { client, settings })
    }

    fn endpoint(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.settings.api_base.as_str().trim_end_matches('/'),
            self.settings.account_sid
        )
    }
}

#[derive(serde::Deserialize)]
struct Created {
    sid: String,
}

#[derive(serde::Deserialize)]
struct ApiError {
    code: Option<i64>,
    message: Option<String>,
}

#[async_trait::async_trait]
impl SmsSender for TwilioSms {
    fn name(&self) -> &'static str {
        "twilio"
    }

    async fn send(&self, sms: &SmsEnvelope) -> Result<Option<String>, SmsError> {
        // A messaging service id goes in its own field; a number in From.
        let from_field = if self.settings.from.starts_with("MG") { "MessagingServiceSid" } else { "From" };
        let form = [("To", sms.to.as_str()), (from_field, self.settings.from.as_str()), ("Body", sms.body.as_str())];
        let response = self
            .client
            .post(self.endpoint())
            .basic_auth(&self.settings.account_sid, Some(&self.settings.auth_token))
            .form(&form)
            .send()
            .await
            // Not connected, timed out: the provider may not have it; try again.
            .map_err(|e| SmsError::Temporary(format!("SMS provider unreachable: {}", e.without_url())))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| SmsError::Temporary(format!("reading the answer: {e}")))?;
        if status.is_success() {
            let created: Created = serde_json::from_str(&body)
                .map_err(|e| SmsError::Temporary(format!("unexpected answer from the SMS provider: {e}")))?;
            return Ok(Some(created.sid));
        }
        let error: Option<ApiError> = serde_json::from_str(&body).ok();
        let code = error.as_ref().and_then(|e| e.code);
        let message = error.and_then(|e| e.message).unwrap_or_else(|| format!("HTTP {status}"));
        Err(match (status.as_u16(), code) {
            (_, Some(UNSUBSCRIBED)) => SmsError::OptedOut,
            (429, _) | (500..=599, _) => SmsError::Temporary(format!("{status}: {message}")),
            // 401/403: our credentials; the message itself is fine once fixed.
            (401 | 403, _) => SmsError::Temporary(format!("{status}: {message} (check SETTLE_TWILIO_*)")),
            _ => SmsError::Permanent(match code {
                Some(code) => format!("{message} (code {code})"),
                None => message,
            }),
        })
    }
}
