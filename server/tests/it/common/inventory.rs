//! Every route the server answers, read from where each is declared, so
//! the suites built on it (cross-site refusal, isolation) cover a route
//! the day it is added: the axum routers (their source, since a `Router`
//! can't be listed), the REST API (its OpenAPI document, generated from
//! the API router), the Leptos pages (the route list the router is built
//! from) and the server functions (their registry).

use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    pub method: &'static str,
    /// In axum's syntax: `/p/{slug}/invoices/{id}`.
    pub path: String,
    pub kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Handler,
    Api,
    Page,
    ServerFn,
}

impl Endpoint {
    /// The names of the `{params}` in the path.
    pub fn params(&self) -> Vec<&str> {
        self.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
    }

    /// The path with each `{param}` replaced by `value(param, segment before it)`.
    pub fn fill(&self, mut value: impl FnMut(&str, &str) -> String) -> String {
        let segments: Vec<&str> = self.path.split('/').collect();
        let mut out = Vec::with_capacity(segments.len());
        for (i, seg) in segments.iter().enumerate() {
            match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => out.push(value(name, if i > 0 { segments[i - 1] } else { "" })),
                None => out.push(seg.to_string()),
            }
        }
        out.join("/")
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text inside the parentheses that open at `open` (exclusive).
fn balanced(src: &str, open: usize) -> &str {
    let mut depth = 0usize;
    for (i, c) in src[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &src[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses in a .route( call");
}

/// Splits at commas outside any parentheses.
fn top_level_args(args: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0usize, Vec::new());
    for (i, c) in args.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&args[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&args[start..]);
    // A trailing comma leaves nothing after it.
    out.into_iter().filter(|a| !a.trim().is_empty()).collect()
}

/// The HTTP methods a method router expression names at its own level:
/// `post(upload).layer(…)` → POST; `get(a).post(b)` → GET, POST.
fn methods_of(expr: &str) -> Vec<&'static str> {
    let (mut depth, mut out) = (0i32, Vec::new());
    let bytes = expr.as_bytes();
    for (i, c) in expr.char_indices() {
        match c {
            '(' => {
                if depth == 0 {
                    let word: String = expr[..i]
                        .chars()
                        .rev()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    let preceded_ok = i == word.len() || !bytes[i - word.len() - 1].is_ascii_alphanumeric();
                    let m = match word.as_str() {
                        "get" => Some("GET"),
                        "post" => Some("POST"),
                        "put" => Some("PUT"),
                        "patch" => Some("PATCH"),
                        "delete" => Some("DELETE"),
                        _ => None,
                    };
                    if let (Some(m), true) = (m, preceded_ok) {
                        out.push(m);
                    }
                }
                depth += 1;
            }
            ')' => depth -= 1,
            _ => {}
        }
    }
    out
}

/// `"…"` as written, or a `const NAME: &str = "…";` of the same file.
fn path_literal(arg: &str, file_src: &str) -> String {
    let arg = arg.trim();
    if let Some(lit) = arg.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return lit.to_string();
    }
    let decl = format!("const {arg}: &str = \"");
    let at = file_src.find(&decl).unwrap_or_else(|| panic!("route path {arg}: no `{decl}…` in the same file"));
    let rest = &file_src[at + decl.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// The routes declared with `.route(path, method(handler)…)` in the server's sources.
pub fn handler_routes() -> Vec<Endpoint> {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let mut out = Vec::new();
    for file in files {
        let src = std::fs::read_to_string(&file).unwrap();
        let mut from = 0;
        while let Some(at) = src[from..].find(".route(") {
            let open = from + at + ".route".len();
            let inner = balanced(&src, open);
            from = open + inner.len();
            let args = top_level_args(inner);
            assert_eq!(args.len(), 2, "{}: a .route( call with {} arguments", file.display(), args.len());
            let path = path_literal(args[0], &src);
            let methods = methods_of(args[1]);
            assert!(!methods.is_empty(), "{}: no method in the route for {path}", file.display());
            for method in methods {
                out.push(Endpoint { method, path: path.clone(), kind: Kind::Handler });
            }
        }
    }
    assert!(out.len() > 40, "the source scan found only {} routes: is it still reading the right files?", out.len());
    out
}

/// The REST API's operations, from its OpenAPI document.
pub fn api_routes() -> Vec<Endpoint> {
    let (_, doc) = settle::api::parts();
    let doc = serde_json::to_value(doc).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (name, method) in
            [("get", "GET"), ("post", "POST"), ("put", "PUT"), ("patch", "PATCH"), ("delete", "DELETE")]
        {
            if item.get(name).is_some() {
                out.push(Endpoint { method, path: path.clone(), kind: Kind::Api });
            }
        }
    }
    out
}

/// The Leptos pages (GET).
pub fn pages() -> Vec<Endpoint> {
    settle::routes::page_paths().into_iter().map(|path| Endpoint { method: "GET", path, kind: Kind::Page }).collect()
}

/// The server functions, as the hydrated client calls them.
pub fn server_fns() -> Vec<Endpoint> {
    let mut out: Vec<Endpoint> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| Endpoint {
            method: if method == axum::http::Method::GET { "GET" } else { "POST" },
            path: path.to_string(),
            kind: Kind::ServerFn,
        })
        .collect();
    out.sort();
    out
}

/// Everything above.
pub fn all() -> Vec<Endpoint> {
    let mut out = handler_routes();
    out.extend(api_routes());
    out.extend(pages());
    out.extend(server_fns());
    out.sort();
    out.dedup();
    out
}

#[test]
fn the_inventory_reads_every_kind_of_route() {
    let routes = handler_routes();
    let has = |m: &str, p: &str| routes.iter().any(|e| e.method == m && e.path == p);
    assert!(has("POST", "/p/{slug}/pay"));
    assert!(has("POST", "/m/{slug}/branding/logo"), "a route whose method router is layered");
    assert!(has("POST", "/webhooks/sms/inbound"), "a path named by a const");
    assert!(has("GET", "/healthz") && has("GET", "/readyz"), "two routes on one line");
    assert_eq!(methods_of("get(a).post(b::c)"), vec!["GET", "POST"]);
    assert_eq!(methods_of("post(upload).layer(DefaultBodyLimit::max(get(1)))"), vec!["POST"]);
    assert!(api_routes().iter().any(|e| e.method == "PATCH" && e.path == "/api/v1/invoices/{id}"));
}
