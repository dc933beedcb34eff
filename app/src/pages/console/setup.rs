use crate::components::PlainLayout;
use crate::console_api::load_setup;
use crate::pages::{load_failed, loading, NotFound};
use leptos::prelude::*;
use leptos_meta::Title;

fn input(
    id: &'static str,
    label: &'static str,
    value: String,
    kind: &'static str,
    autocomplete: &'static str,
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input id=id name=id type=kind class="input" value=value autocomplete=autocomplete required/>
    }
}

/// `/setup`: the first merchant and its owner, on a fresh install only.
#[component]
pub fn SetupPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_setup());
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) if v.available => {
                        let f = v.form.clone();
                        view! {
                            <Title text="Set up Settle"/>
                            <PlainLayout>
                                <h1>"Set up Settle"</h1>
                                <p>"Create your business and the owner's account. You can change everything later in the console."</p>
                                {v.error.clone().map(|e| view! { <p class="notice notice--error" role="alert">{e}</p> })}
                                <form method="post" action="/setup" class="stack">
                                    {input("name", "Business name", f.name.clone(), "text", "organization")}
                                    <label for="slug">"Portal address"</label>
                                    <span id="slug-hint" class="muted small">"Customers' pages live under /p/<address>, e.g. acme."</span>
                                    <input id="slug" name="slug" class="input" value=f.slug.clone() required aria-describedby="slug-hint"/>
                                    {input("time_zone", "Time zone (IANA, e.g. Europe/London)", f.time_zone.clone(), "text", "off")}
                                    {input("currency", "Currency (e.g. USD)", f.currency.clone(), "text", "off")}
                                    {input("owner_name", "Your name", f.owner_name.clone(), "text", "name")}
                                    {input("owner_email", "Your email", f.owner_email.clone(), "email", "username")}
                                    <label for="password">"Password"</label>
                                    <input id="password" name="password" type="password" class="input" autocomplete="new-password" required/>
                                    <button type="submit" class="button button--primary">"Create"</button>
                                </form>
                            </PlainLayout>
                        }
                        .into_any()
                    }
                    Ok(_) => view! { <NotFound/> }.into_any(),
                    Err(e) => load_failed(e),
                }
            })}
        </Suspense>
    }
}
