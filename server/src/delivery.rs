//! The delivery worker: claims due outbox messages with a lease, hands each
//! to the configured transport for its channel (email, SMS), and records the
//! outcome. Temporary failures are
//! retried with exponential backoff; nothing is dropped silently: a message
//! that can never be sent ends as `failed` with its error kept.

use crate::mail::{Envelope, MailError, Mailer};
use crate::sms::{SmsEnvelope, SmsError, SmsSender};
use app::server::lease_keeper::renew_until_dropped;
use app::server::mail::{render_html, EmailContent};
use app::server::repo::outbox_leases::{self, Outbox};
use app::server::repo::{customers, merchants, messages};
use app::server::{Clock, Db, UtcMillis};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A worker that dies mid-send loses its claim after this long (a live one
/// renews it while its batch runs).
const LEASE_MS: i64 = 60_000;
const BATCH: i64 = 20;
/// Attempts before a temporarily failing message is given up (about 17 h of backoff).
pub const MAX_ATTEMPTS: i64 = 12;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    /// Reminders no longer needed when their turn came.
    pub suppressed: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// 30 s, 1 min, 2 min … capped at 4 h.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 20) - 1;
    (30_000_i64 << exp).min(4 * 3_600_000)
}

#[derive(Clone)]
pub struct DeliveryWorker {
    db: Db,
    clock: Arc<dyn Clock>,
    mailer: Arc<dyn Mailer>,
    sms: Arc<dyn SmsSender>,
    /// The portal's address, for the logo in a reminder's HTML part.
    base_url: Arc<str>,
}

/// What a transport said, whatever the channel.
enum Failure {
    Retryable(String),
    Permanent(String),
    /// The carrier says the number replied STOP.
    OptedOut(String),
}

impl From<MailError> for Failure {
    fn from(e: MailError) -> Failure {
        match e.is_retryable() {
            true => Failure::Retryable(e.to_string()),
            false => Failure::Permanent(e.to_string()),
        }
    }
}

impl From<SmsError> for Failure {
    fn from(e: SmsError) -> Failure {
        match e {
            SmsError::OptedOut => Failure::OptedOut(e.to_string()),
            e if e.is_retryable() => Failure::Retryable(e.to_string()),
            e => Failure::Permanent(e.to_string()),
        }
    }
}

impl DeliveryWorker {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        mailer: Arc<dyn Mailer>,
        sms: Arc<dyn SmsSender>,
        base_url: &str,
    ) -> Self {
        DeliveryWorker { db, clock, mailer, sms, base_url: base_url.into() }
    }

    /// Claims and delivers one batch of due messages, renewing the batch's
    /// leases while it runs (a slow mail server must not let another
    /// worker claim and send the same messages).
    pub async fn run_once(&self) -> Result<DeliveryReport, sqlx::Error> {
        let claimed = messages::claim_due(&self.db, self.clock.now(), LEASE_MS, BATCH).await?;
        if claimed.is_empty() {
            return Ok(DeliveryReport::default());
        }
        let ids: Vec<String> = claimed.iter().map(|m| m.id.clone()).collect();
        let (db, clock, ids) = (&self.db, &self.clock, &ids);
        let renew = move || outbox_leases::renew_sending(db, Outbox::Messages, ids, clock.now(), LEASE_MS);
        tokio::select! {
            report = self.deliver(claimed) => report,
            never = renew_until_dropped("messages", renew) => match never {},
        }
    }

    async fn deliver(&self, claimed: Vec<messages::MessageRow>) -> Result<DeliveryReport, sqlx::Error> {
        let mut report = DeliveryReport::default();
        let mut senders: HashMap<String, Option<merchants::MerchantRow>> = HashMap::new();
        for msg in claimed {
            if messages::reminder_is_moot(self.db.pool(), &msg.id, self.clock.now()).await? {
                // Paid, voided, disputed or promised since it was queued.
                messages::mark_suppressed(&self.db, &msg.id, self.clock.now()).await?;
                report.suppressed += 1;
                continue;
            }
            let outcome: Result<(Option<String>, &str), Failure> = if msg.channel == "sms" {
                let sms = SmsEnvelope { to: msg.to_address.clone(), body: msg.body_text.clone() };
                self.sms.send(&sms).await.map(|r| (r, self.sms.name())).map_err(Failure::from)
            } else {
                if !senders.contains_key(&msg.merchant_id) {
                    let id = app::server::ids::MerchantId::from_trusted(msg.merchant_id.clone());
                    senders.insert(msg.merchant_id.clone(), merchants::find(self.db.pool(), &id).await?);
                }
                self.send_email(&msg, senders[&msg.merchant_id].as_ref()).await
            };
            match outcome {
                Ok((provider_ref, transport)) => {
                    messages::mark_sent(&self.db, &msg.id, transport, provider_ref.as_deref(), self.clock.now())
                        .await?;
                    report.sent += 1;
                }
                Err(Failure::Retryable(e)) if msg.attempts < MAX_ATTEMPTS => {
                    let retry_at = UtcMillis(self.clock.now().0 + backoff_ms(msg.attempts));
                    tracing::warn!(message = %msg.id, channel = %msg.channel, attempts = msg.attempts, error = %e, "not delivered, will retry");
                    messages::mark_failed(&self.db, &msg.id, &e, Some(retry_at)).await?;
                    report.retrying += 1;
                }
                Err(Failure::Retryable(e)) | Err(Failure::Permanent(e)) => {
                    tracing::warn!(message = %msg.id, channel = %msg.channel, attempts = msg.attempts, error = %e, "not delivered, given up");
                    messages::mark_failed(&self.db, &msg.id, &e, None).await?;
                    report.failed += 1;
                }
                Err(Failure::OptedOut(e)) => {
                    // The carrier knew of a STOP we missed: record it so no
                    // more texts are queued for this number.
                    let mut tx = app::server::db::begin_write(self.db.pool()).await?;
                    customers::opt_out_of_sms(&mut tx, &msg.to_address, "carrier", self.clock.now()).await?;
                    tx.commit().await?;
                    messages::mark_failed(&self.db, &msg.id, &e, None).await?;
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    async fn send_email(
        &self,
        msg: &messages::MessageRow,
        merchant: Option<&merchants::MerchantRow>,
    ) -> Result<(Option<String>, &str), Failure> {
        let envelope = Envelope {
            id: msg.id.clone(),
            from_name: merchant.map(|m| m.display_name.clone()).unwrap_or_default(),
            to: msg.to_address.clone(),
            subject: msg.subject.clone(),
            text: msg.body_text.clone(),
            html: self.html_part(msg, merchant)?,
        };
        self.mailer.send(&envelope).await.map(|r| (r, self.mailer.name())).map_err(Failure::from)
    }

    /// The HTML part: stored as is, or, for a reminder queued as its
    /// content, branded now in the merchant's current branding.
    fn html_part(
        &self,
        msg: &messages::MessageRow,
        merchant: Option<&merchants::MerchantRow>,
    ) -> Result<Option<String>, Failure> {
        let Some(content) = &msg.body_content else { return Ok(msg.body_html.clone()) };
        let content: EmailContent = serde_json::from_str(content)
            .map_err(|e| Failure::Permanent(format!("the stored reminder content is unreadable: {e}")))?;
        let merchant = merchant.ok_or_else(|| Failure::Permanent("the merchant no longer exists".into()))?;
        Ok(Some(render_html(merchant, &self.base_url, &content)))
    }

    /// Polls until `shutdown` fires; the in-flight batch is finished first.
    pub async fn run(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        loop {
            match self.run_once().await {
                Ok(r) if r.sent + r.retrying + r.failed + r.suppressed > 0 => tracing::debug!(?r, "delivery batch"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "delivery worker could not reach the database"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(1), 30_000);
        assert_eq!(backoff_ms(2), 60_000);
        assert_eq!(backoff_ms(5), 480_000);
        assert_eq!(backoff_ms(40), 4 * 3_600_000);
    }
}
