use super::console_page_error;
use crate::components::ConsoleLayout;
use crate::console_api::load_console_customer;
use crate::pages::{loading, param};
use crate::types::{ConsoleEvent, ConsoleInvoice, CustomerDetail};
use leptos::prelude::*;
use leptos_meta::Title;

/// A POST button for one action (no JS needed).
fn action_button(action: String, label: &'static str, class: &'static str) -> impl IntoView {
    view! {
        <form method="post" action=action class="inline-form">
            <button type="submit" class=class>{label}</button>
        </form>
    }
}

fn facts(d: &CustomerDetail) -> impl IntoView {
    let yes_no = |b: bool| if b { "Yes" } else { "No" };
    let opt_outs = match (d.email_opt_out, d.sms_opt_out) {
        (false, false) => "None".to_string(),
        (true, false) => "Email reminders".to_string(),
        (false, true) => "Text messages".to_string(),
        (true, true) => "Email reminders and text messages".to_string(),
    };
    let cards = if d.cards.is_empty() { "None on file".to_string() } else { d.cards.join("; ") };
    view! {
        <dl class="facts">
            <dt>"Email"</dt><dd>{d.email.clone()}</dd>
            <dt>"Phone"</dt><dd>{d.phone.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Time zone"</dt><dd>{d.time_zone.clone()}</dd>
            <dt>"Status"</dt><dd>{if d.status == "active" { "Active" } else { "Suspended" }}</dd>
            <dt>"Reminders"</dt>
            <dd>{d.paused_since.clone().map(|s| format!("Paused since {s}")).unwrap_or_else(|| "Running".into())}</dd>
            <dt>"Autopay"</dt><dd>{yes_no(d.autopay)}</dd>
            <dt>"Opted out of"</dt><dd>{opt_outs}</dd>
            <dt>"Cards"</dt><dd>{cards}</dd>
        </dl>
    }
}

fn invoice_row(base: String, can_manage: bool, inv: ConsoleInvoice) -> impl IntoView {
    let standing: Vec<String> = [
        inv.days_overdue.map(|d| if d == 0 { "Due today".to_string() } else { format!("{d} days overdue") }),
        inv.promise.clone().map(|p| format!("Promised by {p}")),
        inv.dispute.clone().map(|r| format!("Disputed: {r}")),
        (inv.reminders_sent > 0)
            .then(|| format!("{} reminder{} sent", inv.reminders_sent, if inv.reminders_sent == 1 { "" } else { "s" })),
    ]
    .into_iter()
    .flatten()
    .collect();
    let ref_id = format!("ref-{}", inv.id);
    let actions = (can_manage && inv.open).then(|| {
        let mark = format!("{base}/invoices/{}/mark-paid", inv.id);
        let void = format!("{base}/invoices/{}/void", inv.id);
        view! {
            <form method="post" action=mark class="inline-form">
                <label for=ref_id.clone() class="visually-hidden">{format!("Payment reference for {}", inv.number)}</label>
                <input id=ref_id name="reference" class="input input--short" maxlength="100"
                    placeholder="Reference (optional)"/>
                <button type="submit" class="button button--secondary">"Mark paid"</button>
            </form>
            {inv.voidable.then(|| action_button(void, "Void", "button button--link"))}
        }
    });
    view! {
        <tr>
            <th scope="row"><a href=format!("{base}/invoices/{}", inv.id)>{inv.number.clone()}</a></th>
            <td>{inv.status.clone()}</td>
            <td>{inv.due_on.clone()}</td>
            <td class="num">{inv.total.clone()}</td>
            <td class="num">{inv.owed.clone()}</td>
            <td>{standing.join(" · ")}</td>
            <td>{actions}</td>
        </tr>
    }
}

fn timeline_entry(e: ConsoleEvent) -> impl IntoView {
    view! {
        <li class=format!("timeline__entry timeline__entry--{}", e.category)>
            <span class="timeline__date">{e.at}</span>
            <span class="timeline__title">{e.title}</span>
            {(!e.detail.is_empty()).then(|| view! { <span class="muted small">{e.detail}</span> })}
        </li>
    }
}

/// `/m/{slug}/customers/{id}`: one customer, their invoices, their timeline.
#[component]
pub fn ConsoleCustomerPage() -> impl IntoView {
    let slug = param("slug");
    let id = param("id");
    let detail = Resource::new(move || (slug.get(), id.get()), |(s, i)| load_console_customer(s, i));
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let slug = slug.get_untracked();
                match detail.await {
                    Ok(d) => {
                        let base = format!("/m/{slug}");
                        let here = format!("{base}/customers/{}", d.id);
                        let can = d.header.can_manage;
                        let paused = d.paused_since.is_some();
                        let active = d.status == "active";
                        view! {
                            <Title text=format!("{} · {} · Settle console", d.name, d.header.merchant_name)/>
                            <ConsoleLayout header=d.header.clone() current="/customers">
                                <p><a href=format!("{base}/customers")>"← All customers"</a></p>
                                <h1>{d.name.clone()}</h1>
                                {d.notice.clone().map(|(ok, text)| {
                                    let class = if ok { "notice notice--ok" } else { "notice notice--warn" };
                                    view! { <p class=class role="status">{text}</p> }
                                })}
                                {facts(&d)}
                                {can.then(|| view! {
                                    <div class="actions" role="group" aria-label="Customer actions">
                                        {if paused {
                                            action_button(format!("{here}/resume"), "Resume reminders", "button button--secondary").into_any()
                                        } else {
                                            action_button(format!("{here}/pause"), "Pause reminders", "button button--secondary").into_any()
                                        }}
                                        {action_button(format!("{here}/send-link"), "Email a new account link", "button button--secondary")}
                                        {if active {
                                            action_button(format!("{here}/suspend"), "Suspend", "button button--link").into_any()
                                        } else {
                                            action_button(format!("{here}/reinstate"), "Reinstate", "button button--secondary").into_any()
                                        }}
                                    </div>
                                })}
                                <h2>"Invoices"</h2>
                                {if d.invoices.is_empty() {
                                    view! { <p>"No invoices yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap">
                                            <table class="invoice-table console-table">
                                                <caption class="visually-hidden">"Invoices"</caption>
                                                <thead>
                                                    <tr>
                                                        <th scope="col">"Invoice"</th>
                                                        <th scope="col">"Status"</th>
                                                        <th scope="col">"Due"</th>
                                                        <th scope="col" class="num">"Total"</th>
                                                        <th scope="col" class="num">"Owed"</th>
                                                        <th scope="col">"Standing"</th>
                                                        <th scope="col">{if can { "Actions" } else { "" }}</th>
                                                    </tr>
                                                </thead>
                                                <tbody>
                                                    {d.invoices.clone().into_iter().map(|inv| invoice_row(base.clone(), can, inv)).collect_view()}
                                                </tbody>
                                            </table>
                                        </div>
                                    }.into_any()
                                }}
                                <h2>"Timeline"</h2>
                                {if d.timeline.is_empty() {
                                    view! { <p>"Nothing has happened yet."</p> }.into_any()
                                } else {
                                    view! { <ol class="timeline console-timeline">{d.timeline.clone().into_iter().map(timeline_entry).collect_view()}</ol> }.into_any()
                                }}
                            </ConsoleLayout>
                        }
                        .into_any()
                    }
                    Err(e) => console_page_error(&slug, e),
                }
            })}
        </Suspense>
    }
}
