use super::{SmsEnvelope, SmsError, SmsSender};

/// The demo transport: no text leaves the machine; the message stays in the
/// database outbox, marked sent by this transport.
#[derive(Debug, Default)]
pub struct OutboxSms;

#[async_trait::async_trait]
impl SmsSender for OutboxSms {
    fn name(&self) -> &'static str {
        "outbox"
    }

    async fn send(&self, _sms: &SmsEnvelope) -> Result<Option<String>, SmsError> {
        tracing::info!("text message kept in the outbox (no SMS provider configured)");
        Ok(None)
    }
}
