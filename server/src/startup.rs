//! Building and running the application: database, migrations, state,
//! router, listener. `settle serve` and the integration tests share it.

use crate::config::Config;
use crate::delivery::DeliveryWorker;
use crate::mail::{Mailer, OutboxMailer, SmtpMailer};
use crate::origin::OriginPolicy;
use crate::routes::sms_webhook::{InboundSettings, SmsInbound};
use crate::routes::{self, CookiePolicy};
use crate::sms::{OutboxSms, SmsSender, TwilioSms};
use app::server::db::DbError;
use app::server::gateway::sandbox::SandboxGateway;
use app::server::gateway::stripe::{StripeGateway, StripeSettings};
use app::server::gateway::{Gateways, PaymentGateway};
use app::server::session_store::DbSessionStore;
use app::server::state::PortalSettings;
use app::server::{AppState, Clock, Db};
use leptos::config::{Env, LeptosOptions};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("invalid SMTP settings: {0}")]
    Mail(String),
    #[error("invalid SMS settings: {0}")]
    Sms(String),
    #[error("invalid Stripe settings: {0}")]
    Stripe(String),
}

/// SMTP when configured, otherwise the database outbox.
pub fn mailer(config: &Config) -> Result<Arc<dyn Mailer>, StartupError> {
    match &config.smtp_url {
        Some(url) => {
            let from = config.mail_from.parse().map_err(|e| StartupError::Mail(format!("SETTLE_MAIL_FROM: {e}")))?;
            Ok(Arc::new(SmtpMailer::new(url, from).map_err(StartupError::Mail)?))
        }
        None => Ok(Arc::new(OutboxMailer)),
    }
}

/// Twilio when configured, otherwise the database outbox.
pub fn sms_sender(config: &Config) -> Result<Arc<dyn SmsSender>, StartupError> {
    match &config.twilio {
        Some(settings) => Ok(Arc::new(TwilioSms::new(settings.clone()).map_err(StartupError::Sms)?)),
        None => Ok(Arc::new(OutboxSms)),
    }
}

/// Connects to the configured database, creating the SQLite file's
/// directory on first start, and brings the schema up to date.
pub async fn open_database(config: &Config) -> Result<Db, StartupError> {
    if let Some(dir) = config.sqlite_dir() {
        std::fs::create_dir_all(&dir)
            .map_err(|source| StartupError::DataDir { path: dir.display().to_string(), source })?;
    }
    let db = Db::connect(&config.database_url, config.db_max_connections).await?;
    db.migrate().await?;
    Ok(db)
}

pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    router: axum::Router,
    mailer: Arc<dyn Mailer>,
    sms: Arc<dyn SmsSender>,
    dunning: bool,
}

impl Application {
    pub async fn build(config: &Config, clock: Arc<dyn Clock>) -> Result<Application, StartupError> {
        let mailer = mailer(config)?;
        let sms = sms_sender(config)?;
        let db = open_database(config).await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartupError::Listen { addr: config.listen, source })?;
        let addr = listener.local_addr().map_err(|source| StartupError::Listen { addr: config.listen, source })?;
        let leptos_options = LeptosOptions::builder()
            .output_name("settle")
            .site_root(config.site_root.clone())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .env(Env::PROD)
            .build();
        let sandbox = SandboxGateway::new(db.clone(), clock.clone(), Duration::from_millis(config.sandbox_latency_ms));
        let stripe: Option<Arc<dyn PaymentGateway>> = match &config.stripe {
            Some(c) => {
                let settings = StripeSettings {
                    secret_key: c.secret_key.clone(),
                    publishable_key: c.publishable_key.clone(),
                    api_base: c.api_base.as_str().trim_end_matches('/').to_string(),
                    timeout: Duration::from_secs(20),
                };
                Some(Arc::new(StripeGateway::new(&settings).map_err(StartupError::Stripe)?))
            }
            None => None,
        };
        let gateways = Gateways { sandbox: Arc::new(sandbox), stripe, simulated: None };
        let state = AppState {
            db,
            clock,
            leptos_options,
            portal: Arc::new(PortalSettings {
                base_url: config.base_url.origin().ascii_serialization(),
                stripe_js_url: config.stripe_js_url.to_string(),
                stripe_api_base: config.stripe.as_ref().map(|s| s.api_base.to_string()),
            }),
            gateways,
        };
        let router = routes::app_router(
            state.clone(),
            routes::RouterSettings {
                origin_policy: OriginPolicy::new(&config.base_url),
                cookies: CookiePolicy { https: config.is_https() },
                outbox_viewer: crate::routes::dev_outbox::OutboxViewer(config.smtp_url.is_none()),
                sms_inbound: SmsInbound(config.twilio.as_ref().map(|t| {
                    Arc::new(InboundSettings {
                        auth_token: t.auth_token.clone(),
                        url: format!(
                            "{}{}",
                            config.base_url.as_str().trim_end_matches('/'),
                            crate::routes::sms_webhook::PATH
                        ),
                    })
                })),
                proxies: crate::client_ip::TrustedProxies(Arc::new(config.trusted_proxies.clone())),
                api_key_limit: crate::throttle::ApiKeyLimit::per_minute(config.api_requests_per_minute),
            },
        );
        Ok(Application { listener, addr, state, router, mailer, sms, dunning: config.dunning })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn delivery_worker(&self) -> DeliveryWorker {
        DeliveryWorker::new(
            self.state.db.clone(),
            self.state.clock.clone(),
            self.mailer.clone(),
            self.sms.clone(),
            &self.state.portal.base_url,
        )
    }

    /// Serves (and delivers queued email) until `shutdown` resolves, then
    /// finishes in-flight requests and the delivery batch in progress.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let sweeper = tokio::spawn(sweep_expired_sessions(DbSessionStore::new(self.state.db.pool().clone())));
        let reconciler = tokio::spawn(reconcile_payments(self.state.clone()));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let jobs = tokio::spawn(run_jobs(self.state.clone(), self.dunning, stop_rx.clone()));
        let delivery = tokio::spawn(self.delivery_worker().run(stop_rx));
        let result = axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await;
        let _ = stop_tx.send(true);
        let _ = delivery.await;
        let _ = jobs.await;
        sweeper.abort();
        // Reconciling is safe to stop anywhere: an interrupted payment stays
        // undecided and is picked up again by the next process.
        reconciler.abort();
        result
    }
}

async fn sweep_expired_sessions(store: DbSessionStore) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        match store.delete_expired().await {
            Ok(n) if n > 0 => tracing::debug!(deleted = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
        }
    }
}

/// Settles payments left undecided by a crash or a lost gateway answer.
async fn reconcile_payments(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tick.tick().await;
        match app::server::payments::reconcile::reconcile_stale(&state, 50).await {
            Ok(n) if n > 0 => tracing::info!(decided = n, "undecided payments reconciled"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "payment reconciliation failed"),
        }
    }
}

/// Sends due reminders (the sweep) and runs due jobs (autopay charges) until
/// shutdown; the batch in progress is
/// finished first, and an interrupted job's lease lets another process take over.
async fn run_jobs(state: AppState, dunning: bool, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let owner = format!("{}:{}", std::process::id(), app::server::ids::new_id_body());
    let webhooks = crate::outbound_webhooks::client();
    loop {
        if dunning {
            match app::server::dunning::sweep::sweep(&state, 500).await {
                Ok(r) if r.messages + r.deferred + r.held + r.expiry_warnings > 0 => {
                    tracing::info!(?r, "reminder sweep")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reminder sweep failed"),
            }
        }
        match crate::outbound_webhooks::run_once(&state.db, &webhooks, state.clock.as_ref()).await {
            Ok(r) if r.delivered + r.retrying + r.failed > 0 => tracing::debug!(?r, "webhook batch"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "webhook worker could not run"),
        }
        match app::server::jobs::run_once(&state, &owner, 20).await {
            Ok(r) if r.done + r.retrying > 0 => tracing::debug!(?r, "job batch"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "job worker could not run"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
