use super::{loading, param, signed_in_page_error};
use crate::api::{load_invoice, load_payments, load_receipt};
use crate::components::BrandedLayout;
use crate::types::PaymentView;
use leptos::prelude::*;
use leptos_meta::Title;

/// Prints the page (the stylesheet has a print layout). An island: it needs
/// JavaScript, and without it the browser's own Print does the same.
#[island]
fn PrintButton() -> impl IntoView {
    view! {
        <button type="button" class="button button--secondary no-print" on:click=move |_| {
            let _ = window().print();
        }>"Print or save as PDF"</button>
    }
}

fn payments_table(payments: Vec<PaymentView>, caption: &'static str, locale: String, home: String) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="invoice-table payments-table">
                <caption class="visually-hidden">{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Date"</th>
                        <th scope="col">"Method"</th>
                        <th scope="col">"Applied to"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="num">"Amount"</th>
                        <th scope="col" class="no-print">"Receipt"</th>
                    </tr>
                </thead>
                <tbody>
                    {payments.into_iter().map(|p| {
                        let applied = p.applied_to.iter()
                            .map(|(n, m)| format!("{n} ({})", m.display_in(&locale)))
                            .collect::<Vec<_>>()
                            .join(", ");
                        view! {
                            <tr data-payment=p.id.clone()>
                                <td>{p.date.clone()}</td>
                                <td>{p.method.clone()}</td>
                                <td>{applied}</td>
                                <td>{p.status.clone()}</td>
                                <td class="num">{p.amount.display_in(&locale)}</td>
                                <td class="no-print"><a href=format!("{home}/payments/{}", p.id)
                                    aria-label=format!("Receipt for the payment of {}", p.date)>"Receipt"</a></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// `/p/{slug}/invoices/{id}`: one invoice in full; printable.
#[component]
pub fn InvoicePage() -> impl IntoView {
    let slug = param("slug");
    let id = param("id");
    let invoice = Resource::new(move || (slug.get(), id.get()), |(s, i)| load_invoice(s, i));
    view! {
        <Suspense fallback=loading>
            {move || {
                let slug = slug.get();
                Suspend::new(async move {
                    match invoice.await {
                        Ok(inv) => {
                            let b = inv.branding.clone();
                            let back = format!("{}/account", b.portal_home());
                            let has_payments = !inv.payments.is_empty();
                            view! {
                                <Title text=format!("Invoice {} · {}", inv.number, b.display_name)/>
                                <BrandedLayout branding=b.clone()>
                                    <p class="no-print"><a href=back>"← Back to your account"</a></p>
                                    <article class="panel invoice-doc" aria-labelledby="invoice-heading">
                                        <div class="invoice-doc__head">
                                            <div>
                                                <h1 id="invoice-heading">"Invoice " {inv.number.clone()}</h1>
                                                <p class="muted">
                                                    "From " {b.display_name.clone()}
                                                    {b.support_email.clone().map(|e| format!(" · {e}"))}
                                                    {b.support_phone.clone().map(|p| format!(" · {p}"))}
                                                </p>
                                                <p class="muted">"Billed to " {inv.customer_name.clone()}</p>
                                            </div>
                                            <dl class="facts">
                                                <dt>"Status"</dt><dd data-testid="invoice-status">{inv.status.clone()}</dd>
                                                <dt>"Issued"</dt><dd>{inv.issued_on.clone()}</dd>
                                                <dt>"Due"</dt><dd>{inv.due_on.clone()}</dd>
                                            </dl>
                                        </div>
                                        <div class="table-wrap">
                                            <table class="invoice-table">
                                                <caption class="visually-hidden">"Line items"</caption>
                                                <thead>
                                                    <tr>
                                                        <th scope="col">"Description"</th>
                                                        <th scope="col" class="num">"Qty"</th>
                                                        <th scope="col" class="num">"Unit price"</th>
                                                        <th scope="col" class="num">"Amount"</th>
                                                    </tr>
                                                </thead>
                                                <tbody>
                                                    {inv.lines.iter().map(|l| view! {
                                                        <tr>
                                                            <td>{l.description.clone()}</td>
                                                            <td class="num">{l.quantity}</td>
                                                            <td class="num">{l.unit.display_in(&inv.locale)}</td>
                                                            <td class="num">{l.amount.display_in(&inv.locale)}</td>
                                                        </tr>
                                                    }).collect_view()}
                                                </tbody>
                                                <tfoot>
                                                    <tr><th scope="row" colspan="3">"Subtotal"</th><td class="num">{inv.subtotal.display_in(&inv.locale)}</td></tr>
                                                    <tr><th scope="row" colspan="3">"Tax"</th><td class="num">{inv.tax.display_in(&inv.locale)}</td></tr>
                                                    <tr><th scope="row" colspan="3">"Total"</th><td class="num">{inv.total.display_in(&inv.locale)}</td></tr>
                                                    <tr><th scope="row" colspan="3">"Paid"</th><td class="num">{inv.paid.display_in(&inv.locale)}</td></tr>
                                                    <tr class="total-due"><th scope="row" colspan="3">"Amount due"</th>
                                                        <td class="num" data-testid="amount-due">{inv.amount_due.display_in(&inv.locale)}</td></tr>
                                                </tfoot>
                                            </table>
                                        </div>
                                        {inv.memo.clone().map(|m| view! { <p class="memo">{m}</p> })}
                                        <h2>"Payments applied"</h2>
                                        {if has_payments {
                                            payments_table(inv.payments.clone(), "Payments applied to this invoice", inv.locale.clone(), b.portal_home()).into_any()
                                        } else {
                                            view! { <p class="muted">"No payments yet."</p> }.into_any()
                                        }}
                                        <h2>"History"</h2>
                                        <ol class="timeline">
                                            {inv.timeline.iter().map(|t| view! {
                                                <li><span class="timeline__date">{t.date.clone()}</span> " " {t.text.clone()}</li>
                                            }).collect_view()}
                                        </ol>
                                        <p class="muted small">"Dates in " {inv.time_zone.clone()} "."</p>
                                    </article>
                                    <CannotPay inv=inv.clone()/>
                                    <PrintButton/>
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

/// "Can't pay right now?": promise to pay by a date, or dispute the invoice.
#[component]
fn CannotPay(inv: crate::types::InvoiceDetail) -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let notice = move || {
        let q = query.read();
        if q.get("promise").as_deref() == Some("saved") {
            return Some((
                true,
                "Thanks for letting us know. We won't send reminders for this invoice until that date.".to_string(),
            ));
        }
        if q.get("dispute").as_deref() == Some("saved") {
            return Some((
                true,
                "Your dispute is recorded and the merchant has been told. Reminders are paused meanwhile.".to_string(),
            ));
        }
        let err = q.get("promise_error").or(q.get("dispute_error"))?;
        let words = match err.as_str() {
            "not_overdue" => "You can promise a payment date once an invoice is overdue.",
            "bad_date" => "Please pick a date.",
            "out_of_range" => "Please pick a date within the range shown.",
            "already_promised" => "You've already promised a date for this invoice.",
            "disputed" => "This invoice is disputed; the merchant will be in touch.",
            "not_open" => "Only open invoices can be disputed.",
            "bad_reason" => "Please choose a reason.",
            "too_long" => "Please keep the details under 1,000 characters.",
            "already_disputed" => "You've already disputed this invoice.",
            _ => "We couldn't save that. Please try again.",
        };
        Some((false, words.to_string()))
    };
    let base = format!("{}/invoices/{}", inv.branding.portal_home(), inv.id);
    let show = inv.promise.is_some() || inv.dispute.is_some() || inv.can_promise || inv.can_dispute;
    show.then(move || view! {
        <section id="cannot-pay" class="panel no-print" aria-labelledby="cannot-pay-heading">
            <h2 id="cannot-pay-heading">"Can't pay right now?"</h2>
            {move || notice().map(|(ok, m)| if ok {
                view! { <p class="notice notice--ok" role="status">{m}</p> }.into_any()
            } else {
                view! { <p class="notice notice--error" role="alert">{m}</p> }.into_any()
            })}
            {inv.promise.clone().map(|d| view! {
                <p data-testid="promise">"You promised to pay by " <strong>{d}</strong> "."</p>
            })}
            {inv.dispute.clone().map(|r| view! {
                <p data-testid="dispute">"You disputed this invoice: " <strong>{r}</strong> "."</p>
            })}
            {inv.can_promise.then(|| view! {
                <form method="post" action=format!("{base}/promise") class="stack">
                    <label for="promise-date">"I'll pay by"</label>
                    <input id="promise-date" name="date" type="date" required class="input"
                        min=inv.promise_earliest.clone() max=inv.promise_latest.clone()/>
                    <p class="muted small">"Any date up to " {inv.promise_latest.clone()} "."</p>
                    <button type="submit" class="button button--secondary">"Promise to pay"</button>
                </form>
            })}
            {inv.can_dispute.then(|| view! {
                <details class="dispute">
                    <summary>"Something's wrong with this invoice"</summary>
                    <form method="post" action=format!("{base}/dispute") class="stack">
                        <label for="dispute-reason">"What's wrong?"</label>
                        <select id="dispute-reason" name="reason" required class="input">
                            {inv.dispute_reasons.iter().map(|(code, words)| view! {
                                <option value=code.clone()>{words.clone()}</option>
                            }).collect_view()}
                        </select>
                        <label for="dispute-details">"Details (optional)"</label>
                        <textarea id="dispute-details" name="details" maxlength="1000" rows="4" class="input"></textarea>
                        <button type="submit" class="button button--secondary">"Dispute this invoice"</button>
                    </form>
                </details>
            })}
        </section>
    })
}

/// `/p/{slug}/payments`: everything the customer has paid.
#[component]
pub fn PaymentsPage() -> impl IntoView {
    let slug = param("slug");
    let history = Resource::new(move || slug.get(), load_payments);
    view! {
        <Suspense fallback=loading>
            {move || {
                let slug = slug.get();
                Suspend::new(async move {
                    match history.await {
                        Ok(h) => {
                            let b = h.branding.clone();
                            let back = format!("{}/account", b.portal_home());
                            let empty = h.payments.is_empty();
                            view! {
                                <Title text=format!("Payment history · {}", b.display_name)/>
                                <BrandedLayout branding=b.clone()>
                                    <p class="no-print"><a href=back>"← Back to your account"</a></p>
                                    <section class="panel" aria-labelledby="payments-heading">
                                        <h1 id="payments-heading">"Payment history"</h1>
                                        {if empty {
                                            view! { <p class="muted">"No payments yet."</p> }.into_any()
                                        } else {
                                            payments_table(h.payments.clone(), "Your payments, newest first", h.locale.clone(), b.portal_home()).into_any()
                                        }}
                                        <p class="muted small">"Dates in " {h.time_zone.clone()} "."</p>
                                    </section>
                                    <PrintButton/>
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

/// `/p/{slug}/payments/{id}`: a printable receipt.
#[component]
pub fn ReceiptPage() -> impl IntoView {
    let slug = param("slug");
    let id = param("id");
    let receipt = Resource::new(move || (slug.get(), id.get()), |(s, i)| load_receipt(s, i));
    view! {
        <Suspense fallback=loading>
            {move || {
                let slug = slug.get();
                Suspend::new(async move {
                    match receipt.await {
                        Ok(r) => {
                            let b = r.branding.clone();
                            let p = r.payment.clone();
                            let applied = p.applied_to.iter()
                                .map(|(n, m)| format!("{n} ({})", m.display_in(&r.locale)))
                                .collect::<Vec<_>>()
                                .join(", ");
                            view! {
                                <Title text=format!("Receipt · {}", b.display_name)/>
                                <BrandedLayout branding=b.clone()>
                                    <p class="no-print"><a href=format!("{}/payments", b.portal_home())>"← Payment history"</a></p>
                                    <ReceiptNotice/>
                                    <article class="panel invoice-doc" aria-labelledby="receipt-heading">
                                        <h1 id="receipt-heading">"Receipt"</h1>
                                        <p class="muted">
                                            "From " {b.display_name.clone()}
                                            {b.support_email.clone().map(|e| format!(" · {e}"))}
                                        </p>
                                        <p class="muted">"Paid by " {r.customer_name.clone()} " · " {r.customer_email.clone()}</p>
                                        <dl class="facts">
                                            <dt>"Amount"</dt><dd data-testid="receipt-amount">{p.amount.display_in(&r.locale)}</dd>
                                            <dt>"Date"</dt><dd>{p.date.clone()}</dd>
                                            <dt>"Method"</dt><dd>{p.method.clone()}</dd>
                                            <dt>"Status"</dt><dd>{p.status.clone()}</dd>
                                            <dt>"Applied to"</dt><dd>{applied}</dd>
                                            <dt>"Reference"</dt><dd>{p.id.clone()}</dd>
                                        </dl>
                                    </article>
                                    <PrintButton/>
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

/// What just happened, after being sent here from the payment flow.
#[component]
fn ReceiptNotice() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    move || {
        let q = query.read();
        if q.get("paid").is_some() {
            Some(
                view! {
                    <p class="notice notice--ok no-print" role="status" data-testid="paid-notice">
                        "Thank you! Your payment went through. A receipt is on its way to your inbox."
                    </p>
                }
                .into_any(),
            )
        } else if q.get("processing").is_some() {
            Some(view! {
                <p class="notice notice--warn no-print" role="status">
                    "Your payment is being confirmed with the bank. This page shows its status; you won't be charged twice."
                </p>
            }.into_any())
        } else {
            None
        }
    }
}
