//! `spawn_app()`: the real application on 127.0.0.1 port 0 against a fresh
//! database: a new SQLite file, or a fresh schema in the PostgreSQL server
//! named by `TEST_POSTGRES_URL` (tests on PostgreSQL are skipped, loudly,
//! when it is unset; a set but unreachable server fails them).
#![allow(dead_code)]

pub mod flows;
pub mod inventory;
pub mod paying;
pub mod smtp;
pub mod staff;
pub mod stripe;
pub mod twilio;

use app::server::ids::{CustomerId, MerchantId};
use app::server::repo::invoices::{InvoiceStatus, NewInvoice, NewInvoiceLine};
use app::server::repo::{customers, invoices, merchants};
use app::server::tokens::SecretToken;
use app::server::{portal, Clock, Db, ManualClock, UtcMillis};
use app::types::Currency;
use settle::config::Config;
use settle::startup::Application;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// 2026-03-15T15:00:00Z: a fixed "now" so dates in assertions are stable.
pub const T0: UtcMillis = UtcMillis(1_773_586_800_000);

pub struct TestApp {
    pub base: String,
    pub db: Db,
    /// The running application's state (gateways, clock, settings).
    pub state: app::server::AppState,
    pub clock: Arc<ManualClock>,
    pub backend: Backend,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// (database URL, schema) of a PostgreSQL test schema to drop afterwards.
    pg_cleanup: Option<(String, String)>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some((db_url, schema)) = self.pg_cleanup.take() {
            // Drop is synchronous: do the async cleanup on a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    use sqlx::Connection;
                    if let Ok(mut conn) = sqlx::AnyConnection::connect(&db_url).await {
                        let _ =
                            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&mut conn).await;
                    }
                });
            })
            .join();
        }
    }
}

/// Declares each listed async test fn once per backend:
/// `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::common::spawn_app($crate::common::Backend::Sqlite).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::common::spawn_app($crate::common::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

/// Shared by every PostgreSQL test; each test gets a schema of its own in it.
const PG_TEST_DB: &str = "settle_test";

/// A URL for a new, empty database: a SQLite file, or on PostgreSQL a fresh
/// schema (cheap to create and drop, unlike a database) selected through
/// `search_path`. Also returns what to drop afterwards.
/// Declares each listed `async fn(Backend)` once per backend, for tests that
/// start their app themselves (with an SMTP sink, special settings, …).
#[macro_export]
macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Backend::Sqlite).await }
        )* }
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Backend::Postgres).await }
        )* }
    };
}

pub async fn fresh_database_url(backend: Backend, dir: &std::path::Path) -> Option<(String, Option<(String, String)>)> {
    match backend {
        Backend::Sqlite => Some((format!("sqlite://{}?mode=rwc", dir.join("test.db").display()), None)),
        Backend::Postgres => {
            let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
                eprintln!("SKIPPED on PostgreSQL: TEST_POSTGRES_URL is not set");
                return None;
            };
            sqlx::any::install_default_drivers();
            use sqlx::Connection;
            let mut admin = sqlx::AnyConnection::connect(&admin_url)
                .await
                .unwrap_or_else(|e| panic!("TEST_POSTGRES_URL is set but unreachable: {e}"));
            let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
                .bind(PG_TEST_DB)
                .fetch_optional(&mut admin)
                .await
                .expect("query pg_database");
            if exists.is_none() {
                // Tests start in parallel: losing the race to create it is fine.
                let _ = sqlx::query(&format!("CREATE DATABASE {PG_TEST_DB}")).execute(&mut admin).await;
            }
            let mut url = url::Url::parse(&admin_url).expect("TEST_POSTGRES_URL is a URL");
            url.set_path(&format!("/{PG_TEST_DB}"));
            let db_url = url.to_string();
            let schema = format!("t_{}", app::server::ids::new_id_body());
            let mut conn = sqlx::AnyConnection::connect(&db_url).await.expect("connect to the test database");
            sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut conn).await.expect("create test schema");
            url.query_pairs_mut().append_pair("options", &format!("-c search_path={schema}"));
            Some((url.to_string(), Some((db_url, schema))))
        }
    }
}

/// Closes `db` and drops the PostgreSQL schema `fresh_database_url` made for
/// it (`cleanup`; SQLite's file goes with its temporary directory).
pub async fn drop_test_schema(db: app::server::Db, cleanup: Option<(String, String)>) {
    db.pool().close().await;
    if let Some((admin, schema)) = cleanup {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&mut conn).await.unwrap();
    }
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// `spawn_app` with settings adjusted by `tweak` before startup.
pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
    settle::telemetry::init(&std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into()));
    let dir = tempfile::tempdir().expect("temp dir");
    let (database_url, pg_cleanup) = fresh_database_url(backend, dir.path()).await?;
    let mut config = Config {
        database_url,
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        base_url: url::Url::parse("http://127.0.0.1").unwrap(),
        site_root: dir.path().display().to_string(),
        log: "warn".into(),
        db_max_connections: 5,
        smtp_url: None,
        mail_from: "no-reply@settle.test".into(),
        sandbox_latency_ms: 0,
        // Tests that need reminders run the sweep themselves, on their clock.
        dunning: false,
        stripe: None,
        stripe_js_url: url::Url::parse("https://js.stripe.com/v3/").unwrap(),
        twilio: None,
        trusted_proxies: Vec::new(),
        api_requests_per_minute: 600,
    };
    tweak(&mut config);
    let clock = Arc::new(ManualClock::new(T0));
    let app = Application::build(&config, clock.clone()).await.expect("application starts");
    let base = format!("http://{}", app.addr());
    let db = app.state().db.clone();
    let state = app.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    Some(TestApp { base, db, state, clock, backend, _dir: dir, shutdown: Some(tx), pg_cleanup })
}

/// A merchant as the tests make them: USD, links valid 14 days.
pub fn new_merchant(slug: &str, name: &str, zone: &str) -> merchants::NewMerchant {
    merchants::NewMerchant {
        slug: slug.into(),
        name: name.into(),
        display_name: name.into(),
        logo_url: None,
        primary_color: "#1f4e8c".into(),
        accent_color: "#b4451f".into(),
        support_email: Some(format!("billing@{slug}.example")),
        support_phone: None,
        email_footer: None,
        default_currency: Currency::USD,
        time_zone: zone.into(),
        access_link_ttl_days: 14,
    }
}

/// Customer number `i` (`c{i}@example.com`) in `zone`.
pub fn numbered_customer(i: usize, zone: &str, autopay: bool) -> customers::NewCustomer {
    customers::NewCustomer {
        external_ref: None,
        name: format!("Customer {i}"),
        email: format!("c{i}@example.com"),
        phone: None,
        time_zone: zone.into(),
        locale: "en-US".into(),
        autopay_enabled: autopay,
    }
}

/// An open one-line USD invoice, issued 30 days before it is due.
pub fn open_invoice(number: String, amount_minor: i64, due_at: UtcMillis) -> NewInvoice {
    NewInvoice {
        number,
        currency: Currency::USD,
        lines: vec![NewInvoiceLine { description: "Service".into(), quantity: 1, unit_minor: amount_minor }],
        tax_minor: 0,
        amount_paid_minor: 0,
        status: InvoiceStatus::Open,
        issued_at: due_at.plus_days(-30),
        due_at,
        paid_at: None,
        voided_at: None,
        memo: None,
    }
}

/// A browser stand-in: keeps cookies, does not follow redirects (tests
/// assert on them).
pub fn browser() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    // What a browser navigating sends; server-side redirects depend on it.
    headers.insert("accept", "text/html,application/xhtml+xml".parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .cookie_store(true)
        .timeout(std::time::Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

pub struct Seeded {
    pub merchant: merchants::MerchantRow,
    pub customer: CustomerId,
    pub invoice_numbers: Vec<String>,
}

impl TestApp {
    pub fn clock_now(&self) -> UtcMillis {
        self.clock.now()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn merchant(&self, slug: &str, name: &str) -> merchants::MerchantRow {
        merchants::insert(self.db.pool(), &new_merchant(slug, name, "America/Chicago"), self.clock.now())
            .await
            .expect("insert merchant");
        merchants::find_by_slug(self.db.pool(), slug).await.unwrap().unwrap()
    }

    pub async fn customer(&self, merchant: &MerchantId, name: &str, zone: &str) -> CustomerId {
        customers::insert(
            self.db.pool(),
            merchant,
            &customers::NewCustomer {
                external_ref: None,
                name: name.into(),
                email: format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
                phone: None,
                time_zone: zone.into(),
                locale: "en-US".into(),
                autopay_enabled: false,
            },
            self.clock.now(),
        )
        .await
        .expect("insert customer")
    }

    /// An invoice of `amount_minor` (one line, no tax) due `due_in_days` from now.
    #[allow(clippy::too_many_arguments)]
    pub async fn invoice(
        &self,
        merchant: &MerchantId,
        customer: &CustomerId,
        number: &str,
        amount_minor: i64,
        due_in_days: i64,
        status: InvoiceStatus,
        paid_minor: i64,
    ) {
        let now = self.clock.now();
        let mut conn = self.db.pool().acquire().await.unwrap();
        invoices::insert(
            &mut conn,
            merchant,
            customer,
            &NewInvoice {
                number: number.into(),
                currency: Currency::USD,
                lines: vec![NewInvoiceLine { description: "Service".into(), quantity: 1, unit_minor: amount_minor }],
                tax_minor: 0,
                amount_paid_minor: paid_minor,
                status,
                issued_at: now.plus_days(due_in_days - 30),
                due_at: now.plus_days(due_in_days),
                paid_at: None,
                voided_at: None,
                memo: None,
            },
            now,
        )
        .await
        .expect("insert invoice");
    }

    pub async fn link(&self, merchant: &merchants::MerchantRow, customer: &CustomerId) -> (SecretToken, String) {
        let token = portal::issue_access_link(self.db.pool(), self.clock.now(), merchant, customer).await.unwrap();
        let path = portal::access_link_path(&merchant.slug, &token);
        (token, path)
    }

    /// Merchant `slug` with one customer and open invoices INV-1 ($120.00,
    /// 10 days overdue) and INV-2 ($80.50, due in 5 days), plus a paid and a
    /// void invoice that must not show.
    pub async fn seed_customer_with_invoices(&self, slug: &str, prefix: &str) -> Seeded {
        let merchant = match merchants::find_by_slug(self.db.pool(), slug).await.unwrap() {
            Some(m) => m,
            None => self.merchant(slug, &format!("{} Ltd", slug.to_uppercase())).await,
        };
        let mid = merchant.merchant_id();
        let customer = self.customer(&mid, &format!("{prefix} Customer"), "America/Chicago").await;
        let n = |s: &str| format!("{prefix}-{s}");
        self.invoice(&mid, &customer, &n("1"), 12_000, -10, InvoiceStatus::Open, 0).await;
        self.invoice(&mid, &customer, &n("2"), 8_050, 5, InvoiceStatus::Open, 0).await;
        self.invoice(&mid, &customer, &n("PAID"), 5_000, -20, InvoiceStatus::Paid, 5_000).await;
        self.invoice(&mid, &customer, &n("VOID"), 7_000, -20, InvoiceStatus::Void, 0).await;
        Seeded { merchant, customer, invoice_numbers: vec![n("1"), n("2")] }
    }
}

/// Follows the link's Continue button: POST, expect 303 to the account.
pub async fn sign_in_with_link(app: &TestApp, client: &reqwest::Client, path: &str) -> reqwest::Response {
    client.post(app.url(path)).send().await.expect("POST link")
}

pub fn location(res: &reqwest::Response) -> Option<String> {
    res.headers().get("location").map(|v| v.to_str().unwrap().to_string())
}

/// The session cookie a response set, if any (name=value).
pub fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("settle_session="))
        .map(|c| c.split(';').next().unwrap().to_string())
}

/// The response body with Leptos's hydration markers (`<!>`) removed, so
/// assertions can look for text as a person reads it.
pub async fn page(res: reqwest::Response) -> String {
    res.text().await.expect("body").replace("<!>", "")
}

/// A one-off GET with no cookies, like a mail scanner's prefetch.
pub async fn fetch(url: String) -> reqwest::Response {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
        .get(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// Calls the account server function directly, as the hydrated page does.
pub async fn call_account_fn(app: &TestApp, client: &reqwest::Client, slug: &str) -> reqwest::Response {
    client
        .post(app.url("/_srv/account"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(format!("slug={slug}"))
        .send()
        .await
        .expect("POST /_srv/account")
}
