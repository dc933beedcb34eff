use crate::components::PlainLayout;
use crate::console_api::fetch_console_sign_in;
use crate::pages::{load_failed, loading, param, NotFound};
use crate::types::PortalError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

/// `/m/{slug}/sign-in`: staff sign in with email and password.
#[component]
pub fn ConsoleSignInPage() -> impl IntoView {
    let slug = param("slug");
    let query = use_query_map();
    let view_data = Resource::new(move || slug.get(), fetch_console_sign_in);
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(v) if v.signed_in => view! { <Redirect path=format!("/m/{}", v.slug)/> }.into_any(),
                    Ok(v) => {
                        let q = query.read_untracked();
                        let message = if q.get("error").as_deref() == Some("password") {
                            Some(("notice notice--error", "That email and password don't match. Try again."))
                        } else if q.get("signed_out").is_some() {
                            Some(("notice notice--ok", "You've signed out."))
                        } else {
                            None
                        };
                        view! {
                            <Title text=format!("Sign in · {} · Settle console", v.merchant_name)/>
                            <PlainLayout>
                                <h1>"Sign in to " {v.merchant_name.clone()}</h1>
                                {message.map(|(class, m)| view! { <p class=class role="alert">{m}</p> })}
                                <form method="post" action=format!("/m/{}/sign-in", v.slug) class="stack">
                                    <label for="email">"Email address"</label>
                                    <input id="email" name="email" type="email" autocomplete="username" required class="input"/>
                                    <label for="password">"Password"</label>
                                    <input id="password" name="password" type="password" autocomplete="current-password"
                                        required class="input"/>
                                    <button type="submit" class="button button--primary">"Sign in"</button>
                                </form>
                            </PlainLayout>
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
