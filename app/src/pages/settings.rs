use super::{loading, param, signed_in_page_error};
use crate::api::load_settings;
use crate::components::BrandedLayout;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn notice(ok: bool, text: &'static str) -> AnyView {
    if ok {
        view! { <p class="notice notice--ok" role="status">{text}</p> }.into_any()
    } else {
        view! { <p class="notice notice--error" role="alert">{text}</p> }.into_any()
    }
}

/// `/p/{slug}/account/settings`: contact details and preferences.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let slug = param("slug");
    let settings = Resource::new(move || slug.get(), load_settings);
    let query = use_query_map();
    let message = move || {
        let q = query.read();
        if q.get("card_added").is_some() {
            return Some(notice(true, "Your new card is saved and is now your default."));
        }
        match (q.get("saved").as_deref(), q.get("error").as_deref(), q.get("verified").as_deref()) {
            (Some("contact"), _, _) => Some(notice(true, "Your contact details are saved.")),
            (Some("preferences"), _, _) => Some(notice(true, "Your preferences are saved.")),
            (Some("card"), _, _) => Some(notice(true, "The card is removed.")),
            (Some("default_card"), _, _) => Some(notice(true, "That card is now your default.")),
            (Some("autopay_on"), _, _) => {
                Some(notice(true, "Autopay is on. Your default card will be charged on each invoice's due date."))
            }
            (Some("autopay_off"), _, _) => {
                Some(notice(true, "Autopay is off. We'll remind you when invoices are due."))
            }
            (_, Some("autopay_consent"), _) => Some(notice(false, "Tick the box to agree to automatic payments.")),
            (_, Some("autopay_card"), _) => {
                Some(notice(false, "Autopay needs a default card that hasn't expired. Add one first."))
            }
            (_, Some("email"), _) => Some(notice(false, "Please enter a valid email address.")),
            (_, Some("phone"), _) => {
                Some(notice(false, "Please enter a phone number with 7 to 15 digits, like +1 555 010 2030."))
            }
            (_, Some("time_zone"), _) => Some(notice(false, "Please choose a time zone from the list.")),
            (_, Some("locale"), _) => Some(notice(false, "Please choose a format from the list.")),
            (_, Some("email_taken"), _) => Some(notice(false, "That email address belongs to another account here.")),
            (_, _, Some(_)) => Some(notice(
                true,
                "Thanks, that's confirmed. You can change your contact details for the next 10 minutes.",
            )),
            _ => None,
        }
    };
    view! {
        <Suspense fallback=loading>
            {move || {
                let slug = slug.get();
                Suspend::new(async move {
                    match settings.await {
                        Ok(s) => {
                            let b = s.branding.clone();
                            let home = b.portal_home();
                            view! {
                                <Title text=format!("Settings · {}", b.display_name)/>
                                <BrandedLayout branding=b.clone()>
                                    <p><a href=format!("{home}/account")>"← Back to your account"</a></p>
                                    <h1>"Contact details and preferences"</h1>
                                    {message}
                                    <section class="panel" aria-labelledby="contact-heading">
                                        <h2 id="contact-heading">"Contact details"</h2>
                                        {if s.stepped_up {
                                            view! {
                                                <form method="post" action=format!("{home}/account/contact") class="stack">
                                                    <label for="contact-email">"Email address"</label>
                                                    <input id="contact-email" name="email" type="email" autocomplete="email"
                                                        required class="input" value=s.email.clone()/>
                                                    <label for="contact-phone">"Mobile phone (optional)"</label>
                                                    <input id="contact-phone" name="phone" type="tel" autocomplete="tel"
                                                        class="input" value=s.phone.clone()/>
                                                    <button type="submit" class="button button--secondary">"Save contact details"</button>
                                                </form>
                                            }.into_any()
                                        } else {
                                            view! {
                                                <p>"Email: " <strong>{s.email.clone()}</strong></p>
                                                <p>"Phone: " <strong>{if s.phone.is_empty() { "none".to_string() } else { s.phone.clone() }}</strong></p>
                                                <p>
                                                    "To change where we contact you, "
                                                    <a href=format!("{home}/account/verify")>"confirm it's you"</a> " first."
                                                </p>
                                            }.into_any()
                                        }}
                                    </section>
                                    <section class="panel" aria-labelledby="cards-heading">
                                        <h2 id="cards-heading">"Saved cards"</h2>
                                        {if s.cards.is_empty() {
                                            view! { <p class="muted">"No saved cards."</p> }.into_any()
                                        } else {
                                            view! {
                                                <ul class="cards">
                                                    {s.cards.iter().map(|c| {
                                                        let action = format!("{home}/account/cards/{}/remove", c.id);
                                                        let label = c.label.clone();
                                                        view! {
                                                            <li class="card-row" data-card=c.id.clone()>
                                                                <span>
                                                                    <strong>{c.label.clone()}</strong>
                                                                    " · expires " {c.expires.clone()}
                                                                    {c.expired.then(|| view! { " " <span class="status status--overdue">"Expired"</span> })}
                                                                    {c.is_default.then(|| view! { " " <span class="status status--upcoming">"Default"</span> })}
                                                                </span>
                                                                <span class="card-row__actions">
                                                                    {(!c.is_default && !c.expired).then(|| {
                                                                        let action = format!("{home}/account/cards/{}/default", c.id);
                                                                        let label = c.label.clone();
                                                                        view! {
                                                                            <form method="post" action=action>
                                                                                <button type="submit" class="button button--secondary"
                                                                                    aria-label=format!("Make {label} the default")>"Make default"</button>
                                                                            </form>
                                                                        }
                                                                    })}
                                                                    <form method="post" action=action>
                                                                        <button type="submit" class="button button--secondary"
                                                                            aria-label=format!("Remove {label}")>"Remove"</button>
                                                                    </form>
                                                                </span>
                                                            </li>
                                                        }
                                                    }).collect_view()}
                                                </ul>
                                                {(!s.stepped_up).then(|| view! {
                                                    <p class="muted small">"Removing a card asks you to confirm it's you first."</p>
                                                })}
                                            }.into_any()
                                        }}
                                        <p>
                                            <a class="button button--secondary" data-testid="add-card" rel="external"
                                                href=format!("{home}/account/cards/new?return_to={}", super::encode_component(&format!("{home}/account/settings")))>
                                                "Add a card"
                                            </a>
                                        </p>
                                    </section>
                                    <AutopaySection autopay=s.autopay.clone() home=home.clone()/>
                                    <section class="panel" aria-labelledby="prefs-heading">
                                        <h2 id="prefs-heading">"Reminders and time zone"</h2>
                                        <form method="post" action=format!("{home}/account/preferences") class="stack">
                                            <label class="check">
                                                <input type="checkbox" name="email_reminders" checked=s.email_reminders/>
                                                " Send me payment reminders by email"
                                            </label>
                                            <label class="check">
                                                <input type="checkbox" name="sms_reminders" checked=s.sms_reminders/>
                                                " Send me payment reminders by text message"
                                            </label>
                                            <label for="time-zone">"Time zone"</label>
                                            <select id="time-zone" name="time_zone" class="input">
                                                {s.time_zones.iter().map(|z| {
                                                    let selected = *z == s.time_zone;
                                                    view! { <option value=z.clone() selected=selected>{z.clone()}</option> }
                                                }).collect_view()}
                                            </select>
                                            <label for="locale">"Show amounts and dates as written in"</label>
                                            <select id="locale" name="locale" class="input">
                                                {s.locales.iter().map(|(code, name)| {
                                                    let selected = *code == s.locale;
                                                    view! { <option value=code.clone() selected=selected>{name.clone()}</option> }
                                                }).collect_view()}
                                            </select>
                                            <p class="muted small">
                                                "Receipts and account notices are always sent. Dates are shown in your time zone."
                                            </p>
                                            <button type="submit" class="button button--secondary">"Save preferences"</button>
                                        </form>
                                    </section>
                                </BrandedLayout>
                            }
                            .into_any()
                        }
                        Err(e) => signed_in_page_error(&slug, e),
                    }
                })
            }}
        </Suspense>
    }
}

/// `/p/{slug}/account/verify`: prove it's you again (password or emailed code).
#[component]
pub fn VerifyPage() -> impl IntoView {
    let slug = param("slug");
    let settings = Resource::new(move || slug.get(), load_settings);
    let query = use_query_map();
    let sent = move || query.read().get("sent").is_some();
    let error = move || {
        query.read().get("error").map(|e| match e.as_str() {
            "password" => "That password isn't right.",
            "wrong" => "That code isn't right.",
            "expired" => "That code has expired or was tried too often. Send a new one.",
            "limited" => "Too many attempts. Please wait 15 minutes.",
            _ => "Please start again.",
        })
    };
    view! {
        <Suspense fallback=loading>
            {move || {
                let slug = slug.get();
                Suspend::new(async move {
                    match settings.await {
                        Ok(s) => {
                            let b = s.branding.clone();
                            let home = b.portal_home();
                            view! {
                                <Title text=format!("Confirm it's you · {}", b.display_name)/>
                                <BrandedLayout branding=b.clone()>
                                    <p><a href=format!("{home}/account/settings")>"← Back to settings"</a></p>
                                    <h1>"Confirm it's you"</h1>
                                    <p>"Before changing where we contact you, please confirm it's really you."</p>
                                    {move || error().map(|m| view! { <p class="notice notice--error" role="alert">{m}</p> })}
                                    {s.has_password.then(|| view! {
                                        <form method="post" action=format!("{home}/account/verify/password") class="stack">
                                            <label for="verify-password">"Your password"</label>
                                            <input id="verify-password" name="password" type="password"
                                                autocomplete="current-password" required class="input"/>
                                            <button type="submit" class="button button--primary">"Confirm"</button>
                                        </form>
                                    })}
                                    {if sent() {
                                        view! {
                                            <form method="post" action=format!("{home}/account/verify/code") class="stack">
                                                <label for="verify-code">"6-digit code we emailed to " {s.email.clone()}</label>
                                                <input id="verify-code" name="code" type="text" inputmode="numeric"
                                                    autocomplete="one-time-code" required class="input input--code"/>
                                                <button type="submit" class="button button--primary">"Confirm"</button>
                                            </form>
                                        }.into_any()
                                    } else {
                                        view! {
                                            <form method="post" action=format!("{home}/account/verify/send-code") class="stack">
                                                <button type="submit" class="button button--secondary">
                                                    "Email a code to " {s.email.clone()}
                                                </button>
                                            </form>
                                        }.into_any()
                                    }}
                                </BrandedLayout>
                            }
                            .into_any()
                        }
                        Err(e) => signed_in_page_error(&slug, e),
                    }
                })
            }}
        </Suspense>
    }
}

/// Turn autopay on (with the exact consent words) or off.
#[component]
fn AutopaySection(autopay: crate::types::settings::AutopayView, home: String) -> impl IntoView {
    let action = format!("{home}/account/autopay");
    let body = if autopay.enabled {
        view! {
            <p><strong>"Autopay is on"</strong> {autopay.since.clone().map(|d| format!(" since {d}"))} "."</p>
            {autopay.consent_text.clone().map(|t| view! { <blockquote class="consent">{t}</blockquote> })}
            <form method="post" action=action>
                <input type="hidden" name="action" value="off"/>
                <button type="submit" class="button button--secondary">"Turn off autopay"</button>
            </form>
        }
        .into_any()
    } else {
        match (autopay.offer_card_id.clone(), autopay.offer_text.clone()) {
            (Some(card), Some(text)) => view! {
                <p>"Pay each invoice automatically on its due date. You can turn this off at any time."</p>
                <form method="post" action=action class="stack" data-testid="autopay-form">
                    <input type="hidden" name="action" value="on"/>
                    <input type="hidden" name="card" value=card/>
                    <div class="check">
                        <input type="checkbox" id="autopay-consent" name="consent" value="yes" required/>
                        <label for="autopay-consent">{text}</label>
                    </div>
                    <button type="submit" class="button button--primary">"Turn on autopay"</button>
                </form>
            }
            .into_any(),
            _ => view! {
                <p>"To pay invoices automatically, first add a card (or make a card that hasn't expired your default)."</p>
            }
            .into_any(),
        }
    };
    view! {
        <section class="panel" aria-labelledby="autopay-heading" id="autopay">
            <h2 id="autopay-heading">"Autopay"</h2>
            {body}
        </section>
    }
}
