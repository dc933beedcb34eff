use super::{Envelope, MailError, Mailer};

/// The demo transport: nothing leaves the machine. The message stays in the
/// database outbox (marked sent by this transport), where the merchant
/// console shows it.
#[derive(Debug, Default)]
pub struct OutboxMailer;

#[async_trait::async_trait]
impl Mailer for OutboxMailer {
    fn name(&self) -> &'static str {
        "outbox"
    }

    async fn send(&self, envelope: &Envelope) -> Result<Option<String>, MailError> {
        tracing::info!(subject = %envelope.subject, "email kept in the outbox (no SMTP server configured)");
        Ok(None)
    }
}
