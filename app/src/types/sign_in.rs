//! What the sign-in pages show.

use super::Branding;
use serde::{Deserialize, Serialize};

/// The code-entry page: where the code went (as the customer typed it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInPending {
    pub branding: Branding,
    /// None when no sign-in was started in this browser.
    pub email: Option<String>,
}

/// The emailed one-time sign-in link's landing page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignInLinkView {
    pub branding: Branding,
    pub usable: bool,
    /// False when no link of this portal has this token (as opposed to a
    /// used or expired one): the page answers 404 rather than 410.
    pub known: bool,
}
