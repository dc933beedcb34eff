//! Running jobs from the job table: claim with a lease, run, record the
//! outcome. A handler re-checks everything before its effect, and every
//! effect carries a dedupe key, so a job run twice (a lease taken over from
//! a crashed worker) still has its effect once.

use super::ids::MerchantId;
use super::lease_keeper::renew_until_dropped;
use super::payments::autopay::{self, ChargeRun};
use super::repo::jobs::{self, JobRow};
use super::{AppError, AppState, UtcMillis};

/// A worker that dies mid-batch loses its claims after this long (a live
/// one renews them, see [`renew_until_dropped`], so a slow batch keeps them).
pub const LEASE_MS: i64 = 60_000;
const KINDS: &[&str] = &[autopay::CHARGE_JOB, autopay::RETRY_JOB];

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    pub done: usize,
    pub retrying: usize,
}

/// Queues what has come due, then claims and runs one batch of jobs.
pub async fn run_once(state: &AppState, owner: &str, limit: i64) -> Result<RunReport, AppError> {
    autopay::schedule_due(state).await?;
    let claimed = jobs::claim_due(&state.db, KINDS, owner, state.clock.now(), LEASE_MS, limit).await?;
    if claimed.is_empty() {
        return Ok(RunReport::default());
    }
    tokio::select! {
        report = run_batch(state, owner, claimed) => report,
        never = keep_leases(state, owner) => match never {},
    }
}

/// Renews `owner`'s leases until dropped (when its batch ends).
async fn keep_leases(state: &AppState, owner: &str) -> std::convert::Infallible {
    renew_until_dropped("jobs", || jobs::renew_leases(&state.db, owner, state.clock.now(), LEASE_MS)).await
}

async fn run_batch(state: &AppState, owner: &str, claimed: Vec<JobRow>) -> Result<RunReport, AppError> {
    let mut report = RunReport::default();
    for job in claimed {
        let outcome = run(state, &job).await;
        let now = state.clock.now();
        match outcome {
            Ok(None) => {
                jobs::complete(&state.db, &job.id, owner, now).await?;
                report.done += 1;
            }
            Ok(Some(reason)) => {
                let retry = UtcMillis(now.0 + jobs::backoff_ms(job.attempts));
                jobs::fail(&state.db, &job.id, owner, reason, retry, now).await?;
                report.retrying += 1;
            }
            Err(e) => {
                tracing::warn!(job = %job.id, kind = %job.kind, error = %e, "job failed");
                let retry = UtcMillis(now.0 + jobs::backoff_ms(job.attempts));
                jobs::fail(&state.db, &job.id, owner, &e.to_string(), retry, now).await?;
                report.retrying += 1;
            }
        }
    }
    Ok(report)
}

/// `Ok(None)`: finished; `Ok(Some(reason))`: try again later.
async fn run(state: &AppState, job: &JobRow) -> Result<Option<&'static str>, AppError> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload).map_err(AppError::internal)?;
    match job.kind.as_str() {
        autopay::CHARGE_JOB | autopay::RETRY_JOB => {
            let merchant = MerchantId::from_trusted(job.merchant_id.clone().unwrap_or_default());
            let invoice = payload["invoice_id"].as_str().unwrap_or_default();
            let due_at = payload["due_at"].as_i64().unwrap_or_default();
            let attempt = payload["attempt"].as_u64().unwrap_or(0) as u32;
            match autopay::run_charge(state, &merchant, invoice, due_at, attempt).await? {
                ChargeRun::Charged(result) => {
                    tracing::info!(job = %job.id, ?result, "autopay charge made");
                    Ok(None)
                }
                ChargeRun::Skipped(why) => {
                    tracing::info!(job = %job.id, why, "autopay charge not needed");
                    Ok(None)
                }
                ChargeRun::Later(why) => Ok(Some(why)),
            }
        }
        other => Err(AppError::internal(format!("unknown job kind {other}"))),
    }
}
