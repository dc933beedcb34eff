//! Escaping for the few places that write HTML as text rather than as
//! Leptos views (the account page's server-rendered parts, see
//! `pages::account_html`, and the portal's header and footer), and the one
//! way such text goes into a page.

use leptos::tachys::html::InertElement;
use std::fmt;

/// Puts `html` into the page as it is. The caller vouches for two things:
/// it is exactly one element, and every value in it was [`Escaped`]. It is
/// not hydrated (Leptos treats it as static markup), so it is only for the
/// parts of a page the server renders, never inside an island.
pub fn trusted_element(html: String) -> InertElement {
    InertElement::new(html)
}

/// Text made safe for HTML text and for a double- or single-quoted
/// attribute value: `& < > " '` become entities, everything else is kept.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::Escaped;

    #[test]
    fn markup_and_quotes_become_entities_and_the_rest_is_kept() {
        assert_eq!(
            Escaped(r#"<script>alert("x")</script> & 'y'"#).to_string(),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(Escaped("Müller · 1.234,56 €").to_string(), "Müller · 1.234,56 €");
        assert_eq!(Escaped("").to_string(), "");
        assert_eq!(Escaped("&amp;").to_string(), "&amp;amp;");
    }
}
