use super::console_page_error;
use crate::components::ConsoleLayout;
use crate::console_api::load_console_invoices;
use crate::pages::{encode_component, loading, param};
use crate::types::{InvoiceFilter, InvoiceListItem};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn query_for(f: &InvoiceFilter, page: u32) -> String {
    let pairs = [
        ("q", f.q.as_str()),
        ("status", &f.status),
        ("aging", &f.aging),
        ("dunning", &f.dunning),
        ("promise", &f.promise),
        ("dispute", &f.dispute),
    ];
    let mut parts: Vec<String> =
        pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", encode_component(v))).collect();
    parts.push(format!("page={page}"));
    format!("?{}", parts.join("&"))
}

fn select(
    id: &'static str,
    label: &'static str,
    current: String,
    options: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    view! {
        <div class="filter">
            <label for=id>{label}</label>
            <select id=id name=id class="input">
                {options.iter().map(|(v, t)| view! { <option value=*v selected=current == *v>{*t}</option> }).collect_view()}
            </select>
        </div>
    }
}

const ANY_YES_NO: &[(&str, &str)] = &[("", "Any"), ("yes", "Yes"), ("no", "No")];

fn row(slug: String, i: InvoiceListItem) -> impl IntoView {
    let flags: Vec<&'static str> =
        [(i.in_dunning, "In dunning"), (i.promise, "Promise to pay"), (i.dispute, "Dispute")]
            .into_iter()
            .filter_map(|(on, l)| on.then_some(l))
            .collect();
    let overdue = i.days_overdue.map(|d| format!("{d} days")).unwrap_or_else(|| "—".into());
    view! {
        <tr>
            <th scope="row"><a href=format!("/m/{slug}/invoices/{}", i.id)><span class="invoice-number">{i.number}</span></a></th>
            <td><a href=format!("/m/{slug}/customers/{}", i.customer_id)>{i.customer}</a></td>
            <td>{i.status}</td>
            <td>{i.due_on}</td>
            <td class="num">{i.total}</td>
            <td class="num">{i.owed}</td>
            <td>{overdue}</td>
            <td>{flags.into_iter().map(|f| view! { <span class="tag">{f}</span> }).collect_view()}</td>
        </tr>
    }
}

/// `/m/{slug}/invoices`: search and filter the merchant's invoices.
#[component]
pub fn ConsoleInvoicesPage() -> impl IntoView {
    let slug = param("slug");
    let q = use_query_map();
    let filter = Memo::new(move |_| {
        let q = q.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        InvoiceFilter {
            q: get("q"),
            status: get("status"),
            aging: get("aging"),
            dunning: get("dunning"),
            promise: get("promise"),
            dispute: get("dispute"),
            page: get("page").parse().unwrap_or(1),
        }
    });
    let list = Resource::new(move || (slug.get(), filter.get()), |(s, f)| load_console_invoices(s, f));
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let slug = slug.get_untracked();
                match list.await {
                    Ok(list) => {
                        let f = filter.get_untracked();
                        let pages = ((list.total + list.per_page as i64 - 1) / list.per_page as i64).max(1) as u32;
                        let prev = (list.page > 1).then(|| query_for(&f, list.page - 1));
                        let next = (list.page < pages).then(|| query_for(&f, list.page + 1));
                        let rows = list.items.clone().into_iter().map(|i| row(slug.clone(), i)).collect_view();
                        view! {
                            <Title text=format!("Invoices · {} · Settle console", list.header.merchant_name)/>
                            <ConsoleLayout header=list.header.clone() current="/invoices">
                                <h1>"Invoices"</h1>
                                {list.errors.iter().map(|e| view! { <p class="notice notice--warn" role="alert">{e.clone()}</p> }).collect_view()}
                                <form method="get" class="filters" role="search" aria-label="Invoices">
                                    <div class="filter filter--search">
                                        <label for="q">"Number or customer"</label>
                                        <input id="q" name="q" type="search" class="input" value=f.q.clone()/>
                                    </div>
                                    {select("status", "Status", f.status.clone(), &[("", "Any"), ("open", "Open"), ("paid", "Paid"), ("void", "Void"), ("uncollectible", "Uncollectible")])}
                                    {select("aging", "Age", f.aging.clone(), &[("", "Any"), ("current", "Current"), ("1-30", "1–30 days"), ("31-60", "31–60 days"), ("61-90", "61–90 days"), ("90+", "Over 90 days")])}
                                    {select("dunning", "In dunning", f.dunning.clone(), ANY_YES_NO)}
                                    {select("promise", "Promise to pay", f.promise.clone(), ANY_YES_NO)}
                                    {select("dispute", "Dispute", f.dispute.clone(), ANY_YES_NO)}
                                    <button type="submit" class="button button--secondary">"Filter"</button>
                                </form>
                                <p class="muted" role="status">
                                    {format!("{} invoice{}", list.total, if list.total == 1 { "" } else { "s" })}
                                    {(pages > 1).then(|| format!(" · page {} of {pages}", list.page))}
                                </p>
                                <div class="table-wrap">
                                    <table class="console-table">
                                        <caption class="visually-hidden">"Invoices"</caption>
                                        <thead>
                                            <tr>
                                                <th scope="col">"Invoice"</th>
                                                <th scope="col">"Customer"</th>
                                                <th scope="col">"Status"</th>
                                                <th scope="col">"Due"</th>
                                                <th scope="col" class="num">"Total"</th>
                                                <th scope="col" class="num">"Owed"</th>
                                                <th scope="col">"Overdue"</th>
                                                <th scope="col">"Flags"</th>
                                            </tr>
                                        </thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                </div>
                                <nav class="pager" aria-label="Pages">
                                    {prev.map(|q| view! { <a href=format!("/m/{slug}/invoices{q}") rel="prev">"Previous page"</a> })}
                                    {next.map(|q| view! { <a href=format!("/m/{slug}/invoices{q}") rel="next">"Next page"</a> })}
                                </nav>
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
