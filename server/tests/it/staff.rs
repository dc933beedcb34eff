//! The team, on both backends: invitations by email (one per address per
//! few minutes, owners invite owners), accepting with a name and password
//! (once; weak passwords refused and the link kept), role changes and
//! removals within each role's reach, never leaving a merchant without an
//! owner, and withdrawn links that stop working.

use crate::common::*;
use app::server::repo::merchant_users::{self, Role};

on_both_backends!(staff_are_invited_join_once_and_are_managed_within_their_role);

const PASSWORD: &str = "copper kettle morning drive";

async fn member(app: &TestApp, email: &str, role: Role) -> reqwest::Client {
    let m = app::server::repo::merchants::find_by_slug(app.db.pool(), "acme").await.unwrap().unwrap();
    let hash = app::server::passwords::hash(PASSWORD.into()).await.unwrap();
    merchant_users::insert(app.db.pool(), &m.merchant_id(), email, "Pat", Some(&hash), role, app.clock_now())
        .await
        .unwrap();
    let client = browser();
    client.post(app.url("/m/acme/sign-in")).form(&[("email", email), ("password", PASSWORD)]).send().await.unwrap();
    client
}

async fn notice(app: &TestApp, client: &reqwest::Client) -> String {
    let html = page(client.get(app.url("/m/acme/staff")).send().await.unwrap()).await;
    html.split("role=\"status\"")
        .nth(1)
        .and_then(|s| s.split('>').nth(1))
        .and_then(|s| s.split('<').next())
        .unwrap_or("")
        .to_string()
}

/// The invitation link in the latest email to `to`.
async fn invitation_path(app: &TestApp, to: &str) -> String {
    let (body,): (String,) = sqlx::query_as(
        "SELECT body_text FROM messages WHERE to_address = $1 AND template_key = 'staff_invitation' ORDER BY created_at DESC LIMIT 1",
    )
    .bind(to)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let at = body.find("/m/acme/invite/").expect("a link");
    body[at..].split_whitespace().next().unwrap().to_string()
}

async fn post(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(app.url(path)).form(form).send().await.unwrap()
}

async fn staff_are_invited_join_once_and_are_managed_within_their_role(app: TestApp) {
    app.merchant("acme", "Acme").await;
    app.merchant("globex", "Globex").await;
    let owner = member(&app, "owner@acme.example", Role::Owner).await;
    let admin = member(&app, "admin@acme.example", Role::Admin).await;

    // An admin invites a viewer; a second click sends nothing more.
    post(&app, &admin, "/m/acme/staff/invite", &[("email", "New@Acme.example"), ("role", "viewer")]).await;
    assert_eq!(notice(&app, &admin).await, "Invited new@acme.example as viewer; the email is on its way.");
    post(&app, &admin, "/m/acme/staff/invite", &[("email", "new@acme.example"), ("role", "viewer")]).await;
    assert!(notice(&app, &admin).await.contains("a moment ago"));
    let (emails,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM messages WHERE template_key = 'staff_invitation'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(emails, 1);
    // Admins can't make owners; owners can.
    let res = post(&app, &admin, "/m/acme/staff/invite", &[("email", "boss@acme.example"), ("role", "owner")]).await;
    assert_eq!(res.status(), 403);
    post(&app, &owner, "/m/acme/staff/invite", &[("email", "bad-address"), ("role", "viewer")]).await;
    assert!(notice(&app, &owner).await.contains("is not an email address; nobody was invited"));

    // The link: GET shows it; a weak password is refused and the link kept; then it works once.
    let path = invitation_path(&app, "new@acme.example").await;
    let newbie = browser();
    let html = page(newbie.get(app.url(&path)).send().await.unwrap()).await;
    assert!(html.contains("billing console as viewer, with the address new@acme.example"), "{html}");
    let res = post(&app, &newbie, &path, &[("name", "Nia New"), ("password", "password")]).await;
    assert_eq!(location(&res).as_deref(), Some(path.as_str()));
    assert!(page(newbie.get(app.url(&path)).send().await.unwrap()).await.contains("Choose another password"));
    let res = post(&app, &newbie, &path, &[("name", "Nia New"), ("password", "silver otter canyon bright")]).await;
    assert_eq!(location(&res).as_deref(), Some("/m/acme/dashboard"));
    assert_eq!(newbie.get(app.url("/m/acme/dashboard")).send().await.unwrap().status(), 200);
    let html = page(browser().get(app.url(&path)).send().await.unwrap()).await;
    assert!(html.contains("has been used, withdrawn or has expired"), "used once");
    let again = post(&app, &browser(), &path, &[("name", "Someone"), ("password", "silver otter canyon bright")]).await;
    assert_eq!(location(&again).as_deref(), Some(path.as_str()));
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM merchant_users WHERE email = 'new@acme.example'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
    // Viewers see the team but can't invite.
    let html = page(newbie.get(app.url("/m/acme/staff")).send().await.unwrap()).await;
    assert!(html.contains("admin@acme.example") && !html.contains("Send invitation"));
    assert_eq!(
        post(&app, &newbie, "/m/acme/staff/invite", &[("email", "x@acme.example"), ("role", "viewer")]).await.status(),
        403
    );

    // Roles: an admin may promote a viewer to admin, not touch the owner.
    let app_ref = &app;
    let id = |email: &'static str| async move {
        let (id,): (String,) = sqlx::query_as("SELECT id FROM merchant_users WHERE email = $1")
            .bind(email)
            .fetch_one(app_ref.db.pool())
            .await
            .unwrap();
        id
    };
    let (new_id, owner_id) = (id("new@acme.example").await, id("owner@acme.example").await);
    post(&app, &admin, &format!("/m/acme/staff/{new_id}/role"), &[("role", "admin")]).await;
    assert_eq!(notice(&app, &admin).await, "new@acme.example is now admin.");
    assert_eq!(post(&app, &admin, &format!("/m/acme/staff/{owner_id}/remove"), &[]).await.status(), 403);
    // The only owner can't be demoted, even by themselves… nor removed.
    post(&app, &owner, &format!("/m/acme/staff/{owner_id}/role"), &[("role", "admin")]).await;
    assert!(notice(&app, &owner).await.contains("is the only owner"));
    post(&app, &owner, &format!("/m/acme/staff/{owner_id}/remove"), &[]).await;
    assert!(notice(&app, &owner).await.contains("You can't remove yourself"));
    // Removing someone ends their access on their next click.
    post(&app, &owner, &format!("/m/acme/staff/{new_id}/remove"), &[]).await;
    assert!(notice(&app, &owner).await.starts_with("Removed new@acme.example"));
    let res = newbie.get(app.url("/m/acme/dashboard")).send().await.unwrap();
    assert_eq!(location(&res).as_deref(), Some("/m/acme/sign-in"));

    // A withdrawn invitation's link stops working.
    post(&app, &owner, "/m/acme/staff/invite", &[("email", "later@acme.example"), ("role", "admin")]).await;
    let path = invitation_path(&app, "later@acme.example").await;
    let (inv,): (String,) = sqlx::query_as("SELECT id FROM merchant_invitations WHERE email = 'later@acme.example'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    post(&app, &owner, &format!("/m/acme/staff/invitations/{inv}/withdraw"), &[]).await;
    assert!(notice(&app, &owner).await.starts_with("Withdrew the invitation to later@acme.example"));
    let html = page(browser().get(app.url(&path)).send().await.unwrap()).await;
    assert!(html.contains("has been used, withdrawn or has expired"));
    // The invitation link is for acme only.
    let elsewhere = path.replace("/m/acme/", "/m/globex/");
    assert!(page(browser().get(app.url(&elsewhere)).send().await.unwrap()).await.contains("has been used, withdrawn"));

    // Every change is in the audit log.
    let (audits,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'staff.%'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    // invited ×2, joined, role changed, removed, withdrawn.
    assert_eq!(audits, 6);
}
