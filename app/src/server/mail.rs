//! Branded email bodies: the same words as plain text and as simple,
//! inline-styled HTML (what mail clients render reliably), in the merchant's
//! logo, colour and footer.

use super::repo::merchants::MerchantRow;
use crate::types::branding::is_hex_color;

/// What a message says, before branding. Reminders are queued as this (in
/// JSON) beside their text, and branded as HTML when they are sent.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EmailContent {
    pub heading: String,
    pub paragraphs: Vec<String>,
    /// A button: label and absolute URL.
    pub action: Option<(String, String)>,
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// (text, html) for `content`, branded for `merchant`. `base_url` makes the
/// logo address absolute.
pub fn render_branded(merchant: &MerchantRow, base_url: &str, content: &EmailContent) -> (String, String) {
    (render_text(merchant, content), render_html(merchant, base_url, content))
}

/// "Questions? …": how to reach the merchant, or empty when it gave no way.
fn contact_line(merchant: &MerchantRow) -> String {
    match (&merchant.support_email, &merchant.support_phone) {
        (Some(e), Some(p)) => format!("Questions? Reply to {e} or call {p}."),
        (Some(e), None) => format!("Questions? Reply to {e}."),
        (None, Some(p)) => format!("Questions? Call {p}."),
        (None, None) => String::new(),
    }
}

fn footer(merchant: &MerchantRow) -> String {
    merchant.email_footer.clone().unwrap_or_else(|| merchant.display_name.clone())
}

/// The plain-text part of `content`, branded for `merchant`.
pub fn render_text(merchant: &MerchantRow, content: &EmailContent) -> String {
    let contact = contact_line(merchant);
    let mut text = format!("{}\n\n", content.heading);
    for p in &content.paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
    }
    if let Some((label, url)) = &content.action {
        text.push_str(&format!("{label}: {url}\n\n"));
    }
    if !contact.is_empty() {
        text.push_str(&contact);
        text.push_str("\n\n");
    }
    text.push_str(&format!("-- \n{}\n", footer(merchant)));
    text
}

/// The HTML part of `content`, branded for `merchant`. `base_url` makes the
/// logo address absolute.
pub fn render_html(merchant: &MerchantRow, base_url: &str, content: &EmailContent) -> String {
    let name = &merchant.display_name;
    let contact = contact_line(merchant);
    let footer = footer(merchant);
    let color = if is_hex_color(&merchant.primary_color) { merchant.primary_color.as_str() } else { "#1d4ed8" };
    let logo = match &merchant.logo_url {
        Some(url) => {
            let src = if url.starts_with("https://") || url.starts_with("http://") {
                url.clone()
            } else {
                format!("{}{}", base_url.trim_end_matches('/'), url)
            };
            format!(
                r#"<img src="{}" alt="{}" height="40" style="display:block;height:40px;border:0">"#,
                escape_html(&src),
                escape_html(name)
            )
        }
        None => format!(r#"<strong style="font-size:20px;color:#101828">{}</strong>"#, escape_html(name)),
    };
    let paragraphs: String = content
        .paragraphs
        .iter()
        .map(|p| {
            format!(
                r#"<p style="margin:0 0 16px;font-size:16px;line-height:24px;color:#101828">{}</p>"#,
                escape_html(p)
            )
        })
        .collect();
    let button = content
        .action
        .as_ref()
        .map(|(label, url)| {
            format!(
                r#"<p style="margin:24px 0"><a href="{}" style="display:inline-block;background:{color};color:#ffffff;text-decoration:none;font-weight:600;padding:12px 20px;border-radius:8px">{}</a></p>"#,
                escape_html(url),
                escape_html(label)
            )
        })
        .unwrap_or_default();
    let contact_html = if contact.is_empty() {
        String::new()
    } else {
        format!(r#"<p style="margin:0 0 8px;font-size:14px;color:#475467">{}</p>"#, escape_html(&contact))
    };
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="margin:0;padding:0;background:#f5f6f8;font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f5f6f8"><tr><td align="center" style="padding:24px 12px">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;width:100%;background:#ffffff;border-top:4px solid {color};border-radius:8px">
<tr><td style="padding:24px 28px 8px">{logo}</td></tr>
<tr><td style="padding:8px 28px 8px"><h1 style="margin:0 0 16px;font-size:22px;line-height:28px;color:#101828">{title}</h1>{paragraphs}{button}{contact_html}</td></tr>
<tr><td style="padding:16px 28px 24px;border-top:1px solid #d0d5dd;font-size:12px;color:#475467">{footer}</td></tr>
</table></td></tr></table></body></html>"#,
        title = escape_html(&content.heading),
        footer = escape_html(&footer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merchant() -> MerchantRow {
        MerchantRow {
            id: "mer_x".into(),
            slug: "acme".into(),
            name: "Acme Co".into(),
            display_name: "Acme <Co>".into(),
            logo_url: Some("/demo/acme-logo.svg".into()),
            primary_color: "#1f4e8c".into(),
            accent_color: "#b4451f".into(),
            support_email: Some("billing@acme.example".into()),
            support_phone: None,
            email_footer: Some("Acme Co · 100 Market Street".into()),
            default_currency: "USD".into(),
            time_zone: "UTC".into(),
            gateway: "sandbox".into(),
            access_link_ttl_days: 14,
            promise_max_days: 14,
            created_at: 0,
            updated_at: 0,
            custom_domain: None,
        }
    }

    #[test]
    fn text_and_html_carry_the_same_words_and_the_branding() {
        let content = EmailContent {
            heading: "Your sign-in code".into(),
            paragraphs: vec!["Use 123456 <now>.".into()],
            action: Some(("Open your account".into(), "https://pay.example/p/acme".into())),
        };
        let (text, html) = render_branded(&merchant(), "https://pay.example/", &content);
        assert!(text.contains("Use 123456 <now>.") && text.contains("Open your account: https://pay.example/p/acme"));
        assert!(text.ends_with("Acme Co · 100 Market Street\n"));
        assert!(html.contains("Use 123456 &lt;now&gt;."), "escaped");
        assert!(html.contains(r#"src="https://pay.example/demo/acme-logo.svg""#), "absolute logo URL");
        assert!(html.contains("alt=\"Acme &lt;Co&gt;\""));
        assert!(html.contains("border-top:4px solid #1f4e8c"), "merchant colour");
        assert!(html.contains("billing@acme.example"));
    }
}
