//! The dunning engine (issue 5), built up in steps: the policy model and
//! the calendar rules (quiet hours in the customer's zone) first; the
//! sweep that turns them into jobs, the messages and the simulator next.

pub mod calendar;
pub mod expiry;
pub mod notify;
pub mod policy;
pub mod store;
pub mod sweep;
pub mod templates;
