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
use leptos_router::{path, Lazy, LazyRoute, SsrMode};

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
                // In the shell, not leptos_meta's <Stylesheet/>: the server puts
                // the lazy chunks' preload links into <head> first, and a meta
                // component then fails to hydrate against them.
                <link id="leptos" rel="stylesheet" href="/pkg/settle.css"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The wasm bundle is split into lazily loaded areas (`cargo leptos build
/// --split`), declared below: three for the customer portal (the way in,
/// the account pages, the paying pages) and one for the merchant console
/// (with setup and the site's home page). A customer opening their account
/// fetches the router and the account area, never the console's code.
///
/// One split point per area, not per page: wasm-split makes a module for
/// every distinct set of split points that share a function, and per-page
/// points gave the account page 163 modules to fetch (and as many preload
/// links in its HTML); four areas give it 9.
macro_rules! lazy_area {
    ($(#[$doc:meta])* $view_fn:ident / $preload_fn:ident, $pages:ident { $($route:ident => $page:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        #[allow(clippy::enum_variant_names)]
        enum $pages {
            $($route),*
        }

        /// Renders one page of this area; its code is a lazily loaded chunk.
        #[leptos::lazy]
        fn $view_fn(page: $pages) -> AnyView {
            match page {
                $($pages::$route => view! { <$page/> }.into_any()),*
            }
        }

        $(
            struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                async fn view(_this: Self) -> AnyView {
                    $view_fn($pages::$route).await
                }

                // The router awaits this before hydrating, so the chunk is
                // there when the server's HTML is walked (`#[lazy]` defines
                // the preload function in the browser build only).
                async fn preload() {
                    #[cfg(feature = "hydrate")]
                    $preload_fn().await;
                }
            }
        )*
    };
}

lazy_area! {
    /// The portal's way in: access links and signing in.
    portal_entry_view / __preload_portal_entry_view, PortalEntryPages {
        PortalHomeRoute => PortalHomePage,
        LinkRoute => LinkPage,
        SignInRoute => SignInPage,
        SignInCodeRoute => SignInCodePage,
        SignInLinkRoute => SignInLinkPage,
    }
}

lazy_area! {
    /// What a signed-in customer reads: the account, invoices and receipts.
    portal_account_view / __preload_portal_account_view, PortalAccountPages {
        AccountRoute => AccountPage,
        InvoiceRoute => InvoicePage,
        PaymentsRoute => PaymentsPage,
        ReceiptRoute => ReceiptPage,
    }
}

lazy_area! {
    /// What a signed-in customer does: paying, cards, contact details, autopay.
    portal_pay_view / __preload_portal_pay_view, PortalPayPages {
        PayRoute => PayPage,
        AuthenticateRoute => AuthenticatePage,
        AddCardRoute => AddCardPage,
        VerifyRoute => VerifyPage,
        SettingsRoute => SettingsPage,
    }
}

lazy_area! {
    /// The merchant console's pages, setup and the site's home page.
    console_view / __preload_console_view, ConsolePages {
        SiteHomeRoute => SiteHome,
        SetupRoute => SetupPage,
        ConsoleHomeRoute => ConsoleHomePage,
        ConsoleSignInRoute => ConsoleSignInPage,
        ConsoleDashboardRoute => ConsoleDashboardPage,
        ConsoleBrandingRoute => ConsoleBrandingPage,
        ConsoleAuditRoute => ConsoleAuditPage,
        ConsolePolicyRoute => ConsolePolicyPage,
        ConsoleTemplatesRoute => ConsoleTemplatesPage,
        ConsoleImportRoute => ConsoleImportPage,
        ConsoleStaffRoute => ConsoleStaffPage,
        ConsoleApiKeysRoute => ConsoleApiKeysPage,
        InvitationAcceptRoute => InvitationAcceptPage,
        ConsoleCustomersRoute => ConsoleCustomersPage,
        ConsoleInvoicesRoute => ConsoleInvoicesPage,
        ConsoleInvoiceRoute => ConsoleInvoicePage,
        ConsoleCustomerRoute => ConsoleCustomerPage,
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Settle"/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view={Lazy::<SiteHomeRoute>::new()}/>
                <Route path=path!("/p/:slug") view={Lazy::<PortalHomeRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/l/:token") view={Lazy::<LinkRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/account") view={Lazy::<AccountRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/invoices/:id") view={Lazy::<InvoiceRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/payments") view={Lazy::<PaymentsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/payments/:id") view={Lazy::<ReceiptRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/account/settings") view={Lazy::<SettingsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/account/cards/new") view={Lazy::<AddCardRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/pay") view={Lazy::<PayRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/pay/:id/authenticate") view={Lazy::<AuthenticateRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/account/verify") view={Lazy::<VerifyRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/sign-in") view={Lazy::<SignInRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/sign-in/code") view={Lazy::<SignInCodeRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/p/:slug/s/:token") view={Lazy::<SignInLinkRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/setup") view={Lazy::<SetupRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug") view={Lazy::<ConsoleHomeRoute>::new()}/>
                <Route path=path!("/m/:slug/sign-in") view={Lazy::<ConsoleSignInRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/dashboard") view={Lazy::<ConsoleDashboardRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/branding") view={Lazy::<ConsoleBrandingRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/audit") view={Lazy::<ConsoleAuditRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/policy") view={Lazy::<ConsolePolicyRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/templates") view={Lazy::<ConsoleTemplatesRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/import") view={Lazy::<ConsoleImportRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/staff") view={Lazy::<ConsoleStaffRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/api-keys") view={Lazy::<ConsoleApiKeysRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/invite/:token") view={Lazy::<InvitationAcceptRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/customers") view={Lazy::<ConsoleCustomersRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/invoices") view={Lazy::<ConsoleInvoicesRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/invoices/:id") view={Lazy::<ConsoleInvoiceRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/m/:slug/customers/:id") view={Lazy::<ConsoleCustomerRoute>::new()} ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
