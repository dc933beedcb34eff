//! Settings from the environment and a TOML file: any values give a
//! config or a clear error, never a panic. Input: `NAME=value` lines for
//! the environment, then a line `---`, then the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (env_part, file_part) = text.split_once("\n---\n").unwrap_or((&text, ""));
    let env: HashMap<String, String> = env_part
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let path = std::env::temp_dir().join(format!("settle-fuzz-config-{}.toml", std::process::id()));
    std::fs::write(&path, file_part.as_bytes()).expect("temp file");
    if let Ok(config) = settle::config::Config::from_sources(&env, Some(&path)) {
        // What the log shows of a database URL never carries its password.
        let shown = config.database_url_redacted();
        if let Ok(u) = url::Url::parse(&config.database_url) {
            if let Some(pw) = u.password().filter(|p| p.len() >= 4) {
                assert!(!shown.contains(pw), "{shown}");
            }
        }
    }
});
