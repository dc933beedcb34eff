use crate::components::{set_http_status, PlainLayout};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    set_http_status(404);
    view! {
        <Title text="Page not found · Settle"/>
        <PlainLayout>
            <h1>"Page not found"</h1>
            <p>
                "There is nothing at this address. If you followed a link from an email, "
                "check that the whole link was copied, or open it from the email again."
            </p>
        </PlainLayout>
    }
}
