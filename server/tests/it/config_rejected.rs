//! The real binary refuses to start on a bad setting and says which one.

use std::process::Command;

fn settle(env: &[(&str, &str)]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_settle"));
    cmd.arg("migrate").current_dir(dir.path()).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run settle");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bad_values_stop_startup_naming_the_setting() {
    for (name, value) in [
        ("SETTLE_LISTEN", "localhost"),
        ("SETTLE_BASE_URL", "pay.example.com"),
        ("SETTLE_DB_MAX_CONNECTIONS", "many"),
        ("SETTLE_LOG", "info,[[["),
        ("DATABASE_URL", "mysql://root:hunter2@localhost/settle"),
        ("SETTLE_DATABASE_URL", "postgres://user:hunter2@/settle"),
        ("SETTLE_DATA_DIR", ""),
        ("SETTLE_LISTN", "127.0.0.1:3000"),
    ] {
        let (code, stderr) = settle(&[(name, value)]);
        assert_eq!(code, 2, "{name}={value}: {stderr}");
        assert!(stderr.contains(name), "{name} not named in: {stderr}");
        assert!(!stderr.contains("hunter2"), "password echoed: {stderr}");
    }
}

#[test]
fn a_bad_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settle.toml");
    std::fs::write(&file, "listen = 3000\n").unwrap();
    let (code, stderr) = settle(&[("SETTLE_CONFIG", file.to_str().unwrap())]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("settle.toml"), "{stderr}");
}

#[test]
fn an_unreachable_database_fails_with_a_message_not_a_panic() {
    let (code, stderr) = settle(&[("DATABASE_URL", "postgres://settle:hunter2@127.0.0.1:1/settle")]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("could not connect to the postgres database"), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn good_settings_migrate_a_fresh_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/data");
    let (code, stderr) = settle(&[("SETTLE_DATA_DIR", data.to_str().unwrap())]);
    assert_eq!(code, 0, "{stderr}");
    assert!(data.join("settle.db").exists(), "SQLite file created in the data directory");
}

#[test]
fn link_command_explains_unknown_merchant_or_customer() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_settle"))
            .args(args)
            .current_dir(dir.path())
            .env_clear()
            .env("SETTLE_DATA_DIR", &data)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, _) = run(&["demo"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("/p/acme/l/"), "{stdout}");
    let (code, stdout, _) = run(&["link", "--merchant", "acme", "--email", "DANA.WHITFIELD@example.com"]);
    assert_eq!(code, Some(0));
    assert!(stdout.trim().starts_with("http://127.0.0.1:3000/p/acme/l/"), "{stdout}");
    let (code, _, stderr) = run(&["link", "--merchant", "acme", "--email", "nobody@example.com"]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("Acme Co has no customer with the email `nobody@example.com`"), "{stderr}");
    let (_, _, stderr) = run(&["link", "--merchant", "zeta", "--email", "x@example.com"]);
    assert!(stderr.contains("no merchant has the portal address `zeta`"), "{stderr}");
}
