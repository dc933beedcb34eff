//! Set-based reads and writes for the engine's batches: many rows per
//! statement.
//!
//! Reads come back as one JSON array: SQLite's driver moves every result
//! row through a worker thread, several microseconds a row, while SQLite
//! itself reads it in a fraction of that (the sweep's 60,000 due invoices:
//! 20 ms in SQLite, 470 ms through the driver as rows, 50 ms as one JSON
//! array). On SQLite a key list also goes in as one JSON text expanded by
//! `json_each`. Inserts bind their values, in chunks under both backends'
//! limit on bound values: expanding rows from JSON in SQLite measured
//! slower than binding them.

use crate::server::db::Backend;
use serde::de::DeserializeOwned;
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

/// Bound values per statement (SQLite allows 32766, PostgreSQL 65535); a
/// few thousand keeps each statement quick to prepare.
const MAX_BINDS: usize = 2_000;

fn sigil(tx: &mut Transaction<'static, Any>) -> char {
    if is_sqlite(tx) {
        '?'
    } else {
        '$'
    }
}

fn is_sqlite(tx: &mut Transaction<'static, Any>) -> bool {
    tx.backend_name().eq_ignore_ascii_case("sqlite")
}

/// Rows of a query as `T`s, read as one JSON array of arrays (`T` derives
/// `Deserialize`, its fields in the order of `columns`): one row crosses
/// the driver however many the query yields. `query` is a complete SELECT
/// whose output columns are named `columns`; `binds` fill its `$1`, `$2`…
pub async fn fetch_json<T: DeserializeOwned>(
    pool: &sqlx::AnyPool,
    backend: Backend,
    columns: &[&str],
    query: &str,
    binds: &[Val],
) -> Result<Vec<T>, sqlx::Error> {
    let sql = format!("SELECT {} FROM ({query}) q", json_rows(backend, "q", columns));
    let mut q = sqlx::query(&sql);
    for v in binds {
        q = bind_val(q, v);
    }
    use sqlx::Row;
    let json: String = q.fetch_one(pool).await?.try_get(0)?;
    from_json(&json)
}

/// An aggregate expression: the rows of `alias`'s `columns` as one JSON
/// array of arrays in TEXT, `[]` when there are none.
pub fn json_rows(backend: Backend, alias: &str, columns: &[&str]) -> String {
    let cells = qualified(alias, columns);
    match backend {
        Backend::Sqlite => format!("json_group_array(json_array({cells}))"),
        Backend::Postgres => format!("CAST(COALESCE(json_agg(json_build_array({cells})), '[]') AS TEXT)"),
    }
}

/// An expression: one row's `columns` of `alias` as a JSON array in TEXT.
pub fn json_row(backend: Backend, alias: &str, columns: &[&str]) -> String {
    let cells = qualified(alias, columns);
    match backend {
        Backend::Sqlite => format!("json_array({cells})"),
        Backend::Postgres => format!("CAST(json_build_array({cells}) AS TEXT)"),
    }
}

/// An expression: the text at `path` (object keys) inside the JSON text
/// `expr`, NULL where there is none.
pub fn json_text(backend: Backend, expr: &str, path: &[&str]) -> String {
    match backend {
        Backend::Sqlite => format!("json_extract({expr}, '$.{}')", path.join(".")),
        Backend::Postgres => format!("(CAST({expr} AS json) #>> '{{{}}}')", path.join(",")),
    }
}

fn qualified(alias: &str, columns: &[&str]) -> String {
    columns.iter().map(|c| format!("{alias}.{c}")).collect::<Vec<_>>().join(", ")
}

/// Decodes what [`json_rows`] or [`json_row`] produced (structs deserialize
/// from arrays, their fields in column order).
pub fn from_json<T: DeserializeOwned>(json: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(json).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn bind_val<'q>(
    q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    v: &'q Val,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    match v {
        Val::Int(v) => q.bind(*v),
        Val::Text(v) => q.bind(v.as_deref()),
    }
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    rows: &'q [Vec<Val>],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    for v in rows.iter().flatten() {
        q = bind_val(q, v);
    }
    q
}

/// `($1, $2, …), (…)` for `rows` rows of `width` values; for SQLite plain
/// `(?, ?, …)` in binding order. SQLite keeps numbered and named parameters
/// (`$1`, `?1`) in a list it searches linearly for every value bound, which
/// makes a long statement quadratic; plain `?` is not in that list.
fn placeholders(sigil: char, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=width)
                .map(|c| if sigil == '?' { "?".to_string() } else { format!("${}", r * width + c) })
                .collect();
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
    if rows.is_empty() {
        return Ok(returned);
    }
    let sigil = sigil(tx);
    let per_statement = (MAX_BINDS / columns.len().max(1)).max(1);
    for chunk in rows.chunks(per_statement) {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {} {tail}",
            columns.join(", "),
            placeholders(sigil, chunk.len(), columns.len())
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

/// Updates many rows, each with its own values: `rows` are `[key,
/// value…]` matching `columns` (the key first, a text). Each `(column,
/// value)` of `set` assigns a value column; each of `guard` requires the
/// row's column to still equal a value column (the value read earlier);
/// `filter` is any further condition on the table (unqualified columns).
/// Returns the keys of the rows updated.
pub async fn update_many(
    tx: &mut Transaction<'static, Any>,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Val>],
    set: &[(&str, &str)],
    guard: &[(&str, &str)],
    filter: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let key = columns[0];
    let column_of = |name: &str| columns.iter().position(|c| *c == name).expect("a listed column") + 1;
    let mut updated = Vec::new();
    let sigil = sigil(tx);
    // Rows that get the same values (invoices due the same day in the same
    // zone) go in one statement with a list of keys, which both backends
    // look up through the key index (a join with a list of values can make
    // them scan the table).
    let mut groups: Vec<(Vec<Val>, Vec<String>)> = Vec::new();
    for row in rows {
        let values: Vec<Val> = row[1..].to_vec();
        let Val::Text(Some(k)) = &row[0] else { continue };
        match groups.iter_mut().find(|(v, _)| *v == values) {
            Some((_, keys)) => keys.push(k.clone()),
            None => groups.push((values, vec![k.clone()])),
        }
    }
    if is_sqlite(tx) {
        return update_groups_sqlite(tx, table, key, &groups, set, guard, filter, &column_of).await;
    }
    // Bound in order: the set values, the guard values, the keys.
    let mark = |n: usize| if sigil == '?' { "?".to_string() } else { format!("${n}") };
    let assignments: Vec<String> = set.iter().enumerate().map(|(i, (t, _))| format!("{t} = {}", mark(i + 1))).collect();
    let mut conditions: Vec<String> =
        guard.iter().enumerate().map(|(i, (t, _))| format!("{t} = {}", mark(set.len() + i + 1))).collect();
    if !filter.is_empty() {
        conditions.push(filter.to_string());
    }
    let leading_count = set.len() + guard.len();
    for (values, keys) in &groups {
        let mut leading: Vec<Val> = set.iter().map(|(_, c)| values[column_of(c) - 2].clone()).collect();
        leading.extend(guard.iter().map(|(_, c)| values[column_of(c) - 2].clone()));
        for ids in keys.chunks(MAX_BINDS) {
            let list: Vec<String> = (0..ids.len()).map(|i| mark(leading_count + i + 1)).collect();
            let mut all = conditions.clone();
            all.push(format!("{key} IN ({})", list.join(", ")));
            let sql =
                format!("UPDATE {table} SET {} WHERE {} RETURNING {key}", assignments.join(", "), all.join(" AND "));
            let bound = vec![leading.clone(), ids.iter().map(|k| Val::from(k.as_str())).collect()];
            use sqlx::Row;
            for row in bind_all(sqlx::query(&sql), &bound).fetch_all(&mut **tx).await? {
                updated.push(row.try_get::<String, _>(0)?);
            }
        }
    }
    Ok(updated)
}

/// SQLite's side of `update_many`, the keys as one JSON array: per group,
/// the update, and when it changed fewer rows than keys, the keys of the
/// rows that meet the guard read as one JSON array and exactly those rows
/// updated. Within one transaction nothing can change in between: SQLite
/// has one writer, and a transaction whose snapshot went stale fails to
/// write rather than writing over it.
#[allow(clippy::too_many_arguments)]
async fn update_groups_sqlite(
    tx: &mut Transaction<'static, Any>,
    table: &str,
    key: &str,
    groups: &[(Vec<Val>, Vec<String>)],
    set: &[(&str, &str)],
    guard: &[(&str, &str)],
    filter: &str,
    column_of: &(dyn Fn(&str) -> usize + Sync),
) -> Result<Vec<String>, sqlx::Error> {
    let assignments: Vec<String> = set.iter().map(|(t, _)| format!("{t} = ?")).collect();
    let mut conditions: Vec<String> = guard.iter().map(|(t, _)| format!("{t} = ?")).collect();
    if !filter.is_empty() {
        conditions.push(filter.to_string());
    }
    conditions.push(format!("{key} IN (SELECT value FROM json_each(?))"));
    let conditions = conditions.join(" AND ");
    let update = format!("UPDATE {table} SET {} WHERE {conditions}", assignments.join(", "));
    let select = format!("SELECT json_group_array({key}) FROM {table} WHERE {conditions}");
    let mut updated = Vec::new();
    for (values, keys) in groups {
        let value_of = |column: &str| &values[column_of(column) - 2];
        let run_update = |list: String| {
            let mut q = sqlx::query(&update);
            for (_, c) in set.iter().chain(guard) {
                q = bind_val(q, value_of(c));
            }
            q.bind(list)
        };
        // Usually every row still meets the guard, and the count says so
        // (the keys are distinct); only when some don't is the update undone
        // and the ones that do read first.
        sqlx::query("SAVEPOINT bulk_update").execute(&mut **tx).await?;
        let list = serde_json::Value::from(keys.clone()).to_string();
        if run_update(list.clone()).execute(&mut **tx).await?.rows_affected() == keys.len() as u64 {
            sqlx::query("RELEASE bulk_update").execute(&mut **tx).await?;
            updated.extend(keys.iter().cloned());
            continue;
        }
        sqlx::query("ROLLBACK TO bulk_update").execute(&mut **tx).await?;
        sqlx::query("RELEASE bulk_update").execute(&mut **tx).await?;
        let mut q = sqlx::query(&select);
        for (_, c) in guard {
            q = bind_val(q, value_of(c));
        }
        use sqlx::Row;
        let matching: String = q.bind(list).fetch_one(&mut **tx).await?.try_get(0)?;
        let found: Vec<String> = serde_json::from_str(&matching).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        if !found.is_empty() {
            run_update(matching).execute(&mut **tx).await?;
            updated.extend(found);
        }
    }
    Ok(updated)
}

/// `{select} WHERE {key} IN (…)` for many keys, as `T`s (see `fetch_json`
/// for `columns`): the rows for a set of ids already in hand, looked up
/// through the key index rather than by joining again whatever produced
/// the ids. SQLite takes the keys as one JSON array; PostgreSQL a few
/// thousand bound values per statement.
pub async fn select_in<T: DeserializeOwned>(
    pool: &sqlx::AnyPool,
    backend: Backend,
    columns: &[&str],
    select: &str,
    key: &str,
    keys: &[&str],
) -> Result<Vec<T>, sqlx::Error> {
    if backend == Backend::Sqlite {
        let sql = format!("{select} WHERE {key} IN (SELECT value FROM json_each($1))");
        let list = serde_json::Value::from(keys.to_vec()).to_string();
        return fetch_json(pool, backend, columns, &sql, &[Val::from(list)]).await;
    }
    let mut found = Vec::with_capacity(keys.len());
    for ids in keys.chunks(MAX_BINDS) {
        // One "row" of placeholders is exactly a parenthesised IN list.
        let sql = format!("{select} WHERE {key} IN {}", placeholders('$', 1, ids.len()));
        let binds: Vec<Val> = ids.iter().map(|id| Val::from(*id)).collect();
        found.extend(fetch_json::<T>(pool, backend, columns, &sql, &binds).await?);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_number_every_cell() {
        assert_eq!(placeholders('$', 2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders('?', 2, 2), "(?, ?), (?, ?)");
    }
}
