//! Repository functions: one module per table family, plain SQL with `$n`
//! placeholders that runs unchanged on SQLite and PostgreSQL. Every query on
//! tenant data takes the merchant id (and the customer id where it applies).

pub mod access_tokens;
pub mod customers;
pub mod events;
pub mod invoices;
pub mod merchants;
pub mod messages;
pub mod payment_methods;
pub mod payments;
pub mod rate_limits;
pub mod sign_in_challenges;

/// Maps SQL 0/1 flags (no portable bool in the `any` driver) to `bool`.
pub fn flag(v: i64) -> bool {
    v != 0
}
