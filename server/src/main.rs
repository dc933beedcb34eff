//! `settle`: the server and its admin commands.

use clap::{Parser, Subcommand};
use settle::config::Config;
use settle::startup::{open_database, Application};
use settle::{demo, telemetry};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// mimalloc: under load glibc's malloc took about a sixth of each request's
/// CPU and let the heap fragment (see README, "Performance").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "settle", version, about = "Customer payment portal and dunning engine")]
struct Cli {
    /// TOML settings file (also SETTLE_CONFIG); the environment overrides it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (applies migrations first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create the demo merchant "Acme Co" if missing, and print a fresh access link.
    Demo,
    /// Issue a new access link for a customer.
    Link {
        /// The merchant's portal slug, e.g. acme.
        #[arg(long)]
        merchant: String,
        /// The customer's email address.
        #[arg(long)]
        email: String,
    },
    /// Choose a merchant's payment gateway: `sandbox` (test mode) or `stripe`
    /// (needs SETTLE_STRIPE_* keys and the signing secret of the webhook
    /// endpoint you created in Stripe for /webhooks/stripe/<merchant>).
    Gateway {
        #[arg(long)]
        merchant: String,
        #[arg(long, value_parser = ["sandbox", "stripe"])]
        gateway: String,
        /// Stripe's webhook signing secret (whsec_…); required for stripe.
        #[arg(long, env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
        webhook_secret: Option<String>,
    },
    /// Create a merchant and its owner (who signs in to the console). The
    /// owner's password is read from SETTLE_OWNER_PASSWORD, or from the
    /// first line of standard input with --password-stdin.
    CreateMerchant {
        /// The portal address, e.g. acme (pages live under /p/acme).
        #[arg(long)]
        slug: String,
        /// The business name customers see.
        #[arg(long)]
        name: String,
        #[arg(long)]
        owner_email: String,
        #[arg(long, default_value = "")]
        owner_name: String,
        /// IANA zone for the merchant's reports and customers without one.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        #[arg(long, default_value = "USD")]
        currency: String,
        /// Read the owner's password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Show what a dunning policy would do over the next days, on a private
    /// copy of the merchant's data: every message and charge attempt, in each
    /// customer's local time, with the reason. Nothing is sent or charged.
    Simulate(settle::simulate_cli::SimulateArgs),
    /// Import customers and invoices from a CSV file. All or nothing unless
    /// --skip-bad-rows; importing the same file again changes nothing.
    Import(settle::import_cli::ImportArgs),
    /// Make a REST API key for a merchant and print it (the only time it is
    /// shown; keys can be revoked in the console).
    ApiKey {
        #[arg(long)]
        merchant: String,
        /// What the key is for, e.g. "Accounting sync".
        #[arg(long)]
        name: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("settle: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log);
    match run(cli.command, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("settle: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let clock = Arc::new(app::server::SystemClock);
    match command {
        Command::Serve => {
            tracing::info!(database = %config.database_url_redacted(), "starting");
            let app = Application::build(&config, clock).await?;
            tracing::info!(addr = %app.addr(), public = %config.base_url, "listening");
            app.run_until(shutdown_signal()).await?;
            tracing::info!("stopped");
        }
        Command::Migrate => {
            let db = open_database(&config).await?;
            println!("Migrations applied ({}).", db.backend().name());
        }
        Command::Demo => {
            let db = open_database(&config).await?;
            let summary = demo::seed(&db, clock.as_ref()).await?;
            print!("{}", summary.render(&config.base_url));
        }
        Command::Link { merchant, email } => {
            let db = open_database(&config).await?;
            let path = demo::issue_link_for_email(&db, clock.as_ref(), &merchant, &email).await?;
            println!("{}", config.base_url.join(&path)?);
        }
        Command::Gateway { merchant, gateway, webhook_secret } => {
            let db = open_database(&config).await?;
            let message =
                settle::gateway_admin::set_gateway(&db, &config, &merchant, &gateway, webhook_secret.as_deref())
                    .await?;
            println!("{message}");
        }
        Command::CreateMerchant { slug, name, owner_email, owner_name, time_zone, currency, password_stdin } => {
            let owner_password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line.trim_end_matches(['\r', '\n']).to_string()
            } else {
                std::env::var("SETTLE_OWNER_PASSWORD").map_err(|_| {
                    "the owner's password is missing: set SETTLE_OWNER_PASSWORD or pass --password-stdin"
                })?
            };
            let db = open_database(&config).await?;
            let request = settle::merchant_admin::NewMerchantRequest {
                slug,
                name,
                owner_email,
                owner_name,
                time_zone,
                currency,
                owner_password,
            };
            println!("{}", settle::merchant_admin::create_merchant(&db, clock.as_ref(), request).await?);
        }
        Command::Simulate(args) => {
            let db = open_database(&config).await?;
            print!("{}", settle::simulate_cli::run(&db, clock.as_ref(), &config, args).await?);
        }
        Command::ApiKey { merchant, name } => {
            let db = open_database(&config).await?;
            println!("{}", settle::api::issue_key_cli(&db, clock.as_ref(), &merchant, &name).await?);
        }
        Command::Import(args) => {
            let db = open_database(&config).await?;
            let (report, written) = settle::import_cli::run(&db, clock.as_ref(), args).await?;
            print!("{report}");
            if !written {
                return Err("nothing was imported".into());
            }
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
