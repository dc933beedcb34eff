//! The REST API, on both backends: keys made in the console (shown once,
//! stored hashed, revocable), JSON errors with a code and the field at
//! fault, cursor pages, Idempotency-Key replays and refusals, two
//! merchants kept apart, invoices created and voided, and the OpenAPI
//! document describing exactly these routes.

use crate::common::*;
use app::server::repo::merchant_users::{self, Role};
use serde_json::{json, Value};

on_both_backends!(keys_customers_invoices_and_idempotency);

const PASSWORD: &str = "copper kettle morning drive";

/// Signs in as the merchant's owner and makes a key in the console.
async fn key_for(app: &TestApp, slug: &str) -> (reqwest::Client, String) {
    let m = app::server::repo::merchants::find_by_slug(app.db.pool(), slug).await.unwrap().unwrap();
    let email = format!("owner@{slug}.example");
    let hash = app::server::passwords::hash(PASSWORD.into()).await.unwrap();
    merchant_users::insert(app.db.pool(), &m.merchant_id(), &email, "Owner", Some(&hash), Role::Owner, app.clock_now())
        .await
        .unwrap();
    let owner = browser();
    owner
        .post(app.url(&format!("/m/{slug}/sign-in")))
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let res = owner.post(app.url(&format!("/m/{slug}/api-keys"))).form(&[("name", "Books sync")]).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    let at = html.find("sk_settle_").expect("the key is shown");
    (owner, html[at..at + "sk_settle_".len() + 22].to_string())
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
    idem: Option<&str>,
) -> (u16, Value, bool) {
    let client = reqwest::Client::new();
    let mut req = client.request(method.parse().unwrap(), app.url(path));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(i) = idem {
        req = req.header("Idempotency-Key", i);
    }
    let res = req.send().await.unwrap();
    let replayed = res.headers().get("idempotent-replayed").is_some();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}")), replayed)
}

async fn keys_customers_invoices_and_idempotency(app: TestApp) {
    app.merchant("acme", "Acme").await;
    app.merchant("globex", "Globex").await;
    let (owner, key) = key_for(&app, "acme").await;
    let (_, other_key) = key_for(&app, "globex").await;
    // Stored as a fingerprint only.
    let (stored,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_keys WHERE key_hash = $1 OR prefix = $1")
        .bind(&key)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // No key, a wrong key: 401 in the one error shape.
    let (status, body, _) = call(&app, "GET", "/api/v1/customers", None, None, None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthorized")));
    let (status, _, _) =
        call(&app, "GET", "/api/v1/customers", Some("sk_settle_AAAAAAAAAAAAAAAAAAAAAA"), None, None).await;
    assert_eq!(status, 401);

    // Create, with a bad field named; then with an Idempotency-Key, replayed once.
    let (status, body, _) =
        call(&app, "POST", "/api/v1/customers", Some(&key), Some(json!({"name": "Ada", "email": "ada"})), None).await;
    assert_eq!((status, body["error"]["param"].as_str()), (422, Some("email")), "{body}");
    let (status, body, _) =
        call(&app, "POST", "/api/v1/customers", Some(&key), Some(json!({"nmae": "Ada"})), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("invalid_request")), "{body}");
    let ada = json!({"name": "Ada Lovelace", "email": "Ada@Example.com", "external_ref": "C-1"});
    let (status, first, replayed) =
        call(&app, "POST", "/api/v1/customers", Some(&key), Some(ada.clone()), Some("k-1")).await;
    assert_eq!((status, replayed), (201, false), "{first}");
    assert_eq!(
        (first["email"].as_str(), first["time_zone"].as_str()),
        (Some("ada@example.com"), Some("America/Chicago"))
    );
    let (status, again, replayed) =
        call(&app, "POST", "/api/v1/customers", Some(&key), Some(ada.clone()), Some("k-1")).await;
    assert_eq!((status, replayed, again["id"].clone()), (201, true, first["id"].clone()));
    let (status, body, _) = call(
        &app,
        "POST",
        "/api/v1/customers",
        Some(&key),
        Some(json!({"name": "B", "email": "b@x.example"})),
        Some("k-1"),
    )
    .await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("idempotency_key_reused")));
    // Without a key, the same external_ref is a conflict, not a second customer.
    let (status, body, _) = call(&app, "POST", "/api/v1/customers", Some(&key), Some(ada), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("conflict")), "{body}");
    for n in 2..=3 {
        let c = json!({"name": format!("Customer {n}"), "email": format!("c{n}@example.com")});
        assert_eq!(call(&app, "POST", "/api/v1/customers", Some(&key), Some(c), None).await.0, 201);
    }

    // Cursor pages.
    let (_, page1, _) = call(&app, "GET", "/api/v1/customers?limit=2", Some(&key), None, None).await;
    assert_eq!((page1["data"].as_array().unwrap().len(), page1["has_more"].as_bool()), (2, Some(true)));
    let cursor = page1["next_cursor"].as_str().unwrap().to_string();
    let (_, page2, _) =
        call(&app, "GET", &format!("/api/v1/customers?limit=2&starting_after={cursor}"), Some(&key), None, None).await;
    assert_eq!((page2["data"].as_array().unwrap().len(), page2["has_more"].as_bool()), (1, Some(false)));
    assert_eq!(call(&app, "GET", "/api/v1/customers?limit=0", Some(&key), None, None).await.0, 422);
    let (_, found, _) = call(&app, "GET", "/api/v1/customers?email=ADA@example.com", Some(&key), None, None).await;
    assert_eq!(found["data"][0]["id"], first["id"]);

    // Updates: what is sent changes, the rest stays; bad values are refused by field.
    let ada_path = format!("/api/v1/customers/{}", first["id"].as_str().unwrap());
    let (status, changed, _) =
        call(&app, "PATCH", &ada_path, Some(&key), Some(json!({"phone": "+1 555 0100"})), None).await;
    assert_eq!(
        (status, changed["phone"].as_str(), changed["name"].as_str()),
        (200, Some("+1 555 0100"), Some("Ada Lovelace"))
    );
    let (status, body, _) =
        call(&app, "PATCH", &ada_path, Some(&key), Some(json!({"time_zone": "Mars/Base"})), None).await;
    assert_eq!((status, body["error"]["param"].as_str()), (422, Some("time_zone")));

    // Another merchant's key sees none of it.
    let ada_id = first["id"].as_str().unwrap().to_string();
    assert_eq!(call(&app, "GET", &format!("/api/v1/customers/{ada_id}"), Some(&other_key), None, None).await.0, 404);
    let (_, theirs, _) = call(&app, "GET", "/api/v1/customers", Some(&other_key), None, None).await;
    assert_eq!(theirs["data"].as_array().unwrap().len(), 0);

    // Invoices: create, a taken number, list by customer, void.
    let inv = json!({"customer_id": ada_id, "number": "INV-1", "amount": 12050, "tax": 950, "due_on": "2026-03-31"});
    let (status, invoice, _) = call(&app, "POST", "/api/v1/invoices", Some(&key), Some(inv.clone()), Some("i-1")).await;
    assert_eq!(status, 201, "{invoice}");
    assert_eq!(
        (invoice["total"].as_i64(), invoice["amount_due"].as_i64(), invoice["status"].as_str()),
        (Some(13000), Some(13000), Some("open"))
    );
    assert_eq!(invoice["due_at"].as_i64(), Some(1_775_019_600_000 - 1), "end of the day in Chicago");
    let (status, _, replayed) =
        call(&app, "POST", "/api/v1/invoices", Some(&key), Some(inv.clone()), Some("i-1")).await;
    assert_eq!((status, replayed), (201, true));
    let (status, body, _) = call(&app, "POST", "/api/v1/invoices", Some(&key), Some(inv), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("conflict")), "{body}");
    let (status, body, _) = call(
        &app,
        "POST",
        "/api/v1/invoices",
        Some(&other_key),
        Some(json!({"customer_id": ada_id, "number": "G-1", "amount": 100, "due_on": "2026-03-31"})),
        None,
    )
    .await;
    assert_eq!((status, body["error"]["param"].as_str()), (422, Some("customer_id")), "another merchant's customer");
    let (_, list, _) =
        call(&app, "GET", &format!("/api/v1/invoices?customer_id={ada_id}"), Some(&key), None, None).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let inv_id = invoice["id"].as_str().unwrap();
    // Updates: a new due date (the sequence starts over), refusals in words.
    let (status, updated, _) = call(
        &app,
        "PATCH",
        &format!("/api/v1/invoices/{inv_id}"),
        Some(&key),
        Some(json!({"due_on": "2026-04-30", "memo": "April"})),
        None,
    )
    .await;
    assert_eq!((status, updated["memo"].as_str()), (200, Some("April")), "{updated}");
    assert!(updated["due_at"].as_i64().unwrap() > invoice["due_at"].as_i64().unwrap());
    let (status, body, _) =
        call(&app, "PATCH", &format!("/api/v1/invoices/{inv_id}"), Some(&key), Some(json!({"due_on": "soon"})), None)
            .await;
    assert_eq!((status, body["error"]["param"].as_str()), (422, Some("due_on")));
    let (status, body, _) =
        call(&app, "PATCH", &format!("/api/v1/invoices/{inv_id}"), Some(&key), Some(json!({"amount": 5})), None).await;
    assert_eq!((status, body["error"]["param"].as_str()), (422, Some("body")), "unknown fields are refused: {body}");
    assert_eq!(
        call(&app, "PATCH", &format!("/api/v1/invoices/{inv_id}"), Some(&other_key), Some(json!({"memo": "x"})), None)
            .await
            .0,
        404
    );
    let (status, voided, _) =
        call(&app, "POST", &format!("/api/v1/invoices/{inv_id}/void"), Some(&key), None, None).await;
    assert_eq!((status, voided["status"].as_str()), (200, Some("void")));
    assert_eq!(
        call(&app, "POST", &format!("/api/v1/invoices/{inv_id}/void"), Some(&other_key), None, None).await.0,
        404
    );

    // Payments and events: the voided invoice's event, another merchant's nothing.
    let (_, events, _) = call(&app, "GET", "/api/v1/events?type=invoice_voided", Some(&key), None, None).await;
    assert_eq!(events["data"].as_array().unwrap().len(), 1, "{events}");
    assert_eq!(events["data"][0]["invoice_id"].as_str(), Some(inv_id));
    let (_, theirs, _) = call(&app, "GET", "/api/v1/events", Some(&other_key), None, None).await;
    assert_eq!(theirs["data"].as_array().unwrap().len(), 0);
    let (status, payments, _) = call(&app, "GET", "/api/v1/payments", Some(&key), None, None).await;
    assert_eq!((status, payments["data"].as_array().unwrap().len()), (200, 0));

    // Revoked: refused from then on.
    let (key_id,): (String,) =
        sqlx::query_as("SELECT id FROM api_keys ORDER BY created_at LIMIT 1").fetch_one(app.db.pool()).await.unwrap();
    owner.post(app.url(&format!("/m/acme/api-keys/{key_id}/revoke"))).send().await.unwrap();
    assert_eq!(call(&app, "GET", "/api/v1/customers", Some(&key), None, None).await.0, 401);

    // The document lists these routes and the bearer scheme.
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
    for path in [
        "/api/v1/customers",
        "/api/v1/customers/{id}",
        "/api/v1/invoices",
        "/api/v1/invoices/{id}",
        "/api/v1/invoices/{id}/void",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    assert_eq!(doc["components"]["securitySchemes"]["api_key"]["scheme"], "bearer");
    assert!(doc["paths"]["/api/v1/customers"]["post"]["requestBody"].is_object());
}
