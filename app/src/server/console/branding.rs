//! The merchant's branding from the console: validated fields, a contrast
//! warning below WCAG AA, and logo uploads checked by their bytes (PNG,
//! JPEG or WebP only, size and dimension limits) and kept in the database.

use super::access::Action;
use super::actions::Origin;
use super::session::Staff;
use crate::server::db::begin_write;
use crate::server::repo::events;
use crate::server::repo::merchants::MerchantRow;
use crate::server::sign_in::looks_like_email;
use crate::server::{AppError, UtcMillis};
use crate::types::branding::is_hex_color;
use crate::types::{BrandingForm, FieldError};
use sha2::{Digest, Sha256};
use sqlx::AnyPool;

pub const LOGO_MAX_BYTES: usize = 1024 * 1024;
pub const LOGO_MAX_SIDE: u64 = 2000;
pub const LOGO_MIN_SIDE: u64 = 16;
const NAME_MAX: usize = 80;
const FOOTER_MAX: usize = 300;
const PHONE_MAX: usize = 30;

/// The form as stored: trimmed, colours lower-cased, empty optionals `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidBranding {
    pub display_name: String,
    pub primary_color: String,
    pub accent_color: String,
    pub support_email: Option<String>,
    pub support_phone: Option<String>,
    pub email_footer: Option<String>,
    pub custom_domain: Option<String>,
}

/// `pay.example.com`: lower-case labels of letters, digits and hyphens,
/// at least two of them, no port, no scheme.
pub fn is_hostname(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    s.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

fn err(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), message: message.into() }
}

fn optional(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

pub fn validate(form: &BrandingForm) -> Result<ValidBranding, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = form.display_name.trim();
    if name.is_empty() {
        errors.push(err("display_name", "Enter the name customers know you by."));
    } else if name.chars().count() > NAME_MAX {
        errors.push(err("display_name", format!("Keep the name to {NAME_MAX} characters or fewer.")));
    }
    let mut colour = |field: &str, label: &str, value: &str| {
        let v = value.trim().to_lowercase();
        if !is_hex_color(&v) {
            errors.push(err(field, format!("{label} must be a colour like #1d4ed8 (a # and six hex digits).")));
        }
        v
    };
    let primary = colour("primary_color", "The primary colour", &form.primary_color);
    let accent = colour("accent_color", "The accent colour", &form.accent_color);
    let email = optional(&form.support_email);
    if let Some(e) = &email {
        if !looks_like_email(e) {
            errors.push(err("support_email", "Enter a support email like billing@example.com, or leave it empty."));
        }
    }
    let phone = optional(&form.support_phone);
    if let Some(p) = &phone {
        let allowed = p.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if !allowed || p.chars().count() > PHONE_MAX || !p.chars().any(|c| c.is_ascii_digit()) {
            errors.push(err(
                "support_phone",
                format!("Use digits, spaces and + - ( ) . only, at most {PHONE_MAX} characters, or leave it empty."),
            ));
        }
    }
    let domain = optional(&form.custom_domain.to_lowercase());
    if let Some(d) = &domain {
        if !is_hostname(d) {
            errors.push(err(
                "custom_domain",
                "Enter a domain name like pay.example.com (no https://, no path), or leave it empty.",
            ));
        }
    }
    let footer = optional(&form.email_footer);
    if let Some(f) = &footer {
        if f.chars().count() > FOOTER_MAX {
            errors.push(err("email_footer", format!("Keep the footer to {FOOTER_MAX} characters or fewer.")));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidBranding {
        display_name: name.to_string(),
        primary_color: primary,
        accent_color: accent,
        support_email: email,
        support_phone: phone,
        email_footer: footer,
        custom_domain: domain,
    })
}

/// Relative luminance of `#rrggbb` (WCAG 2.x).
fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let v = u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0) as f64 / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

/// The contrast ratio of two `#rrggbb` colours, in hundredths (450 is 4.5:1).
pub fn contrast_hundredths(a: &str, b: &str) -> i64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    ((hi + 0.05) / (lo + 0.05) * 100.0).floor() as i64
}

/// The primary colour carries white button text and is the link colour on
/// white; the accent marks highlights on white. Each needs 4.5:1 (AA).
pub fn warnings(primary: &str, accent: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (label, colour) in [("primary", primary), ("accent", accent)] {
        if !is_hex_color(colour) {
            continue;
        }
        let c = contrast_hundredths(colour, "#ffffff");
        if c < 450 {
            out.push(format!(
                "The {label} colour {colour} has a contrast of {}.{:02}:1 against white, below the 4.5:1 WCAG AA asks \
                 for text; some customers will struggle to read it. A darker shade fixes it.",
                c / 100,
                c % 100
            ));
        }
    }
    out
}

pub async fn save(
    pool: &AnyPool,
    staff: &Staff,
    merchant: &MerchantRow,
    form: &BrandingForm,
    origin: &Origin,
    now: UtcMillis,
) -> Result<Result<ValidBranding, Vec<FieldError>>, AppError> {
    staff.require(Action::EditBranding)?;
    let valid = match validate(form) {
        Ok(v) => v,
        Err(errors) => return Ok(Err(errors)),
    };
    let mut tx = begin_write(pool).await?;
    let updated = sqlx::query(
        "UPDATE merchants SET display_name = $1, primary_color = $2, accent_color = $3, support_email = $4, \
         support_phone = $5, email_footer = $6, custom_domain = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(&valid.display_name)
    .bind(&valid.primary_color)
    .bind(&valid.accent_color)
    .bind(valid.support_email.as_deref())
    .bind(valid.support_phone.as_deref())
    .bind(valid.email_footer.as_deref())
    .bind(valid.custom_domain.as_deref())
    .bind(now.0)
    .bind(merchant.id.as_str())
    .execute(&mut *tx)
    .await;
    match updated {
        Ok(_) => {}
        Err(e)
            if crate::server::repo::unique_violation(&e, "merchants_custom_domain_key", "merchants.custom_domain") =>
        {
            return Ok(Err(vec![err("custom_domain", "Another merchant uses that domain already.")]));
        }
        Err(e) => return Err(e.into()),
    }
    let before = serde_json::json!({ "display_name": merchant.display_name, "primary_color": merchant.primary_color,
        "accent_color": merchant.accent_color, "support_email": merchant.support_email,
        "support_phone": merchant.support_phone, "email_footer": merchant.email_footer,
        "custom_domain": merchant.custom_domain });
    let after = serde_json::json!({ "display_name": valid.display_name, "primary_color": valid.primary_color,
        "accent_color": valid.accent_color, "support_email": valid.support_email,
        "support_phone": valid.support_phone, "email_footer": valid.email_footer,
        "custom_domain": valid.custom_domain });
    audit(
        &mut tx,
        staff,
        merchant,
        origin,
        "merchant.branding_changed",
        serde_json::json!({ "before": before, "after": after }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(valid))
}

async fn audit(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    staff: &Staff,
    merchant: &MerchantRow,
    origin: &Origin,
    action: &str,
    detail: serde_json::Value,
    now: UtcMillis,
) -> Result<(), AppError> {
    events::audit(
        &mut **tx,
        &merchant.merchant_id(),
        "merchant_user",
        Some(staff.user.id.as_str()),
        action,
        Some(("merchant", merchant.id.as_str())),
        &detail,
        origin.ip.as_deref(),
        origin.user_agent.as_deref(),
        now,
    )
    .await?;
    Ok(())
}

/// What an upload turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoInfo {
    pub content_type: &'static str,
    pub extension: &'static str,
    pub width: u64,
    pub height: u64,
}

/// Checks an upload by its bytes, whatever its name or declared type says.
pub fn inspect_logo(bytes: &[u8]) -> Result<LogoInfo, String> {
    if bytes.is_empty() {
        return Err("Choose an image file to upload.".into());
    }
    if bytes.len() > LOGO_MAX_BYTES {
        return Err(format!(
            "That file is {} KB; logos can be at most {} KB.",
            bytes.len().div_ceil(1024),
            LOGO_MAX_BYTES / 1024
        ));
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_lowercase();
    if head.contains("<svg") || head.trim_start().starts_with("<?xml") {
        return Err("SVG logos aren't accepted (they can carry scripts); upload a PNG, JPEG or WebP.".into());
    }
    let (content_type, extension) = match imagesize::image_type(bytes) {
        Ok(imagesize::ImageType::Png) => ("image/png", "png"),
        Ok(imagesize::ImageType::Jpeg) => ("image/jpeg", "jpg"),
        Ok(imagesize::ImageType::Webp) => ("image/webp", "webp"),
        _ => return Err("That isn't a PNG, JPEG or WebP image. Logos must be one of those.".into()),
    };
    let size =
        imagesize::blob_size(bytes).map_err(|_| "That image is damaged or incomplete; try exporting it again.")?;
    let (width, height) = (size.width as u64, size.height as u64);
    if width > LOGO_MAX_SIDE || height > LOGO_MAX_SIDE {
        return Err(format!(
            "That image is {width}×{height} pixels; logos can be at most {LOGO_MAX_SIDE}×{LOGO_MAX_SIDE}."
        ));
    }
    if width < LOGO_MIN_SIDE || height < LOGO_MIN_SIDE {
        return Err(format!(
            "That image is {width}×{height} pixels; logos must be at least {LOGO_MIN_SIDE}×{LOGO_MIN_SIDE}."
        ));
    }
    Ok(LogoInfo { content_type, extension, width, height })
}

/// Stores a checked logo and points the merchant at it.
pub async fn store_logo(
    pool: &AnyPool,
    staff: &Staff,
    merchant: &MerchantRow,
    bytes: &[u8],
    origin: &Origin,
    now: UtcMillis,
) -> Result<Result<String, String>, AppError> {
    staff.require(Action::EditBranding)?;
    let info = match inspect_logo(bytes) {
        Ok(i) => i,
        Err(message) => return Ok(Err(message)),
    };
    let sha: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
    let id = format!("logo_{}", crate::server::ids::new_id_body());
    let url = format!("/logos/{id}.{}", info.extension);
    let mut tx = begin_write(pool).await?;
    sqlx::query(
        "INSERT INTO merchant_logos (id, merchant_id, content_type, sha256, width, height, bytes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(merchant.id.as_str())
    .bind(info.content_type)
    .bind(&sha)
    .bind(info.width as i64)
    .bind(info.height as i64)
    .bind(bytes.to_vec())
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE merchants SET logo_url = $1, updated_at = $2 WHERE id = $3")
        .bind(&url)
        .bind(now.0)
        .bind(merchant.id.as_str())
        .execute(&mut *tx)
        .await?;
    let detail = serde_json::json!({ "logo": url, "sha256": sha, "bytes": bytes.len(),
        "width": info.width, "height": info.height, "before": merchant.logo_url });
    audit(&mut tx, staff, merchant, origin, "merchant.logo_changed", detail, now).await?;
    tx.commit().await?;
    Ok(Ok(format!("Uploaded a new logo ({}×{} {}).", info.width, info.height, info.extension.to_uppercase())))
}

/// Back to the name in text; earlier uploads stay stored (old emails show them).
pub async fn remove_logo(
    pool: &AnyPool,
    staff: &Staff,
    merchant: &MerchantRow,
    origin: &Origin,
    now: UtcMillis,
) -> Result<bool, AppError> {
    staff.require(Action::EditBranding)?;
    if merchant.logo_url.is_none() {
        return Ok(false);
    }
    let mut tx = begin_write(pool).await?;
    sqlx::query("UPDATE merchants SET logo_url = NULL, updated_at = $1 WHERE id = $2")
        .bind(now.0)
        .bind(merchant.id.as_str())
        .execute(&mut *tx)
        .await?;
    audit(
        &mut tx,
        staff,
        merchant,
        origin,
        "merchant.logo_removed",
        serde_json::json!({ "before": merchant.logo_url }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// A stored logo by its file name (`logo_….png`): its type and bytes.
pub async fn logo_file(pool: &AnyPool, file: &str) -> Result<Option<(String, Vec<u8>)>, AppError> {
    let Some((id, ext)) = file.rsplit_once('.') else { return Ok(None) };
    let row: Option<(String, Vec<u8>)> = sqlx::query_as("SELECT content_type, bytes FROM merchant_logos WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.filter(|(content_type, _)| {
        matches!((content_type.as_str(), ext), ("image/png", "png") | ("image/jpeg", "jpg") | ("image/webp", "webp"))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> BrandingForm {
        BrandingForm {
            display_name: " Acme Co ".into(),
            primary_color: "#1F4E8C".into(),
            accent_color: "#b4451f".into(),
            support_email: "billing@acme.example".into(),
            support_phone: "+1 (555) 010-2030".into(),
            email_footer: "".into(),
            custom_domain: " Pay.Acme.example ".into(),
        }
    }

    #[test]
    fn branding_is_validated_field_by_field() {
        let v = validate(&form()).unwrap();
        assert_eq!((v.display_name.as_str(), v.primary_color.as_str()), ("Acme Co", "#1f4e8c"));
        assert_eq!(v.email_footer, None);
        assert_eq!(v.custom_domain.as_deref(), Some("pay.acme.example"));
        for bad in ["https://pay.acme.example", "pay", "pay.acme.example:8443", "-pay.example.com", "pay_acme.example"]
        {
            let f = BrandingForm { custom_domain: bad.into(), ..form() };
            assert_eq!(validate(&f).unwrap_err()[0].field, "custom_domain", "{bad}");
        }
        let bad = BrandingForm {
            display_name: " ".into(),
            primary_color: "blue".into(),
            accent_color: "#12345".into(),
            support_email: "billing".into(),
            support_phone: "call us".into(),
            email_footer: "x".repeat(301),
            custom_domain: String::new(),
        };
        let fields: Vec<String> = validate(&bad).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["display_name", "primary_color", "accent_color", "support_email", "support_phone", "email_footer"]
        );
    }

    #[test]
    fn contrast_matches_wcag_and_warns_below_aa() {
        assert_eq!(contrast_hundredths("#000000", "#ffffff"), 2100);
        assert_eq!(contrast_hundredths("#ffffff", "#ffffff"), 100);
        // #767676 on white is the classic 4.54:1 just-passes grey.
        assert_eq!(contrast_hundredths("#767676", "#ffffff"), 454);
        assert!(warnings("#1f4e8c", "#b4451f").is_empty());
        let w = warnings("#ffcc00", "#1f4e8c");
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("The primary colour #ffcc00 has a contrast of 1.51:1"), "{w:?}");
    }

    #[test]
    fn logos_are_checked_by_their_bytes() {
        // A 1×1 PNG header is a real PNG, but too small.
        let png_1x1: &[u8] = &[
            0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0,
            1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
        ];
        assert!(inspect_logo(png_1x1).unwrap_err().contains("at least 16×16"));
        let mut png_64 = png_1x1.to_vec();
        png_64[19] = 64;
        png_64[23] = 32;
        assert_eq!(
            inspect_logo(&png_64).unwrap(),
            LogoInfo { content_type: "image/png", extension: "png", width: 64, height: 32 }
        );
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        assert!(inspect_logo(svg).unwrap_err().starts_with("SVG logos aren't accepted"));
        assert!(inspect_logo(b"GIF89a....").unwrap_err().contains("isn't a PNG, JPEG or WebP"));
        assert!(inspect_logo(&vec![0u8; LOGO_MAX_BYTES + 1]).unwrap_err().contains("at most 1024 KB"));
        assert_eq!(inspect_logo(b"").unwrap_err(), "Choose an image file to upload.");
    }
}
