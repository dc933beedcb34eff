//! The job table on both backends: each due job claimed by exactly one of
//! several concurrent workers; a lease that runs out is taken over, and the
//! worker that lost it can no longer complete it; failures back off and end
//! dead with their error kept; a dedupe key makes a second enqueue a no-op.

use crate::common::*;
use app::server::repo::jobs;
use app::server::Clock;
use std::collections::HashSet;
use std::time::Duration;

on_both_backends!(
    concurrent_workers_claim_each_job_once,
    expired_leases_are_taken_over,
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
