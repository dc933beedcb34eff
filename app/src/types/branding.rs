//! What the portal needs to look like the merchant.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Branding {
    /// URL path segment of the merchant's portal, `/p/{slug}`.
    pub slug: String,
    pub display_name: String,
    pub logo_url: Option<String>,
    /// `#rrggbb`, validated when stored.
    pub primary_color: String,
    pub accent_color: String,
    pub support_email: Option<String>,
    pub support_phone: Option<String>,
    /// Shown as a badge on every page while the sandbox gateway is in use.
    pub test_mode: bool,
}

impl Branding {
    /// The CSS custom properties the stylesheet reads. Only `#rrggbb`
    /// values are emitted (anything else could inject CSS); otherwise the
    /// stylesheet's defaults apply.
    pub fn css_vars(&self) -> String {
        let mut out = String::new();
        for (name, value) in [("--brand-primary", &self.primary_color), ("--brand-accent", &self.accent_color)] {
            if is_hex_color(value) {
                if !out.is_empty() {
                    out.push(';');
                }
                out.push_str(&format!("{name}:{value}"));
            }
        }
        out
    }

    pub fn portal_home(&self) -> String {
        format!("/p/{}", self.slug)
    }
}

/// The portal's front page: branding, and whether this browser is signed in there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortalHome {
    pub branding: Branding,
    pub signed_in: bool,
}

/// `#rrggbb`, nothing else.
pub fn is_hex_color(v: &str) -> bool {
    v.len() == 7 && v.starts_with('#') && v[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branding(primary: &str) -> Branding {
        Branding { primary_color: primary.into(), ..super::super::fixtures::branding() }
    }

    #[test]
    fn only_hex_colours_reach_the_style_attribute() {
        assert_eq!(branding("#1F4E8C").css_vars(), "--brand-primary:#1F4E8C;--brand-accent:#0f766e");
        assert_eq!(branding("red;background:url(//evil)").css_vars(), "--brand-accent:#0f766e");
        assert!(!is_hex_color("#12345"));
        assert!(!is_hex_color("#12345g"));
    }
}
