//! Building blocks shared by the portal pages.

mod console_layout;
mod layout;
mod support;

pub use console_layout::ConsoleLayout;
pub use layout::{BrandedLayout, PlainLayout};
pub use support::ContactSupport;

/// Sets the HTTP status of the page being rendered on the server; nothing
/// to do in the browser, where the page is already loaded.
pub fn set_http_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(opts), Ok(status)) =
        (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(code))
    {
        opts.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}
