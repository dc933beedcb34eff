//! Paying: review and confirm (`/p/{slug}/pay`), 3-D Secure
//! (`/p/{slug}/pay/{id}/authenticate`), adding a card
//! (`/p/{slug}/account/cards/new`). Every step is a plain form, so it works
//! without JavaScript; only Stripe's own card fields need it.

use super::{encode_component, loading, param, signed_in_page_error};
use crate::api::{load_authentication, load_pay_review, start_add_card};
use crate::components::BrandedLayout;
use crate::types::pay::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Why a payment was not started, by the code the server redirects with.
fn refusal_text(code: &str) -> &'static str {
    match code {
        "in_flight" => "Another payment is still being processed. Wait for it to finish before paying again.",
        "changed" => "The amounts due changed since you reviewed them. Check the new total and confirm again.",
        "no_card" => "Choose a saved card, or add one.",
        "card_expired" => "That card has expired. Add a new card or choose another one.",
        "attempt" => "This payment form has expired. Please review your payment and confirm again.",
        "unavailable" => "Payments are not available right now. Please try again later or contact us.",
        "none_selected" => "Choose at least one invoice to pay.",
        "not_open" => "Some of the invoices you chose are already paid or no longer open.",
        "currencies" => "Invoices in different currencies can't be paid together.",
        "too_much" => "That is more than the invoices you chose still owe.",
        "not_positive" => "Enter an amount above zero.",
        _ => "We couldn't start that payment. Nothing was charged. Please try again.",
    }
}

/// `/p/{slug}/pay?invoice=…&amount=…`: what will be charged to which card.
#[component]
pub fn PayPage() -> impl IntoView {
    let slug = param("slug");
    let query = use_query_map();
    let review = Resource::new(
        move || {
            let q = query.read();
            (
                slug.get(),
                q.get_all("invoice").unwrap_or_default().join(","),
                q.get("amount").unwrap_or_default(),
                q.get("amount_minor").and_then(|m| m.parse::<i64>().ok()),
                q.get("card"),
                q.get("declined"),
            )
        },
        |(slug, invoices, amount, amount_minor, card, declined)| {
            load_pay_review(slug, invoices, amount, amount_minor, card, declined)
        },
    );
    view! {
        <Suspense fallback=loading>
            {move || {
                let slug = slug.get();
                Suspend::new(async move {
                    match review.await {
                        Ok(r) => view! { <Review review=r/> }.into_any(),
                        Err(e) => signed_in_page_error(&slug, e),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn Review(review: PayReview) -> impl IntoView {
    let query = use_query_map();
    let refusal = move || query.read().get("error").map(|c| refusal_text(&c));
    let card_added = move || query.read().get("card_added").is_some();
    let b = review.branding.clone();
    let home = b.portal_home();
    let here = {
        let mut path = format!("{home}/pay?");
        for inv in review.invoices.iter().filter(|i| i.selected) {
            path.push_str(&format!("invoice={}&", encode_component(&inv.id)));
        }
        path.push_str(&format!("amount={}", encode_component(&review.amount_text)));
        path
    };
    let add_card = format!("{home}/account/cards/new?return_to={}", encode_component(&here));
    let usable_cards = review.cards.iter().any(|c| !c.expired);

    let in_flight = review.in_flight.clone().map(|f| {
        let (href, label) = if f.needs_authentication {
            (format!("{home}/pay/{}/authenticate", f.payment_id), "Finish confirming it with your bank")
        } else {
            (format!("{home}/payments/{}", f.payment_id), "See its status")
        };
        view! {
            <div class="notice notice--warn" role="status">
                <p>"A payment of " <strong>{f.amount}</strong> " is still in progress."</p>
                <p><a href=href rel="external">{label}</a></p>
            </div>
        }
    });

    let declined = review.declined.clone().map(|d| {
        let card = d.card_label.map(|l| format!(" ({l})")).unwrap_or_default();
        view! {
            <div class="notice notice--error" role="alert" data-testid="declined">
                <p><strong>"The payment didn't go through" {card} "."</strong> " " {d.message}</p>
                <p>
                    {if d.hard {
                        "This card can't be used for this payment. Choose another card or add a new one."
                    } else {
                        "Nothing was charged. You can try again, choose another card or add a new one."
                    }}
                </p>
            </div>
        }
    });

    let selection = {
        let invoices = review.invoices.clone();
        view! {
            <form method="get" action=format!("{home}/pay") class="panel stack" aria-labelledby="choose-heading">
                <h2 id="choose-heading">"Invoices to pay"</h2>
                <fieldset class="choices">
                    <legend class="visually-hidden">"Invoices to pay"</legend>
                    {invoices.into_iter().map(|inv| {
                        let id = format!("pick-{}", inv.id);
                        view! {
                            <div class="check">
                                <input type="checkbox" id=id.clone() name="invoice" value=inv.id.clone() checked=inv.selected/>
                                <label for=id>
                                    <strong>{inv.number.clone()}</strong> " · due " {inv.due_on_display.clone()}
                                    " · " {inv.amount_due.clone()}
                                </label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <label for="pay-amount">"Amount to pay (optional)"</label>
                <input id="pay-amount" name="amount" class="input input--amount" inputmode="decimal"
                    value=review.amount_text.clone() aria-describedby="pay-amount-hint"/>
                <p id="pay-amount-hint" class="muted small">
                    "Leave empty to pay the chosen invoices in full. A smaller amount goes to the oldest invoice first."
                </p>
                <button type="submit" class="button button--secondary">"Update total"</button>
            </form>
        }
    };

    let confirm = review.plan.clone().map(|plan| {
        let total = plan.total.clone();
        let rows = plan.allocations.iter().map(|a| view! {
            <tr>
                <th scope="row">{a.number.clone()}</th>
                <td>{a.due_on_display.clone()}</td>
                <td class="num">{a.amount_due.clone()}</td>
                <td class="num">
                    {a.paying.clone()}
                    {a.partial.then(|| view! { <span class="muted small">" (part)"</span> })}
                </td>
            </tr>
        }).collect_view();
        let selected: Vec<String> = review.invoices.iter().filter(|i| i.selected).map(|i| i.id.clone()).collect();
        let cards = review.cards.clone();
        let chosen = review.card_id.clone();
        view! {
            <section class="panel" aria-labelledby="confirm-heading">
                <h2 id="confirm-heading">"You're paying"</h2>
                <div class="table-wrap">
                    <table class="invoice-table">
                        <thead>
                            <tr>
                                <th scope="col">"Invoice"</th>
                                <th scope="col">"Due"</th>
                                <th scope="col" class="num">"Owed"</th>
                                <th scope="col" class="num">"Paying now"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                        <tfoot>
                            <tr class="total-due">
                                <th scope="row" colspan="3">"Total"</th>
                                <td class="num" data-testid="pay-total">{total.clone()}</td>
                            </tr>
                        </tfoot>
                    </table>
                </div>
                {if usable_cards {
                    view! {
                        <form method="post" action=format!("{home}/pay") class="stack" data-testid="confirm-form">
                            {selected.into_iter().map(|id| view! { <input type="hidden" name="invoice" value=id/> }).collect_view()}
                            <input type="hidden" name="amount_minor"
                                value=plan.amount_minor.map(|m| m.to_string()).unwrap_or_default()/>
                            <input type="hidden" name="total_minor" value=plan.total_minor.to_string()/>
                            <input type="hidden" name="attempt" value=review.attempt.clone()/>
                            <fieldset class="choices">
                                <legend>"Pay with"</legend>
                                {cards.into_iter().map(|c| {
                                    let id = format!("card-{}", c.id);
                                    let checked = chosen.as_deref() == Some(c.id.as_str());
                                    view! {
                                        <div class="check">
                                            <input type="radio" id=id.clone() name="card" value=c.id.clone()
                                                checked=checked disabled=c.expired required/>
                                            <label for=id>
                                                {c.label.clone()} " · expires " {c.expires.clone()}
                                                {c.expired.then(|| view! { <span class="status status--overdue">" Expired"</span> })}
                                                {c.is_default.then(|| view! { <span class="muted small">" (default)"</span> })}
                                            </label>
                                        </div>
                                    }
                                }).collect_view()}
                            </fieldset>
                            <p><a href=add_card.clone() rel="external">"Use a new card"</a></p>
                            <p class="muted small">"Your card is charged " <strong>{total.clone()}</strong>
                                " when you press Pay. You'll get a receipt by email."</p>
                            <button type="submit" class="button button--primary" data-testid="pay-button">
                                "Pay " {total.clone()}
                            </button>
                        </form>
                    }.into_any()
                } else {
                    let expired = review.cards.iter().filter(|c| c.expired).map(|c| view! {
                        <li>{c.label.clone()} " · expired " {c.expires.clone()} " "
                            <span class="status status--overdue">"Expired"</span></li>
                    }).collect_view();
                    view! {
                        <ul class="cards">{expired}</ul>
                        <p>"You have no card that can pay this. Add one to continue."</p>
                        <a class="button button--primary" href=add_card.clone() rel="external">"Add a card"</a>
                    }.into_any()
                }}
            </section>
        }
    });

    view! {
        <Title text=format!("Pay · {}", b.display_name)/>
        <BrandedLayout branding=b.clone()>
            <p class="no-print"><a href=format!("{home}/account")>"← Back to your account"</a></p>
            <h1>"Pay your invoices"</h1>
            {move || card_added().then(|| view! {
                <p class="notice notice--ok" role="status">"Your new card is saved and selected."</p>
            })}
            {move || refusal().map(|t| view! { <p class="notice notice--error" role="alert">{t}</p> })}
            {declined}
            {in_flight}
            {review.problem.clone().map(|p| view! { <p class="notice notice--error" role="alert">{p}</p> })}
            {if review.invoices.is_empty() {
                view! { <p>"You have nothing to pay. Thank you!"</p> }.into_any()
            } else {
                view! { {confirm} {selection} }.into_any()
            }}
        </BrandedLayout>
    }
}

/// `/p/{slug}/pay/{id}/authenticate`: the bank's check (3-D Secure).
#[component]
pub fn AuthenticatePage() -> impl IntoView {
    let slug = param("slug");
    let id = param("id");
    let data = Resource::new(move || (slug.get(), id.get()), |(slug, id)| load_authentication(slug, id));
    view! {
        <Suspense fallback=loading>
            {move || {
                let slug = slug.get();
                Suspend::new(async move {
                    match data.await {
                        Ok(v) => view! { <Authenticate view=v/> }.into_any(),
                        Err(e) => signed_in_page_error(&slug, e),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn Authenticate(view: AuthenticateView) -> impl IntoView {
    let b = view.branding.clone();
    let home = b.portal_home();
    let id = view.payment_id.clone();
    let cancel = view! {
        <form method="post" action=format!("{home}/pay/{id}/cancel")>
            <button type="submit" class="button button--secondary">"Cancel and choose another card"</button>
        </form>
    };
    let body = match view.method.clone() {
        AuthMethod::Sandbox => view! {
            <section class="panel stack" aria-labelledby="bank-heading">
                <h2 id="bank-heading">"Test bank: confirm this payment"</h2>
                <p class="muted">"In test mode this page stands in for your bank's 3-D Secure check."</p>
                <form method="post" action=format!("{home}/sandbox/payments/{id}/challenge")>
                    <input type="hidden" name="decision" value="approve"/>
                    <button type="submit" class="button button--primary" data-testid="approve-3ds">"Complete authentication"</button>
                </form>
                <form method="post" action=format!("{home}/sandbox/payments/{id}/challenge")>
                    <input type="hidden" name="decision" value="fail"/>
                    <button type="submit" class="button button--secondary">"Fail authentication"</button>
                </form>
            </section>
            {cancel}
        }.into_any(),
        AuthMethod::Stripe { publishable_key, client_secret, js_url } => view! {
            <section class="panel stack" aria-labelledby="bank-heading">
                <h2 id="bank-heading">"Confirm with your bank"</h2>
                <p>"Your bank's check opens in a window on this page."</p>
                <form method="post" action=format!("{home}/pay/{id}/refresh") id="stripe-action"
                    data-stripe-key=publishable_key data-client-secret=client_secret>
                    <button type="submit" class="button button--primary">"Continue"</button>
                </form>
                <p class="muted small" id="stripe-status" role="status"></p>
            </section>
            {cancel}
            <StripeScripts js_url=js_url/>
        }.into_any(),
        AuthMethod::Done => view! {
            <p>"This payment doesn't need authentication any more."</p>
            <p><a href=format!("{home}/payments/{id}")>"See the payment"</a></p>
        }.into_any(),
    };
    view! {
        <Title text=format!("Confirm your payment · {}", b.display_name)/>
        <BrandedLayout branding=b.clone()>
            <h1>"Confirm your payment of " {view.amount.clone()}</h1>
            <p>"Your bank wants to be sure it's you paying with " {view.card_label.clone()} "."</p>
            {body}
        </BrandedLayout>
    }
}

/// `/p/{slug}/account/cards/new?return_to=…`: add a card at the gateway.
#[component]
pub fn AddCardPage() -> impl IntoView {
    let slug = param("slug");
    let query = use_query_map();
    let data = Resource::new(
        move || (slug.get(), query.read().get("return_to").unwrap_or_default()),
        |(slug, return_to)| start_add_card(slug, return_to),
    );
    view! {
        <Suspense fallback=loading>
            {move || {
                let slug = slug.get();
                Suspend::new(async move {
                    match data.await {
                        Ok(v) => view! { <AddCard view=v/> }.into_any(),
                        Err(e) => signed_in_page_error(&slug, e),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn AddCard(view: AddCardView) -> impl IntoView {
    let query = use_query_map();
    let error = move || query.read().get("error").map(|code| card_error_text(&code));
    let b = view.branding.clone();
    let home = b.portal_home();
    let form = match view.form.clone() {
        CardForm::Sandbox { test_cards } => view! {
            <form method="post" action=format!("{home}/sandbox/setups/{}", view.setup_ref) class="panel stack"
                data-testid="card-form">
                <input type="hidden" name="return_to" value=view.return_to.clone()/>
                <label for="card-number">"Card number"</label>
                <input id="card-number" name="number" class="input" inputmode="numeric" autocomplete="cc-number"
                    required maxlength="23"/>
                <label for="card-expiry">"Expiry (MM / YY)"</label>
                <input id="card-expiry" name="expiry" class="input input--short" autocomplete="cc-exp"
                    placeholder="MM / YY" required maxlength="9"/>
                <label for="card-cvc">"Security code"</label>
                <input id="card-cvc" name="cvc" class="input input--short" inputmode="numeric" autocomplete="cc-csc"
                    required maxlength="4"/>
                <button type="submit" class="button button--primary">"Save card"</button>
            </form>
            <section class="panel" aria-labelledby="test-cards-heading">
                <h2 id="test-cards-heading">"Test cards"</h2>
                <p class="muted small">"Test mode takes only these numbers, with any future expiry and any 3 digits."</p>
                <ul class="test-cards">
                    {test_cards.into_iter().map(|c| view! {
                        <li><code>{c.number}</code> " · " {c.description}</li>
                    }).collect_view()}
                </ul>
            </section>
        }.into_any(),
        CardForm::Stripe { publishable_key, client_secret, js_url } => view! {
            <form method="post" action=format!("{home}/account/cards/complete") class="panel stack" id="stripe-setup"
                data-stripe-key=publishable_key data-client-secret=client_secret>
                <input type="hidden" name="setup_ref" value=view.setup_ref.clone()/>
                <input type="hidden" name="return_to" value=view.return_to.clone()/>
                <label for="card-element">"Card"</label>
                <div id="card-element" class="input"></div>
                <p class="muted small" id="stripe-status" role="status"></p>
                <button type="submit" class="button button--primary">"Save card"</button>
            </form>
            <StripeScripts js_url=js_url/>
        }.into_any(),
    };
    view! {
        <Title text=format!("Add a card · {}", b.display_name)/>
        <BrandedLayout branding=b.clone()>
            <p class="no-print"><a href=view.return_to.clone()>"← Back"</a></p>
            <h1>"Add a card"</h1>
            <p class="muted">"Your card details go straight to our payment provider; we only keep the brand, last four digits and expiry."</p>
            {move || error().map(|t| view! { <p class="notice notice--error" role="alert">{t}</p> })}
            {form}
        </BrandedLayout>
    }
}

/// Stripe.js and our glue, in <head> through leptos_meta (scripts inside
/// the hydrated body would upset hydration), deferred so they run in order
/// once the page is parsed.
#[component]
fn StripeScripts(js_url: String) -> impl IntoView {
    view! {
        <leptos_meta::Script src=js_url defer="defer"/>
        <leptos_meta::Script src="/stripe-glue.js" defer="defer"/>
    }
}

fn card_error_text(code: &str) -> String {
    match code {
        "not_test_card" => {
            "This is test mode: use one of the test card numbers listed on this page, such as 4242 4242 4242 4242."
        }
        "expired" => "This card has expired.",
        "expiry" => "Enter the expiry as MM / YY.",
        "cvc" => "Enter the 3- or 4-digit security code.",
        "declined" => "Your card was declined.",
        "number" => "Enter the card number.",
        _ => "We couldn't save that card. Please try again.",
    }
    .to_string()
}
