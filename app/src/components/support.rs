use crate::types::Branding;
use leptos::prelude::*;

/// "contact Acme Co at billing@acme.test or +1 555…": whichever the merchant gave.
#[component]
pub fn ContactSupport(branding: Branding) -> impl IntoView {
    let email = branding.support_email.clone().map(|e| {
        let href = format!("mailto:{e}");
        view! { " at " <a href=href>{e}</a> }
    });
    let phone = branding.support_phone.clone().map(|p| {
        let href = format!("tel:{}", p.replace(' ', ""));
        view! { " or " <a href=href>{p}</a> }
    });
    view! { <span class="contact">"contact " {branding.display_name} {email} {phone}</span> }
}
