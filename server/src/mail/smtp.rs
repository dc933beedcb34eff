use super::{Envelope, MailError, Mailer};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// SMTP through lettre: multipart text + HTML.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds credentials: never print it.
        f.debug_struct("SmtpMailer").field("from", &self.from.email.to_string()).finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// `url`: `smtp://host:port` (plain, for a local relay), `smtp://…?tls=required`
    /// (STARTTLS) or `smtps://user:pass@host` (TLS). `from`: the sender address.
    pub fn new(url: &str, from: Mailbox) -> Result<SmtpMailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| e.to_string())?.build();
        Ok(SmtpMailer { transport, from })
    }

    fn build(&self, envelope: &Envelope) -> Result<Message, MailError> {
        let to: Mailbox =
            envelope.to.parse().map_err(|e| MailError::Permanent(format!("bad recipient {:?}: {e}", envelope.to)))?;
        // Sent on the merchant's behalf: their name, our address.
        let from = Mailbox::new(Some(envelope.from_name.clone()), self.from.email.clone());
        let message_id = format!("<{}@{}>", envelope.id, self.from.email.domain());
        let builder =
            Message::builder().message_id(Some(message_id)).from(from).to(to).subject(envelope.subject.clone());
        let message = match &envelope.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(envelope.text.clone(), html.clone())),
            None => {
                builder.singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(envelope.text.clone()))
            }
        };
        message.map_err(|e| MailError::Permanent(e.to_string()))
    }
}

fn classify(e: SmtpError) -> MailError {
    if e.is_permanent() {
        MailError::Permanent(e.to_string())
    } else {
        MailError::Temporary(e.to_string())
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    fn name(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, envelope: &Envelope) -> Result<Option<String>, MailError> {
        let message = self.build(envelope)?;
        let response = self.transport.send(message).await.map_err(classify)?;
        Ok(Some(response.message().collect::<Vec<_>>().join(" ")))
    }
}
