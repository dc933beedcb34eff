//! The HTML shell and the router.

use crate::pages::{
    AccountPage, AddCardPage, AuthenticatePage, ConsoleApiKeysPage, ConsoleAuditPage, ConsoleBrandingPage,
    ConsoleCustomerPage, ConsoleCustomersPage, ConsoleDashboardPage, ConsoleHomePage, ConsoleImportPage,
    ConsoleInvoicePage, ConsoleInvoicesPage, ConsolePolicyPage, ConsoleSignInPage, ConsoleStaffPage,
    ConsoleTemplatesPage, InvitationAcceptPage, InvoicePage, LinkPage, NotFound, PayPage, PaymentsPage, PortalHomePage,
    ReceiptPage, SettingsPage, SetupPage, SignInCodePage, SignInLinkPage, SignInPage, SiteHome, VerifyPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::csp::set_header();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="referrer" content="same-origin"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // In the shell, not leptos_meta's <Stylesheet/>: every page has it.
                <link id="leptos" rel="stylesheet" href="/pkg/settle.css"/>
                <AutoReload options=options.clone()/>
                // Islands: only `#[island]` components hydrate (see lib.rs).
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// A page's title as it goes into the page. leptos_meta writes the server's
/// `<title>` without escaping it, and titles carry names merchants and
/// imports chose (a name holding `</title><script>` would end the title
/// early), so the server escapes them here. In the browser the text goes to
/// `document.title`, which takes plain text.
fn title_text(text: String) -> String {
    if cfg!(feature = "ssr") {
        crate::html_text::Escaped(&text).to_string()
    } else {
        text
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        // The formatter applies to every page's <Title/>.
        <Title text="Settle" formatter=title_text/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=SiteHome/>
                <Route path=path!("/p/:slug") view=PortalHomePage ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/l/:token") view=LinkPage ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/account") view=AccountPage ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/invoices/:id") view=InvoicePage ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/payments") view=PaymentsPage ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/payments/:id") view=ReceiptPage ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/account/settings") view=SettingsPage ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/account/cards/new") view=AddCardPage ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/pay") view=PayPage ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/pay/:id/authenticate") view=AuthenticatePage ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/account/verify") view=VerifyPage ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/sign-in") view=SignInPage ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/sign-in/code") view=SignInCodePage ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/s/:token") view=SignInLinkPage ssr=SsrMode::Async/>
                <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug") view=ConsoleHomePage/>
                <Route path=path!("/m/:slug/sign-in") view=ConsoleSignInPage ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/dashboard") view=ConsoleDashboardPage ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/branding") view=ConsoleBrandingPage ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/audit") view=ConsoleAuditPage ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/policy") view=ConsolePolicyPage ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/templates") view=ConsoleTemplatesPage ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/import") view=ConsoleImportPage ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/staff") view=ConsoleStaffPage ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/api-keys") view=ConsoleApiKeysPage ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/invite/:token") view=InvitationAcceptPage ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/customers") view=ConsoleCustomersPage ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/invoices") view=ConsoleInvoicesPage ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/invoices/:id") view=ConsoleInvoicePage ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/customers/:id") view=ConsoleCustomerPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
