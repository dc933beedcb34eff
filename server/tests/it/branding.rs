//! Branding from the console, on both backends: bad fields are refused
//! with words and nothing typed is lost; saved branding shows in the
//! portal and in reminder emails; a low-contrast colour gets a warning;
//! logos are checked by their bytes and served with their type; viewers
//! can only look.

use crate::common::*;
use app::server::repo::merchant_users::{self, Role};
use app::server::repo::merchants;

on_both_backends!(
    branding_is_validated_saved_and_shown,
    logos_are_checked_stored_and_served,
    a_custom_domain_serves_the_merchant_and_carries_its_links
);

const PASSWORD: &str = "copper kettle morning drive";

async fn signed_in(app: &TestApp, role: Role) -> reqwest::Client {
    let m = merchants::find_by_slug(app.db.pool(), "acme").await.unwrap().unwrap();
    let email = format!("{}@acme.example", role.as_str());
    let hash = app::server::passwords::hash(PASSWORD.into()).await.unwrap();
    merchant_users::insert(app.db.pool(), &m.merchant_id(), &email, "Pat Staff", Some(&hash), role, app.clock_now())
        .await
        .unwrap();
    let client = browser();
    let res = client
        .post(app.url("/m/acme/sign-in"))
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res).as_deref(), Some("/m/acme"));
    client
}

fn form<'a>(name: &'a str, primary: &'a str, email: &'a str) -> Vec<(&'static str, &'a str)> {
    form_with_domain(name, primary, email, "")
}

fn form_with_domain<'a>(
    name: &'a str,
    primary: &'a str,
    email: &'a str,
    domain: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("display_name", name),
        ("primary_color", primary),
        ("accent_color", "#0f766e"),
        ("support_email", email),
        ("support_phone", "+1 555 010 2030"),
        ("email_footer", "Acme Co · 100 Market Street"),
        ("custom_domain", domain),
    ]
}

async fn branding_is_validated_saved_and_shown(app: TestApp) {
    let seeded = app.seed_customer_with_invoices("acme", "Acme").await;
    let admin = signed_in(&app, Role::Admin).await;
    let before = merchants::find_by_slug(app.db.pool(), "acme").await.unwrap().unwrap();

    // Bad input: refused field by field, what was typed comes back, nothing saved.
    let res =
        admin.post(app.url("/m/acme/branding")).form(&form("Acme Rebrand", "blue", "billing")).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/m/acme/branding"));
    let html = page(admin.get(app.url("/m/acme/branding")).send().await.unwrap()).await;
    assert!(html.contains("Nothing was saved: fix the fields marked below."), "{html}");
    assert!(html.contains("The primary colour must be a colour like #1d4ed8"));
    assert!(html.contains("Enter a support email like billing@example.com"));
    assert!(html.contains("value=\"Acme Rebrand\""), "the typed name is kept");
    let after = merchants::find_by_slug(app.db.pool(), "acme").await.unwrap().unwrap();
    assert_eq!((after.display_name, after.primary_color), (before.display_name.clone(), before.primary_color.clone()));
    // Shown once: the next visit shows the saved values again.
    let html = page(admin.get(app.url("/m/acme/branding")).send().await.unwrap()).await;
    assert!(!html.contains("Acme Rebrand") && !html.contains("Nothing was saved"));

    // Good input: saved, audited, and the portal and emails use it.
    let res = admin
        .post(app.url("/m/acme/branding"))
        .form(&form("Acme Rebrand", "#7A1F5C", "help@acme.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res).as_deref(), Some("/m/acme/branding"));
    let m = merchants::find_by_slug(app.db.pool(), "acme").await.unwrap().unwrap();
    assert_eq!((m.display_name.as_str(), m.primary_color.as_str()), ("Acme Rebrand", "#7a1f5c"));
    assert_eq!(m.support_email.as_deref(), Some("help@acme.example"));
    let (audits,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'merchant.branding_changed'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(audits, 1);
    let portal = page(fetch(app.url("/p/acme")).await).await;
    assert!(portal.contains("--brand-primary:#7a1f5c") && portal.contains("Acme Rebrand"), "{portal}");
    let html = page(admin.get(app.url("/m/acme/branding")).send().await.unwrap()).await;
    assert!(html.contains("Saved. The portal and new emails use it now."));
    assert!(html.contains("srcdoc=") && html.contains("#7a1f5c"), "the email preview uses the saved colour");
    // A reminder sent now carries the new name and colour.
    app::server::dunning::sweep::sweep(&app.state, 500).await.unwrap();
    // Its text carries the name now; its HTML part is branded when it is
    // sent (`email_delivery::a_reminder_is_branded_as_html_when_it_is_sent`).
    let (subject, body): (String, String) = sqlx::query_as(
        "SELECT subject, body_text FROM messages WHERE customer_id = $1 AND template_key LIKE 'dunning:%' LIMIT 1",
    )
    .bind(seeded.customer.as_str())
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(subject.contains("Acme Rebrand") || body.contains("Acme Rebrand"), "{subject}");
    let html = app::server::mail::render_html(
        &app::server::repo::merchants::find_by_slug(app.db.pool(), "acme").await.unwrap().unwrap(),
        "https://pay.example",
        &app::server::mail::EmailContent { heading: subject.clone(), paragraphs: vec![], action: None },
    );
    assert!(html.contains("#7a1f5c"), "the HTML part is branded in the saved colour: {html}");

    // A pale colour is saved, with a warning about contrast.
    admin.post(app.url("/m/acme/branding")).form(&form("Acme Rebrand", "#ffcc00", "")).send().await.unwrap();
    let html = page(admin.get(app.url("/m/acme/branding")).send().await.unwrap()).await;
    assert!(html.contains("The primary colour #ffcc00 has a contrast of 1.51:1 against white"), "{html}");

    // A viewer sees the page but can't change it.
    let viewer = signed_in(&app, Role::Viewer).await;
    let html = page(viewer.get(app.url("/m/acme/branding")).send().await.unwrap()).await;
    assert!(html.contains("Branding") && !html.contains("Save branding"));
    let res = viewer.post(app.url("/m/acme/branding")).form(&form("Viewer Co", "#000000", "")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(merchants::find_by_slug(app.db.pool(), "acme").await.unwrap().unwrap().display_name, "Acme Rebrand");
}

/// The header of a `w`×`h` PNG: enough for the checks, which read no pixels.
fn png(w: u32, h: u32) -> Vec<u8> {
    let mut b = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b.extend(std::iter::repeat_n(0u8, 200));
    b
}

async fn upload(app: &TestApp, client: &reqwest::Client, bytes: Vec<u8>, name: &str, mime: &str) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()).mime_str(mime).unwrap();
    let form = reqwest::multipart::Form::new().part("logo", part);
    client.post(app.url("/m/acme/branding/logo")).multipart(form).send().await.unwrap()
}

async fn logos_are_checked_stored_and_served(app: TestApp) {
    app.merchant("acme", "Acme").await;
    let owner = signed_in(&app, Role::Owner).await;
    let logo_url = || async { merchants::find_by_slug(app.db.pool(), "acme").await.unwrap().unwrap().logo_url };

    // An SVG dressed up as a PNG, a GIF, a giant and a crumb: refused, in words.
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>".to_vec();
    for (bytes, says) in [
        (svg, "SVG logos aren't accepted"),
        (b"GIF89a\x10\x00\x10\x00".to_vec(), "isn't a PNG, JPEG or WebP"),
        (png(4000, 100), "at most 2000×2000"),
        (png(8, 8), "at least 16×16"),
    ] {
        let res = upload(&app, &owner, bytes, "logo.png", "image/png").await;
        assert_eq!(location(&res).as_deref(), Some("/m/acme/branding"));
        let html = page(owner.get(app.url("/m/acme/branding")).send().await.unwrap()).await;
        assert!(html.contains("The logo wasn&#x27;t changed") || html.contains("The logo wasn't changed"), "{html}");
        assert!(html.contains(says), "{says}: {html}");
        assert_eq!(logo_url().await, None);
    }
    // Over the size limit: the upload is cut off and says so.
    let res = upload(&app, &owner, vec![0u8; 3 * 1024 * 1024], "big.png", "image/png").await;
    assert!(res.status().is_redirection() || res.status() == 413, "{}", res.status());
    assert_eq!(logo_url().await, None);

    // A real PNG header: stored, audited, served with its type, shown in the portal.
    let bytes = png(240, 80);
    upload(&app, &owner, bytes.clone(), "logo.bin", "application/octet-stream").await;
    let html = page(owner.get(app.url("/m/acme/branding")).send().await.unwrap()).await;
    assert!(html.contains("Uploaded a new logo (240×80 PNG)."), "{html}");
    let url = logo_url().await.expect("a logo");
    assert!(url.starts_with("/logos/logo_") && url.ends_with(".png"), "{url}");
    let res = fetch(app.url(&url)).await;
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes);
    assert_eq!(fetch(app.url(&url.replace(".png", ".jpg"))).await.status(), 404, "wrong extension");
    assert_eq!(fetch(app.url("/logos/logo_nothing.png")).await.status(), 404);
    let portal = page(fetch(app.url("/p/acme")).await).await;
    assert!(portal.contains(&format!("src=\"{url}\"")), "{portal}");

    // Removing it: the name shows again.
    owner.post(app.url("/m/acme/branding/logo/remove")).send().await.unwrap();
    assert_eq!(logo_url().await, None);
    let (audits,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('merchant.logo_changed', 'merchant.logo_removed')",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(audits, 2);

    // Viewers can't upload.
    let viewer = signed_in(&app, Role::Viewer).await;
    assert_eq!(upload(&app, &viewer, png(240, 80), "logo.png", "image/png").await.status(), 403);
    assert_eq!(logo_url().await, None);
}

async fn a_custom_domain_serves_the_merchant_and_carries_its_links(app: TestApp) {
    let seeded = app.seed_customer_with_invoices("acme", "Acme").await;
    app.merchant("globex", "Globex").await;
    let admin = signed_in(&app, Role::Admin).await;
    let res = admin
        .post(app.url("/m/acme/branding"))
        .form(&form_with_domain("Acme", "#1f4e8c", "", "Pay.Acme.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res).as_deref(), Some("/m/acme/branding"));
    let m = merchants::find_by_slug(app.db.pool(), "acme").await.unwrap().unwrap();
    assert_eq!(m.custom_domain.as_deref(), Some("pay.acme.example"));
    // Another merchant can't take it.
    sqlx::query("UPDATE merchants SET custom_domain = 'other.example' WHERE slug = 'globex'")
        .execute(app.db.pool())
        .await
        .unwrap();
    admin
        .post(app.url("/m/acme/branding"))
        .form(&form_with_domain("Acme", "#1f4e8c", "", "other.example"))
        .send()
        .await
        .unwrap();
    let html = page(admin.get(app.url("/m/acme/branding")).send().await.unwrap()).await;
    assert!(html.contains("Another merchant uses that domain already."), "{html}");

    // Requests for that host are the merchant's.
    let on_domain = |path: &str| browser().get(app.url(path)).header("host", "pay.acme.example").send();
    let res = on_domain("/").await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/p/acme"));
    assert_eq!(on_domain("/p/acme").await.unwrap().status(), 200);
    assert_eq!(on_domain("/p/globex").await.unwrap().status(), 404, "another merchant's portal isn't served there");
    // The install's own address is unchanged.
    assert_eq!(browser().get(app.url("/p/globex")).send().await.unwrap().status(), 200);

    // Reminders link to the merchant's domain.
    app::server::dunning::sweep::sweep(&app.state, 500).await.unwrap();
    let (body,): (String,) =
        sqlx::query_as("SELECT body_text FROM messages WHERE customer_id = $1 AND template_key LIKE 'dunning:%'")
            .bind(seeded.customer.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(body.contains("https://pay.acme.example/p/acme/l/"), "{body}");
}
