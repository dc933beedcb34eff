use crate::html_text::{trusted_element, Escaped};
use crate::types::Branding;
use leptos::prelude::*;
use std::fmt::Write;

/// A page in the merchant's colours, logo and contact details.
#[component]
pub fn BrandedLayout(branding: Branding, children: Children) -> impl IntoView {
    // Header and footer are written as text: every portal page has them, and
    // nothing in them runs in the browser.
    view! {
        <div class="portal" style=branding.css_vars()>
            <a class="skip-link" href="#main">"Skip to content"</a>
            {trusted_element(header_html(&branding))}
            <main id="main" class="portal__main" tabindex="-1">{children()}</main>
            {trusted_element(footer_html(&branding))}
        </div>
    }
}

/// The merchant's logo (or name) linking to the portal's front page, and a
/// badge while the sandbox gateway is in use.
fn header_html(branding: &Branding) -> String {
    let name = Escaped(&branding.display_name);
    let mut html = format!(
        "<header class=\"portal__header\"><a class=\"portal__brand\" href=\"{}\">",
        Escaped(&branding.portal_home())
    );
    match &branding.logo_url {
        Some(url) => {
            let _ = write!(html, "<img class=\"portal__logo\" src=\"{}\" alt=\"{name}\" height=\"40\">", Escaped(url));
        }
        None => {
            let _ = write!(html, "<span class=\"portal__name\">{name}</span>");
        }
    }
    html.push_str("</a>");
    if branding.test_mode {
        html.push_str(
            "<span class=\"badge badge--test\" title=\"Payments here use test cards only; no real money moves.\">\
             Test mode</span>",
        );
    }
    html.push_str("</header>");
    html
}

fn footer_html(branding: &Branding) -> String {
    format!(
        "<footer class=\"portal__footer\"><p>Payments for {} · Powered by Settle</p></footer>",
        Escaped(&branding.display_name)
    )
}

/// A page that belongs to no merchant (site home, unknown portal).
#[component]
pub fn PlainLayout(children: Children) -> impl IntoView {
    view! {
        <div class="portal portal--plain">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="portal__header">
                <span class="portal__name">"Settle"</span>
            </header>
            <main id="main" class="portal__main" tabindex="-1">{children()}</main>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branding() -> Branding {
        Branding { display_name: "Acme <Tools> & \"Co\"".into(), ..crate::types::fixtures::branding() }
    }

    #[test]
    fn header_shows_the_escaped_name_or_the_logo_and_the_test_badge_only_in_test_mode() {
        let mut b = branding();
        let html = header_html(&b);
        assert_eq!(
            html,
            "<header class=\"portal__header\"><a class=\"portal__brand\" href=\"/p/acme\">\
             <span class=\"portal__name\">Acme &lt;Tools&gt; &amp; &quot;Co&quot;</span></a></header>"
        );
        b.logo_url = Some("https://cdn.example/logo.png?a=1&b=\"2\"".into());
        b.test_mode = true;
        let html = header_html(&b);
        assert!(html.contains(
            "<img class=\"portal__logo\" src=\"https://cdn.example/logo.png?a=1&amp;b=&quot;2&quot;\" \
             alt=\"Acme &lt;Tools&gt; &amp; &quot;Co&quot;\" height=\"40\">"
        ));
        assert!(!html.contains("portal__name"));
        assert!(html.contains(">Test mode</span></header>"));
    }

    #[test]
    fn footer_names_the_merchant_escaped() {
        assert_eq!(
            footer_html(&branding()),
            "<footer class=\"portal__footer\"><p>Payments for Acme &lt;Tools&gt; &amp; &quot;Co&quot; · Powered by Settle</p></footer>"
        );
    }
}
