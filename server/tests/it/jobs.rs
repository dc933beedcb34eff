//! The job table on both backends: each due job claimed by exactly one of
//! several concurrent workers; a lease that runs out is taken over, and the
//! worker that lost it can no longer complete it; a live worker's renewals
//! keep its claims past the first lease; failures back off and end
//! dead with their error kept; a dedupe key makes a second enqueue a no-op.

use crate::common::*;
use app::server::repo::jobs;
use app::server::Clock;
use std::collections::HashSet;
use std::time::Duration;

on_both_backends!(
    concurrent_workers_claim_each_job_once,
    expired_leases_are_taken_over,
    a_live_worker_renews_its_leases_and_a_dead_ones_lapse,
    failures_back_off_then_go_dead_with_the_error,
);

const KIND: &[&str] = &["test_job"];

async fn enqueue_many(app: &TestApp, n: usize) {
    let now = app.clock.now();
    for i in 0..n {
        let key = format!("test:{i}");
        jobs::enqueue(app.db.pool(), None, "test_job", &serde_json::json!({ "i": i }), &key, now, now).await.unwrap();
    }
    // The same key again changes nothing.
    assert!(jobs::enqueue(app.db.pool(), None, "test_job", &serde_json::json!({}), "test:0", now, now)
        .await
        .unwrap()
        .is_none());
}

async fn concurrent_workers_claim_each_job_once(app: TestApp) {
    enqueue_many(&app, 200).await;
    let mut workers = Vec::new();
    for w in 0..4 {
        let (db, now) = (app.db.clone(), app.clock.now());
        workers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = jobs::claim_due(&db, KIND, &format!("w{w}"), now, 60_000, 7).await.unwrap();
                if batch.is_empty() {
                    return got;
                }
                assert!(batch.len() <= 7, "a batch of {} claimed with a limit of 7", batch.len());
                for job in batch {
                    assert!(jobs::complete(&db, &job.id, &format!("w{w}"), now).await.unwrap());
                    got.push(job.id);
                }
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 200, "every job claimed");
    assert_eq!(unique.len(), 200, "none claimed twice");
}

async fn expired_leases_are_taken_over(app: TestApp) {
    enqueue_many(&app, 1).await;
    let now = app.clock.now();
    let first = jobs::claim_due(&app.db, KIND, "crashed", now, 30_000, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(jobs::claim_due(&app.db, KIND, "other", now, 30_000, 10).await.unwrap().is_empty(), "leased");
    app.clock.advance(Duration::from_secs(31));
    let taken = jobs::claim_due(&app.db, KIND, "other", app.clock.now(), 30_000, 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].attempts, 2);
    assert!(!jobs::complete(&app.db, &first[0].id, "crashed", app.clock.now()).await.unwrap(), "the old owner lost it");
    assert!(jobs::complete(&app.db, &first[0].id, "other", app.clock.now()).await.unwrap());
}

async fn a_live_worker_renews_its_leases_and_a_dead_ones_lapse(app: TestApp) {
    enqueue_many(&app, 2).await;
    let lease = 30_000;
    let live = jobs::claim_due(&app.db, KIND, "live", app.clock.now(), lease, 1).await.unwrap();
    let dead = jobs::claim_due(&app.db, KIND, "dead", app.clock.now(), lease, 1).await.unwrap();
    assert_eq!((live.len(), dead.len()), (1, 1));
    // "live" renews twice, 20 s apart; "dead" never does.
    for _ in 0..2 {
        app.clock.advance(Duration::from_secs(20));
        assert_eq!(jobs::renew_leases(&app.db, "live", app.clock.now(), lease).await.unwrap(), 1);
    }
    // 40 s after the claims, past the first lease: only the dead worker's job is free.
    let taken = jobs::claim_due(&app.db, KIND, "other", app.clock.now(), lease, 10).await.unwrap();
    assert_eq!(taken.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [dead[0].id.as_str()]);
    // The dead worker, come back, can neither renew nor complete what was taken over.
    assert_eq!(jobs::renew_leases(&app.db, "dead", app.clock.now(), lease).await.unwrap(), 0);
    assert!(!jobs::complete(&app.db, &dead[0].id, "dead", app.clock.now()).await.unwrap());
    assert!(jobs::complete(&app.db, &live[0].id, "live", app.clock.now()).await.unwrap());
    // A finished job is not renewed.
    assert_eq!(jobs::renew_leases(&app.db, "live", app.clock.now(), lease).await.unwrap(), 0);
}

async fn failures_back_off_then_go_dead_with_the_error(app: TestApp) {
    enqueue_many(&app, 1).await;
    sqlx::query("UPDATE jobs SET max_attempts = 3").execute(app.db.pool()).await.unwrap();
    for attempt in 1..=3 {
        let now = app.clock.now();
        let claimed = jobs::claim_due(&app.db, KIND, "w", now, 30_000, 10).await.unwrap();
        assert_eq!(claimed.len(), 1, "attempt {attempt}");
        let retry_at = app::server::UtcMillis(now.0 + jobs::backoff_ms(claimed[0].attempts));
        jobs::fail(&app.db, &claimed[0].id, "w", &format!("boom {attempt}"), retry_at, now).await.unwrap();
        assert!(
            jobs::claim_due(&app.db, KIND, "w", now, 30_000, 10).await.unwrap().is_empty(),
            "not before its retry time"
        );
        app.clock.advance(Duration::from_millis(jobs::backoff_ms(claimed[0].attempts) as u64 + 1));
    }
    let (status, error, attempts): (String, Option<String>, i64) =
        sqlx::query_as("SELECT status, last_error, attempts FROM jobs").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!((status.as_str(), error.as_deref(), attempts), ("dead", Some("boom 3"), 3));
    assert!(jobs::claim_due(&app.db, KIND, "w", app.clock.now(), 30_000, 10).await.unwrap().is_empty());
    assert_eq!(jobs::backoff_ms(1), 120_000);
    assert_eq!(jobs::backoff_ms(40), 6 * 60 * 60 * 1000);
}

/// The outbox's claim (the same statement shape as the job table's, see
/// `Backend::claim_sql`) on a database no worker is running on: workers
/// claim at most their batch, and between them every message once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_claims_take_at_most_their_batch_and_each_message_once() {
    use app::server::repo::{merchants, messages};
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = tempfile::tempdir().unwrap();
        let Some((url, cleanup)) = fresh_database_url(backend, dir.path()).await else { continue };
        let db = app::server::Db::connect(&url, 4).await.unwrap();
        db.migrate().await.unwrap();
        let now = app::server::UtcMillis(1_800_000_000_000);
        let merchant = merchants::insert(db.pool(), &new_merchant("acme", "Acme Co", "UTC"), now).await.unwrap();
        for i in 0..30 {
            let email = messages::NewEmail {
                customer: None,
                to_address: format!("c{i}@example.com"),
                subject: "Your code".into(),
                body_text: "424242".into(),
                body_html: "<p>424242</p>".into(),
                template_key: "test".into(),
                dedupe_key: format!("code:{i}"),
            };
            messages::enqueue_email(db.pool(), &merchant, &email, now).await.unwrap().unwrap();
        }
        let workers: Vec<_> = (0..3)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    loop {
                        let batch = messages::claim_due(&db, now, 60_000, 4).await.unwrap();
                        if batch.is_empty() {
                            return got;
                        }
                        assert!(batch.len() <= 4, "{backend:?}: a batch of {} with a limit of 4", batch.len());
                        got.extend(batch.into_iter().map(|m| m.id));
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.await.unwrap());
        }
        assert_eq!(all.len(), 30, "{backend:?}: every message claimed");
        assert_eq!(all.iter().collect::<HashSet<_>>().len(), 30, "{backend:?}: none claimed twice");
        drop_test_schema(db, cleanup).await;
    }
}
