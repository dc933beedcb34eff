//! Fixed-window counters shared by every replica (they live in the database).

use crate::server::UtcMillis;
use sqlx::AnyPool;

/// Counts one hit in `bucket`'s current window and returns the hits so far
/// in it, including this one.
pub async fn hit(pool: &AnyPool, bucket: &str, window_ms: i64, now: UtcMillis) -> Result<i64, sqlx::Error> {
    let window_start = now.0 - now.0.rem_euclid(window_ms);
    let (hits,): (i64,) = sqlx::query_as(
        "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits",
    )
    .bind(bucket)
    .bind(window_start)
    .fetch_one(pool)
    .await?;
    Ok(hits)
}

/// Hits in `bucket`'s current window so far, without counting one.
pub async fn hits(pool: &AnyPool, bucket: &str, window_ms: i64, now: UtcMillis) -> Result<i64, sqlx::Error> {
    let window_start = now.0 - now.0.rem_euclid(window_ms);
    let row: Option<(i64,)> = sqlx::query_as("SELECT hits FROM rate_limits WHERE bucket = $1 AND window_start = $2")
        .bind(bucket)
        .bind(window_start)
        .fetch_optional(pool)
        .await?;
    Ok(row.map_or(0, |r| r.0))
}

/// Seconds until `bucket`'s current window ends (for `Retry-After`).
pub fn retry_after_secs(window_ms: i64, now: UtcMillis) -> i64 {
    let remaining = window_ms - now.0.rem_euclid(window_ms);
    (remaining + 999) / 1000
}

/// Old windows are useless; run now and then.
pub async fn delete_before(pool: &AnyPool, cutoff: UtcMillis) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
        .bind(cutoff.0)
        .execute(pool)
        .await?
        .rows_affected())
}
