//! Keeping a live worker's claims while its batch runs. Every worker claims
//! rows under a lease (`LEASE_MS`, 60 s) so that a worker that dies loses
//! them; a batch that runs longer than the lease (a slow mail server, a
//! slow webhook endpoint) must not lose them too, or a second worker would
//! claim and send the same rows while the first is still sending.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

/// A third of the 60 s lease: two renewals in a row can fail (a database
/// hiccup) before the claims lapse.
pub const RENEW_EVERY: Duration = Duration::from_secs(20);

/// Calls `renew` every [`RENEW_EVERY`] until dropped. Callers race it
/// against their batch (`tokio::select!`), so it stops when the batch ends.
/// `what` names the claims in the warning a failed renewal logs.
pub async fn renew_until_dropped<F, Fut>(what: &'static str, mut renew: F) -> Infallible
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, sqlx::Error>>,
{
    let mut tick = tokio::time::interval(RENEW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate; the claims are fresh
    loop {
        tick.tick().await;
        if let Err(e) = renew().await {
            // The batch goes on; if renewals keep failing the claims lapse
            // and another worker takes them over, which the keys allow.
            tracing::warn!(error = %e, claims = what, "could not renew leases");
        }
    }
}
