//! Renewing the leases on outbox rows a worker has claimed: messages
//! (reminders, notices, sign-in codes) and outbound webhook deliveries.
//! These rows have no owner column: a claim is `status = 'sending'` with a
//! `lease_expires_at`, so a worker renews by the ids it claimed. (Jobs have
//! owners and renew by owner: [`super::jobs::renew_leases`].)

use crate::server::{Db, UtcMillis};

/// The tables whose rows are claimed this way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outbox {
    Messages,
    WebhookDeliveries,
}

impl Outbox {
    fn table(self) -> &'static str {
        match self {
            Outbox::Messages => "messages",
            Outbox::WebhookDeliveries => "webhook_deliveries",
        }
    }
}

/// Moves the lease of those of `ids` still being sent to `now + lease_ms`;
/// rows already sent, failed or requeued are left alone. Returns how many
/// were renewed.
pub async fn renew_sending(
    db: &Db,
    outbox: Outbox,
    ids: &[String],
    now: UtcMillis,
    lease_ms: i64,
) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    let list = (2..ids.len() + 2).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql =
        format!("UPDATE {} SET lease_expires_at = $1 WHERE status = 'sending' AND id IN ({list})", outbox.table());
    let mut query = sqlx::query(&sql).bind(now.0 + lease_ms);
    for id in ids {
        query = query.bind(id);
    }
    Ok(query.execute(db.pool()).await?.rows_affected())
}
