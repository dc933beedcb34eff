//! The dunning engine: the policy model and its storage, the calendar rules
//! (quiet hours in the customer's zone), templates, the reminder sweep,
//! card-expiry warnings, and the simulator that runs a policy on a copy of
//! the data on virtual time.

pub mod calendar;
pub mod expiry;
pub mod notify;
pub mod policy;
pub mod schedule;
pub mod sim_gateway;
pub mod simulate;
pub mod store;
pub mod sweep;
pub mod templates;
