//! The wasm bundle, JavaScript and CSS go out gzipped to browsers that
//! accept it, byte-for-byte the file once unpacked; pages never do.

use crate::common::*;
use std::io::Read;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_files_are_gzipped_for_browsers_that_accept_it_and_pages_are_not() {
    let site = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(site.path().join("pkg")).unwrap();
    // Compressible like real wasm: repetitive, but not a single byte.
    let wasm: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8 ^ (i / 4096) as u8).collect();
    std::fs::write(site.path().join("pkg/settle.wasm"), &wasm).unwrap();
    let root = site.path().display().to_string();
    let Some(app) = spawn_app_with(Backend::Sqlite, |c| c.site_root = root).await else { return };
    let client = reqwest::Client::new();

    let gz = client.get(app.url("/pkg/settle.wasm")).header("Accept-Encoding", "gzip").send().await.unwrap();
    assert_eq!(gz.status(), 200);
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    assert_eq!(gz.headers()["content-type"], "application/wasm");
    assert_eq!(gz.headers()["x-content-type-options"], "nosniff", "security headers survive compression");
    let packed = gz.bytes().await.unwrap();
    assert!(packed.len() < wasm.len() / 2, "gzipped {} of {} bytes", packed.len(), wasm.len());
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(&packed[..]).read_to_end(&mut unpacked).unwrap();
    assert!(unpacked == wasm, "the unpacked file is the file");

    let plain = client.get(app.url("/pkg/settle.wasm")).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none(), "no gzip unless asked for");
    assert_eq!(plain.bytes().await.unwrap().len(), wasm.len());

    let page = client.get(app.url("/setup")).header("Accept-Encoding", "gzip").send().await.unwrap();
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.headers().get("content-encoding").is_none(), "pages are never compressed");
}
