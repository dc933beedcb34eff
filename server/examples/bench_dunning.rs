//! Dunning benchmark (a measurement, not a test): prints figures.
//!
//! 1. Sweep: N open invoices across C customers (default 1,000,000 and
//!    10,000); each customer has one invoice two days overdue and five
//!    falling due within the week, so each gets one consolidated reminder
//!    now. Times one sweep that evaluates and enqueues every due effect,
//!    then, on the same data reset to the same state, a hand-written
//!    set-based SQL version of the same selection and the same effects
//!    (message, its invoices, an event, an access link, the advanced step);
//!    three rounds each, the best of each counts; prints the ratio.
//! 2. Delivery: M queued emails delivered by the delivery worker to an SMTP
//!    sink (aiosmtpd), next to a raw pooled lettre loop sending as many.
//!
//! Usage: bench_dunning <database-url> [invoices] [customers] [emails]
//! (scripts/bench-dunning.sh runs it on SQLite and PostgreSQL).

use app::server::dunning::sweep::sweep;
use app::server::gateway::sandbox::SandboxGateway;
use app::server::gateway::Gateways;
use app::server::mail::{render_html, render_text, EmailContent};
use app::server::state::PortalSettings;
use app::server::{AppState, Db, ManualClock, UtcMillis};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DAY: i64 = 86_400_000;
const PORTAL: &str = "https://pay.bench.test";
/// A day in SQL, as a 64-bit number (PostgreSQL would multiply in 32 bits).
const DAY_SQL: &str = "CAST(86400000 AS BIGINT)";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).ok_or("usage: bench_dunning <database-url> [invoices] [customers] [emails]")?;
    let invoices: i64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
    let customers: i64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(10_000);
    let emails: i64 = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(2_000);
    // One connection: SQLite keeps a page cache per connection, and with
    // several the two sides ran on whichever connection the pool handed
    // out, warm or cold; the set-based side's time then varied threefold
    // between runs. One connection gives both the same cache.
    let db = Db::connect(url, 1).await?;
    db.migrate().await?;
    let backend = db.backend().name();
    // Noon UTC on a fixed day: inside quiet hours' allowed window in UTC.
    let now = UtcMillis(1_773_576_000_000);

    let t = Instant::now();
    generate(&db, now, invoices, customers).await?;
    println!(
        "[{backend}] generated {invoices} open invoices across {customers} customers in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let clock = Arc::new(ManualClock::new(now));
    let state = AppState {
        db: db.clone(),
        clock: clock.clone(),
        leptos_options: leptos::config::LeptosOptions::builder().output_name("settle").build(),
        portal: Arc::new(PortalSettings {
            base_url: PORTAL.into(),
            stripe_js_url: String::new(),
            stripe_api_base: None,
        }),
        gateways: Gateways {
            sandbox: Arc::new(SandboxGateway::new(db.clone(), clock.clone(), Duration::ZERO)),
            stripe: None,
            simulated: None,
        },
    };

    // Each side runs three times from the same state (the due set restored
    // in between); the best run counts, so neither pays for a cold cache.
    snapshot(&db, now).await?;
    let (mut engine, mut sql) = (f64::MAX, f64::MAX);
    let (mut engine_messages, mut sql_messages) = (0, 0);
    for round in 1..=3 {
        reset(&db).await?;
        let t = Instant::now();
        let report = sweep(&state, invoices).await?;
        let took = t.elapsed().as_secs_f64();
        engine = engine.min(took);
        (engine_messages,) = sqlx::query_as("SELECT COUNT(*) FROM messages").fetch_one(db.pool()).await?;
        let (advanced,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM message_invoices").fetch_one(db.pool()).await?;
        println!(
            "[{backend}] round {round} engine sweep: {took:.2} s, {} messages queued covering {advanced} invoices",
            report.messages
        );

        reset(&db).await?;
        let t = Instant::now();
        sql_messages = set_based(&db, now).await?;
        let took = t.elapsed().as_secs_f64();
        sql = sql.min(took);
        let (advanced,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM message_invoices").fetch_one(db.pool()).await?;
        println!("[{backend}] round {round} set-based SQL: {took:.2} s, {sql_messages} messages covering {advanced} invoices");
    }
    println!("[{backend}] best engine sweep {engine:.2} s, best set-based SQL {sql:.2} s");
    println!("[{backend}] sweep ratio engine/SQL: {:.2} (target <= 2)", engine / sql);
    if engine_messages != sql_messages {
        println!("[{backend}] WARNING: the two queued different numbers of messages");
    }

    delivery(&db, now, emails).await?;
    Ok(())
}

/// One merchant, `customers` customers in three zones, `invoices` open
/// invoices: per customer, one two days overdue with its +1 reminder due,
/// five falling due within the week with their courtesy reminder due, and
/// the rest due later (nothing to send yet).
async fn generate(db: &Db, now: UtcMillis, invoices: i64, customers: i64) -> Result<(), sqlx::Error> {
    let pool = db.pool();
    let series = |n: i64| match db.backend() {
        app::server::Backend::Postgres => format!("(SELECT generate_series(0::bigint, {}) AS n) seq", n - 1),
        app::server::Backend::Sqlite => {
            format!(
                "(WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {}) SELECT n FROM s) seq",
                n - 1
            )
        }
    };
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO merchants (id, slug, name, display_name, time_zone, created_at, updated_at) \
         VALUES ('mer_bench', 'bench', 'Bench Co', 'Bench Co', 'UTC', $1, $1)",
    )
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO customers (id, merchant_id, name, email, time_zone, created_at, updated_at) \
         SELECT 'cus_bench_' || CAST(n AS TEXT), 'mer_bench', 'Customer ' || CAST(n AS TEXT), \
         'c' || CAST(n AS TEXT) || '@bench.test', \
         CASE n % 3 WHEN 0 THEN 'UTC' WHEN 1 THEN 'Europe/London' ELSE 'Africa/Lagos' END, $1, $1 FROM {}",
        series(customers)
    ))
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO invoices (id, merchant_id, customer_id, number, currency, subtotal_minor, total_minor, status, \
         issued_at, due_at, created_at, updated_at, dunning_step, dunning_next_at) \
         SELECT 'inv_bench_' || CAST(n AS TEXT), 'mer_bench', 'cus_bench_' || CAST(n % {customers} AS TEXT), \
         'B-' || CAST(n AS TEXT), 'USD', 1000 + n % 9000, 1000 + n % 9000, 'open', $1 - 40 * {DAY_SQL}, \
         CASE WHEN n < {customers} THEN $1 - 2 * {DAY_SQL} ELSE $1 + (1 + n / {customers}) * {DAY_SQL} END, $1, $1, \
         CASE WHEN n < {customers} THEN 2 ELSE 0 END, \
         CASE WHEN n < {customers} THEN $1 - 3600000 ELSE $1 + (1 + n / {customers}) * {DAY_SQL} - 7 * {DAY_SQL} + {DAY_SQL} END \
         FROM {}",
        series(invoices)
    ))
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if db.backend() == app::server::Backend::Postgres {
        sqlx::query("ANALYZE").execute(pool).await?;
    } else {
        sqlx::query("ANALYZE").execute(pool).await?;
    }
    Ok(())
}

/// Keeps the due invoices' places in the sequence, for `reset`.
async fn snapshot(db: &Db, now: UtcMillis) -> Result<(), sqlx::Error> {
    sqlx::query(
        "CREATE TABLE bench_due AS SELECT id, dunning_step, dunning_next_at FROM invoices \
         WHERE status = 'open' AND dunning_next_at <= $1",
    )
    .bind(now.0)
    .execute(db.pool())
    .await?;
    sqlx::query("CREATE UNIQUE INDEX bench_due_id ON bench_due (id)").execute(db.pool()).await?;
    Ok(())
}

/// Undoes a run's effects so every run starts from the same state.
async fn reset(db: &Db) -> Result<(), sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    for sql in [
        "DELETE FROM message_invoices",
        "DELETE FROM messages",
        "DELETE FROM events",
        "DELETE FROM access_tokens",
        "UPDATE invoices SET dunning_step = b.dunning_step, dunning_next_at = b.dunning_next_at \
         FROM bench_due b WHERE b.id = invoices.id",
    ] {
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The same selection (open, due, owed; customer active and reachable; no
/// promise, dispute or pending retry) and the same effects, as set-based SQL.
/// `CROSS JOIN` makes SQLite drive from the due-date index (60,000 rows)
/// rather than walk every customer's invoices (1,000,000 rows), which its
/// planner otherwise chooses here; PostgreSQL plans it as a plain join.
async fn set_based(db: &Db, now: UtcMillis) -> Result<i64, sqlx::Error> {
    let due = "i.status = 'open' AND i.dunning_next_at <= $1 AND i.total_minor > i.amount_paid_minor \
        AND c.status = 'active' AND c.email_opt_out = 0 \
        AND NOT EXISTS (SELECT 1 FROM promises p WHERE p.invoice_id = i.id AND p.status = 'active' AND p.promised_until > $1) \
        AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.invoice_id = i.id AND d.status = 'open') \
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = 'autopay_retry' AND j.status = 'queued' \
            AND j.dedupe_key LIKE 'autopay-retry:' || i.id || ':%')";
    // Each statement's time, printed: the baseline's own cost varies from
    // run to run, and this shows where.
    let mut steps: Vec<String> = Vec::new();
    let mut t = Instant::now();
    let mut lap = |label: &str| {
        steps.push(format!("{label} {:.2}", t.elapsed().as_secs_f64()));
        t = Instant::now();
    };
    let mut tx = db.pool().begin().await?;
    let inserted = sqlx::query(&format!(
        "INSERT INTO messages (id, merchant_id, customer_id, channel, to_address, subject, body_text, template_key, \
         dedupe_key, status, created_at, next_attempt_at) \
         SELECT 'msg_sql_' || c.id, c.merchant_id, c.id, 'email', c.email, \
         'Reminder: ' || CAST(SUM(i.total_minor - i.amount_paid_minor) AS TEXT) || ' past due', \
         'Hi ' || c.name || ', invoices due: ' || CAST(COUNT(*) AS TEXT), 'dunning:overdue_friendly', \
         'dunning:' || c.id || ':sql', 'queued', $1, $1 \
         FROM invoices i CROSS JOIN customers c WHERE c.id = i.customer_id AND {due} GROUP BY c.id, c.merchant_id, c.email, c.name"
    ))
    .bind(now.0)
    .execute(&mut *tx)
    .await?
    .rows_affected() as i64;
    lap("messages");
    sqlx::query(&format!(
        "INSERT INTO message_invoices (message_id, invoice_id) SELECT 'msg_sql_' || i.customer_id, i.id \
         FROM invoices i CROSS JOIN customers c WHERE c.id = i.customer_id AND {due}"
    ))
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    lap("links");
    sqlx::query(&format!(
        "INSERT INTO events (id, merchant_id, customer_id, invoice_id, kind, detail, created_at) \
         SELECT 'evt_sql_' || i.id, i.merchant_id, i.customer_id, i.id, 'reminder_sent', \
         '{{\"message_id\":\"msg_sql_' || i.customer_id || '\"}}', $1 \
         FROM invoices i CROSS JOIN customers c WHERE c.id = i.customer_id AND {due}"
    ))
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    lap("events");
    sqlx::query(
        "INSERT INTO access_tokens (id, merchant_id, customer_id, token_hash, purpose, created_at, expires_at) \
         SELECT 'tok_sql_' || m.customer_id, m.merchant_id, m.customer_id, 'hash_' || m.customer_id, 'access_link', $1, $2 \
         FROM messages m WHERE m.id LIKE 'msg_sql_%'",
    )
    .bind(now.0)
    .bind(now.0 + 14 * DAY)
    .execute(&mut *tx)
    .await?;
    lap("tokens");
    sqlx::query(&format!(
        "UPDATE invoices SET dunning_step = 3, dunning_next_at = $1 + 2 * {DAY_SQL} \
         WHERE id IN (SELECT invoice_id FROM message_invoices WHERE message_id LIKE 'msg_sql_%')"
    ))
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    lap("update");
    tx.commit().await?;
    lap("commit");
    println!("[{}]   set-based steps (s): {}", db.backend().name(), steps.join(", "));
    Ok(inserted)
}

/// Emails per second through the delivery worker to an SMTP sink, next to
/// a raw pooled lettre loop.
async fn delivery(db: &Db, now: UtcMillis, emails: i64) -> Result<(), Box<dyn std::error::Error>> {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let backend = db.backend().name();
    let python = std::env::var("TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut sink = std::process::Command::new(python)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Sink"])
        .spawn()?;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        // A sink that could not start (aiosmtpd missing) would be waited for forever.
        if let Some(status) = sink.try_wait()? {
            return Err(format!(
                "the SMTP sink (python -m aiosmtpd) exited with {status}; run scripts/setup.sh --test-tools"
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let url = format!("smtp://127.0.0.1:{port}");

    sqlx::query("DELETE FROM message_invoices").execute(db.pool()).await?;
    sqlx::query("DELETE FROM messages").execute(db.pool()).await?;
    // Reminders as the sweep queues them: the text, and the content the
    // worker brands as HTML when it sends. The raw loop sends the same two
    // parts, rendered beforehand.
    let merchant = app::server::repo::merchants::find_by_slug(db.pool(), "bench").await?.ok_or("no bench merchant")?;
    let content = EmailContent {
        heading: "Reminder: invoice B-1 is past due".into(),
        paragraphs: "Hi Customer,\n\nA reminder that invoice B-1 for $12.34 was due on March 13, 2026.\n\nYou can pay it in a minute with the link below."
            .split("\n\n")
            .map(str::to_string)
            .collect(),
        action: Some(("Pay now".into(), "https://pay.bench.test/p/bench/l/x?to=pay".into())),
    };
    let body = render_text(&merchant, &content);
    let html = render_html(&merchant, PORTAL, &content);
    let series = match db.backend() {
        app::server::Backend::Postgres => format!("(SELECT generate_series(0::bigint, {}) AS n) seq", emails - 1),
        app::server::Backend::Sqlite => format!(
            "(WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {}) SELECT n FROM s) seq",
            emails - 1
        ),
    };
    sqlx::query(&format!(
        "INSERT INTO messages (id, merchant_id, customer_id, channel, to_address, subject, body_text, body_content, \
         template_key, dedupe_key, status, created_at, next_attempt_at) \
         SELECT 'msg_d_' || CAST(n AS TEXT), 'mer_bench', 'cus_bench_0', 'email', 'c' || CAST(n AS TEXT) || '@bench.test', \
         'Reminder', $2, $3, 'dunning:bench', 'd' || CAST(n AS TEXT), 'queued', $1, $1 FROM {series}"
    ))
    .bind(now.0)
    .bind(&body)
    .bind(serde_json::to_string(&content)?)
    .execute(db.pool())
    .await?;

    let clock = Arc::new(ManualClock::new(now));
    let mailer = Arc::new(settle::mail::SmtpMailer::new(&url, "billing@bench.test".parse()?)?);
    let worker =
        settle::delivery::DeliveryWorker::new(db.clone(), clock, mailer, Arc::new(settle::sms::OutboxSms), PORTAL);
    let t = Instant::now();
    let mut sent = 0;
    loop {
        let r = worker.run_once().await?;
        sent += r.sent;
        if r.sent + r.failed + r.retrying + r.suppressed == 0 {
            break;
        }
    }
    let worker_rate = sent as f64 / t.elapsed().as_secs_f64();
    println!("[{backend}] delivery worker: {sent} emails in {:.2} s = {worker_rate:.0}/s", t.elapsed().as_secs_f64());

    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)?.build();
    let t = Instant::now();
    for n in 0..emails {
        let message = Message::builder()
            .from("Bench Co <billing@bench.test>".parse()?)
            .to(format!("c{n}@bench.test").parse()?)
            .subject("Reminder")
            .multipart(lettre::message::MultiPart::alternative_plain_html(body.clone(), html.clone()))?;
        transport.send(message).await?;
    }
    let raw_rate = emails as f64 / t.elapsed().as_secs_f64();
    println!(
        "[{backend}] raw pooled lettre loop: {emails} emails in {:.2} s = {raw_rate:.0}/s",
        t.elapsed().as_secs_f64()
    );
    println!("[{backend}] delivery ratio worker/raw: {:.2} (target >= 0.8)", worker_rate / raw_rate);
    let _ = sink.kill();
    let _ = sink.wait();
    Ok(())
}
