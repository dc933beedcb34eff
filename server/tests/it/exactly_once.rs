//! Exactly once across processes, on PostgreSQL: two `settle serve`
//! processes sweep and deliver the same due set of reminders while one of
//! them is killed (SIGKILL) at random moments and restarted. Counted at a
//! real SMTP sink: every reminder arrives, and no customer gets two.
//!
//! A process killed after the SMTP server accepted a message but before it
//! recorded that is the one window no sender can close (SMTP has no
//! idempotency key). The message is then sent again after its lease runs
//! out, under the same Message-ID, so the receiving side sees the same
//! message; the test counts such redeliveries and bounds them by the kills.

use crate::common::smtp::SmtpSink;
use crate::common::*;
use app::server::ids::MerchantId;
use app::server::repo::invoices;
use app::server::repo::{customers, merchants};
use app::server::{Db, UtcMillis};
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CUSTOMERS: usize = 150;
const KILLS: usize = 5;

/// A zone where it is now about noon, so quiet hours never hold the test.
pub(crate) fn noon_zone(now: UtcMillis) -> String {
    let utc_hour = (now.0 / 3_600_000).rem_euclid(24);
    match 12 - utc_hour {
        0 => "UTC".to_string(),
        // Etc/GMT-3 is three hours *ahead* of UTC (POSIX signs).
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    }
}

async fn seed(db: &Db, now: UtcMillis) -> MerchantId {
    let mid = merchants::insert(db.pool(), &new_merchant("once", "Once Ltd", "UTC"), now).await.unwrap();
    let zone = noon_zone(now);
    let mut conn = db.pool().acquire().await.unwrap();
    for i in 0..CUSTOMERS {
        let cid = customers::insert(&mut *conn, &mid, &numbered_customer(i, &zone, false), now).await.unwrap();
        // Two days overdue: the +1 reminder is due now, one per customer.
        let inv = open_invoice(format!("EO-{i}"), 10_000 + i as i64, now.plus_days(-2));
        invoices::insert(&mut conn, &mid, &cid, &inv, now).await.unwrap();
    }
    mid
}

fn serve(database_url: &str, smtp_url: &str, dir: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_settle"))
        .arg("serve")
        .env("SETTLE_DATABASE_URL", database_url)
        .env("SETTLE_SMTP_URL", smtp_url)
        .env("SETTLE_MAIL_FROM", "billing@settle.test")
        .env("SETTLE_LISTEN", "127.0.0.1:0")
        .env("SETTLE_DATA_DIR", dir)
        .env("SETTLE_SITE_ROOT", dir)
        .env("SETTLE_LOG", "error")
        .env("SETTLE_DUNNING", "on")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start settle serve")
}

/// Message-ID → how many times the sink received it.
pub(crate) fn received(sink: &SmtpSink) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for raw in sink.messages() {
        let id = raw
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: ").or_else(|| l.strip_prefix("Message-Id: ")))
            .map(|v| v.trim().to_string())
            .expect("every message has a Message-ID");
        *ids.entry(id).or_insert(0) += 1;
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_one_killed_at_random_deliver_each_reminder_once() {
    let dir = tempfile::tempdir().unwrap();
    let Some((database_url, cleanup)) = fresh_database_url(Backend::Postgres, dir.path()).await else { return };
    let Some(sink) = SmtpSink::start() else { return };
    let db = Db::connect(&database_url, 2).await.unwrap();
    db.migrate().await.unwrap();
    let now = UtcMillis(jiff::Timestamp::now().as_millisecond());
    seed(&db, now).await;

    let started = Instant::now();
    let mut steady = serve(&database_url, &sink.url(), dir.path());
    let mut rng = rand::rng();
    for _ in 0..KILLS {
        let mut victim = serve(&database_url, &sink.url(), dir.path());
        tokio::time::sleep(Duration::from_millis(rng.random_range(300..3_000))).await;
        victim.kill().unwrap();
        victim.wait().unwrap();
    }
    // Restarted once more; it and the steady one finish the work (messages
    // the killed processes had claimed come back when their lease runs out).
    let mut last = serve(&database_url, &sink.url(), dir.path());
    let deadline = Instant::now() + Duration::from_secs(180);
    let (queued, unsent) = loop {
        let (queued, unsent): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status <> 'sent' THEN 1 ELSE 0 END), 0) FROM messages",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        if (queued as usize == CUSTOMERS && unsent == 0) || Instant::now() > deadline {
            break (queued, unsent);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // Let anything in flight land before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for p in [&mut steady, &mut last] {
        let _ = p.kill();
        let _ = p.wait();
    }

    assert_eq!((queued as usize, unsent), (CUSTOMERS, 0), "one reminder per customer, all sent");
    let (customers_reminded,): (i64,) =
        sqlx::query_as("SELECT COUNT(DISTINCT customer_id) FROM messages").fetch_one(db.pool()).await.unwrap();
    assert_eq!(customers_reminded as usize, CUSTOMERS);
    let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM messages").fetch_all(db.pool()).await.unwrap();
    let expected: BTreeSet<String> = ids.into_iter().map(|(id,)| format!("<{id}@settle.test>")).collect();
    let got = received(&sink);
    let delivered: BTreeSet<String> = got.keys().cloned().collect();
    assert_eq!(delivered, expected, "every reminder reached the sink, and nothing else did");
    let redelivered: usize = got.values().map(|n| n - 1).sum();
    eprintln!(
        "exactly-once: {CUSTOMERS} reminders, {KILLS} kills, {} distinct at the sink, {redelivered} redelivered \
         under the same Message-ID, {:.1} s",
        delivered.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(redelivered <= KILLS, "at most one resend per kill, got {redelivered}");
    drop_test_schema(db, cleanup).await;
}
