use crate::types::ConsoleHeader;
use leptos::prelude::*;

/// A merchant console page: Settle's own look (not the merchant's
/// branding), the console's navigation, and who is signed in.
#[component]
pub fn ConsoleLayout(header: ConsoleHeader, current: &'static str, children: Children) -> impl IntoView {
    let base = format!("/m/{}", header.slug);
    let link = |path: &'static str, label: &'static str| {
        let href = format!("{base}{path}");
        let here = (current == path).then_some("page");
        view! { <li><a href=href aria-current=here>{label}</a></li> }
    };
    view! {
        <div class="console">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="console__header">
                <span class="console__merchant">{header.merchant_name.clone()}</span>
                <nav class="console__nav" aria-label="Console">
                    <ul>{link("/dashboard", "Dashboard")} {link("/customers", "Customers")} {link("/invoices", "Invoices")} {link("/import", "Import")} {link("/policy", "Dunning policy")} {link("/templates", "Templates")} {link("/branding", "Branding")} {link("/staff", "Team")} {link("/api-keys", "API keys")} {link("/audit", "Audit log")}</ul>
                </nav>
                <div class="console__user">
                    <span>{header.user_name.clone()} " · " {header.role.clone()}</span>
                    <form method="post" action=format!("{base}/sign-out")>
                        <button type="submit" class="button button--link">"Sign out"</button>
                    </form>
                </div>
            </header>
            <main id="main" class="console__main" tabindex="-1">{children()}</main>
        </div>
    }
}
