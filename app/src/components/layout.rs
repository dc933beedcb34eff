use crate::types::Branding;
use leptos::prelude::*;

/// A page in the merchant's colours, logo and contact details.
#[component]
pub fn BrandedLayout(branding: Branding, children: Children) -> impl IntoView {
    let home = branding.portal_home();
    let name = branding.display_name.clone();
    let mark = match branding.logo_url.clone() {
        Some(url) => view! { <img class="portal__logo" src=url alt=name.clone() height="40"/> }.into_any(),
        None => view! { <span class="portal__name">{name.clone()}</span> }.into_any(),
    };
    view! {
        <div class="portal" style=branding.css_vars()>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="portal__header">
                <a class="portal__brand" href=home>{mark}</a>
                {branding.test_mode.then(|| view! {
                    <span class="badge badge--test" title="Payments here use test cards only; no real money moves.">
                        "Test mode"
                    </span>
                })}
            </header>
            <main id="main" class="portal__main" tabindex="-1">{children()}</main>
            <footer class="portal__footer">
                <p>
                    "Payments for " {name} " · Powered by Settle"
                </p>
            </footer>
        </div>
    }
}

/// A page that belongs to no merchant (site home, unknown portal).
#[component]
pub fn PlainLayout(children: Children) -> impl IntoView {
    view! {
        <div class="portal portal--plain">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="portal__header">
                <span class="portal__name">"Settle"</span>
            </header>
            <main id="main" class="portal__main" tabindex="-1">{children()}</main>
        </div>
    }
}
