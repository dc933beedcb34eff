//! A local HTTP double of Twilio's Messages API, for the SMS adapter: it
//! checks every request's shape the way Twilio does (path with the account
//! id, basic auth, form fields To/From/Body, E.164 numbers, body length)
//! and answers like Twilio: 201 with a message sid, or a JSON error with
//! Twilio's code. Numbers marked unsubscribed get error 21610.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Json, Router};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "test_auth_token_0123456789abcdef";
pub const FROM: &str = "+15550009999";

#[derive(Clone, Debug)]
pub struct Received {
    pub to: String,
    pub from: String,
    pub body: String,
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    /// Requests refused for their shape, with the reason (must stay empty).
    malformed: Vec<String>,
    unsubscribed: Vec<String>,
}

#[derive(Clone)]
pub struct TwilioDouble {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl TwilioDouble {
    pub async fn start() -> TwilioDouble {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let router = Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(create_message))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        TwilioDouble { base, inner }
    }

    pub fn settings(&self) -> settle::sms::TwilioSettings {
        settle::sms::TwilioSettings {
            api_base: url::Url::parse(&self.base).unwrap(),
            account_sid: ACCOUNT_SID.into(),
            auth_token: AUTH_TOKEN.into(),
            from: FROM.into(),
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    pub fn malformed(&self) -> Vec<String> {
        self.inner.lock().unwrap().malformed.clone()
    }

    /// The carrier has this number's STOP on record.
    pub fn unsubscribe(&self, number: &str) {
        self.inner.lock().unwrap().unsubscribed.push(number.into());
    }
}

fn e164(n: &str) -> bool {
    n.len() >= 8 && n.len() <= 16 && n.starts_with('+') && n[1..].chars().all(|c| c.is_ascii_digit())
}

async fn create_message(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<serde_json::Value>) {
    use base64::Engine;
    let error = |status: StatusCode, code: i64, message: &str| {
        (status, Json(serde_json::json!({ "code": code, "message": message, "status": status.as_u16() })))
    };
    let expected_auth =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}")));
    let mut inner = inner.lock().unwrap();
    if sid != ACCOUNT_SID || headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&expected_auth) {
        inner.malformed.push("authentication".into());
        return error(StatusCode::UNAUTHORIZED, 20003, "Authenticate");
    }
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let problem = if !content_type.starts_with("application/x-www-form-urlencoded") {
        Some(format!("content type {content_type}"))
    } else if !e164(&field("To")) {
        Some(format!("To {:?}", field("To")))
    } else if field("From") != FROM {
        Some(format!("From {:?}", field("From")))
    } else if field("Body").is_empty() || field("Body").chars().count() > 1600 {
        Some(format!("Body of {} characters", field("Body").chars().count()))
    } else if form.keys().any(|k| !["To", "From", "Body", "StatusCallback"].contains(&k.as_str())) {
        Some(format!("unexpected fields {:?}", form.keys().collect::<Vec<_>>()))
    } else {
        None
    };
    if let Some(p) = problem {
        inner.malformed.push(p.clone());
        return error(StatusCode::BAD_REQUEST, 21604, &p);
    }
    if inner.unsubscribed.contains(&field("To")) {
        return error(StatusCode::BAD_REQUEST, 21610, "Attempt to send to unsubscribed recipient");
    }
    inner.received.push(Received { to: field("To"), from: field("From"), body: field("Body") });
    let sid = format!("SM{:032x}", inner.received.len());
    (StatusCode::CREATED, Json(serde_json::json!({ "sid": sid, "status": "queued", "to": field("To") })))
}
