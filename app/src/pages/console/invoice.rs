use super::console_page_error;
use crate::components::ConsoleLayout;
use crate::console_api::load_console_invoice;
use crate::pages::{loading, param};
use crate::types::ConsoleInvoiceDetail;
use leptos::prelude::*;
use leptos_meta::Title;

fn body(d: ConsoleInvoiceDetail) -> AnyView {
    let base = format!("/m/{}", d.header.slug);
    let inv = d.invoice.clone();
    let can = d.header.can_manage;
    let overdue = inv.days_overdue.map(|n| format!("{n} days overdue")).unwrap_or_default();
    view! {
        <p><a href=format!("{base}/invoices")>"← All invoices"</a></p>
        <h1>{format!("Invoice {}", inv.number)}</h1>
        <dl class="facts">
            <dt>"Customer"</dt><dd><a href=format!("{base}/customers/{}", d.customer_id)>{d.customer.clone()}</a></dd>
            <dt>"Status"</dt><dd>{inv.status.clone()} " " {overdue}</dd>
            <dt>"Issued"</dt><dd>{d.issued_on.clone()}</dd>
            <dt>"Due"</dt><dd>{inv.due_on.clone()}</dd>
            <dt>"Total"</dt><dd>{inv.total.clone()}</dd>
            <dt>"Paid"</dt><dd>{d.paid.clone()}</dd>
            <dt>"Owed"</dt><dd>{inv.owed.clone()}</dd>
            <dt>"Reminders sent"</dt><dd>{inv.reminders_sent}</dd>
            <dt>"Your reference"</dt><dd>{d.external_ref.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Memo"</dt><dd>{d.memo.clone().unwrap_or_else(|| "—".into())}</dd>
        </dl>
        {(can && inv.open).then(|| view! {
            <div class="actions" role="group" aria-label="Invoice actions">
                <form method="post" action=format!("{base}/invoices/{}/mark-paid", inv.id) class="inline-form">
                    <label for="reference" class="visually-hidden">"Payment reference"</label>
                    <input id="reference" name="reference" class="input input--short" maxlength="100" placeholder="Reference (optional)"/>
                    <button type="submit" class="button button--secondary">"Mark paid"</button>
                </form>
                {inv.voidable.then(|| view! {
                    <form method="post" action=format!("{base}/invoices/{}/void", inv.id) class="inline-form">
                        <button type="submit" class="button button--link">"Void"</button>
                    </form>
                })}
            </div>
        })}
        <h2>"Lines"</h2>
        <table class="console-table">
            <thead><tr><th scope="col">"Description"</th><th scope="col" class="num">"Qty"</th><th scope="col" class="num">"Unit"</th><th scope="col" class="num">"Amount"</th></tr></thead>
            <tbody>
                {d.lines.clone().into_iter().map(|(desc, q, u, a)| view! {
                    <tr><td>{desc}</td><td class="num">{q}</td><td class="num">{u}</td><td class="num">{a}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
        <h2>"Timeline"</h2>
        {if d.timeline.is_empty() {
            view! { <p>"Nothing has happened yet."</p> }.into_any()
        } else {
            view! {
                <ol class="timeline console-timeline">
                    {d.timeline.clone().into_iter().map(|e| view! {
                        <li class="timeline__entry">
                            <span class="timeline__date">{e.at}</span>
                            <span class="timeline__title">{e.title}</span>
                            {(!e.detail.is_empty()).then(|| view! { <span class="muted small">{e.detail}</span> })}
                        </li>
                    }).collect_view()}
                </ol>
            }.into_any()
        }}
    }
    .into_any()
}

/// `/m/{slug}/invoices/{id}`: one invoice and what happened to it.
#[component]
pub fn ConsoleInvoicePage() -> impl IntoView {
    let slug = param("slug");
    let id = param("id");
    let data = Resource::new(move || (slug.get(), id.get()), |(s, i)| load_console_invoice(s, i));
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let slug = slug.get_untracked();
                match data.await {
                    Ok(d) => view! {
                        <Title text=format!("Invoice {} · {} · Settle console", d.invoice.number, d.header.merchant_name)/>
                        <ConsoleLayout header=d.header.clone() current="/invoices">{body(d)}</ConsoleLayout>
                    }
                    .into_any(),
                    Err(e) => console_page_error(&slug, e),
                }
            })}
        </Suspense>
    }
}
