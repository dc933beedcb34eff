use super::{load_failed, loading, param};
use crate::api::{fetch_portal_home, fetch_sign_in_link, fetch_sign_in_pending};
use crate::components::{set_http_status, BrandedLayout, ContactSupport};
use crate::pages::NotFound;
use crate::types::PortalError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn query(name: &'static str) -> Memo<Option<String>> {
    let q = use_query_map();
    Memo::new(move |_| q.read().get(name))
}

/// `/p/{slug}/sign-in`: ask for the email address.
#[component]
pub fn SignInPage() -> impl IntoView {
    let slug = param("slug");
    let error = query("error");
    let home = Resource::new(move || slug.get(), fetch_portal_home);
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(home) => {
                        let b = home.branding;
                        let action = format!("{}/sign-in", b.portal_home());
                        let message = match error.get().as_deref() {
                            Some("email") => Some("Please enter a valid email address, like name@example.com."),
                            Some("start") => Some("Your sign-in had expired. Enter your email again for a new code."),
                            Some("password") => Some("That email and password don't match. Try again, or get a code by email."),
                            _ => None,
                        };
                        view! {
                            <Title text=format!("Sign in · {}", b.display_name)/>
                            <BrandedLayout branding=b.clone()>
                                <h1>"Sign in"</h1>
                                <p>"We'll email you a 6-digit code and a sign-in link."</p>
                                {message.map(|m| view! { <p class="notice notice--error" role="alert">{m}</p> })}
                                <form method="post" action=action class="stack">
                                    <label for="email">"Email address"</label>
                                    <input id="email" name="email" type="email" autocomplete="email" required
                                        inputmode="email" class="input"/>
                                    <button type="submit" class="button button--primary">"Email me a code"</button>
                                </form>
                                <p class="fine-print">"Use the address " {b.display_name.clone()} " sends your invoices to."</p>
                                <details class="password-sign-in" open=error.get().as_deref() == Some("password")>
                                    <summary>"Sign in with a password instead"</summary>
                                    <form method="post" action=format!("{}/sign-in/password", b.portal_home()) class="stack">
                                        <label for="pw-email">"Email address"</label>
                                        <input id="pw-email" name="email" type="email" autocomplete="username" required class="input"/>
                                        <label for="pw-password">"Password"</label>
                                        <input id="pw-password" name="password" type="password" autocomplete="current-password"
                                            required class="input"/>
                                        <button type="submit" class="button button--secondary">"Sign in"</button>
                                    </form>
                                </details>
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

/// `/p/{slug}/sign-in/code`: enter the emailed code.
#[component]
pub fn SignInCodePage() -> impl IntoView {
    let slug = param("slug");
    let error = query("error");
    let left = query("left");
    let pending = Resource::new(move || slug.get(), fetch_sign_in_pending);
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match pending.await {
                    Ok(p) => {
                        let b = p.branding;
                        let action = format!("{}/sign-in/code", b.portal_home());
                        let restart = format!("{}/sign-in", b.portal_home());
                        let message = match error.get().as_deref() {
                            Some("wrong") => Some(format!(
                                "That code isn't right. {} tries left.",
                                left.get().unwrap_or_else(|| "A few".into())
                            )),
                            Some("expired") => Some("That code has expired. Ask for a new one below.".to_string()),
                            Some("locked") => Some("Too many wrong codes. Ask for a new code below.".to_string()),
                            _ => None,
                        };
                        if message.is_some() {
                            set_http_status(200);
                        }
                        let sent_to = match p.email {
                            Some(email) => format!("If {email} belongs to an account with {}, we've sent it a code. It works for 10 minutes.", b.display_name),
                            None => "Start by entering your email address.".to_string(),
                        };
                        view! {
                            <Title text=format!("Enter your code · {}", b.display_name)/>
                            <BrandedLayout branding=b.clone()>
                                <h1>"Check your email"</h1>
                                <p>{sent_to}</p>
                                {message.map(|m| view! { <p class="notice notice--error" role="alert">{m}</p> })}
                                <form method="post" action=action class="stack">
                                    <label for="code">"6-digit code"</label>
                                    <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code"
                                        pattern="[0-9 \\-]{6,8}" maxlength="8" required class="input input--code"/>
                                    <button type="submit" class="button button--primary">"Sign in"</button>
                                </form>
                                <p><a href=restart>"Send a new code"</a></p>
                                <p class="fine-print">"No email? Check your spam folder, or " <ContactSupport branding=b.clone()/> "."</p>
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

/// `/p/{slug}/s/{token}`: the one-time link from a sign-in email. GET shows
/// a button; only the POST signs in (mail scanners prefetch links).
#[component]
pub fn SignInLinkPage() -> impl IntoView {
    let slug = param("slug");
    let token = param("token");
    let link = Resource::new(move || (slug.get(), token.get()), |(s, t)| fetch_sign_in_link(s, t));
    view! {
        <Suspense fallback=loading>
            {move || {
                let action = format!("/p/{}/s/{}", slug.get(), token.get());
                Suspend::new(async move {
                    match link.await {
                        Ok(view) if view.usable => {
                            let b = view.branding;
                            view! {
                                <Title text=format!("Sign in · {}", b.display_name)/>
                                <BrandedLayout branding=b.clone()>
                                    <h1>"Sign in to your account"</h1>
                                    <form method="post" action=action class="continue-form">
                                        <button type="submit" class="button button--primary" id="continue">"Continue"</button>
                                    </form>
                                </BrandedLayout>
                            }
                            .into_any()
                        }
                        Ok(view) => {
                            set_http_status(if view.known { 410 } else { 404 });
                            let b = view.branding;
                            let restart = format!("{}/sign-in", b.portal_home());
                            view! {
                                <Title text=format!("Link no longer valid · {}", b.display_name)/>
                                <BrandedLayout branding=b.clone()>
                                    <h1>"This sign-in link can't be used"</h1>
                                    <p>"Sign-in links work once, for 10 minutes."</p>
                                    <p><a class="button button--primary" href=restart>"Get a new code"</a></p>
                                </BrandedLayout>
                            }
                            .into_any()
                        }
                        Err(PortalError::NotFound) => view! { <NotFound/> }.into_any(),
                        Err(e) => load_failed(e),
                    }
                })
            }}
        </Suspense>
    }
}
