//! The ceiling `scripts/load.sh` measures Settle against: axum on the same
//! runtime serving a fixed page from memory, with no database, session or
//! rendering. Usage: `bare_axum PAGE_FILE ADDR`.

use axum::response::Html;
use axum::routing::get;
use axum::Router;
use bytes::Bytes;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let page = args.next().expect("usage: bare_axum PAGE_FILE ADDR");
    let addr = args.next().expect("usage: bare_axum PAGE_FILE ADDR");
    let body = Bytes::from(std::fs::read(page)?);
    let app = Router::new().route("/", get(move || async move { Html(body.clone()) }));
    axum::serve(tokio::net::TcpListener::bind(&addr).await?, app).await
}
