//! tower-sessions store over the shared `AnyPool`, so sessions live in the
//! same database as everything else on both backends (and survive restarts
//! and work across replicas sharing one PostgreSQL).

use async_trait::async_trait;
use sqlx::AnyPool;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    pool: AnyPool,
}

fn backend_err(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn expiry_millis(record: &Record) -> i64 {
    (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The clock session rows expire by: the system's, as tower-sessions sets
/// their expiry by it (not the injected clock that the portal's own idle and
/// absolute timeouts use).
pub(crate) fn now_millis() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// [`DbSessionStore::load`]'s read: the live row of session `$1` at `$2`
/// ([`now_millis`]). The account page reads it inside its one query.
pub(crate) const LOAD_SQL: &str = "SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2";

impl DbSessionStore {
    pub fn new(pool: AnyPool) -> Self {
        DbSessionStore { pool }
    }

    /// Removes sessions past their expiry; run periodically.
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        let done =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now_millis()).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        // A 128-bit id colliding is astronomically unlikely, but never overwrite
        // someone else's session if it happens: pick a new id instead.
        loop {
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
            )
            .bind(record.id.to_string())
            .bind(&data)
            .bind(expiry_millis(record))
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(record.id.to_string())
        .bind(data)
        .bind(expiry_millis(record))
        .execute(&self.pool)
        .await
        .map_err(backend_err)?;
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String, i64)> = sqlx::query_as(LOAD_SQL)
            .bind(session_id.to_string())
            .bind(now_millis())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend_err)?;
        let Some((data, expires_at)) = row else { return Ok(None) };
        let data = serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp_nanos(expires_at as i128 * 1_000_000)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *session_id, data, expiry_date }))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(session_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend_err)?;
        Ok(())
    }
}
