//! The access-link flow end to end over HTTP, on SQLite and PostgreSQL:
//! GET shows and consumes nothing, POST signs in, the account page shows
//! only this customer's open invoices, sign-out ends the session.

use crate::common::*;

on_both_backends!(
    valid_link_continue_then_account_shows_open_invoices_and_total,
    get_does_not_consume_the_link,
    expired_link_explains_and_does_not_sign_in,
    garbled_and_unknown_links_get_clear_pages,
    link_reused_after_sign_out_starts_a_new_session_and_old_cookie_is_dead,
    customer_a_never_sees_customer_b_invoices,
    merchant_x_link_never_opens_merchant_y_portal,
    cross_site_post_is_refused,
    account_without_session_redirects_to_portal_home,
    markup_in_names_and_numbers_is_shown_as_text,
    health_and_readiness,
);

async fn valid_link_continue_then_account_shows_open_invoices_and_total(app: TestApp) {
    let s = app.seed_customer_with_invoices("acme", "A").await;
    let (_, path) = app.link(&s.merchant, &s.customer).await;
    let client = browser();

    let res = client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = page(res).await;
    assert!(html.contains("Continue to your account"), "{html}");
    assert!(html.contains("Hi A</h1>"), "greets the customer by first name");
    assert!(html.contains(&format!("action=\"{path}\"")), "the button posts back to the link");

    let res = sign_in_with_link(&app, &client, &path).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account"));
    let cookie = res.headers().get("set-cookie").expect("session cookie").to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");

    let account = client.get(app.url("/p/acme/account")).send().await.unwrap();
    assert_eq!(account.status(), 200);
    let html = page(account).await;
    for n in &s.invoice_numbers {
        assert!(html.contains(n.as_str()), "open invoice {n} listed");
    }
    assert!(!html.contains("A-PAID") && !html.contains("A-VOID"), "paid and void invoices are not open");
    assert!(html.contains("$200.50"), "balance is 120.00 + 80.50");
    assert!(html.contains("$120.00 overdue"), "overdue part of the balance");
    assert!(html.contains("10 days overdue") && html.contains("Due in 5 days"));
}

/// The account page and the portal's header and footer are written as HTML
/// text (`account_html`, `layout.rs`): what merchants and imports stored
/// must come out as text there, in element content and in attributes.
async fn markup_in_names_and_numbers_is_shown_as_text(app: TestApp) {
    let hostile = "<img src=x onerror=alert(1)>";
    app.merchant("evil", "Shop \"<b>Bold</b>\" & Co's").await;
    let s = app.seed_customer_with_invoices("evil", hostile).await;
    let (_, path) = app.link(&s.merchant, &s.customer).await;
    let client = browser();
    sign_in_with_link(&app, &client, &path).await;
    let html = page(client.get(app.url("/p/evil/account")).send().await.unwrap()).await;

    for raw in ["<img src=x", "<b>"] {
        let at = html.find(raw).map(|i| &html[i.saturating_sub(200)..(i + 100).min(html.len())]);
        assert_eq!(at, None, "no stored markup reaches the page");
    }
    let shown = "&lt;img src=x onerror=alert(1)&gt;";
    assert!(html.contains(&format!("Signed in as <strong>{shown} Customer</strong>")), "the customer's name");
    for n in ["1", "2"] {
        assert!(html.contains(&format!(">{shown}-{n}</a>")), "invoice {n}'s number as text");
        assert!(html.contains(&format!("data-invoice=\"{shown}-{n}\"")), "and in the sort attribute");
    }
    let merchant = "Shop &quot;&lt;b&gt;Bold&lt;/b&gt;&quot; &amp; Co&#39;s";
    assert!(html.contains(&format!("<span class=\"portal__name\">{merchant}</span>")), "the header");
    assert!(html.contains(&format!("<p>Payments for {merchant} · Powered by Settle</p>")), "the footer");
    // leptos_meta writes <title> as it is given: `App`'s formatter escapes it.
    assert!(html.contains(&format!("<title>Your account · {merchant}</title>")), "the title");
}

async fn get_does_not_consume_the_link(app: TestApp) {
    let s = app.seed_customer_with_invoices("acme", "A").await;
    let (token, path) = app.link(&s.merchant, &s.customer).await;
    for _ in 0..3 {
        // What a mail scanner does.
        let res = fetch(app.url(&path)).await;
        assert_eq!(res.status(), 200);
    }
    let (uses, last_used): (i64, Option<i64>) =
        sqlx::query_as("SELECT use_count, last_used_at FROM access_tokens WHERE token_hash = $1")
            .bind(token.hash())
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((uses, last_used), (0, None), "GETs change nothing");
    let (sessions,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(sessions, 0, "GETs start no session");

    let client = browser();
    let res = sign_in_with_link(&app, &client, &path).await;
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account"));
    let (uses,): (i64,) = sqlx::query_as("SELECT use_count FROM access_tokens WHERE token_hash = $1")
        .bind(token.hash())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(uses, 1);
}

async fn expired_link_explains_and_does_not_sign_in(app: TestApp) {
    let s = app.seed_customer_with_invoices("acme", "A").await;
    let (_, path) = app.link(&s.merchant, &s.customer).await;
    app.clock.advance_days(13);
    assert_eq!(fetch(app.url(&path)).await.status(), 200, "still valid on day 13");
    app.clock.advance_days(1);

    let res = fetch(app.url(&path)).await;
    assert_eq!(res.status(), 410);
    let html = page(res).await;
    assert!(html.contains("This link has expired"));
    assert!(html.contains("billing@acme.example"), "tells how to get a new link");
    assert!(!html.contains("we sent you"), "no pretend email");

    let client = browser();
    let res = sign_in_with_link(&app, &client, &path).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res).as_deref(), Some(path.as_str()), "back to the explanation");
    assert!(session_cookie(&res).is_none());
    let account = client.get(app.url("/p/acme/account")).send().await.unwrap();
    assert_eq!(location(&account).as_deref(), Some("/p/acme"));
}

async fn garbled_and_unknown_links_get_clear_pages(app: TestApp) {
    let s = app.seed_customer_with_invoices("acme", "A").await;
    let (token, _) = app.link(&s.merchant, &s.customer).await;
    let truncated = &token.expose()[..15];

    let res = fetch(app.url(&format!("/p/acme/l/{truncated}"))).await;
    assert_eq!(res.status(), 400);
    assert!(page(res).await.contains("This link looks incomplete"));

    let res = fetch(app.url("/p/acme/l/%F0%9F%92%B8%00%0D%0Axx")).await;
    assert_eq!(res.status(), 400, "binary junk is just a malformed link");

    let unknown = app::server::tokens::SecretToken::generate();
    let res = fetch(app.url(&format!("/p/acme/l/{}", unknown.expose()))).await;
    assert_eq!(res.status(), 404);
    assert!(page(res).await.contains("This link isn't valid"));

    let res = fetch(app.url(&format!("/p/nobody/l/{}", token.expose()))).await;
    assert_eq!(res.status(), 404);
    assert!(page(res).await.contains("Page not found"));

    let client = browser();
    for bad in [format!("/p/acme/l/{truncated}"), format!("/p/acme/l/{}", unknown.expose())] {
        let res = sign_in_with_link(&app, &client, &bad).await;
        assert_eq!(res.status(), 303);
        assert!(session_cookie(&res).is_none(), "no session from {bad}");
    }
}

async fn link_reused_after_sign_out_starts_a_new_session_and_old_cookie_is_dead(app: TestApp) {
    let s = app.seed_customer_with_invoices("acme", "A").await;
    let (_, path) = app.link(&s.merchant, &s.customer).await;
    let client = browser();
    let first = sign_in_with_link(&app, &client, &path).await;
    let old_cookie = session_cookie(&first).expect("cookie");
    assert_eq!(client.get(app.url("/p/acme/account")).send().await.unwrap().status(), 200);

    let out = client.post(app.url("/p/acme/sign-out")).send().await.unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(location(&out).as_deref(), Some("/p/acme"));
    let after = client.get(app.url("/p/acme/account")).send().await.unwrap();
    assert_eq!(location(&after).as_deref(), Some("/p/acme"), "signed out");

    // Replaying the old cookie by hand: the server deleted that session.
    let replay = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = replay.get(app.url("/p/acme/account")).header("cookie", &old_cookie).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/p/acme"), "old session is dead server-side");

    // The link itself stays good until it expires: a new, different session.
    let second = sign_in_with_link(&app, &client, &path).await;
    assert_eq!(location(&second).as_deref(), Some("/p/acme/account"));
    let new_cookie = session_cookie(&second).expect("new cookie");
    assert_ne!(new_cookie, old_cookie, "a fresh session id");
    assert_eq!(client.get(app.url("/p/acme/account")).send().await.unwrap().status(), 200);
}

async fn customer_a_never_sees_customer_b_invoices(app: TestApp) {
    let a = app.seed_customer_with_invoices("acme", "ALPHA").await;
    let b = app.seed_customer_with_invoices("acme", "BRAVO").await;
    let (_, a_path) = app.link(&a.merchant, &a.customer).await;
    let client = browser();
    sign_in_with_link(&app, &client, &a_path).await;
    let html = client.get(app.url("/p/acme/account")).send().await.map(page).unwrap().await;
    assert!(html.contains("ALPHA-1"));
    assert!(!html.contains("BRAVO"), "B's invoices leaked into A's page");

    // The server function behind the page answers the same way.
    let res = call_account_fn(&app, &client, "acme").await;
    assert_eq!(res.status(), 200);
    let body = page(res).await;
    assert!(body.contains("ALPHA-2") && !body.contains("BRAVO"), "{body}");
    let _ = b;
}

async fn merchant_x_link_never_opens_merchant_y_portal(app: TestApp) {
    let x = app.seed_customer_with_invoices("xeno", "X").await;
    let y = app.seed_customer_with_invoices("yarrow", "Y").await;
    let (x_token, x_path) = app.link(&x.merchant, &x.customer).await;

    let cross = format!("/p/yarrow/l/{}", x_token.expose());
    let res = fetch(app.url(&cross)).await;
    assert_eq!(res.status(), 404);
    let html = page(res).await;
    assert!(html.contains("This link isn't valid") && html.contains("YARROW"), "Y's page, Y's branding");
    assert!(!html.contains("X Customer"), "X's customer is not revealed");

    let client = browser();
    let res = sign_in_with_link(&app, &client, &cross).await;
    assert!(session_cookie(&res).is_none());

    // Signed in at X, the browser is still a stranger at Y.
    sign_in_with_link(&app, &client, &x_path).await;
    assert_eq!(client.get(app.url("/p/xeno/account")).send().await.unwrap().status(), 200);
    let res = client.get(app.url("/p/yarrow/account")).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/p/yarrow"));
    let res = call_account_fn(&app, &client, "yarrow").await;
    let body = page(res).await;
    assert!(body.contains("NotSignedIn") && !body.contains("Y-1"), "{body}");
    let _ = y;
}

async fn cross_site_post_is_refused(app: TestApp) {
    let s = app.seed_customer_with_invoices("acme", "A").await;
    let (_, path) = app.link(&s.merchant, &s.customer).await;
    let client = browser();
    let res = client.post(app.url(&path)).header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(session_cookie(&res).is_none());
    let res = client.post(app.url(&path)).header("sec-fetch-site", "cross-site").send().await.unwrap();
    assert_eq!(res.status(), 403);
    let res = client
        .post(app.url("/_srv/account"))
        .header("origin", "https://evil.example")
        .body("slug=acme")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "server functions are guarded too");
    // Every form endpoint is behind the same guard.
    for path in [
        "/p/acme/sign-out",
        "/p/acme/sign-in",
        "/p/acme/sign-in/code",
        "/p/acme/sign-in/password",
        "/p/acme/s/AAAAAAAAAAAAAAAAAAAAAA",
        "/p/acme/l/AAAAAAAAAAAAAAAAAAAAAA/renew",
        "/p/acme/account/password",
        "/p/acme/account/contact",
        "/p/acme/account/preferences",
        "/p/acme/account/verify/password",
        "/p/acme/account/verify/send-code",
        "/p/acme/account/verify/code",
        "/p/acme/account/cards/pm_x/remove",
        "/p/acme/invoices/inv_x/promise",
        "/p/acme/invoices/inv_x/dispute",
        "/_srv/link_status",
        "/_srv/sign_in_pending",
        "/_srv/settings",
    ] {
        let res = client.post(app.url(path)).header("origin", "https://evil.example").send().await.unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
    // Same origin, as a browser sends it, passes.
    let res = client.post(app.url(&path)).header("origin", app.base.as_str()).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/p/acme/account"));
}

async fn account_without_session_redirects_to_portal_home(app: TestApp) {
    app.seed_customer_with_invoices("acme", "A").await;
    let client = browser();
    let res = client.get(app.url("/p/acme/account")).send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(location(&res).as_deref(), Some("/p/acme"));
    let home = client.get(app.url("/p/acme")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    assert!(page(home).await.contains("open the link in the most recent email"));
    let res = client.get(app.url("/p/nobody/account")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = client.post(app.url("/p/Bad%0D%0ASlug/sign-out")).send().await.unwrap();
    assert_eq!(res.status(), 404, "no redirect built from a bad slug");
}

async fn health_and_readiness(app: TestApp) {
    let res = fetch(app.url("/healthz")).await;
    assert_eq!(res.status(), 200);
    let res = fetch(app.url("/readyz")).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    let expected = match app.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(body["database"], expected);
    app.db.close().await;
    let res = fetch(app.url("/readyz")).await;
    assert_eq!(res.status(), 503, "database gone: not ready");
}

mod https_deployment {
    use crate::common::*;

    async fn host_prefixed_secure_cookie(backend: Backend) {
        let Some(app) = spawn_app_with(backend, |c| {
            c.base_url = url::Url::parse("https://pay.acme.example").unwrap();
        })
        .await
        else {
            return;
        };
        let s = app.seed_customer_with_invoices("acme", "A").await;
        let (_, path) = app.link(&s.merchant, &s.customer).await;
        let res = browser().post(app.url(&path)).header("origin", "https://pay.acme.example").send().await.unwrap();
        assert_eq!(location(&res).as_deref(), Some("/p/acme/account"));
        let cookie = res.headers().get("set-cookie").expect("cookie").to_str().unwrap().to_string();
        assert!(cookie.starts_with("__Host-settle_session="), "{cookie}");
        assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("Path=/"), "{cookie}");
        assert!(!cookie.contains("Domain="), "__Host- cookies carry no Domain: {cookie}");
        // The configured public origin is the only accepted one.
        let res = browser().post(app.url(&path)).header("origin", "http://pay.acme.example").send().await.unwrap();
        assert_eq!(res.status(), 403);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        host_prefixed_secure_cookie(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        host_prefixed_secure_cookie(Backend::Postgres).await
    }
}
