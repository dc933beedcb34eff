use crate::components::PlainLayout;
use leptos::prelude::*;
use leptos_meta::Title;

/// The bare site root: customers arrive through a merchant's portal address,
/// so this only explains where they are.
#[component]
pub fn SiteHome() -> impl IntoView {
    view! {
        <Title text="Settle · customer payment portal"/>
        <PlainLayout>
            <h1>"Customer payment portal"</h1>
            <p>
                "This server hosts payment portals for businesses that use Settle. "
                "To see and pay your invoices, open the link in the latest email from the business you owe."
            </p>
        </PlainLayout>
    }
}
