//! Console staff for tests: a member with a password, signed in through
//! the real form, and an API key made the way an owner makes one.

use super::*;
use app::server::ids::MerchantUserId;
use app::server::repo::merchant_users::{self, Role};

pub const STAFF_PASSWORD: &str = "copper kettle morning drive";

/// Adds `email` to merchant `slug` with `role`; returns the member's id.
pub async fn add_member(app: &TestApp, slug: &str, email: &str, role: Role) -> MerchantUserId {
    let m = merchants::find_by_slug(app.db.pool(), slug).await.unwrap().expect("merchant exists");
    let hash = app::server::passwords::hash(STAFF_PASSWORD.into()).await.unwrap();
    merchant_users::insert(app.db.pool(), &m.merchant_id(), email, "Pat Staff", Some(&hash), role, app.clock_now())
        .await
        .unwrap()
}

/// A browser signed in to `slug`'s console as a new member.
pub async fn signed_in_member(app: &TestApp, slug: &str, email: &str, role: Role) -> reqwest::Client {
    add_member(app, slug, email, role).await;
    let client = browser();
    let res = client
        .post(app.url(&format!("/m/{slug}/sign-in")))
        .form(&[("email", email), ("password", STAFF_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "{email} signs in to {slug}");
    client
}

/// Makes an API key in the console as `owner`; returns the secret shown.
pub async fn make_api_key(app: &TestApp, owner: &reqwest::Client, slug: &str) -> String {
    let res = owner.post(app.url(&format!("/m/{slug}/api-keys"))).form(&[("name", "Books sync")]).send().await.unwrap();
    let html = res.text().await.unwrap();
    let at = html.find("sk_settle_").expect("the key is shown");
    html[at..at + "sk_settle_".len() + 22].to_string()
}
