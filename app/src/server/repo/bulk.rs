//! Set-based writes for the engine's batches: many rows per statement, in
//! chunks that stay well under both backends' limit on bound values.

use sqlx::{Any, Transaction};

/// One bound value; every column is BIGINT or TEXT on both backends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(Some(v))
    }
}

impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Val {
        Val::Int(v)
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(Some(v.to_string()))
    }
}

impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(Some(v))
    }
}

impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Val {
        Val::Text(v)
    }
}

/// Bound values per statement (SQLite allows 32766, PostgreSQL 65535).
const MAX_BINDS: usize = 8_000;

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    rows: &'q [Vec<Val>],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    for row in rows {
        for v in row {
            q = match v {
                Val::Int(v) => q.bind(*v),
                Val::Text(v) => q.bind(v.as_deref()),
            };
        }
    }
    q
}

/// `(${n}, ${n+1}, …), (…)` for `rows` rows of `width` values.
fn placeholders(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `INSERT INTO table (columns) VALUES … {tail}`; returns the first column
/// of the rows actually inserted when `tail` ends in `RETURNING <column>`,
/// else nothing.
pub async fn insert(
    tx: &mut Transaction<'static, Any>,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Val>],
    tail: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let mut returned = Vec::new();
    let per_statement = (MAX_BINDS / columns.len().max(1)).max(1);
    for chunk in rows.chunks(per_statement) {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {} {tail}",
            columns.join(", "),
            placeholders(chunk.len(), columns.len())
        );
        let q = bind_all(sqlx::query(&sql), chunk);
        if tail.contains("RETURNING") {
            use sqlx::Row;
            for row in q.fetch_all(&mut **tx).await? {
                returned.push(row.try_get::<String, _>(0)?);
            }
        } else {
            q.execute(&mut **tx).await?;
        }
    }
    Ok(returned)
}

/// Updates many rows, each with its own values: `rows` are
/// `[key, value…]` matching `columns`; `set` and `filter` refer to them as
/// `v.<column>` and to the table by its name. Returns the keys of the rows
/// updated (the filter may guard each, e.g. on the value read earlier).
pub async fn update_from(
    tx: &mut Transaction<'static, Any>,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Val>],
    set: &str,
    filter: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let mut updated = Vec::new();
    let per_statement = (MAX_BINDS / columns.len().max(1)).max(1);
    for chunk in rows.chunks(per_statement) {
        // The values as a named table both backends read (a VALUES list is
        // not subject to SQLite's limit on compound SELECTs).
        let sql = format!(
            "WITH v ({}) AS (VALUES {}) UPDATE {table} SET {set} FROM v WHERE {table}.{key} = v.{key} AND {filter} \
             RETURNING {table}.{key}",
            columns.join(", "),
            placeholders(chunk.len(), columns.len()),
            key = columns[0]
        );
        use sqlx::Row;
        for row in bind_all(sqlx::query(&sql), chunk).fetch_all(&mut **tx).await? {
            updated.push(row.try_get::<String, _>(0)?);
        }
    }
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_number_every_cell() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
