//! Every integration test in one binary: one link step instead of one per
//! file keeps builds fast and the target directory small (each separately
//! linked test binary carried the whole server).
#[macro_use]
mod common;

mod api;
mod asset_compression;
mod autopay;
mod branding;
mod config_rejected;
mod console;
mod dashboard;
mod dunning;
mod email_delivery;
mod exactly_once;
mod import;
mod invoices;
mod jobs;
mod merchant_admin;
mod passwords;
mod payments;
mod policy_editor;
mod portal_access;
mod promises;
mod rate_limits;
mod repository;
mod scale_out;
mod secrets;
mod security;
mod sessions;
mod settings;
mod sign_in;
mod simulate;
mod sms;
mod staff;
mod stripe;
mod templates_editor;
mod webhooks_out;
