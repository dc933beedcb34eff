//! What an access link resolves to, as shown on the "Continue" page.

use super::Branding;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LinkStatus {
    /// The link is good: show "Continue to your account".
    Valid { branding: Branding, customer_first_name: String },
    /// Known link, past its expiry.
    Expired { branding: Branding },
    /// Well-formed but not a link of this merchant (or revoked).
    Unknown { branding: Branding },
    /// Not even the shape of a link (truncated when copied, usually).
    Malformed { branding: Branding },
    /// No merchant has this portal address.
    NoSuchPortal,
}
