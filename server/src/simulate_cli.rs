//! `settle simulate`: the command line around the dunning simulator.

use crate::config::Config;
use app::server::dunning::policy::Policy;
use app::server::dunning::sim_gateway::CardBehaviour;
use app::server::dunning::simulate::{simulate, SimOptions, MAX_DAYS};
use app::server::{Clock, Db};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// The merchant's portal name, e.g. acme.
    #[arg(long, required_unless_present = "print_default_policy")]
    pub merchant: Option<String>,
    /// How many days to simulate, from now.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=MAX_DAYS as i64))]
    pub days: u32,
    /// Show only this customer (by email).
    #[arg(long)]
    pub customer: Option<String>,
    /// Try a draft policy (JSON, the shape `--print-default-policy` shows)
    /// instead of the merchant's current one.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Print the built-in default policy as JSON (a starting point for a draft) and exit.
    #[arg(long)]
    pub print_default_policy: bool,
    /// Behaviour model: customers pay everything the day after reminder N.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=50))]
    pub pays_after: Option<u32>,
    /// Behaviour model for autopay cards: pays, soft (declines, retried) or hard (declines for good).
    #[arg(long, default_value = "pays", value_parser = ["pays", "soft", "hard"])]
    pub card: String,
    /// With --card soft: the card works again from this retry on.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=20))]
    pub recovers_on_retry: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum SimulateCliError {
    #[error("cannot read the policy file {path}: {reason}")]
    PolicyFile { path: String, reason: String },
    #[error("--recovers-on-retry only applies with --card soft")]
    RecoversWithoutSoft,
    #[error(transparent)]
    Sim(#[from] app::server::dunning::simulate::SimError),
}

fn read_policy(path: &std::path::Path) -> Result<Policy, SimulateCliError> {
    let err = |reason: String| SimulateCliError::PolicyFile { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| err(e.to_string()))
}

/// Runs the simulation and returns the text to print.
pub async fn run(db: &Db, clock: &dyn Clock, config: &Config, args: SimulateArgs) -> Result<String, SimulateCliError> {
    if args.print_default_policy {
        return Ok(serde_json::to_string_pretty(&Policy::default()).expect("a policy serializes") + "\n");
    }
    let card = match (args.card.as_str(), args.recovers_on_retry) {
        ("soft", recovers_on_retry) => CardBehaviour::SoftDecline { recovers_on_retry },
        (_, Some(_)) => return Err(SimulateCliError::RecoversWithoutSoft),
        ("hard", None) => CardBehaviour::HardDecline,
        _ => CardBehaviour::Pays,
    };
    let policy = args.policy.as_deref().map(read_policy).transpose()?;
    let options = SimOptions {
        merchant_slug: args.merchant.unwrap_or_default(),
        days: args.days,
        customer_email: args.customer,
        policy,
        pays_after_reminder: args.pays_after,
        card,
        base_url: config.base_url.origin().ascii_serialization(),
    };
    let timeline = simulate(db, clock.now(), &options, &std::env::temp_dir()).await?;
    Ok(timeline.render())
}
