use super::console_page_error;
use crate::components::ConsoleLayout;
use crate::console_api::load_console_audit;
use crate::pages::{loading, param};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/m/{slug}/audit`: who did what, newest first.
#[component]
pub fn ConsoleAuditPage() -> impl IntoView {
    let slug = param("slug");
    let q = use_query_map();
    let page = Memo::new(move |_| q.read().get("page").and_then(|p| p.parse::<u32>().ok()).unwrap_or(1));
    let data = Resource::new(move || (slug.get(), page.get()), |(s, p)| load_console_audit(s, p));
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let slug = slug.get_untracked();
                match data.await {
                    Ok(a) => {
                        let base = format!("/m/{slug}/audit");
                        let prev = (a.page > 1).then(|| format!("{base}?page={}", a.page - 1));
                        let next = a.has_more.then(|| format!("{base}?page={}", a.page + 1));
                        view! {
                            <Title text=format!("Audit log · {} · Settle console", a.header.merchant_name)/>
                            <ConsoleLayout header=a.header.clone() current="/audit">
                                <h1>"Audit log"</h1>
                                <p class="muted">"Changes made by staff, by customers (contact details, consents, cards) and by Settle itself."</p>
                                {a.can_export.then(|| view! { <p><a href=format!("/m/{slug}/audit.csv") download="">"Download the whole log as CSV"</a></p> })}
                                {if a.entries.is_empty() {
                                    view! { <p>"Nothing recorded yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap">
                                            <table class="console-table audit-table">
                                                <thead>
                                                    <tr>
                                                        <th scope="col">"When"</th>
                                                        <th scope="col">"Who"</th>
                                                        <th scope="col">"What"</th>
                                                        <th scope="col">"On"</th>
                                                        <th scope="col">"Details"</th>
                                                        <th scope="col">"IP"</th>
                                                    </tr>
                                                </thead>
                                                <tbody>
                                                    {a.entries.into_iter().map(|e| view! {
                                                        <tr>
                                                            <td>{e.at}</td>
                                                            <td>{e.actor}</td>
                                                            <td><code>{e.action}</code></td>
                                                            <td>{e.subject}</td>
                                                            <td class="small"><code class="wrap">{e.detail}</code></td>
                                                            <td>{e.ip}</td>
                                                        </tr>
                                                    }).collect_view()}
                                                </tbody>
                                            </table>
                                        </div>
                                    }.into_any()
                                }}
                                <nav class="pager" aria-label="Pages">
                                    {prev.map(|h| view! { <a href=h rel="prev">"Newer"</a> })}
                                    {next.map(|h| view! { <a href=h rel="next">"Older"</a> })}
                                </nav>
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
