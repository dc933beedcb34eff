//! `settle demo`: the merchant "Acme Co" with customers, invoices in every
//! state and saved card references, so the portal has something to show
//! without any account or key. Idempotent: a second run creates nothing
//! new except a fresh access link.

use app::server::gateway::sandbox::{SandboxGateway, TestCardBehaviour};
use app::server::gateway::{Card, CustomerInfo};
use app::server::ids::CustomerId;
use app::server::ids::MerchantId;
use app::server::repo::invoices::{InvoiceStatus, NewInvoice, NewInvoiceLine};
use app::server::repo::merchant_users::{self, Role};
use app::server::repo::{customers, invoices, merchants, payment_methods, payments};
use app::server::{passwords, portal, AppError, Clock, Db, ManualClock, UtcMillis};
use app::types::{Currency, Money};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::sync::Arc;
use std::time::Duration;

pub const DEMO_SLUG: &str = "acme";
/// The customer whose link `settle demo` prints: several overdue invoices.
pub const FEATURED_REF: &str = "demo-cus-01";

#[derive(Debug)]
pub struct DemoSummary {
    pub created: bool,
    pub console_path: String,
    pub customers: usize,
    pub invoices: usize,
    pub featured_name: String,
    pub portal_path: String,
    pub link_path: String,
}

impl DemoSummary {
    pub fn render(&self, base: &url::Url) -> String {
        let url = |p: &str| base.join(p).map(|u| u.to_string()).unwrap_or_else(|_| p.to_string());
        format!(
            "{state}: Acme Co with {c} customers and {i} invoices (sandbox gateway, test mode).\n\
             Portal:      {portal}\n\
             Access link for {name} (several overdue invoices):\n  {link}\n\
             Emails (sign-in codes) without SMTP: {outbox}\n\
             Merchant console: {console}\n  owner  {owner} / {password}\n  viewer {viewer} / {password}\n",
            state = if self.created { "Created demo merchant" } else { "Demo merchant already present" },
            c = self.customers,
            i = self.invoices,
            portal = url(&self.portal_path),
            name = self.featured_name,
            link = url(&self.link_path),
            outbox = url("/_dev/outbox"),
            console = url(&self.console_path),
            owner = DEMO_OWNER,
            viewer = DEMO_VIEWER,
            password = DEMO_STAFF_PASSWORD,
        )
    }
}

/// The demo console's staff. The password is published: the demo runs on
/// a sandbox gateway with made-up customers, locally.
pub const DEMO_OWNER: &str = "owner@acme.example";
pub const DEMO_VIEWER: &str = "viewer@acme.example";
pub const DEMO_STAFF_PASSWORD: &str = "demo console walkthrough";

/// Adds the demo's owner and viewer when missing (also to a demo made
/// before the console existed).
async fn ensure_staff(db: &Db, merchant: &MerchantId, now: UtcMillis) -> Result<(), AppError> {
    for (email, name, role) in [(DEMO_OWNER, "Olivia Owner", Role::Owner), (DEMO_VIEWER, "Victor Viewer", Role::Viewer)]
    {
        if merchant_users::find_by_email(db.pool(), merchant, email).await?.is_none() {
            let hash = passwords::hash(DEMO_STAFF_PASSWORD.into()).await.map_err(AppError::internal)?;
            merchant_users::insert(db.pool(), merchant, email, name, Some(&hash), role, now).await?;
        }
    }
    Ok(())
}

/// (name, email local part, IANA zone, autopay)
const CUSTOMERS: &[(&str, &str, &str, bool)] = &[
    ("Dana Whitfield", "dana.whitfield", "America/Chicago", false),
    ("Marcus Oyelaran", "marcus.oyelaran", "America/New_York", true),
    ("Priya Raghunathan", "priya.r", "Asia/Kolkata", false),
    ("Tomás Echeverría", "tomas.echeverria", "Europe/Madrid", true),
    ("Hannah Kowalczyk", "hannah.kowalczyk", "Europe/Warsaw", false),
    ("Wei Zhang", "wei.zhang", "Asia/Shanghai", false),
    ("Aoife Gallagher", "aoife.gallagher", "Europe/Dublin", true),
    ("Jamal Haddad", "jamal.haddad", "America/Los_Angeles", false),
    ("Sofia Lindqvist", "sofia.lindqvist", "Europe/Stockholm", false),
    ("Kwame Asante", "kwame.asante", "Africa/Accra", true),
    ("Emily Tran", "emily.tran", "America/Denver", false),
    ("Lukas Brenner", "lukas.brenner", "Europe/Berlin", false),
    ("Isabela Moreira", "isabela.moreira", "America/Sao_Paulo", true),
    ("Oliver Pemberton", "oliver.pemberton", "Europe/London", false),
    ("Yuki Tanaka", "yuki.tanaka", "Asia/Tokyo", false),
    ("Rosa Delgado", "rosa.delgado", "America/Phoenix", true),
    ("Nathan Cole", "nathan.cole", "America/Toronto", false),
    ("Fatima Zahra Bennani", "fatima.bennani", "Africa/Casablanca", false),
    ("Grace Okafor", "grace.okafor", "Africa/Lagos", false),
    ("Liam O'Connell", "liam.oconnell", "Australia/Sydney", true),
    ("Chloé Marchand", "chloe.marchand", "Europe/Paris", false),
    ("Daniel Abramov", "daniel.abramov", "Asia/Jerusalem", false),
    ("Mele Tupou", "mele.tupou", "Pacific/Auckland", false),
    ("Sam Whitaker", "sam.whitaker", "America/Anchorage", true),
    ("Northwind Bakery LLC", "accounts.northwind", "America/New_York", false),
];

const SERVICES: &[(&str, i64)] = &[
    ("Office cleaning, monthly contract", 48_000),
    ("Printer lease and toner", 12_900),
    ("Coffee service", 8_450),
    ("HVAC maintenance visit", 32_500),
    ("Emergency repair call-out", 19_500),
    ("Window cleaning", 14_000),
    ("Supplies restock", 6_725),
    ("Floor waxing and polish", 27_000),
];

/// One invoice to create: days from today to the due date, and how it stands.
#[derive(Clone, Copy)]
enum Plan {
    /// Open, nothing paid.
    Open(i64),
    /// Open, this share (percent) already paid.
    Partly(i64, i64),
    Paid(i64),
    Void(i64),
}

/// Which invoices each customer gets. Customer 0 is the featured one.
fn plans_for(index: usize) -> Vec<Plan> {
    match index {
        0 => vec![
            Plan::Open(-12),
            Plan::Open(-41),
            Plan::Partly(-67, 40),
            Plan::Open(3),
            Plan::Paid(-95),
            Plan::Void(-20),
        ],
        _ => match index % 7 {
            0 => vec![Plan::Open(20), Plan::Paid(-10)],
            1 => vec![Plan::Open(3), Plan::Open(-5)],
            2 => vec![Plan::Open(-25), Plan::Open(-52), Plan::Paid(-80)],
            3 => vec![Plan::Open(-78), Plan::Open(-120)],
            4 => vec![Plan::Partly(-9, 25), Plan::Open(10)],
            5 => vec![Plan::Paid(-30), Plan::Void(-3), Plan::Open(0)],
            _ => vec![Plan::Open(-33), Plan::Partly(-100, 60), Plan::Open(14)],
        },
    }
}

/// Noon UTC of the day `offset` days from today: the same calendar date in
/// every customer's zone from UTC-11 to UTC+11.
fn noon_utc(today: Date, offset: i64) -> UtcMillis {
    let day = today.checked_add(jiff::Span::new().days(offset)).unwrap_or(today);
    let ts = day.at(12, 0, 0, 0).to_zoned(TimeZone::UTC).map(|z| z.timestamp().as_millisecond()).unwrap_or(0);
    UtcMillis(ts)
}

pub async fn seed(db: &Db, clock: &dyn Clock) -> Result<DemoSummary, AppError> {
    let pool = db.pool();
    let now = clock.now();
    let created = match merchants::find_by_slug(pool, DEMO_SLUG).await? {
        Some(_) => false,
        None => {
            create(db, now).await?;
            register_demo_cards(db, now).await?;
            true
        }
    };
    let merchant = merchants::find_by_slug(pool, DEMO_SLUG).await?.ok_or(AppError::NotFound)?;
    let merchant_id = merchant.merchant_id();
    ensure_staff(db, &merchant_id, now).await?;
    let featured =
        customers::find_by_external_ref(pool, &merchant_id, FEATURED_REF).await?.ok_or(AppError::NotFound)?;
    let token = portal::issue_access_link(pool, now, &merchant, &featured.customer_id()).await?;
    let (customers, invoices) = counts(db, &merchant_id).await?;
    Ok(DemoSummary {
        created,
        console_path: format!("/m/{DEMO_SLUG}/sign-in"),
        customers,
        invoices,
        featured_name: featured.name.clone(),
        portal_path: format!("/p/{DEMO_SLUG}"),
        link_path: portal::access_link_path(DEMO_SLUG, &token),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("no merchant has the portal address `{0}`")]
    NoMerchant(String),
    #[error("{merchant} has no customer with the email `{email}`")]
    NoCustomer { merchant: String, email: String },
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for LinkError {
    fn from(e: sqlx::Error) -> Self {
        LinkError::App(AppError::Db(e))
    }
}

/// `settle link`: a fresh access link for one customer, found by email.
pub async fn issue_link_for_email(db: &Db, clock: &dyn Clock, slug: &str, email: &str) -> Result<String, LinkError> {
    let pool = db.pool();
    let merchant = merchants::find_by_slug(pool, slug).await?.ok_or_else(|| LinkError::NoMerchant(slug.into()))?;
    let customer = customers::find_by_email(pool, &merchant.merchant_id(), email)
        .await?
        .ok_or_else(|| LinkError::NoCustomer { merchant: merchant.name.clone(), email: email.into() })?;
    let token = portal::issue_access_link(pool, clock.now(), &merchant, &customer.customer_id()).await?;
    Ok(portal::access_link_path(slug, &token))
}

/// The demo's saved cards exist at the sandbox gateway too, so paying with
/// them works like paying with a card added through the portal.
async fn register_demo_cards(db: &Db, now: UtcMillis) -> Result<(), AppError> {
    let pool = db.pool();
    let sandbox = SandboxGateway::new(db.clone(), Arc::new(ManualClock::new(now)), Duration::ZERO);
    let rows: Vec<(String, String, String, String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT c.id, c.name, c.email, pm.gateway_ref, pm.brand, pm.last4, pm.exp_month, pm.exp_year \
         FROM payment_methods pm JOIN customers c ON c.id = pm.customer_id \
         JOIN merchants m ON m.id = pm.merchant_id WHERE m.slug = $1 AND pm.gateway = 'sandbox'",
    )
    .bind(DEMO_SLUG)
    .fetch_all(pool)
    .await?;
    let merchant = merchants::find_by_slug(pool, DEMO_SLUG).await?.ok_or(AppError::NotFound)?;
    for (customer_id, name, email, gateway_ref, brand, last4, exp_month, exp_year) in rows {
        let info = CustomerInfo { id: customer_id.clone(), name, email };
        let card = Card { gateway_ref, brand, last4, exp_month, exp_year };
        let customer_ref = sandbox
            .seed_card(&info, None, &card, TestCardBehaviour::Succeeds)
            .await
            .map_err(|e| AppError::internal(format!("sandbox: {e}")))?;
        let id = CustomerId::from_trusted(customer_id);
        customers::set_gateway_customer_ref(pool, &merchant.merchant_id(), &id, &customer_ref, now).await?;
    }
    record_demo_consents(db, &merchant, now).await
}

/// Autopay is on only with a card and a consent on record: demo customers
/// marked for autopay get one (covering invoices due from now on); those
/// without a card have autopay off.
async fn record_demo_consents(db: &Db, merchant: &merchants::MerchantRow, now: UtcMillis) -> Result<(), AppError> {
    let pool = db.pool();
    sqlx::query(
        "UPDATE customers SET autopay_enabled = 0 WHERE merchant_id = $1 AND autopay_enabled = 1 \
         AND NOT EXISTS (SELECT 1 FROM payment_methods pm WHERE pm.customer_id = customers.id AND pm.status = 'active')",
    )
    .bind(merchant.id.as_str())
    .execute(pool)
    .await?;
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT c.id, pm.id, pm.brand, pm.last4 FROM customers c JOIN payment_methods pm ON pm.customer_id = c.id \
         AND pm.is_default = 1 WHERE c.merchant_id = $1 AND c.autopay_enabled = 1",
    )
    .bind(merchant.id.as_str())
    .fetch_all(pool)
    .await?;
    for (customer, card, brand, last4) in rows {
        let label = format!("{}{} ending {last4}", brand[..1].to_uppercase(), &brand[1..]);
        sqlx::query(
            "INSERT INTO autopay_consents (id, merchant_id, customer_id, payment_method_id, consent_text, ip, \
             user_agent, granted_at) VALUES ($1, $2, $3, $4, $5, NULL, 'settle demo', $6)",
        )
        .bind(format!("apc_{}", app::server::ids::new_id_body()))
        .bind(merchant.id.as_str())
        .bind(&customer)
        .bind(&card)
        .bind(app::server::payments::autopay::consent_text(&merchant.display_name, &label))
        .bind(now.0)
        .execute(pool)
        .await?;
    }
    Ok(())
}

async fn counts(db: &Db, merchant: &MerchantId) -> Result<(usize, usize), AppError> {
    let (c,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM customers WHERE merchant_id = $1")
        .bind(merchant.as_str())
        .fetch_one(db.pool())
        .await?;
    let (i,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM invoices WHERE merchant_id = $1")
        .bind(merchant.as_str())
        .fetch_one(db.pool())
        .await?;
    Ok((c as usize, i as usize))
}

async fn create(db: &Db, now: UtcMillis) -> Result<(), AppError> {
    let mut tx = app::server::db::begin_write(db.pool()).await?;
    let merchant_id = merchants::insert(
        &mut *tx,
        &merchants::NewMerchant {
            slug: DEMO_SLUG.into(),
            name: "Acme Co".into(),
            display_name: "Acme Co".into(),
            logo_url: Some("/demo/acme-logo.svg".into()),
            primary_color: "#1f4e8c".into(),
            accent_color: "#b4451f".into(),
            support_email: Some("billing@acme.example".into()),
            support_phone: Some("+1 555 010 2030".into()),
            email_footer: Some("Acme Co · 100 Market Street · Springfield".into()),
            default_currency: Currency::USD,
            time_zone: "America/Chicago".into(),
            access_link_ttl_days: 14,
        },
        now,
    )
    .await?;

    let today = now.to_timestamp().to_zoned(TimeZone::UTC).date();
    let mut invoice_no = 1000;
    for (index, (name, local, zone, autopay)) in CUSTOMERS.iter().enumerate() {
        let customer_id = customers::insert(
            &mut *tx,
            &merchant_id,
            &customers::NewCustomer {
                external_ref: Some(format!("demo-cus-{:02}", index + 1)),
                name: (*name).into(),
                email: format!("{local}@example.com"),
                phone: None,
                time_zone: (*zone).into(),
                locale: "en-US".into(),
                autopay_enabled: *autopay,
            },
            now,
        )
        .await?;
        let card_id = match demo_card(index, today) {
            Some(card) => Some(payment_methods::insert(&mut *tx, &merchant_id, &customer_id, &card, now).await?),
            None => None,
        };
        for (n, plan) in plans_for(index).into_iter().enumerate() {
            invoice_no += 1;
            let inv = demo_invoice(invoice_no, index, n, plan, today, now);
            let invoice_id =
                invoices::insert(&mut tx, &merchant_id, &customer_id, &inv, now).await.map_err(|e| match e {
                    invoices::NewInvoiceError::Db(e) => AppError::Db(e),
                    other => AppError::internal(other),
                })?;
            // What was already paid shows up as a payment applied to it.
            if inv.amount_paid_minor > 0 {
                let at = inv.paid_at.unwrap_or(inv.due_at.plus_days(-5)).min(now);
                let payment = payments::insert_settled(
                    &mut *tx,
                    &merchant_id,
                    &customer_id,
                    card_id.as_ref(),
                    Money::new(inv.amount_paid_minor, inv.currency),
                    "sandbox",
                    &format!("demo:{}", inv.number),
                    at,
                )
                .await?;
                payments::allocate(&mut *tx, &merchant_id, &payment, &invoice_id, inv.amount_paid_minor, at).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

fn demo_invoice(number: u32, customer: usize, n: usize, plan: Plan, today: Date, now: UtcMillis) -> NewInvoice {
    let (due_offset, status, paid_percent) = match plan {
        Plan::Open(d) => (d, InvoiceStatus::Open, 0),
        Plan::Partly(d, p) => (d, InvoiceStatus::Open, p),
        Plan::Paid(d) => (d, InvoiceStatus::Paid, 100),
        Plan::Void(d) => (d, InvoiceStatus::Void, 0),
    };
    // Deterministic variety: pick 1–3 services by position.
    let seed = customer * 7 + n * 3;
    let lines: Vec<NewInvoiceLine> = (0..(1 + seed % 3))
        .map(|k| {
            let (desc, unit) = SERVICES[(seed + k * 5) % SERVICES.len()];
            NewInvoiceLine { description: desc.into(), quantity: 1 + ((seed + k) % 2) as i64, unit_minor: unit }
        })
        .collect();
    let subtotal: i64 = lines.iter().map(|l| l.unit_minor * l.quantity).sum();
    let tax_minor = subtotal * 8 / 100;
    let total = subtotal + tax_minor;
    let due_at = noon_utc(today, due_offset);
    NewInvoice {
        number: format!("INV-{number}"),
        currency: Currency::USD,
        lines,
        tax_minor,
        amount_paid_minor: total * paid_percent / 100,
        status,
        issued_at: due_at.plus_days(-30),
        due_at,
        paid_at: (status == InvoiceStatus::Paid).then(|| due_at.plus_days(-2).min(now)),
        voided_at: (status == InvoiceStatus::Void).then(|| due_at.plus_days(-25)),
        memo: None,
    }
}

/// Every third customer has a saved card; the featured customer's expires
/// this month and the second card holder's has already expired.
fn demo_card(index: usize, today: Date) -> Option<payment_methods::NewPaymentMethod> {
    if index != 0 && index % 3 != 1 {
        return None;
    }
    let (brand, last4) = [("visa", "4242"), ("mastercard", "4444"), ("amex", "8431"), ("visa", "1881")][index % 4];
    let (month, year) = match index {
        0 => (today.month() as i64, today.year() as i64),
        1 => {
            let last = today.checked_sub(jiff::Span::new().months(1)).unwrap_or(today);
            (last.month() as i64, last.year() as i64)
        }
        i => (1 + (i % 12) as i64, today.year() as i64 + 1 + (i % 3) as i64),
    };
    Some(payment_methods::NewPaymentMethod {
        gateway: "sandbox".into(),
        gateway_ref: format!("pm_sandbox_demo_{index:02}"),
        brand: brand.into(),
        last4: last4.into(),
        exp_month: month,
        exp_year: year,
        is_default: true,
    })
}
