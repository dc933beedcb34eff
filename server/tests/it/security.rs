//! Hostile requests, over every route the inventory finds: the security
//! headers on every kind of response, cross-site POSTs refused on every
//! mutating route and server function, and ids of another customer or
//! another merchant answered with 404 everywhere an id is taken.

use crate::common::inventory::{self, Endpoint, Kind};
use crate::common::paying::*;
use crate::common::staff::*;
use crate::common::*;
use app::server::repo::merchant_users::Role;
use std::collections::BTreeMap;

on_both_backends!(foreign_ids_are_not_found_on_any_route);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_response_carries_the_security_headers() {
    let Some(app) = spawn_app(Backend::Sqlite).await else { return };
    let (client, _) = signed_in_customer(&app, "acme", "Alice").await;
    let checks: Vec<(&str, reqwest::Response)> = vec![
        ("portal page", client.get(app.url("/p/acme/account")).send().await.unwrap()),
        ("console page", browser().get(app.url("/m/acme/sign-in")).send().await.unwrap()),
        ("redirect", browser().get(app.url("/p/acme/account")).send().await.unwrap()),
        ("JSON error", browser().get(app.url("/api/v1/customers")).send().await.unwrap()),
        ("JSON document", browser().get(app.url("/api/v1/openapi.json")).send().await.unwrap()),
        ("health", browser().get(app.url("/healthz")).send().await.unwrap()),
        ("missing file", browser().get(app.url("/pkg/nothing.js")).send().await.unwrap()),
        ("missing logo", browser().get(app.url("/logos/nothing.png")).send().await.unwrap()),
        ("server function", call_account_fn(&app, &client, "acme").await),
        (
            "refused POST",
            browser().post(app.url("/p/acme/pay")).header("sec-fetch-site", "cross-site").send().await.unwrap(),
        ),
    ];
    for (what, res) in checks {
        let h = res.headers().clone();
        let get = |name: &str| h.get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(get("referrer-policy"), "same-origin", "{what}");
        assert_eq!(get("x-frame-options"), "DENY", "{what}");
        let csp = get("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(csp.contains("default-src 'none'") || csp.contains("default-src 'self'"), "{what}: {csp}");
        assert!(!csp.contains("unsafe-eval'") || csp.contains("'wasm-unsafe-eval'"), "{what}: {csp}");
        assert_eq!(get("strict-transport-security"), "", "{what}: no HSTS over plain http");
        if what.ends_with("page") {
            // Every inline script carries this response's nonce, and only it.
            let nonce = csp.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).expect("a nonce").to_string();
            assert!(nonce.len() >= 16, "{what}: nonce {nonce}");
            assert!(csp.contains("script-src 'self' 'nonce-"), "{what}: {csp}");
            let html = res.text().await.unwrap();
            let scripts: Vec<&str> = html.split("<script").skip(1).map(|s| &s[..s.find('>').unwrap()]).collect();
            assert!(!scripts.is_empty(), "{what}: the page hydrates");
            for tag in scripts {
                assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "{what}: <script{tag}> without the nonce");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_is_sent_when_served_over_https() {
    let Some(app) =
        spawn_app_with(Backend::Sqlite, |c| c.base_url = url::Url::parse("https://pay.acme.test").unwrap()).await
    else {
        return;
    };
    app.merchant("acme", "Acme").await;
    for path in ["/p/acme", "/healthz", "/api/v1/customers"] {
        let res = browser().get(app.url(path)).send().await.unwrap();
        assert_eq!(res.headers()["strict-transport-security"], "max-age=31536000; includeSubDomains", "{path}");
    }
}

/// A value for each kind of path parameter, so a request reaches the
/// route (the origin check runs before any handler looks at them).
fn placeholder(name: &str, _before: &str) -> String {
    match name {
        "slug" => "acme".into(),
        "action" => "pause".into(),
        _ => "AAAAAAAAAAAAAAAAAAAAAA".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_posts_are_refused_on_every_mutating_route() {
    let Some(app) = spawn_app(Backend::Sqlite).await else { return };
    // With the victim's cookies: a customer's and a staff member's.
    let (customer, _) = signed_in_customer(&app, "acme", "Alice").await;
    let staff = signed_in_member(&app, "acme", "owner@acme.example", Role::Owner).await;
    let mutating: Vec<Endpoint> = inventory::all().into_iter().filter(|e| e.method != "GET").collect();
    let kinds: std::collections::BTreeSet<Kind> = mutating.iter().map(|e| e.kind).collect();
    assert_eq!(kinds.len(), 3, "handlers, API operations and server functions: {kinds:?}");
    for e in &mutating {
        let path = e.fill(placeholder);
        let client = if path.starts_with("/m/") { &staff } else { &customer };
        let method: reqwest::Method = e.method.parse().unwrap();
        let attacks = [
            vec![("sec-fetch-site", "cross-site"), ("origin", "https://evil.example")],
            vec![("sec-fetch-site", "same-site"), ("origin", "https://sub.acme.example")],
            // An old browser that sends Origin but no Fetch Metadata.
            vec![("origin", "https://evil.example")],
            vec![("origin", "null")],
        ];
        for headers in attacks {
            let mut req = client
                .request(method.clone(), app.url(&path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("slug=acme&amount_minor=100");
            for (k, v) in &headers {
                req = req.header(*k, *v);
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            let body = res.text().await.unwrap();
            assert_eq!(status, 403, "{} {path} with {headers:?}: {body}", e.method);
            assert!(
                body.starts_with("Forbidden: "),
                "{} {path}: refused by the origin check, not later: {body}",
                e.method
            );
        }
        // The same request from the page itself gets past the check, so
        // the refusal above came from where the request was sent from.
        let res = client
            .request(method.clone(), app.url(&path))
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("slug=acme")
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(!body.starts_with("Forbidden: "), "{} {path}: same-origin refused: {status} {body}", e.method);
        assert_ne!(status, 405, "{} {path}: the inventory names a method the route doesn't have", e.method);
    }
    // Nothing above changed anything.
    let (audited,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM payments").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(audited, 0);
}

/// The ids one customer (or merchant) has, to be tried by another.
#[derive(Default, Clone, Debug)]
struct Ids {
    by_kind: BTreeMap<&'static str, String>,
    /// Text that only this party's pages would show.
    markers: Vec<String>,
}

async fn one(app: &TestApp, sql: &str, bind: &str) -> String {
    let (v,): (String,) =
        sqlx::query_as(sql).bind(bind).fetch_one(app.db.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    v
}

/// A customer at `slug` who has invoices, a saved card, a payment, a card
/// setup in progress, an access link and an emailed sign-in link.
async fn customer_with_everything(app: &TestApp, slug: &str, name: &str) -> (reqwest::Client, Ids) {
    let (client, seeded) = signed_in_customer(app, slug, name).await;
    let cid = seeded.customer.as_str().to_string();
    let to = add_card(app, &client, slug, "4242424242424242").await;
    let card = card_in(&to);
    let (attempt, total, _) = review(app, &client, slug, "").await;
    let open = open_invoice_ids(app, &seeded.customer).await;
    let res = confirm(app, &client, slug, &open, None, &total, &card, &attempt).await;
    assert_eq!(res.status(), 303, "{name} pays");
    let html = page(client.get(app.url(&format!("/p/{slug}/account/cards/new"))).send().await.unwrap()).await;
    let marker = format!("/p/{slug}/sandbox/setups/");
    let at = html.find(&marker).expect("a card setup") + marker.len();
    let setup: String = html[at..].chars().take_while(|c| *c != '"' && *c != '?').collect();
    let (token, _) = app.link(&seeded.merchant, &seeded.customer).await;
    // An emailed sign-in link (it lands in the outbox: no SMTP here).
    let email = one(app, "SELECT email FROM customers WHERE id = $1", &cid).await;
    browser().post(app.url(&format!("/p/{slug}/sign-in"))).form(&[("email", email.as_str())]).send().await.unwrap();
    let body = one(
        app,
        "SELECT body_text FROM messages WHERE customer_id = $1 AND template_key = 'sign_in_code' ORDER BY created_at DESC LIMIT 1",
        &cid,
    )
    .await;
    let s = format!("/p/{slug}/s/");
    let sign_in = body[body.find(&s).expect("sign-in link") + s.len()..].chars().take(22).collect::<String>();
    let mut ids = Ids::default();
    ids.by_kind.insert("customer", cid.clone());
    ids.by_kind
        .insert("invoice", one(app, "SELECT id FROM invoices WHERE number = $1", &seeded.invoice_numbers[1]).await);
    ids.by_kind.insert("payment", one(app, "SELECT id FROM payments WHERE customer_id = $1", &cid).await);
    ids.by_kind.insert("card", one(app, "SELECT id FROM payment_methods WHERE customer_id = $1", &cid).await);
    ids.by_kind.insert("setup", setup);
    ids.by_kind.insert("access-token", token.expose().to_string());
    ids.by_kind.insert("sign-in-token", sign_in);
    ids.markers = vec![format!("{name} Customer"), seeded.invoice_numbers[1].clone(), email];
    (client, ids)
}

/// A merchant's staff, invitation, API key and webhook endpoint.
async fn merchant_with_everything(app: &TestApp, slug: &str, ids: &mut Ids) -> (reqwest::Client, String) {
    let email = format!("owner@{slug}.example");
    let owner = signed_in_member(app, slug, &email, Role::Owner).await;
    let mid = one(app, "SELECT id FROM merchants WHERE slug = $1", slug).await;
    let staff_id = one(app, "SELECT id FROM merchant_users WHERE email = $1", &email).await;
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let owner = owner.clone();
        let url = app.url(&path);
        async move { owner.post(url).form(&form).send().await.unwrap() }
    };
    post(format!("/m/{slug}/staff/invite"), vec![("email", format!("new@{slug}.example")), ("role", "viewer".into())])
        .await;
    let body = one(
        app,
        "SELECT body_text FROM messages WHERE to_address = $1 AND template_key = 'staff_invitation'",
        &format!("new@{slug}.example"),
    )
    .await;
    let marker = format!("/m/{slug}/invite/");
    let invite_token: String = body[body.find(&marker).expect("invitation link") + marker.len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let key = make_api_key(app, &owner, slug).await;
    post(format!("/m/{slug}/webhooks"), vec![("url", format!("https://hooks.{slug}.example/settle"))]).await;
    ids.by_kind.insert("staff", staff_id);
    ids.by_kind
        .insert("invitation", one(app, "SELECT id FROM merchant_invitations WHERE merchant_id = $1", &mid).await);
    ids.by_kind.insert("invite-token", invite_token);
    ids.by_kind.insert("api-key", one(app, "SELECT id FROM api_keys WHERE merchant_id = $1", &mid).await);
    ids.by_kind.insert("webhook", one(app, "SELECT id FROM webhook_endpoints WHERE merchant_id = $1", &mid).await);
    ids.markers.push(email);
    (owner, key)
}

/// Which of a party's ids a path parameter names, from the parameter and
/// the segment before it. A new kind of id makes this fail loudly, so a
/// new route can't slip past the suite.
fn id_kind(name: &str, before: &str, path: &str) -> &'static str {
    match (name, before) {
        ("id", "invoices") => "invoice",
        ("id", "payments" | "pay") => "payment",
        ("id", "cards") => "card",
        ("id", "customers") => "customer",
        ("id", "api-keys") => "api-key",
        ("id", "webhooks") => "webhook",
        ("id", "invitations") => "invitation",
        ("id", "staff") => "staff",
        ("setup", _) => "setup",
        ("token", "l") => "access-token",
        ("token", "s") => "sign-in-token",
        ("token", "invite") => "invite-token",
        _ => panic!("{path}: teach the isolation suite what {{{name}}} after /{before}/ names"),
    }
}

/// Routes whose parameters aren't owned by a signed-in party.
fn exempt(path: &str) -> Option<&'static str> {
    match path {
        // Logos are public by design: emails show them to anyone.
        "/logos/{file}" => Some("public"),
        // No session: a Stripe event is checked against that merchant's
        // signing secret, so another merchant's id means a bad signature.
        "/webhooks/stripe/{merchant}" => Some("signature-authenticated"),
        _ => None,
    }
}

const FORM: &[(&str, &str)] = &[
    ("date", "2026-04-01"),
    ("reason", "other"),
    ("details", "Testing another customer's invoice"),
    ("decision", "approve"),
    ("role", "viewer"),
    ("reference", "cheque 12"),
    ("number", "4242424242424242"),
    ("expiry", "12 / 30"),
    ("cvc", "123"),
    ("name", "Mallory"),
    ("password", "copper kettle morning drive"),
];

async fn foreign_ids_are_not_found_on_any_route(app: TestApp) {
    let (alice, alice_ids) = customer_with_everything(&app, "acme", "Alice").await;
    // Alice proves it's her again, as removing a card asks, so every route
    // gets as far as looking the id up.
    app.clock.advance(std::time::Duration::from_secs(1)); // after the sign-in email
    alice.post(app.url("/p/acme/account/verify/send-code")).send().await.unwrap();
    let code: String = one(
        &app,
        "SELECT subject FROM messages WHERE customer_id = $1 AND template_key = 'sign_in_code' ORDER BY created_at DESC LIMIT 1",
        &alice_ids.by_kind["customer"],
    )
    .await
    .chars()
    .take(6)
    .collect();
    let res = alice.post(app.url("/p/acme/account/verify/code")).form(&[("code", code.as_str())]).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account/settings?verified=1"), "Alice is stepped up");
    let (_, bob) = customer_with_everything(&app, "acme", "Bob").await;
    let (_, mut carol) = customer_with_everything(&app, "globex", "Carol").await;
    // Acme's own staff ids are the requester's own: kept out of Bob's.
    let (acme_owner, acme_key) = merchant_with_everything(&app, "acme", &mut Ids::default()).await;
    merchant_with_everything(&app, "globex", &mut carol).await;

    let mut tried = 0;
    for e in inventory::all() {
        if exempt(&e.path).is_some() || e.kind == Kind::ServerFn {
            continue;
        }
        let params = e.params();
        if params.iter().all(|p| *p == "slug" || *p == "action") {
            continue;
        }
        let (client, api): (&reqwest::Client, bool) = if e.path.starts_with("/api/") {
            (&acme_owner, true)
        } else if e.path.starts_with("/m/") {
            (&acme_owner, false)
        } else {
            (&alice, false)
        };
        // The same merchant's other customer, and another merchant's;
        // staff and API keys are tried with the other merchant's only.
        let mut others: Vec<(&str, &Ids)> = vec![("another merchant's", &carol)];
        if e.path.starts_with("/p/") {
            others.push(("another customer's", &bob));
        }
        for (whose, ids) in others {
            let mut skip = false;
            let path = e.fill(|name, before| match name {
                "slug" => "acme".into(),
                "action" if before == "{id}" || e.path.contains("/customers/") => {
                    if e.path.contains("/invoices/") {
                        "void".into()
                    } else {
                        "pause".into()
                    }
                }
                _ => {
                    let kind = id_kind(name, before, &e.path);
                    // Another customer's link is a valid way in (it signs in as them).
                    if whose == "another customer's" && kind.ends_with("token") {
                        skip = true;
                    }
                    ids.by_kind.get(kind).cloned().unwrap_or_else(|| panic!("{whose}: no {kind}"))
                }
            });
            if skip {
                continue;
            }
            let method: reqwest::Method = e.method.parse().unwrap();
            let mut req = client.request(method, app.url(&path));
            if api {
                req = req.bearer_auth(&acme_key).json(&serde_json::json!({}));
            } else if e.method != "GET" {
                req = req.form(FORM);
            }
            let mut res = req.send().await.unwrap();
            let mut via = String::new();
            // A form that sends the browser back to its page (to show what
            // went wrong) counts when that page answers 404.
            if e.method == "POST" && res.status() == 303 {
                via = location(&res).unwrap();
                res = client.get(app.url(&via)).send().await.unwrap();
            }
            let status = res.status();
            let body = res.text().await.unwrap();
            assert_eq!(status, 404, "{} {path} with {whose} ids (then {via}): {body:.100}", e.method);
            for m in &ids.markers {
                assert!(!body.contains(m.as_str()), "{} {path} shows {whose} {m}", e.method);
            }
            tried += 1;
        }
    }
    assert!(tried > 40, "only {tried} requests: is the inventory complete?");

    // Server functions take their ids as arguments: each one is called with
    // every foreign id in every argument, and none shows foreign data.
    for e in inventory::server_fns() {
        for (whose, ids) in [("another merchant's", &carol), ("another customer's", &bob)] {
            for (kind, value) in &ids.by_kind {
                if whose == "another customer's" && kind.ends_with("token") {
                    continue;
                }
                // Acme's staff may see Bob: only Alice tries his ids.
                let clients = if whose == "another customer's" { vec![&alice] } else { vec![&alice, &acme_owner] };
                for client in clients {
                    let res = client
                        .post(app.url(&e.path))
                        .header("accept", "application/json")
                        .form(&[("slug", "acme"), ("id", value), ("token", value)])
                        .send()
                        .await
                        .unwrap();
                    let status = res.status();
                    let body = res.text().await.unwrap();
                    for m in &ids.markers {
                        assert!(!body.contains(m.as_str()), "{} with {whose} {kind}: {status} shows {m}", e.path);
                    }
                    if status == 200 {
                        assert!(!body.contains(value.as_str()), "{} echoes {whose} {kind}", e.path);
                    }
                }
            }
        }
    }
}
