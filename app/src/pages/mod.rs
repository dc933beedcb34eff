//! One module per route.

mod account;
mod account_html;
mod console;
mod home;
mod invoice;
mod link;
mod not_found;
mod pay;
mod portal_home;
mod settings;
mod sign_in;

pub use account::AccountPage;
pub use account_html::{invoice_rows_html, summary_html};
pub use console::{
    ConsoleApiKeysPage, ConsoleAuditPage, ConsoleBrandingPage, ConsoleCustomerPage, ConsoleCustomersPage,
    ConsoleDashboardPage, ConsoleHomePage, ConsoleImportPage, ConsoleInvoicePage, ConsoleInvoicesPage,
    ConsolePolicyPage, ConsoleSignInPage, ConsoleStaffPage, ConsoleTemplatesPage, InvitationAcceptPage, SetupPage,
};
pub use home::SiteHome;
pub use invoice::{InvoicePage, PaymentsPage, ReceiptPage};
pub use link::LinkPage;
pub use not_found::NotFound;
pub use pay::{AddCardPage, AuthenticatePage, PayPage};
pub use portal_home::PortalHomePage;
pub use settings::{SettingsPage, VerifyPage};
pub use sign_in::{SignInCodePage, SignInLinkPage, SignInPage};

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// A route parameter as a reactive string ("" when absent).
pub(crate) fn param(name: &'static str) -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get(name).unwrap_or_default())
}

/// Shown while a page's data loads (only ever seen after hydration: the
/// server waits for the data before sending the page).
pub(crate) fn loading() -> impl IntoView {
    view! { <p class="loading" role="status">"Loading…"</p> }
}

/// What a page for signed-in customers shows when its data can't be had:
/// back to the portal's front door when signed out, "not found" for
/// another customer's (or a garbled) id, otherwise the error in words.
pub(crate) fn signed_in_page_error(slug: &str, err: crate::types::PortalError) -> AnyView {
    use crate::types::PortalError;
    match err {
        PortalError::NotSignedIn => {
            view! { <leptos_router::components::Redirect path=format!("/p/{slug}")/> }.into_any()
        }
        PortalError::NotFound => view! { <NotFound/> }.into_any(),
        e => load_failed(e),
    }
}

/// A failed load, in words a customer can act on.
pub(crate) fn load_failed(err: crate::types::PortalError) -> AnyView {
    crate::components::set_http_status(500);
    view! {
        <crate::components::PlainLayout>
            <h1>"We couldn't load this page"</h1>
            <p>{err.to_string()}</p>
        </crate::components::PlainLayout>
    }
    .into_any()
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes_query_values() {
        assert_eq!(
            super::encode_component("/p/acme/pay?invoice=inv_1&amount=1 €"),
            "%2Fp%2Facme%2Fpay%3Finvoice%3Dinv_1%26amount%3D1%20%E2%82%AC"
        );
        assert_eq!(super::encode_component("inv_01abc-x"), "inv_01abc-x");
    }
}
