//! Outgoing email transports behind one trait. The delivery worker hands
//! each claimed outbox row to the configured [`Mailer`].

mod outbox;
mod smtp;

pub use outbox::OutboxMailer;
pub use smtp::SmtpMailer;

/// One email ready to go out.
#[derive(Clone, Debug)]
pub struct Envelope {
    /// The outbox row's id: becomes the Message-ID, the same on every
    /// attempt, so a message resent after a lost acknowledgement is
    /// recognisably the same message to the receiving side.
    pub id: String,
    pub from_name: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The address or content can never be sent (bad recipient, invalid header).
    #[error("rejected: {0}")]
    Permanent(String),
    /// Worth another try later (connection refused, 4xx from the server).
    #[error("temporary failure: {0}")]
    Temporary(String),
}

impl MailError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, MailError::Temporary(_))
    }
}

#[async_trait::async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// A short name stored with each sent message ("smtp", "outbox").
    fn name(&self) -> &'static str;
    /// Sends; returns the server's reference for the message, if any.
    async fn send(&self, envelope: &Envelope) -> Result<Option<String>, MailError>;
}
