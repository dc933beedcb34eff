//! Session lifetime on both backends: 30-minute idle and 12-hour absolute
//! timeouts on the injected clock, and a new session id at sign-in.

use crate::common::flows::*;
use crate::common::*;

const MINUTE: i64 = 60_000;

async fn account_status(app: &TestApp, client: &reqwest::Client) -> u16 {
    client.get(app.url("/p/acme/account")).send().await.unwrap().status().as_u16()
}

async fn idle_sessions_end_after_thirty_minutes(backend: Backend) {
    let Some((app, client)) = app_with_signed_in_customer(backend).await else { return };
    app.clock.set(app.clock_now().plus_millis(29 * MINUTE));
    assert_eq!(account_status(&app, &client).await, 200, "29 minutes idle: still signed in");
    app.clock.set(app.clock_now().plus_millis(29 * MINUTE));
    assert_eq!(account_status(&app, &client).await, 200, "the last request reset the idle clock");
    app.clock.set(app.clock_now().plus_millis(31 * MINUTE));
    assert_eq!(account_status(&app, &client).await, 302, "31 minutes idle: signed out");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(n, 0, "the expired session is deleted on the server");
}

/// The portal identity as the session row stores it.
async fn stored_identity(app: &TestApp) -> serde_json::Value {
    let (data,): (String,) = sqlx::query_as("SELECT data FROM sessions").fetch_one(app.db.pool()).await.unwrap();
    serde_json::from_str::<serde_json::Value>(&data).unwrap()["portal"].clone()
}

/// The account page reads the session inside its own query; the idle clock
/// must still move, and only once a minute (a write per page view would
/// cost every request a second round trip).
async fn the_account_page_moves_the_idle_clock_once_a_minute(backend: Backend) {
    let Some((app, client)) = app_with_signed_in_customer(backend).await else { return };
    let signed_in = stored_identity(&app).await;
    let signed_in_at = signed_in["signed_in_at"].as_i64().unwrap();

    app.clock.set(app.clock_now().plus_millis(MINUTE / 2));
    assert_eq!(account_status(&app, &client).await, 200);
    assert_eq!(stored_identity(&app).await, signed_in, "half a minute in: the session row is not rewritten");

    app.clock.set(app.clock_now().plus_millis(MINUTE));
    let now = app.clock_now();
    assert_eq!(account_status(&app, &client).await, 200);
    let touched = stored_identity(&app).await;
    assert_eq!(touched["last_seen_at"].as_i64(), Some(now.0), "a minute and a half in: the idle clock moved");
    assert_eq!(touched["signed_in_at"].as_i64(), Some(signed_in_at), "the absolute clock did not");
    assert_eq!(touched["customer_id"], signed_in["customer_id"]);

    // 29 minutes after that touch (30½ after sign-in): still signed in.
    app.clock.set(now.plus_millis(29 * MINUTE));
    assert_eq!(account_status(&app, &client).await, 200, "idle time counts from the touch, not from sign-in");
}

async fn sessions_end_twelve_hours_after_sign_in_however_active(backend: Backend) {
    let Some((app, client)) = app_with_signed_in_customer(backend).await else { return };
    // A request every 20 minutes for 12 hours.
    for _ in 0..36 {
        assert_eq!(account_status(&app, &client).await, 200);
        app.clock.set(app.clock_now().plus_millis(20 * MINUTE));
    }
    // Now exactly 12 h after sign-in: still in; a minute later: out.
    assert_eq!(account_status(&app, &client).await, 200);
    app.clock.set(app.clock_now().plus_millis(MINUTE));
    assert_eq!(account_status(&app, &client).await, 302, "past 12 h after sign-in");
}

async fn sign_in_issues_a_new_session_id(backend: Backend) {
    let Some((app, sink)) = app_and_sink(backend).await else { return };
    app.seed_customer_with_invoices("acme", "A").await;
    let client = browser();
    let res = start_sign_in(&app, &client, "a.customer@example.com").await;
    let before = session_cookie(&res).expect("a session holds the pending sign-in");
    let code = code_in(&nth_email(&sink, 1).await);
    let res = enter_code(&app, &client, &code).await;
    let after = session_cookie(&res).expect("new cookie at sign-in");
    assert_ne!(before, after, "session id cycled at sign-in");
    // The pre-sign-in id is gone: replaying it finds no session.
    let replay = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = replay
        .get(app.url("/p/acme/account"))
        .header("cookie", &before)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
}

per_backend!(
    idle_sessions_end_after_thirty_minutes,
    the_account_page_moves_the_idle_clock_once_a_minute,
    sessions_end_twelve_hours_after_sign_in_however_active,
    sign_in_issues_a_new_session_id
);
