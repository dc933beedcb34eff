//! The error a server function reports to the browser: short, safe to show,
//! and free of internals (those are logged on the server).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum PortalError {
    #[error("You are not signed in.")]
    NotSignedIn,
    #[error("We couldn't find that.")]
    NotFound,
    /// The signed-in staff member's role doesn't allow the action.
    #[error("{0}")]
    Forbidden(String),
    #[error("Something went wrong on our side. Please try again in a moment.")]
    Internal,
    /// The request never reached our code properly (network, decoding).
    #[error("We couldn't reach the server. Check your connection and try again.")]
    Transport,
}

impl FromServerFnError for PortalError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(_value: ServerFnErrorErr) -> Self {
        PortalError::Transport
    }
}
