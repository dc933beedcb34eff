//! Repository functions: one module per table family, plain SQL with `$n`
//! placeholders that runs unchanged on SQLite and PostgreSQL. Every query on
//! tenant data takes the merchant id (and the customer id where it applies).

pub mod access_tokens;
pub mod account_page;
pub mod bulk;
pub mod customers;
pub mod events;
pub mod invoices;
pub mod jobs;
pub mod merchant_users;
pub mod merchants;
pub mod messages;
pub mod outbox_leases;
pub mod payment_methods;
pub mod payments;
pub mod rate_limits;
pub mod sign_in_challenges;

/// Maps SQL 0/1 flags (no portable bool in the `any` driver) to `bool`.
pub fn flag(v: i64) -> bool {
    v != 0
}

/// Whether `e` broke the named unique constraint. PostgreSQL names it;
/// SQLite only lists the columns ("UNIQUE constraint failed: t.a, t.b"), so
/// the caller passes the last column as SQLite reports it.
pub fn unique_violation(e: &sqlx::Error, pg_constraint: &str, sqlite_column: &str) -> bool {
    let Some(db) = e.as_database_error() else { return false };
    if !matches!(db.kind(), sqlx::error::ErrorKind::UniqueViolation) {
        return false;
    }
    match db.constraint() {
        Some(name) => name == pg_constraint,
        None => db.message().contains(sqlite_column),
    }
}
