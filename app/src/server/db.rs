//! The one database handle: a sqlx `AnyPool` over SQLite (default, a file in
//! the data directory) or PostgreSQL (by URL), plus which of the two it is,
//! for the few places where the SQL must differ (migrations, job claiming).

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::AnyPool;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a pool talks to. Pools come only from [`Db::connect`],
    /// which accepts nothing but these two schemes.
    pub fn of(pool: &AnyPool) -> Backend {
        if pool.connect_options().database_url.scheme() == "sqlite" {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// One worker's claim on a batch of due rows, as one statement: the
    /// candidates are chosen once, then each is updated if it is still due.
    ///
    /// On PostgreSQL the candidates are a `MATERIALIZED` CTE locked with
    /// `SKIP LOCKED`. Written as `WHERE id IN (SELECT … LIMIT n FOR UPDATE
    /// SKIP LOCKED)`, the planner may run that subquery once per outer row
    /// (a nested-loop semi join); each run finds the next row not yet
    /// claimed, so one worker took the whole queue whatever its limit, and
    /// a worker that died held all of it until the lease ran out. SQLite
    /// runs one writer at a time, so there the statement needs no lock.
    pub fn claim_sql(self, claim: &Claim) -> String {
        let Claim { table, due, order_by, limit, set, returning } = claim;
        let (materialized, lock) = match self {
            Backend::Postgres => ("MATERIALIZED ", " FOR UPDATE SKIP LOCKED"),
            Backend::Sqlite => ("", ""),
        };
        format!(
            "WITH candidates AS {materialized}(SELECT id FROM {table} WHERE {due} ORDER BY {order_by} \
             LIMIT {limit}{lock}) \
             UPDATE {table} SET {set} WHERE id IN (SELECT id FROM candidates) AND {due} RETURNING {returning}"
        )
    }
}

/// The parts of a claim statement ([`Backend::claim_sql`]); all are our own
/// SQL text, never user input (values are bound parameters).
pub struct Claim<'a> {
    pub table: &'a str,
    /// When a row may be claimed (queued and due, or its lease ran out).
    pub due: &'a str,
    pub order_by: &'a str,
    /// The parameter holding the batch size, e.g. `$4`.
    pub limit: &'a str,
    pub set: &'a str,
    pub returning: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL scheme (expected sqlite: or postgres://)")]
    UnsupportedUrl,
    #[error("could not connect to the {backend} database: {source}")]
    Connect { backend: &'static str, source: sqlx::Error },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).ok_or(DbError::UnsupportedUrl)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            // sqlx already pings every connection when it comes back to the
            // pool (that is how it finds one a cancelled query left
            // half-read); a second ping on the way out cost a round trip per
            // query, a tenth of the server's CPU under load on PostgreSQL.
            // A connection the server dropped while idle fails its next
            // query once and is then discarded; idle ones are closed after
            // sqlx's 10 minutes anyway.
            .test_before_acquire(false)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // SQLite's default page cache is 2 MB per connection:
                        // a sweep over a large invoice table then rereads
                        // and spills pages constantly. 32 MB each is cheap.
                        sqlx::Executor::execute(conn, "PRAGMA cache_size = -32768").await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(|source| DbError::Connect { backend: backend.name(), source })?;
        if backend == Backend::Sqlite {
            // WAL lets readers run beside the one writer; it is a property of
            // the file, so setting it once per start is enough.
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        Ok(Db { pool, backend })
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// For `/readyz`: one round trip.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }

    pub async fn close(&self) {
        self.pool.close().await
    }
}

/// Begins a transaction that will write. On SQLite it takes the write lock
/// at `BEGIN IMMEDIATE`: a deferred transaction that reads first and writes
/// later fails at once with "database is locked" (no busy wait) when another
/// connection wrote in between; an immediate one waits its turn instead.
pub async fn begin_write(pool: &AnyPool) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    if pool.connect_options().database_url.scheme().starts_with("sqlite") {
        pool.begin_with("BEGIN IMMEDIATE").await
    } else {
        pool.begin().await
    }
}
