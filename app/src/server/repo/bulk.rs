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

/// Bound values per statement (SQLite allows 32766, PostgreSQL 65535); a
/// few thousand keeps each statement quick to prepare.
const MAX_BINDS: usize = 2_000;

fn sigil(tx: &mut Transaction<'static, Any>) -> char {
    if tx.backend_name().eq_ignore_ascii_case("sqlite") {
        '?'
    } else {
        '$'
    }
}

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

/// `{select} WHERE {key} IN (…)` for many keys, a few thousand per
/// statement: the rows for a set of ids already in hand, looked up through
/// the key index rather than by joining again whatever produced the ids.
pub async fn select_in<T>(
    pool: &sqlx::AnyPool,
    backend: crate::server::db::Backend,
    select: &str,
    key: &str,
    keys: &[&str],
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let sigil = if backend == crate::server::db::Backend::Sqlite { '?' } else { '$' };
    let mut found = Vec::with_capacity(keys.len());
    for ids in keys.chunks(MAX_BINDS) {
        // One "row" of placeholders is exactly a parenthesised IN list.
        let sql = format!("{select} WHERE {key} IN {}", placeholders(sigil, 1, ids.len()));
        let mut q = sqlx::query_as::<_, T>(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        found.extend(q.fetch_all(pool).await?);
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
