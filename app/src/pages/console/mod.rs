//! The merchant console's pages, under `/m/{slug}`.

mod api_keys;
mod audit;
mod branding;
mod customer;
mod customers;
mod dashboard;
mod import;
mod invoice;
mod invoices;
mod policy;
mod setup;
mod sign_in;
mod staff;
mod templates;

pub use api_keys::ConsoleApiKeysPage;
pub use audit::ConsoleAuditPage;
pub use branding::ConsoleBrandingPage;
pub use customer::ConsoleCustomerPage;
pub use customers::{ConsoleCustomersPage, ConsoleHomePage};
pub use dashboard::ConsoleDashboardPage;
pub use import::ConsoleImportPage;
pub use invoice::ConsoleInvoicePage;
pub use invoices::ConsoleInvoicesPage;
pub use policy::ConsolePolicyPage;
pub use setup::SetupPage;
pub use sign_in::ConsoleSignInPage;
pub use staff::{ConsoleStaffPage, InvitationAcceptPage};
pub use templates::ConsoleTemplatesPage;

use crate::types::PortalError;
use leptos::prelude::*;

/// What a console page shows when its data can't be had: the sign-in page
/// when signed out, the refusal in words for a role that may not look.
pub(crate) fn console_page_error(slug: &str, err: PortalError) -> AnyView {
    match err {
        PortalError::NotSignedIn => {
            view! { <leptos_router::components::Redirect path=format!("/m/{slug}/sign-in")/> }.into_any()
        }
        PortalError::Forbidden(message) => {
            crate::components::set_http_status(403);
            view! {
                <crate::components::PlainLayout>
                    <h1>"Not allowed"</h1>
                    <p>{message}</p>
                </crate::components::PlainLayout>
            }
            .into_any()
        }
        PortalError::NotFound => view! { <crate::pages::NotFound/> }.into_any(),
        e => crate::pages::load_failed(e),
    }
}
