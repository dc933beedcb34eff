//! `settle create-merchant`, on both backends: a merchant and its owner
//! (argon2id hash, lower-cased email, an audit entry) in one go; every bad
//! input refused with a message naming the option, and nothing written; a
//! taken portal address refused. The CLI reads the password from the
//! environment or stdin, never from its arguments.

use crate::common::*;
use app::server::ids::MerchantId;
use app::server::repo::{merchant_users, merchants};
use settle::merchant_admin::{create_merchant, MerchantAdminError, NewMerchantRequest};

on_both_backends!(a_merchant_and_its_owner_are_created, bad_input_is_refused_and_nothing_is_written);

fn request() -> NewMerchantRequest {
    NewMerchantRequest {
        slug: "northwind".into(),
        name: "Northwind Traders".into(),
        owner_email: " Owner@Northwind.Example ".into(),
        owner_name: "Nancy Davolio".into(),
        time_zone: "Europe/Berlin".into(),
        currency: "EUR".into(),
        owner_password: "copper kettle morning drive".into(),
    }
}

async fn counts(app: &TestApp) -> (i64, i64, i64) {
    let one = |sql: &'static str| async move {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(app.db.pool()).await.unwrap();
        n
    };
    (
        one("SELECT COUNT(*) FROM merchants").await,
        one("SELECT COUNT(*) FROM merchant_users").await,
        one("SELECT COUNT(*) FROM audit_log WHERE action = 'merchant_created'").await,
    )
}

async fn a_merchant_and_its_owner_are_created(app: TestApp) {
    let before = counts(&app).await;
    let said = create_merchant(&app.db, app.clock.as_ref(), request()).await.unwrap();
    assert_eq!(
        said,
        "Created merchant Northwind Traders (portal address `northwind`, EUR, Europe/Berlin) with owner \
         owner@northwind.example."
    );
    let m = merchants::find_by_slug(app.db.pool(), "northwind").await.unwrap().expect("the merchant");
    assert_eq!((m.display_name.as_str(), m.time_zone.as_str()), ("Northwind Traders", "Europe/Berlin"));
    assert_eq!(m.default_currency, "EUR");
    assert_eq!(m.gateway, "sandbox", "a new merchant starts in test mode");
    let id = MerchantId::from_trusted(m.id.clone());
    let owner =
        merchant_users::find_by_email(app.db.pool(), &id, "OWNER@northwind.example").await.unwrap().expect("owner");
    assert_eq!((owner.role.as_str(), owner.name.as_str()), ("owner", "Nancy Davolio"));
    let hash = owner.password_hash.clone().unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(app::server::passwords::verify(Some(hash.clone()), "copper kettle morning drive".into()).await);
    assert!(!app::server::passwords::verify(Some(hash), "copper kettle morning drivE".into()).await);
    let after = counts(&app).await;
    assert_eq!((after.0 - before.0, after.1 - before.1, after.2 - before.2), (1, 1, 1));

    // The same address again: refused, by name, and nothing added.
    let again = NewMerchantRequest { owner_email: "someone@else.example".into(), ..request() };
    let e = create_merchant(&app.db, app.clock.as_ref(), again).await.unwrap_err();
    assert!(matches!(e, MerchantAdminError::SlugTaken(_)), "{e:?}");
    assert_eq!(e.to_string(), "the portal address `northwind` is taken by another merchant");
    assert_eq!(counts(&app).await, after);
}

async fn bad_input_is_refused_and_nothing_is_written(app: TestApp) {
    let before = counts(&app).await;
    let cases: Vec<(NewMerchantRequest, &str)> = vec![
        (NewMerchantRequest { slug: "North Wind".into(), ..request() }, "--slug `North Wind` is not a valid portal"),
        (NewMerchantRequest { slug: "-nw".into(), ..request() }, "--slug `-nw` is not a valid portal address"),
        (NewMerchantRequest { name: "  ".into(), ..request() }, "--name must not be empty"),
        (NewMerchantRequest { owner_email: "nancy".into(), ..request() }, "--owner-email `nancy` is not an email"),
        (NewMerchantRequest { time_zone: "Berlin".into(), ..request() }, "--time-zone `Berlin` is not an IANA"),
        (NewMerchantRequest { currency: "EURO".into(), ..request() }, "--currency `EURO` is not a supported"),
        (
            NewMerchantRequest { owner_password: "short".into(), ..request() },
            "the owner's password is not accepted: Use at least",
        ),
        (NewMerchantRequest { owner_password: "password123".into(), ..request() }, "too common"),
        (NewMerchantRequest { owner_password: "northwindtraders".into(), ..request() }, "Don't use your name"),
    ];
    for (req, expected) in cases {
        let e = create_merchant(&app.db, app.clock.as_ref(), req).await.unwrap_err();
        assert!(e.to_string().contains(expected), "expected `{expected}` in `{e}`");
    }
    assert_eq!(counts(&app).await, before, "nothing was written");
}

/// The command line: the password from the environment or stdin; without
/// one, a clear error and exit status 1.
#[test]
fn the_cli_takes_the_password_from_the_environment_or_stdin() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let settle = |args: &[&str], password_env: Option<&str>, stdin: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_settle"));
        cmd.args(["create-merchant", "--owner-email", "owner@example.org", "--name", "Bluebird Bakery"])
            .args(args)
            .env("SETTLE_DATA_DIR", dir.path())
            .env("SETTLE_LOG", "error")
            .env_remove("SETTLE_OWNER_PASSWORD")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(p) = password_env {
            cmd.env("SETTLE_OWNER_PASSWORD", p);
        }
        let mut child = cmd.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, _, err) = settle(&["--slug", "bluebird"], None, None);
    assert_eq!(code, Some(1));
    assert!(err.contains("set SETTLE_OWNER_PASSWORD or pass --password-stdin"), "{err}");

    let (code, out, err) = settle(&["--slug", "bluebird"], Some("violet harbour lantern seven"), None);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("Created merchant Bluebird Bakery (portal address `bluebird`, USD, UTC)"), "{out}");

    let (code, out, err) =
        settle(&["--slug", "bluebird-two", "--password-stdin"], None, Some("violet harbour lantern seven\n"));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("`bluebird-two`"), "{out}");

    let (code, _, err) = settle(&["--slug", "bluebird"], Some("violet harbour lantern seven"), None);
    assert_eq!(code, Some(1));
    assert!(err.contains("the portal address `bluebird` is taken"), "{err}");
    assert!(!err.contains("violet"), "the password never appears in output");
}
