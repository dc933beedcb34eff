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

/// Rows per statement: the rows travel as one JSON parameter, expanded by
/// the database (`json_each` on SQLite, `jsonb_array_elements` on
/// PostgreSQL), so a statement costs the same few bindings however many
/// rows it carries; binding value by value costs microseconds each.
const ROWS_PER_STATEMENT: usize = 2_000;

fn is_sqlite(tx: &mut Transaction<'static, Any>) -> bool {
    tx.backend_name().eq_ignore_ascii_case("sqlite")
}

fn json_of(v: &Val) -> serde_json::Value {
    match v {
        Val::Int(Some(n)) => serde_json::Value::from(*n),
        Val::Text(Some(s)) => serde_json::Value::from(s.as_str()),
        Val::Int(None) | Val::Text(None) => serde_json::Value::Null,
    }
}

/// The rows as a JSON array of arrays.
fn json_rows(rows: &[Vec<Val>]) -> String {
    serde_json::Value::Array(rows.iter().map(|r| serde_json::Value::Array(r.iter().map(json_of).collect())).collect())
        .to_string()
}

/// `SELECT <cell 0>, <cell 1>, … FROM <the JSON rows in $1>`, each cell typed
/// as its column's values are (`ints[i]`).
fn select_from_json(sqlite: bool, ints: &[bool]) -> String {
    if sqlite {
        let cells: Vec<String> = (0..ints.len()).map(|i| format!("json_extract(value, '$[{i}]')")).collect();
        format!("SELECT {} FROM json_each(?1)", cells.join(", "))
    } else {
        let cells: Vec<String> = ints
            .iter()
            .enumerate()
            .map(|(i, int)| if *int { format!("(e->>{i})::bigint") } else { format!("(e->>{i})") })
            .collect();
        format!("SELECT {} FROM jsonb_array_elements($1::jsonb) AS e", cells.join(", "))
    }
}

fn int_columns(rows: &[Vec<Val>], width: usize) -> Vec<bool> {
    (0..width).map(|i| rows.first().is_some_and(|r| matches!(r.get(i), Some(Val::Int(_))))).collect()
}

/// `INSERT INTO table (columns) SELECT … {tail}` for all `rows`; returns
/// the first column of the rows actually inserted when `tail` ends in
/// `RETURNING <column>`, else nothing.
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
    let sqlite = is_sqlite(tx);
    let source = select_from_json(sqlite, &int_columns(rows, columns.len()));
    // SQLite needs a WHERE before ON CONFLICT after a SELECT (its parsing rule).
    let sql = format!("INSERT INTO {table} ({}) {source} WHERE true {tail}", columns.join(", "));
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let q = sqlx::query(&sql).bind(json_rows(chunk));
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
    let column_of = |name: &str| columns.iter().position(|c| *c == name).expect("a listed column");
    let mut updated = Vec::new();
    let sqlite = is_sqlite(tx);
    // Rows that get the same values (invoices due the same day in the same
    // zone) go in one statement with the list of their keys, which both
    // backends look up through the key index.
    let mut groups: Vec<(Vec<Val>, Vec<Val>)> = Vec::new();
    for row in rows {
        let values: Vec<Val> = set.iter().chain(guard).map(|(_, c)| row[column_of(c)].clone()).collect();
        match groups.iter_mut().find(|(v, _)| *v == values) {
            Some((_, keys)) => keys.push(row[0].clone()),
            None => groups.push((values, vec![row[0].clone()])),
        }
    }
    let mark = |n: usize| if sqlite { format!("?{n}") } else { format!("${n}") };
    let assignments: Vec<String> = set.iter().enumerate().map(|(i, (t, _))| format!("{t} = {}", mark(i + 2))).collect();
    let mut conditions: Vec<String> =
        guard.iter().enumerate().map(|(i, (t, _))| format!("{t} = {}", mark(set.len() + i + 2))).collect();
    conditions.push(if sqlite {
        format!("{key} IN (SELECT value FROM json_each(?1))")
    } else {
        format!("{key} IN (SELECT jsonb_array_elements_text($1::jsonb))")
    });
    if !filter.is_empty() {
        conditions.push(filter.to_string());
    }
    let sql =
        format!("UPDATE {table} SET {} WHERE {} RETURNING {key}", assignments.join(", "), conditions.join(" AND "));
    for (values, keys) in &groups {
        for ids in keys.chunks(ROWS_PER_STATEMENT) {
            let list = serde_json::Value::Array(ids.iter().map(json_of).collect()).to_string();
            let mut q = sqlx::query(&sql).bind(list);
            for v in values {
                q = match v {
                    Val::Int(v) => q.bind(*v),
                    Val::Text(v) => q.bind(v.clone()),
                };
            }
            use sqlx::Row;
            for row in q.fetch_all(&mut **tx).await? {
                updated.push(row.try_get::<String, _>(0)?);
            }
        }
    }
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_travel_as_json_and_come_back_typed() {
        let rows = vec![vec![Val::from("a"), Val::from(1), Val::Int(None)]];
        assert_eq!(json_rows(&rows), r#"[["a",1,null]]"#);
        assert_eq!(int_columns(&rows, 3), [false, true, true]);
        assert_eq!(
            select_from_json(false, &[false, true]),
            "SELECT (e->>0), (e->>1)::bigint FROM jsonb_array_elements($1::jsonb) AS e"
        );
        assert_eq!(
            select_from_json(true, &[false, true]),
            "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1)"
        );
    }
}
