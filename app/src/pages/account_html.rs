//! The account page's server-rendered parts, written as HTML text with
//! every value [`Escaped`]. Why not views: the account page is the page a
//! customer lands on from every reminder, and the one `scripts/load.sh`
//! measures. As Leptos views each part cost its own allocations and
//! reactive bookkeeping, though none of it runs in the browser (islands
//! mode hydrates only [`super::account`]'s `SortLinks`). Each function
//! returns exactly one element, for [`crate::html_text::trusted_element`].

use super::encode_component;
use crate::html_text::Escaped;
use crate::types::{AccountSecurity, AccountView, BalanceLine, OpenInvoice};
use std::fmt::Write;

// Writing to a String cannot fail: every `write!` below ignores its Ok(()).

/// Who is signed in, the balance per currency with "Pay all", and a failed
/// autopay charge when there is one.
pub fn summary_html(view: &AccountView, portal_home: &str) -> String {
    let mut html = String::with_capacity(1024);
    let _ = write!(
        html,
        "<section class=\"summary\" aria-labelledby=\"balance-heading\">\
         <p class=\"muted\">Signed in as <strong>{}</strong> · {}</p>\
         <h1 id=\"balance-heading\">Balance due</h1>",
        Escaped(&view.customer_name),
        Escaped(&view.customer_email),
    );
    if let Some(problem) = &view.autopay_problem {
        let new_card = format!(
            "{portal_home}/account/cards/new?return_to={}",
            encode_component(&format!("{portal_home}/account"))
        );
        let _ = write!(
            html,
            "<div class=\"notice notice--error\" role=\"alert\" data-testid=\"autopay-problem\"><p>{}</p>\
             <p>Pay now below, or <a href=\"{}\" rel=\"external\">add a new card</a> for the next charge.</p></div>",
            Escaped(problem),
            Escaped(&new_card),
        );
    }
    if view.invoices.is_empty() {
        html.push_str(
            "<p class=\"balance\" data-testid=\"balance-total\">Nothing due</p>\
             <p class=\"balance__detail\">You're all paid up. Thank you!</p>",
        );
    } else {
        for line in &view.balance {
            balance_line(&mut html, line, &view.locale, portal_home);
        }
    }
    html.push_str("</section>");
    html
}

/// One currency's balance: total, how many invoices and how much is
/// overdue, and "Pay all".
fn balance_line(html: &mut String, line: &BalanceLine, locale: &str, portal_home: &str) {
    let _ = write!(
        html,
        "<p class=\"balance\" data-testid=\"balance-total\">{}</p><p class=\"balance__detail\">{} {}",
        Escaped(&line.total.display_in(locale)),
        line.invoice_count,
        if line.invoice_count == 1 { "open invoice" } else { "open invoices" },
    );
    if line.overdue.minor > 0 {
        let _ = write!(html, " · {} overdue", Escaped(&line.overdue.display_in(locale)));
    }
    let _ = write!(
        html,
        "</p><p><a class=\"button button--primary\" href=\"{}/pay\" data-testid=\"pay-all\">Pay all</a></p>",
        Escaped(portal_home),
    );
}

/// The form around the invoice table: a tick per invoice (all ticked), an
/// optional amount, and "Review payment", which asks `/pay` to review it.
/// `invoices` are in the order to show.
pub fn invoice_form_html(invoices: &[OpenInvoice], locale: &str, time_zone: &str, portal_home: &str) -> String {
    let rows = invoice_rows_html(invoices, locale, &format!("{portal_home}/invoices"));
    let mut html = String::with_capacity(rows.len() + 1536);
    let (home, zone) = (Escaped(portal_home), Escaped(time_zone));
    let _ = write!(
        html,
        "<form method=\"get\" action=\"{home}/pay\" class=\"pay-form\" data-testid=\"select-form\">\
         <div class=\"table-wrap\"><table class=\"invoice-table\">\
         <caption class=\"visually-hidden\">{count} open invoices; dates in {zone}</caption>\
         <thead><tr>\
         <th scope=\"col\"><span class=\"visually-hidden\">Pay</span></th>\
         <th scope=\"col\">Invoice</th><th scope=\"col\">Issued</th><th scope=\"col\">Due</th>\
         <th scope=\"col\" class=\"num\">Amount due</th><th scope=\"col\">Status</th>\
         </tr></thead><tbody>{rows}</tbody></table></div>\
         <p class=\"muted small\">Dates are shown in your time zone ({zone}).</p>\
         <div class=\"pay-form__actions\">\
         <label for=\"pay-amount\">Amount to pay (optional)</label>\
         <input id=\"pay-amount\" name=\"amount\" class=\"input input--amount\" inputmode=\"decimal\" \
         aria-describedby=\"pay-amount-hint\">\
         <p id=\"pay-amount-hint\" class=\"muted small\">\
         Leave empty to pay the ticked invoices in full. A smaller amount goes to the oldest first.</p>\
         <button type=\"submit\" class=\"button button--primary\" data-testid=\"review-payment\">Review payment</button>\
         </div></form>",
        count = invoices.len(),
    );
    html
}

/// The invoice table's rows as one string of HTML, every value escaped.
/// (As Leptos views each row cost some forty allocations, and the 50 rows
/// of the load test took about a third of the server's CPU.) The rows are
/// plain HTML, and `SortLinks` reorders them by their `data-` attributes.
pub fn invoice_rows_html(invoices: &[OpenInvoice], locale: &str, invoice_base: &str) -> String {
    let mut html = String::with_capacity(600 * invoices.len());
    for inv in invoices {
        let (id, number) = (Escaped(&inv.id), Escaped(&inv.number));
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

/// Links to the customer's other pages.
pub fn account_links_html(portal_home: &str) -> String {
    let home = Escaped(portal_home);
    format!(
        "<nav class=\"no-print account-links\" aria-label=\"Your account\">\
         <a href=\"{home}/payments\">Payment history</a>\
         <a href=\"{home}/account/settings\">Contact details and preferences</a></nav>"
    )
}

/// What the last attempt to save a password came to, as the server's
/// redirect after it says in the query (`?password=saved` or
/// `?password_error=CODE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordOutcome<'a> {
    None,
    Saved,
    Refused(&'a str),
}

impl PasswordOutcome<'_> {
    fn refusal(code: &str) -> &'static str {
        match code {
            "current" => "Your current password isn't right.",
            "stepup" => "For your security, sign in with an emailed code first, then set your password.",
            "mismatch" => "The two new passwords don't match.",
            "short" => "Use at least 8 characters.",
            "long" => "Use at most 128 characters.",
            "common" => "That password is too common or easy to guess. Try a few unrelated words together.",
            "personal" => "Don't use your name or email address as your password.",
            "limited" => "Too many attempts. Please wait 15 minutes and try again.",
            _ => "We couldn't save that password. Please try again.",
        }
    }
}

/// Set or change the password (see `account_security` for the rules): a
/// first password only right after an emailed code, a new one with the
/// current one (or right after an emailed code).
pub fn password_section_html(security: &AccountSecurity, portal_home: &str, outcome: PasswordOutcome) -> String {
    let mut html = String::with_capacity(1536);
    let home = Escaped(portal_home);
    let _ = write!(
        html,
        "<section id=\"security\" class=\"panel\" aria-labelledby=\"security-heading\">\
         <h2 id=\"security-heading\">Password</h2><p class=\"muted\">{}</p>",
        if security.has_password { "You can sign in with your email and password." } else { "No password set." },
    );
    match outcome {
        PasswordOutcome::None => {}
        PasswordOutcome::Saved => {
            html.push_str("<p class=\"notice notice--ok\" role=\"status\">Your password is saved.</p>")
        }
        PasswordOutcome::Refused(code) => {
            let _ =
                write!(html, "<p class=\"notice notice--error\" role=\"alert\">{}</p>", PasswordOutcome::refusal(code));
        }
    }
    if security.has_password || security.recent_email_proof {
        let (label, button) =
            if security.has_password { ("New password", "Change password") } else { ("Password", "Set password") };
        let _ = write!(html, "<form method=\"post\" action=\"{home}/account/password\" class=\"stack\">");
        if security.has_password && !security.recent_email_proof {
            html.push_str(
                "<label for=\"current-password\">Current password</label>\
                 <input id=\"current-password\" name=\"current_password\" type=\"password\" \
                 autocomplete=\"current-password\" required class=\"input\">",
            );
        }
        let _ = write!(
            html,
            "<label for=\"new-password\">{label}</label>\
             <input id=\"new-password\" name=\"new_password\" type=\"password\" autocomplete=\"new-password\" \
             minlength=\"8\" maxlength=\"128\" required class=\"input\" aria-describedby=\"password-rules\">\
             <p id=\"password-rules\" class=\"muted small\">At least 8 characters; not a common password or your name.</p>\
             <label for=\"confirm-password\">Type it again</label>\
             <input id=\"confirm-password\" name=\"confirm_password\" type=\"password\" autocomplete=\"new-password\" \
             required class=\"input\">\
             <button type=\"submit\" class=\"button button--secondary\">{button}</button></form>"
        );
    } else {
        let _ = write!(
            html,
            "<p>You can sign in with a code we email you. To also set a password, first \
             <a href=\"{home}/sign-in\">sign in with an emailed code</a>.</p>"
        );
    }
    html.push_str("</section>");
    html
}

/// Sign out: a POST, so a link elsewhere can't sign the customer out.
pub fn sign_out_html(portal_home: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}/sign-out\" class=\"sign-out\">\
         <button type=\"submit\" class=\"button button--secondary\">Sign out</button></form>",
        Escaped(portal_home)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::fixtures::{branding, open_invoice as inv};
    use crate::types::{Currency, Money};

    fn view(invoices: Vec<OpenInvoice>) -> AccountView {
        AccountView {
            branding: branding(),
            customer_name: "<script>alert(1)</script> O'Neil".into(),
            customer_email: "a&b@example.com".into(),
            locale: "en-US".into(),
            time_zone: "America/New_York".into(),
            balance: vec![BalanceLine {
                total: Money::new(20_050, Currency::USD),
                overdue: Money::new(12_000, Currency::USD),
                invoice_count: invoices.len(),
            }],
            invoices,
            security: AccountSecurity { has_password: false, recent_email_proof: false },
            autopay_problem: None,
        }
    }

    /// Start tags and end tags balance, so the part is well formed and a
    /// value could not have closed an element early.
    fn assert_balanced(html: &str, tag: &str) {
        let opened = html.matches(&format!("<{tag} ")).count() + html.matches(&format!("<{tag}>")).count();
        assert_eq!(opened, html.matches(&format!("</{tag}>")).count(), "<{tag}> in {html}");
    }

    #[test]
    fn summary_escapes_what_the_customer_typed_and_shows_the_balance() {
        let mut v = view(vec![inv("INV-1", "2026-02-01", 12_000), inv("INV-2", "2026-03-01", 8_050)]);
        v.autopay_problem = Some("Card <declined> & expired".into());
        let html = summary_html(&v, "/p/acme");
        assert!(html.starts_with("<section class=\"summary\"") && html.ends_with("</section>"));
        assert!(
            html.contains("Signed in as <strong>&lt;script&gt;alert(1)&lt;/script&gt; O&#39;Neil</strong> · a&amp;b@")
        );
        assert!(!html.contains("<script>"));
        assert!(html.contains("<p>Card &lt;declined&gt; &amp; expired</p>"));
        assert!(html.contains("href=\"/p/acme/account/cards/new?return_to=%2Fp%2Facme%2Faccount\""));
        assert!(html.contains(">$200.50</p><p class=\"balance__detail\">2 open invoices · $120.00 overdue</p>"));
        assert!(html.contains("<a class=\"button button--primary\" href=\"/p/acme/pay\" data-testid=\"pay-all\">"));
        for tag in ["section", "p", "div", "a", "strong", "h1"] {
            assert_balanced(&html, tag);
        }
    }

    #[test]
    fn summary_with_nothing_open_says_so_and_offers_no_payment() {
        let html = summary_html(&view(vec![]), "/p/acme");
        assert!(html.contains(">Nothing due</p>") && html.contains("all paid up"));
        assert!(!html.contains("pay-all") && !html.contains("autopay-problem"));
    }

    #[test]
    fn invoice_form_counts_the_rows_and_names_the_time_zone() {
        let html = invoice_form_html(
            &[inv("INV-1", "2026-02-01", 1), inv("INV-2", "2026-03-01", 2)],
            "en-US",
            "Europe/<Berlin>",
            "/p/acme",
        );
        assert!(html.starts_with("<form method=\"get\" action=\"/p/acme/pay\""));
        assert!(html.contains("2 open invoices; dates in Europe/&lt;Berlin&gt;</caption>"));
        assert!(html.contains("(Europe/&lt;Berlin&gt;).</p>"));
        assert_eq!(html.matches("<tr data-invoice=").count(), 2);
        for tag in ["form", "div", "table", "tr", "td", "th", "p", "button", "label", "caption"] {
            assert_balanced(&html, tag);
        }
    }

    #[test]
    fn password_section_asks_for_what_each_state_needs() {
        let home = "/p/acme";
        let none = AccountSecurity { has_password: false, recent_email_proof: false };
        let html = password_section_html(&none, home, PasswordOutcome::None);
        assert!(html.contains("No password set.") && html.contains("href=\"/p/acme/sign-in\""));
        assert!(!html.contains("<form"), "no first password without a fresh emailed code");

        let fresh = AccountSecurity { has_password: false, recent_email_proof: true };
        let html = password_section_html(&fresh, home, PasswordOutcome::Saved);
        assert!(html.contains("action=\"/p/acme/account/password\"") && html.contains(">Set password</button>"));
        assert!(!html.contains("current-password"));
        assert!(html.contains("role=\"status\">Your password is saved.</p>"));

        let set = AccountSecurity { has_password: true, recent_email_proof: false };
        let html = password_section_html(&set, home, PasswordOutcome::Refused("mismatch"));
        assert!(html.contains("id=\"current-password\"") && html.contains(">Change password</button>"));
        assert!(html.contains("role=\"alert\">The two new passwords don't match.</p>"));
        let html = password_section_html(&set, home, PasswordOutcome::Refused("<img src=x>"));
        assert!(
            html.contains(">We couldn't save that password. Please try again.</p>"),
            "unknown codes are not echoed"
        );
        for tag in ["section", "form", "p", "label", "button"] {
            assert_balanced(&html, tag);
        }
    }

    #[test]
    fn links_and_sign_out_escape_the_portal_address() {
        let html = account_links_html("/p/a\"b");
        assert!(html.contains("href=\"/p/a&quot;b/payments\""));
        let html = sign_out_html("/p/a\"b");
        assert!(html.contains("action=\"/p/a&quot;b/sign-out\"") && html.contains("method=\"post\""));
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
