use super::{loading, param, signed_in_page_error};
use crate::api::load_account;
use crate::components::BrandedLayout;
use crate::types::{AccountSecurity, AccountView, OpenInvoice};
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
    let query = use_query_map();
    let sort = SortKey::from_query(query.read_untracked().get("sort"));
    let b = view.branding.clone();
    let sign_out = format!("{}/sign-out", b.portal_home());
    let title = format!("Your account · {}", b.display_name);
    let has_invoices = !view.invoices.is_empty();
    let pay_all = format!("{}/pay", b.portal_home());
    let table = has_invoices.then(|| {
        view! {
            <OpenInvoices
                invoices=view.invoices.clone()
                sort
                locale=view.locale.clone()
                time_zone=view.time_zone.clone()
                portal_home=b.portal_home()
            />
        }
    });

    view! {
        <Title text=title/>
        <BrandedLayout branding=b.clone()>
            <section class="summary" aria-labelledby="balance-heading">
                <p class="muted">
                    "Signed in as " <strong>{view.customer_name.clone()}</strong> " · " {view.customer_email.clone()}
                </p>
                <h1 id="balance-heading">"Balance due"</h1>
                {view.autopay_problem.clone().map(|p| view! {
                    <div class="notice notice--error" role="alert" data-testid="autopay-problem">
                        <p>{p}</p>
                        <p>
                            "Pay now below, or "
                            <a href=format!("{}/account/cards/new?return_to={}", b.portal_home(),
                                super::encode_component(&format!("{}/account", b.portal_home()))) rel="external">"add a new card"</a>
                            " for the next charge."
                        </p>
                    </div>
                })}
                {if has_invoices {
                    view.balance.iter().map(|line| {
                        let overdue = (line.overdue.minor > 0)
                            .then(|| format!(" · {} overdue", line.overdue.display_in(&view.locale)));
                        let invoices_word = if line.invoice_count == 1 { "open invoice" } else { "open invoices" };
                        view! {
                            <p class="balance" data-testid="balance-total">{line.total.display_in(&view.locale)}</p>
                            <p class="balance__detail">
                                {line.invoice_count} " " {invoices_word} {overdue}
                            </p>
                            <p><a class="button button--primary" href=pay_all.clone() data-testid="pay-all">"Pay all"</a></p>
                        }
                    }).collect_view().into_any()
                } else {
                    view! {
                        <p class="balance" data-testid="balance-total">"Nothing due"</p>
                        <p class="balance__detail">"You're all paid up. Thank you!"</p>
                    }.into_any()
                }}
            </section>
            {table}
            <nav class="no-print account-links" aria-label="Your account">
                <a href=format!("{}/payments", b.portal_home())>"Payment history"</a>
                <a href=format!("{}/account/settings", b.portal_home())>"Contact details and preferences"</a>
            </nav>
            <PasswordSection security=view.security.clone() portal_home=b.portal_home()/>
            <form method="post" action=sign_out class="sign-out">
                <button type="submit" class="button button--secondary">"Sign out"</button>
            </form>
        </BrandedLayout>
    }
}

/// The open invoices with a tick each, and the form that reviews paying the
/// ticked ones. Plain server-rendered HTML: only the sort links are an
/// island ([`SortLinks`]).
#[component]
fn OpenInvoices(
    mut invoices: Vec<OpenInvoice>,
    sort: SortKey,
    locale: String,
    time_zone: String,
    portal_home: String,
) -> impl IntoView {
    sort_invoices(&mut invoices, sort);
    let count = invoices.len();
    let rows = invoice_rows_html(&invoices, &locale, &format!("{portal_home}/invoices"));

    view! {
        <section class="invoices" aria-labelledby="invoices-heading">
            <div class="invoices__head">
                <h2 id="invoices-heading">"Open invoices"</h2>
                <SortLinks sort account=format!("{portal_home}/account")/>
            </div>
            <form method="get" action=format!("{portal_home}/pay") class="pay-form" data-testid="select-form">
            <div class="table-wrap">
                <table class="invoice-table">
                    <caption class="visually-hidden">
                        {count} " open invoices; dates in " {time_zone.clone()}
                    </caption>
                    <thead>
                        <tr>
                            <th scope="col"><span class="visually-hidden">"Pay"</span></th>
                            <th scope="col">"Invoice"</th>
                            <th scope="col">"Issued"</th>
                            <th scope="col">"Due"</th>
                            <th scope="col" class="num">"Amount due"</th>
                            <th scope="col">"Status"</th>
                        </tr>
                    </thead>
                    <tbody inner_html=rows></tbody>
                </table>
            </div>
            <p class="muted small">"Dates are shown in your time zone (" {time_zone} ")."</p>
            <div class="pay-form__actions">
                <label for="pay-amount">"Amount to pay (optional)"</label>
                <input id="pay-amount" name="amount" class="input input--amount" inputmode="decimal"
                    aria-describedby="pay-amount-hint"/>
                <p id="pay-amount-hint" class="muted small">
                    "Leave empty to pay the ticked invoices in full. A smaller amount goes to the oldest first."
                </p>
                <button type="submit" class="button button--primary" data-testid="review-payment">
                    "Review payment"
                </button>
            </div>
            </form>
        </section>
    }
}

/// The invoice table's rows as one string of HTML, every value escaped.
/// Why not views: as Leptos views (type-erased under `erase_components`)
/// each row cost some forty allocations, and rendering the 50 rows of the
/// load test took about a third of the server's CPU; this is one buffer.
/// The rows are plain HTML (no island inside), and [`SortLinks`] reorders
/// them by their `data-` attributes.
pub fn invoice_rows_html(invoices: &[OpenInvoice], locale: &str, invoice_base: &str) -> String {
    use crate::html_text::Escaped;
    use std::fmt::Write;
    let mut html = String::with_capacity(600 * invoices.len());
    for inv in invoices {
        let (id, number) = (Escaped(&inv.id), Escaped(&inv.number));
        // Writing to a String cannot fail.
        let _ = write!(
            html,
            "<tr data-invoice=\"{number}\" data-due=\"{due_on}\" data-amount=\"{amount_minor}\">\
             <td class=\"pick\"><input type=\"checkbox\" name=\"invoice\" value=\"{id}\" checked aria-label=\"Pay {number}\"></td>\
             <th scope=\"row\"><a href=\"{base}/{id}\">{number}</a></th>\
             <td><time datetime=\"{issued_on}\">{issued}</time></td>\
             <td><time datetime=\"{due_on}\">{due}</time></td>\
             <td class=\"num\">{amount}</td>\
             <td><span class=\"{class}\">{status}</span></td></tr>",
            due_on = Escaped(&inv.due_on),
            amount_minor = inv.amount_due.minor,
            base = Escaped(invoice_base),
            issued_on = Escaped(&inv.issued_on),
            issued = Escaped(&inv.issued_on_display),
            due = Escaped(&inv.due_on_display),
            amount = Escaped(&inv.amount_due.display_in(locale)),
            class = inv.status.css_class(),
            status = Escaped(&inv.status_text()),
        );
    }
    html
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

/// Set or change the password (see `account_security` for the rules).
#[component]
fn PasswordSection(security: AccountSecurity, portal_home: String) -> impl IntoView {
    let query = use_query_map();
    let saved = move || query.read().get("password").as_deref() == Some("saved");
    let error = move || {
        query.read().get("password_error").map(|code| match code.as_str() {
            "current" => "Your current password isn't right.",
            "stepup" => "For your security, sign in with an emailed code first, then set your password.",
            "mismatch" => "The two new passwords don't match.",
            "short" => "Use at least 8 characters.",
            "long" => "Use at most 128 characters.",
            "common" => "That password is too common or easy to guess. Try a few unrelated words together.",
            "personal" => "Don't use your name or email address as your password.",
            "limited" => "Too many attempts. Please wait 15 minutes and try again.",
            _ => "We couldn't save that password. Please try again.",
        })
    };
    let action = format!("{portal_home}/account/password");
    let sign_in = format!("{portal_home}/sign-in");
    let form = if security.has_password || security.recent_email_proof {
        let (label, button) =
            if security.has_password { ("New password", "Change password") } else { ("Password", "Set password") };
        view! {
            <form method="post" action=action class="stack">
                {(security.has_password && !security.recent_email_proof).then(|| view! {
                    <label for="current-password">"Current password"</label>
                    <input id="current-password" name="current_password" type="password"
                        autocomplete="current-password" required class="input"/>
                })}
                <label for="new-password">{label}</label>
                <input id="new-password" name="new_password" type="password" autocomplete="new-password"
                    minlength="8" maxlength="128" required class="input" aria-describedby="password-rules"/>
                <p id="password-rules" class="muted small">"At least 8 characters; not a common password or your name."</p>
                <label for="confirm-password">"Type it again"</label>
                <input id="confirm-password" name="confirm_password" type="password" autocomplete="new-password"
                    required class="input"/>
                <button type="submit" class="button button--secondary">{button}</button>
            </form>
        }
        .into_any()
    } else {
        view! {
            <p>
                "You can sign in with a code we email you. To also set a password, first "
                <a href=sign_in>"sign in with an emailed code"</a> "."
            </p>
        }
        .into_any()
    };
    view! {
        <section id="security" class="panel" aria-labelledby="security-heading">
            <h2 id="security-heading">"Password"</h2>
            <p class="muted">
                {if security.has_password { "You can sign in with your email and password." } else { "No password set." }}
            </p>
            {move || saved().then(|| view! { <p class="notice notice--ok" role="status">"Your password is saved."</p> })}
            {move || error().map(|m| view! { <p class="notice notice--error" role="alert">{m}</p> })}
            {form}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Currency, InvoiceStatusLabel, Money};

    fn inv(number: &str, due: &str, minor: i64) -> OpenInvoice {
        OpenInvoice {
            id: number.into(),
            number: number.into(),
            issued_on: "2026-01-01".into(),
            due_on: due.into(),
            issued_on_display: String::new(),
            due_on_display: String::new(),
            amount_due: Money::new(minor, Currency::USD),
            days_overdue: 0,
            status: InvoiceStatusLabel::Overdue,
        }
    }

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

    #[test]
    fn rows_carry_what_the_table_and_the_sort_links_read_with_every_value_escaped() {
        let mut hostile = inv("<b>INV-1\"</b>", "2026-02-01", 12_345);
        hostile.id = "inv_1\" onclick=\"x".into();
        hostile.due_on_display = "Feb 1, 2026".into();
        hostile.days_overdue = 3;
        let html = invoice_rows_html(&[hostile, inv("INV-2", "2026-03-01", 5)], "en-US", "/p/acme/invoices");
        assert_eq!(html.matches("<tr ").count(), 2);
        assert_eq!(html.matches("</tr>").count(), 2);
        let first = &html[..html.find("</tr>").unwrap()];
        assert!(first.starts_with(
            "<tr data-invoice=\"&lt;b&gt;INV-1&quot;&lt;/b&gt;\" data-due=\"2026-02-01\" data-amount=\"12345\">"
        ));
        assert!(first.contains(
            "<input type=\"checkbox\" name=\"invoice\" value=\"inv_1&quot; onclick=&quot;x\" checked \
             aria-label=\"Pay &lt;b&gt;INV-1&quot;&lt;/b&gt;\">"
        ));
        assert!(first
            .contains("<a href=\"/p/acme/invoices/inv_1&quot; onclick=&quot;x\">&lt;b&gt;INV-1&quot;&lt;/b&gt;</a>"));
        assert!(first.contains("<time datetime=\"2026-02-01\">Feb 1, 2026</time>"));
        assert!(first.contains("<td class=\"num\">$123.45</td>"), "{first}");
        assert!(first.contains("<span class=\"status status--overdue\">3 days overdue</span>"));
        assert!(!html.contains("<b>"), "no markup from the data survives");
    }
}
