use super::console_page_error;
use crate::components::ConsoleLayout;
use crate::console_api::load_console_api_keys;
use crate::pages::{loading, param};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/m/{slug}/api-keys`: keys for the REST API.
#[component]
pub fn ConsoleApiKeysPage() -> impl IntoView {
    let slug = param("slug");
    let data = Resource::new(move || slug.get(), load_console_api_keys);
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let slug = slug.get_untracked();
                match data.await {
                    Ok(v) => {
                        let base = format!("/m/{slug}");
                        let can = v.can_manage;
                        view! {
                            <Title text=format!("API keys and webhooks · {} · Settle console", v.header.merchant_name)/>
                            <ConsoleLayout header=v.header.clone() current="/api-keys">
                                <h1>"API keys and webhooks"</h1>
                                {v.notice.clone().map(|(ok, text)| {
                                    let class = if ok { "notice notice--ok" } else { "notice notice--warn" };
                                    view! { <p class=class role="status">{text}</p> }
                                })}
                                <p>"Keys let your other systems use the REST API at " <code>"/api/v1"</code>
                                   " (see " <a href="/api/v1/openapi.json">"the OpenAPI document"</a>
                                   "). Send one as " <code>"Authorization: Bearer sk_settle_…"</code> "."</p>
                                {if v.keys.is_empty() {
                                    view! { <p>"No keys yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <table class="console-table">
                                            <thead><tr><th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col">"Status"</th></tr></thead>
                                            <tbody>
                                                {v.keys.clone().into_iter().map(|k| view! {
                                                    <tr>
                                                        <td>{k.name.clone()}</td>
                                                        <td><code>{k.prefix.clone()}</code></td>
                                                        <td>{k.created_on.clone()}</td>
                                                        <td>{k.last_used.clone()}</td>
                                                        <td>
                                                            {if k.revoked {
                                                                view! { <span>"Revoked"</span> }.into_any()
                                                            } else if can {
                                                                view! {
                                                                    <form method="post" action=format!("{base}/api-keys/{}/revoke", k.id) class="inline-form">
                                                                        <button type="submit" class="button button--link">{format!("Revoke {}", k.name)}</button>
                                                                    </form>
                                                                }.into_any()
                                                            } else {
                                                                view! { <span>"Active"</span> }.into_any()
                                                            }}
                                                        </td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    }.into_any()
                                }}
                                <h2>"Webhooks"</h2>
                                <p>"Settle POSTs every event (reminder sent, payment recovered, invoice paid outside Settle, …) as JSON to each endpoint, signed with "
                                   <code>"Settle-Signature: t=…,v1=…"</code> " (HMAC-SHA256 of " <code>"t.body"</code> " with the endpoint's secret), retried with backoff."</p>
                                {if v.endpoints.is_empty() {
                                    view! { <p>"No endpoints yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <table class="console-table">
                                            <thead><tr><th scope="col">"Endpoint"</th><th scope="col">"Added"</th><th scope="col">"Delivered"</th><th scope="col">"Pending"</th><th scope="col">"Failed"</th><th scope="col">"Last error"</th><th scope="col">"Status"</th></tr></thead>
                                            <tbody>
                                                {v.endpoints.clone().into_iter().map(|e| view! {
                                                    <tr>
                                                        <td><code class="wrap">{e.url.clone()}</code></td>
                                                        <td>{e.created_on.clone()}</td>
                                                        <td class="num">{e.delivered}</td>
                                                        <td class="num">{e.pending}</td>
                                                        <td class="num">{e.failed}</td>
                                                        <td class="small">{e.last_error.clone().unwrap_or_default()}</td>
                                                        <td>
                                                            {if e.disabled {
                                                                view! { <span>"Disabled"</span> }.into_any()
                                                            } else if can {
                                                                view! {
                                                                    <form method="post" action=format!("{base}/webhooks/{}/disable", e.id) class="inline-form">
                                                                        <button type="submit" class="button button--link">{format!("Disable {}", e.url)}</button>
                                                                    </form>
                                                                }.into_any()
                                                            } else {
                                                                view! { <span>"Active"</span> }.into_any()
                                                            }}
                                                        </td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    }.into_any()
                                }}
                                {can.then(|| view! {
                                    <form method="post" action=format!("{base}/webhooks") class="stack">
                                        <label for="webhook-url">"Endpoint URL (https)"</label>
                                        <input id="webhook-url" name="url" type="url" class="input" required/>
                                        <button type="submit" class="button button--secondary">"Add endpoint"</button>
                                    </form>
                                })}
                                {can.then(|| view! {
                                    <h2>"Create a key"</h2>
                                    <form method="post" action=format!("{base}/api-keys") class="stack">
                                        <label for="key-name">"What it's for"</label>
                                        <input id="key-name" name="name" class="input" required maxlength="60"/>
                                        <button type="submit" class="button button--primary">"Create key"</button>
                                    </form>
                                })}
                            </ConsoleLayout>
                        }
                        .into_any()
                    }
                    Err(e) => console_page_error(&slug, e),
                }
            })}
        </Suspense>
    }
}
