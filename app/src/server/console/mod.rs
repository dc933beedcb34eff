//! The merchant console's server side: staff sessions, roles and sign-in.

pub mod access;
pub mod actions;
pub mod aging;
pub mod api_keys;
pub mod audit;
pub mod branding;
pub mod charts;
pub mod customer_detail;
pub mod customers;
pub mod dashboard;
pub mod invoice_detail;
pub mod invoices;
pub mod policy_form;
pub mod previews;
pub mod session;
pub mod sign_in;
pub mod staff;
pub mod templates;

pub use access::{allows, Action};
pub use session::{ConsoleIdentity, Staff};
