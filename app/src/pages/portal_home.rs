use super::{load_failed, loading, param};
use crate::api::fetch_portal_home;
use crate::components::{BrandedLayout, ContactSupport};
use crate::pages::NotFound;
use crate::types::PortalError;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/p/{slug}`: where a signed-out customer lands (after signing out, or
/// when a session ended). Sign-in without a link arrives in a later release;
/// until then it explains how to get back in.
#[component]
pub fn PortalHomePage() -> impl IntoView {
    let slug = param("slug");
    let home = Resource::new(move || slug.get(), fetch_portal_home);
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(home) => {
                        let b = home.branding;
                        let account = format!("{}/account", b.portal_home());
                        let title = format!("{} · Payments", b.display_name);
                        view! {
                            <Title text=title/>
                            <BrandedLayout branding=b.clone()>
                                <h1>"Your " {b.display_name.clone()} " account"</h1>
                                {if home.signed_in {
                                    view! {
                                        <p>"You are signed in."</p>
                                        <p><a class="button button--primary" href=account>"Go to your account"</a></p>
                                    }.into_any()
                                } else {
                                    view! {
                                        <p>
                                            "To see and pay your invoices, open the link in the most recent email from "
                                            {b.display_name.clone()} ". Each email carries a personal link to your account."
                                        </p>
                                        <p>
                                            <a class="button button--primary" href=format!("{}/sign-in", b.portal_home())>
                                                "Sign in with your email"
                                            </a>
                                        </p>
                                        <p class="fine-print">"Trouble signing in? " <ContactSupport branding=b.clone()/> "."</p>
                                    }.into_any()
                                }}
                            </BrandedLayout>
                        }
                        .into_any()
                    }
                    Err(PortalError::NotFound) => view! { <NotFound/> }.into_any(),
                    Err(e) => load_failed(e),
                }
            })}
        </Suspense>
    }
}
