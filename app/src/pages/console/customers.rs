use super::console_page_error;
use crate::components::ConsoleLayout;
use crate::console_api::load_console_customers;
use crate::pages::{encode_component, loading, param};
use crate::types::{CustomerFilter, CustomerListItem};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

/// `/m/{slug}`: the console opens on the dashboard.
#[component]
pub fn ConsoleHomePage() -> impl IntoView {
    let slug = param("slug");
    view! { <Redirect path=format!("/m/{}/dashboard", slug.get_untracked())/> }
}

/// The filter as the query string gives it.
fn filter_from_query() -> Memo<CustomerFilter> {
    let q = use_query_map();
    Memo::new(move |_| {
        let q = q.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        CustomerFilter {
            q: get("q"),
            status: get("status"),
            aging: get("aging"),
            dunning: get("dunning"),
            autopay: get("autopay"),
            promise: get("promise"),
            dispute: get("dispute"),
            page: get("page").parse().unwrap_or(1),
        }
    })
}

/// The query string for `filter` on page `page`.
fn query_for(filter: &CustomerFilter, page: u32) -> String {
    let pairs = [
        ("q", filter.q.as_str()),
        ("status", &filter.status),
        ("aging", &filter.aging),
        ("dunning", &filter.dunning),
        ("autopay", &filter.autopay),
        ("promise", &filter.promise),
        ("dispute", &filter.dispute),
    ];
    let mut parts: Vec<String> =
        pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", encode_component(v))).collect();
    parts.push(format!("page={page}"));
    format!("?{}", parts.join("&"))
}

/// A `<select>` of a filter's choices, the current one selected.
fn choice(
    id: &'static str,
    label: &'static str,
    current: String,
    options: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    view! {
        <div class="filter">
            <label for=id>{label}</label>
            <select id=id name=id class="input">
                {options
                    .iter()
                    .map(|(value, text)| view! { <option value=*value selected=current == *value>{*text}</option> })
                    .collect_view()}
            </select>
        </div>
    }
}

const ANY_YES_NO: &[(&str, &str)] = &[("", "Any"), ("yes", "Yes"), ("no", "No")];

fn row(slug: String, item: CustomerListItem) -> impl IntoView {
    let flags: Vec<&'static str> = [
        (item.status == "suspended", "Suspended"),
        (item.autopay, "Autopay"),
        (item.in_dunning, "In dunning"),
        (item.promise, "Promise to pay"),
        (item.dispute, "Dispute"),
    ]
    .into_iter()
    .filter_map(|(on, label)| on.then_some(label))
    .collect();
    let overdue = match item.days_overdue {
        Some(0) => "Due today".to_string(),
        Some(1) => "1 day".to_string(),
        Some(d) => format!("{d} days"),
        None => "—".to_string(),
    };
    let balance = if item.balances.is_empty() { "—".to_string() } else { item.balances.join(" + ") };
    view! {
        <tr>
            <td>
                <a href=format!("/m/{slug}/customers/{}", item.id)><span class="customer-name">{item.name}</span></a>
                <br/>
                <span class="muted small">{item.email}</span>
            </td>
            <td class="num">{balance}</td>
            <td class="num">{item.open_invoices}</td>
            <td>{overdue} <br/> <span class="muted small">{item.aging_label}</span></td>
            <td>{flags.into_iter().map(|f| view! { <span class="tag">{f}</span> }).collect_view()}</td>
        </tr>
    }
}

/// `/m/{slug}/customers`: search and filter the merchant's customers.
#[component]
pub fn ConsoleCustomersPage() -> impl IntoView {
    let slug = param("slug");
    let filter = filter_from_query();
    let list = Resource::new(move || (slug.get(), filter.get()), |(s, f)| load_console_customers(s, f));
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
                        let empty = list.items.is_empty();
                        view! {
                            <Title text=format!("Customers · {} · Settle console", list.header.merchant_name)/>
                            <ConsoleLayout header=list.header.clone() current="/customers">
                                <h1>"Customers"</h1>
                                {list.errors.iter().map(|e| view! { <p class="notice notice--warn" role="alert">{e.clone()}</p> }).collect_view()}
                                <form method="get" class="filters" role="search" aria-label="Customers">
                                    <div class="filter filter--search">
                                        <label for="q">"Name or email"</label>
                                        <input id="q" name="q" type="search" class="input" value=f.q.clone()/>
                                    </div>
                                    {choice("status", "Status", f.status.clone(), &[("", "Any"), ("active", "Active"), ("suspended", "Suspended")])}
                                    {choice("aging", "Oldest invoice", f.aging.clone(), &[("", "Any"), ("current", "Current"), ("1-30", "1–30 days"), ("31-60", "31–60 days"), ("61-90", "61–90 days"), ("90+", "Over 90 days")])}
                                    {choice("dunning", "In dunning", f.dunning.clone(), ANY_YES_NO)}
                                    {choice("autopay", "Autopay", f.autopay.clone(), ANY_YES_NO)}
                                    {choice("promise", "Promise to pay", f.promise.clone(), ANY_YES_NO)}
                                    {choice("dispute", "Dispute", f.dispute.clone(), ANY_YES_NO)}
                                    <button type="submit" class="button button--secondary">"Filter"</button>
                                </form>
                                <p class="muted" role="status">
                                    {format!("{} customer{}", list.total, if list.total == 1 { "" } else { "s" })}
                                    {(pages > 1).then(|| format!(" · page {} of {pages}", list.page))}
                                </p>
                                {if empty {
                                    view! { <p>"No customers match these filters."</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap">
                                            <table class="invoice-table console-table">
                                                <caption class="visually-hidden">"Customers"</caption>
                                                <thead>
                                                    <tr>
                                                        <th scope="col">"Customer"</th>
                                                        <th scope="col" class="num">"Open balance"</th>
                                                        <th scope="col" class="num">"Open invoices"</th>
                                                        <th scope="col">"Oldest past due"</th>
                                                        <th scope="col">"Flags"</th>
                                                    </tr>
                                                </thead>
                                                <tbody>{list.items.into_iter().map(|i| row(slug.clone(), i)).collect_view()}</tbody>
                                            </table>
                                        </div>
                                    }.into_any()
                                }}
                                <nav class="pager" aria-label="Pages">
                                    {prev.map(|q| view! { <a href=format!("/m/{slug}/customers{q}") rel="prev">"Previous page"</a> })}
                                    {next.map(|q| view! { <a href=format!("/m/{slug}/customers{q}") rel="next">"Next page"</a> })}
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
