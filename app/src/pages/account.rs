use super::account_html::{
    account_links_html, invoice_form_html, password_section_html, sign_out_html, summary_html, PasswordOutcome,
};
use super::{loading, param, signed_in_page_error};
use crate::api::load_account;
use crate::components::BrandedLayout;
use crate::html_text::trusted_element;
use crate::types::{AccountView, OpenInvoice};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// How the invoice table is ordered; carried in `?sort=` so it works as a
/// plain link without JavaScript and sorts in the page with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SortKey {
    DueDate,
    AmountDue,
}

impl SortKey {
    fn from_query(v: Option<String>) -> SortKey {
        match v.as_deref() {
            Some("amount") => SortKey::AmountDue,
            _ => SortKey::DueDate,
        }
    }

    fn query_value(&self) -> &'static str {
        match self {
            SortKey::DueDate => "due",
            SortKey::AmountDue => "amount",
        }
    }
}

/// What a row is ordered by, read from the invoice on the server and from
/// the row's `data-` attributes in the browser, so both order alike.
pub struct SortFields<'a> {
    pub due_on: &'a str,
    pub amount_minor: i64,
    pub number: &'a str,
}

impl SortKey {
    /// Oldest due first, or largest amount first (ties: oldest due first);
    /// the invoice number breaks any remaining tie, so the order is total.
    pub fn compare(self, a: &SortFields, b: &SortFields) -> std::cmp::Ordering {
        match self {
            SortKey::DueDate => a.due_on.cmp(b.due_on),
            SortKey::AmountDue => b.amount_minor.cmp(&a.amount_minor).then_with(|| a.due_on.cmp(b.due_on)),
        }
        .then_with(|| a.number.cmp(b.number))
    }
}

pub fn sort_invoices(rows: &mut [OpenInvoice], key: SortKey) {
    fn fields(i: &OpenInvoice) -> SortFields<'_> {
        SortFields { due_on: &i.due_on, amount_minor: i.amount_due.minor, number: &i.number }
    }
    rows.sort_by(|a, b| key.compare(&fields(a), &fields(b)));
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let slug = param("slug");
    let account = Resource::new(move || slug.get(), load_account);
    view! {
        <Suspense fallback=loading>
            {move || {
                let slug = slug.get();
                Suspend::new(async move {
                    match account.await {
                        Ok(view) => view! { <Account view/> }.into_any(),
                        Err(e) => signed_in_page_error(&slug, e),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn Account(view: AccountView) -> impl IntoView {
    // Read once: this part of the page is rendered on the server only.
    let (sort, password, password_error) = use_query_map()
        .with_untracked(|q| (SortKey::from_query(q.get("sort")), q.get("password"), q.get("password_error")));
    let outcome = match (password.as_deref(), password_error.as_deref()) {
        (_, Some(code)) => PasswordOutcome::Refused(code),
        (Some("saved"), None) => PasswordOutcome::Saved,
        _ => PasswordOutcome::None,
    };
    let home = view.branding.portal_home();
    let title = format!("Your account · {}", view.branding.display_name);
    let summary = trusted_element(summary_html(&view, &home));
    let links = trusted_element(account_links_html(&home));
    let password_section = trusted_element(password_section_html(&view.security, &home, outcome));
    let sign_out = trusted_element(sign_out_html(&home));
    let AccountView { branding, mut invoices, locale, time_zone, .. } = view;
    let table = (!invoices.is_empty()).then(|| {
        sort_invoices(&mut invoices, sort);
        let form = trusted_element(invoice_form_html(&invoices, &locale, &time_zone, &home));
        view! {
            <section class="invoices" aria-labelledby="invoices-heading">
                <div class="invoices__head">
                    <h2 id="invoices-heading">"Open invoices"</h2>
                    <SortLinks sort account=format!("{home}/account")/>
                </div>
                {form}
            </section>
        }
    });

    // Only the sort links are a view with behaviour; the rest is written as
    // text (see `account_html` for why).
    view! {
        <Title text=title/>
        <BrandedLayout branding>
            {summary}
            {table}
            {links}
            {password_section}
            {sign_out}
        </BrandedLayout>
    }
}

/// "Sort by: Due date · Amount due". Without JavaScript these are plain
/// links and the server sorts. As an island (the only wasm the account page
/// runs) a click moves the table's rows into the new order in place and
/// keeps `?sort=` in the address, so a reload or a shared link shows the
/// same order. Moving the rows, rather than drawing them again, keeps what
/// the customer unticked and costs the page no copy of its invoices.
#[island]
fn SortLinks(sort: SortKey, account: String) -> impl IntoView {
    let sort = RwSignal::new(sort);
    let link = move |key: SortKey, label: &'static str| {
        let href = format!("{account}?sort={}", key.query_value());
        let current = move || (sort.get() == key).then_some("true");
        let target = href.clone();
        let in_page = move |ev: leptos::ev::MouseEvent| {
            // A click meant for a new tab or window keeps the browser's own behaviour.
            if ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key() || ev.button() != 0 {
                return;
            }
            ev.prevent_default();
            reorder_rows(key);
            sort.set(key);
            if let Ok(history) = window().history() {
                let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&target));
            }
        };
        view! { <a href=href class="sort__option" aria-current=current on:click=in_page>{label}</a> }
    };
    view! {
        <nav class="sort" aria-label="Sort invoices">
            <span class="sort__label">"Sort by"</span>
            {link(SortKey::DueDate, "Due date")}
            {link(SortKey::AmountDue, "Amount due")}
        </nav>
    }
}

/// Puts the invoice table's rows in `key`'s order, reading each row's sort
/// fields from its `data-` attributes (which the server wrote).
fn reorder_rows(key: SortKey) {
    struct Row {
        element: leptos::web_sys::Element,
        due_on: String,
        amount_minor: i64,
        number: String,
    }
    let Ok(Some(tbody)) = document().query_selector("table.invoice-table tbody") else { return };
    let children = tbody.children();
    let mut rows: Vec<Row> = (0..children.length())
        .filter_map(|i| children.item(i))
        .map(|element| {
            let attr = |name: &str| element.get_attribute(name).unwrap_or_default();
            Row {
                due_on: attr("data-due"),
                amount_minor: attr("data-amount").parse().unwrap_or(0),
                number: attr("data-invoice"),
                element,
            }
        })
        .collect();
    fn fields(r: &Row) -> SortFields<'_> {
        SortFields { due_on: &r.due_on, amount_minor: r.amount_minor, number: &r.number }
    }
    rows.sort_by(|a, b| key.compare(&fields(a), &fields(b)));
    for row in rows {
        // Appending a row that is already in the table moves it to the end.
        let _ = tbody.append_child(&row.element);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::fixtures::open_invoice as inv;

    #[test]
    fn sorts_by_due_date_or_by_amount() {
        let mut rows = vec![inv("A", "2026-03-01", 100), inv("B", "2026-01-01", 50), inv("C", "2026-02-01", 900)];
        sort_invoices(&mut rows, SortKey::DueDate);
        assert_eq!(rows.iter().map(|r| r.number.as_str()).collect::<Vec<_>>(), ["B", "C", "A"]);
        sort_invoices(&mut rows, SortKey::AmountDue);
        assert_eq!(rows.iter().map(|r| r.number.as_str()).collect::<Vec<_>>(), ["C", "A", "B"]);
        assert_eq!(SortKey::from_query(Some("amount".into())), SortKey::AmountDue);
        assert_eq!(SortKey::from_query(Some("bogus".into())), SortKey::DueDate);
    }

    #[test]
    fn ties_end_in_one_order_whatever_order_the_rows_start_in() {
        // The browser sorts the rows it has, in the page's current order; it
        // must reach the order the server would render.
        let rows = vec![inv("B", "2026-01-01", 50), inv("A", "2026-01-01", 50), inv("C", "2026-01-01", 50)];
        for key in [SortKey::DueDate, SortKey::AmountDue] {
            let mut forward = rows.clone();
            let mut backward: Vec<_> = rows.iter().rev().cloned().collect();
            sort_invoices(&mut forward, key);
            sort_invoices(&mut backward, key);
            assert_eq!(forward, backward);
            assert_eq!(forward.iter().map(|r| r.number.as_str()).collect::<Vec<_>>(), ["A", "B", "C"]);
        }
    }
}
