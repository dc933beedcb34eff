use super::{load_failed, loading, param};
use crate::api::fetch_link_status;
use crate::components::{set_http_status, BrandedLayout, ContactSupport};
use crate::pages::NotFound;
use crate::types::LinkStatus;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/p/{slug}/l/{token}`: the access link from a reminder. GET only shows a
/// page (mail scanners prefetch links); the Continue button POSTs to the same
/// address, which starts the session.
#[component]
pub fn LinkPage() -> impl IntoView {
    let slug = param("slug");
    let token = param("token");
    let query = leptos_router::hooks::use_query_map();
    let renewed = Memo::new(move |_| query.read().get("renewed"));
    let status = Resource::new(move || (slug.get(), token.get()), |(s, t)| fetch_link_status(s, t));
    view! {
        <Suspense fallback=loading>
            {move || {
                let action = format!("/p/{}/l/{}", slug.get(), token.get());
                // A reminder's "Pay now" link lands on the payment page.
                let to_pay = query.read().get("to").as_deref() == Some("pay");
                Suspend::new(async move {
                match status.await {
                    Ok(LinkStatus::Valid { branding, customer_first_name }) => {
                        let title = format!("Continue to your account · {}", branding.display_name);
                        view! {
                            <Title text=title/>
                            <BrandedLayout branding=branding.clone()>
                                <h1>"Hi " {customer_first_name}</h1>
                                <p>
                                    "Continue to see your invoices with " {branding.display_name.clone()}
                                    " and pay them securely."
                                </p>
                                <form method="post" action=action class="continue-form">
                                    {to_pay.then(|| view! { <input type="hidden" name="to" value="pay"/> })}
                                    <button type="submit" class="button button--primary" id="continue">
                                        "Continue to your account"
                                    </button>
                                </form>
                                <p class="fine-print">
                                    "This link is personal to you: please don't forward the email it came in."
                                </p>
                            </BrandedLayout>
                        }
                        .into_any()
                    }
                    Ok(LinkStatus::Expired { branding }) => {
                        set_http_status(410);
                        let renew = format!("{action}/renew");
                        let renewed = renewed.get().is_some();
                        let title = format!("This link has expired · {}", branding.display_name);
                        view! {
                            <Title text=title/>
                            <BrandedLayout branding=branding.clone()>
                                <h1>"This link has expired"</h1>
                                <p>"For your security, account links stop working after a while."</p>
                                {if renewed {
                                    view! {
                                        <p class="notice notice--ok" role="status">
                                            "We've sent a new link to the email address on file for this account. It can take a minute to arrive."
                                        </p>
                                    }.into_any()
                                } else {
                                    view! {
                                        <form method="post" action=renew class="continue-form">
                                            <button type="submit" class="button button--primary">"Email me a new link"</button>
                                        </form>
                                    }.into_any()
                                }}
                                <p class="fine-print">"Or " <a href=format!("{}/sign-in", branding.portal_home())>"sign in with your email"</a>
                                    ", or " <ContactSupport branding=branding.clone()/> "."</p>
                            </BrandedLayout>
                        }
                        .into_any()
                    }
                    Ok(LinkStatus::Unknown { branding }) => {
                        set_http_status(404);
                        link_problem(
                            branding,
                            "This link isn't valid",
                            "It may have been replaced by a newer link, or it belongs to a different account.",
                        )
                    }
                    Ok(LinkStatus::Malformed { branding }) => {
                        set_http_status(400);
                        link_problem(
                            branding,
                            "This link looks incomplete",
                            "Part of it was probably cut off when it was copied. Open the link straight from the email, or copy the whole address.",
                        )
                    }
                    Ok(LinkStatus::NoSuchPortal) => view! { <NotFound/> }.into_any(),
                    Err(e) => load_failed(e),
                }
            })}}
        </Suspense>
    }
}

fn link_problem(branding: crate::types::Branding, heading: &'static str, why: &'static str) -> AnyView {
    let title = format!("{heading} · {}", branding.display_name);
    view! {
        <Title text=title/>
        <BrandedLayout branding=branding.clone()>
            <h1>{heading}</h1>
            <p>{why}</p>
            <p>
                "To get back to your account, use the link in the most recent email from "
                {branding.display_name.clone()} ", " <a href=format!("{}/sign-in", branding.portal_home())>"sign in with your email"</a>
                ", or " <ContactSupport branding=branding.clone()/> "."
            </p>
        </BrandedLayout>
    }
    .into_any()
}
