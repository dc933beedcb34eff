#![recursion_limit = "256"]
//! Settle's Leptos crate: pages, components, server functions and the types
//! they share. Built twice: with `ssr` into the server, with `hydrate` into the
//! wasm bundle. Everything that needs the database, the clock or secrets lives
//! under [`server`], which only exists with `ssr`.

pub mod api;
pub mod app;
pub mod components;
pub mod console_api;
pub mod html_text;
pub mod pages;
pub mod types;

#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Islands mode: pages are server-rendered HTML and stay as they are; the
    // island script that loads this module then hydrates each `#[island]`
    // (the invoice table's sort links, the print button, the branding editor).
    leptos::mount::hydrate_islands();
    // Third-party scripts that add to the page (Stripe.js's dialogs) wait
    // for this mark, so they never change the DOM while islands hydrate.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
