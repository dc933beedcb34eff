use super::console_page_error;
use crate::components::ConsoleLayout;
use crate::console_api::load_console_template;
use crate::pages::{loading, param};
use crate::types::TemplateEditorView;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn body(v: TemplateEditorView) -> AnyView {
    let base = format!("/m/{}", v.header.slug);
    let sms = v.channel == "sms";
    let picker = view! {
        <form method="get" class="filters" aria-label="Choose a template">
            <div class="filter">
                <label for="key">"Template"</label>
                <select id="key" name="key" class="input">
                    {v.keys.iter().map(|(k, d)| view! { <option value=k.clone() selected=*k == v.key>{format!("{k} — {d}")}</option> }).collect_view()}
                </select>
            </div>
            <div class="filter">
                <label for="channel">"Channel"</label>
                <select id="channel" name="channel" class="input">
                    <option value="email" selected=!sms>"Email"</option>
                    <option value="sms" selected=sms>"Text message"</option>
                </select>
            </div>
            <button type="submit" class="button button--secondary">"Open"</button>
        </form>
    }
    .into_any();
    let editor = view! {
        <form method="post" action=format!("{base}/templates") class="stack">
            <input type="hidden" name="key" value=v.key.clone()/>
            <input type="hidden" name="channel" value=v.channel.clone()/>
            {(!sms).then(|| view! {
                <label for="subject">"Subject"</label>
                <input id="subject" name="subject" class="input" value=v.subject.clone()/>
            })}
            <label for="body">{if sms { "Text" } else { "Body (a blank line starts a new paragraph)" }}</label>
            <textarea id="body" name="body" class="input" rows="12">{v.body.clone()}</textarea>
            {v.can_edit.then(|| view! {
                <div class="actions">
                    <button type="submit" name="action" value="save" class="button button--primary">"Save template"</button>
                    {(!sms).then(|| view! { <button type="submit" name="action" value="test" class="button button--secondary">"Send me a test"</button> })}
                    {v.is_custom.then(|| view! { <button type="submit" name="action" value="reset" class="button button--link">"Back to the built-in text"</button> })}
                </div>
            })}
        </form>
    }
    .into_any();
    let preview = match v.preview_html.clone() {
        Some(html) => view! {
            <p><strong>"Subject: "</strong>{v.preview_subject.clone()}</p>
            <iframe class="email-preview" title="Template preview" sandbox="" srcdoc=html></iframe>
        }
        .into_any(),
        None => view! { <pre class="timeline-preview">{v.preview_text.clone()}</pre> }.into_any(),
    };
    view! {
        {picker}
        <p class="muted">{if v.is_custom { "Your own wording." } else { "The built-in wording; save to make it yours." }}</p>
        {v.error.clone().map(|e| view! { <p class="notice notice--error" role="alert">{e}</p> })}
        <div class="branding">
            <section aria-labelledby="edit-title">
                <h2 id="edit-title">{format!("{} ({})", v.key, if sms { "text" } else { "email" })}</h2>
                {editor}
                <h3>"Variables"</h3>
                <dl class="facts">
                    {v.variables.iter().map(|(n, d)| view! { <dt><code>{format!("{{{{{n}}}}}")}</code></dt><dd>{d.clone()}</dd> }).collect_view()}
                </dl>
            </section>
            <section aria-labelledby="preview-title">
                <h2 id="preview-title">"Preview, for a sample customer"</h2>
                {preview}
            </section>
        </div>
    }
    .into_any()
}

/// `/m/{slug}/templates?key=…&channel=…`: edit a reminder's wording.
#[component]
pub fn ConsoleTemplatesPage() -> impl IntoView {
    let slug = param("slug");
    let q = use_query_map();
    let which = Memo::new(move |_| {
        let q = q.read();
        (q.get("key").unwrap_or_default(), q.get("channel").unwrap_or_default())
    });
    let data = Resource::new(move || (slug.get(), which.get()), |(s, (k, c))| load_console_template(s, k, c));
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let slug = slug.get_untracked();
                match data.await {
                    Ok(v) => view! {
                        <Title text=format!("Templates · {} · Settle console", v.header.merchant_name)/>
                        <ConsoleLayout header=v.header.clone() current="/templates">
                            <h1>"Message templates"</h1>
                            {v.notice.clone().map(|(ok, text)| {
                                let class = if ok { "notice notice--ok" } else { "notice notice--warn" };
                                view! { <p class=class role="status">{text}</p> }
                            })}
                            {body(v)}
                        </ConsoleLayout>
                    }
                    .into_any(),
                    Err(e) => console_page_error(&slug, e),
                }
            })}
        </Suspense>
    }
}
