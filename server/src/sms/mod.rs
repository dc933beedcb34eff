//! Outgoing text messages behind one trait, like email: the delivery worker
//! hands each claimed `sms` outbox row to the configured [`SmsSender`].

pub mod inbound;
mod outbox;
mod twilio;

pub use outbox::OutboxSms;
pub use twilio::{TwilioSettings, TwilioSms};

/// One text message ready to go out.
#[derive(Clone, Debug)]
pub struct SmsEnvelope {
    /// E.164, e.g. `+15550102030`.
    pub to: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    /// The provider will never send this (bad number, content refused).
    #[error("rejected: {0}")]
    Permanent(String),
    /// The recipient replied STOP at some point: the carrier refuses, and
    /// Settle must stop texting them.
    #[error("recipient has opted out of text messages")]
    OptedOut,
    /// Worth another try later (network, rate limit, provider outage).
    #[error("temporary failure: {0}")]
    Temporary(String),
}

impl SmsError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, SmsError::Temporary(_))
    }
}

#[async_trait::async_trait]
pub trait SmsSender: Send + Sync + 'static {
    /// A short name stored with each sent message ("twilio", "outbox").
    fn name(&self) -> &'static str;
    /// Sends; returns the provider's reference for the message, if any.
    async fn send(&self, sms: &SmsEnvelope) -> Result<Option<String>, SmsError>;
}
