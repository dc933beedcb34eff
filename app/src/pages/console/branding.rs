use super::console_page_error;
use crate::components::ConsoleLayout;
use crate::console_api::load_console_branding;
use crate::pages::{loading, param};
use crate::types::branding::is_hex_color;
use crate::types::{BrandingView, FieldError};
use leptos::prelude::*;
use leptos_meta::Title;

fn error_for(errors: &[FieldError], field: &str) -> Option<String> {
    errors.iter().find(|e| e.field == field).map(|e| e.message.clone())
}

/// A labelled text input with its error (tied by aria-describedby).
fn text_field(
    id: &'static str,
    label: &'static str,
    value: String,
    errors: &[FieldError],
    hint: Option<&'static str>,
    on_input: Option<WriteSignal<String>>,
) -> impl IntoView {
    let error = error_for(errors, id);
    let described = match (&error, hint) {
        (Some(_), _) => Some(format!("{id}-error")),
        (None, Some(_)) => Some(format!("{id}-hint")),
        _ => None,
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {hint.map(|h| view! { <span id=format!("{id}-hint") class="muted small">{h}</span> })}
            <input id=id name=id class="input" value=value aria-invalid=error.is_some().then_some("true")
                aria-describedby=described
                on:input=move |ev| { if let Some(w) = on_input { w.set(event_target_value(&ev)); } }/>
            {error.map(|e| view! { <span id=format!("{id}-error") class="field-error">{e}</span> })}
        </div>
    }
}

/// The form and its live previews. An island: the portal preview follows
/// the name and colours as they are typed; without JavaScript the form
/// still saves and the previews show what was saved.
#[island]
fn BrandingEditor(v: BrandingView) -> impl IntoView {
    let base = format!("/m/{}", v.header.slug);
    let (name, set_name) = signal(v.form.display_name.clone());
    let (primary, set_primary) = signal(v.form.primary_color.clone());
    let (accent, set_accent) = signal(v.form.accent_color.clone());
    // The preview follows what is typed, once it is a colour.
    let style = move || {
        let p = primary.get();
        let a = accent.get();
        let mut s = String::new();
        if is_hex_color(&p) {
            s.push_str(&format!("--brand-primary:{p};"));
        }
        if is_hex_color(&a) {
            s.push_str(&format!("--brand-accent:{a};"));
        }
        s
    };
    let logo = v.logo_url.clone();
    let preview_mark = move || match logo.clone() {
        Some(url) => view! { <img class="portal__logo" src=url alt=name.get() height="40"/> }.into_any(),
        None => view! { <span class="portal__name">{name.get()}</span> }.into_any(),
    };
    let errors = v.errors.clone();
    let form = v.form.clone();
    let can = v.can_edit;
    let form_section = view! {
            <section aria-labelledby="brand-form">
                <h2 id="brand-form">"Your details"</h2>
                <form method="post" action=format!("{base}/branding") class="stack">
                    <fieldset disabled=!can class="plain-fieldset">
                        {text_field("display_name", "Name customers see", form.display_name.clone(), &errors, None, Some(set_name))}
                        <div class="field">
                            <label for="primary_color">"Primary colour (buttons and links)"</label>
                            <input id="primary_color" name="primary_color" type="color" class="input input--color"
                                value=form.primary_color.clone()
                                aria-invalid=error_for(&errors, "primary_color").is_some().then_some("true")
                                on:input=move |ev| set_primary.set(event_target_value(&ev))/>
                            {error_for(&errors, "primary_color").map(|e| view! { <span class="field-error">{e}</span> })}
                        </div>
                        <div class="field">
                            <label for="accent_color">"Accent colour"</label>
                            <input id="accent_color" name="accent_color" type="color" class="input input--color"
                                value=form.accent_color.clone()
                                aria-invalid=error_for(&errors, "accent_color").is_some().then_some("true")
                                on:input=move |ev| set_accent.set(event_target_value(&ev))/>
                            {error_for(&errors, "accent_color").map(|e| view! { <span class="field-error">{e}</span> })}
                        </div>
                        {text_field("support_email", "Support email", form.support_email.clone(), &errors, Some("Where customers' replies and questions go."), None)}
                        {text_field("support_phone", "Support phone", form.support_phone.clone(), &errors, None, None)}
                        {text_field("email_footer", "Email footer", form.email_footer.clone(), &errors, Some("Your address or legal line, at the foot of every email."), None)}
                        {text_field("custom_domain", "Custom domain", form.custom_domain.clone(), &errors, Some("e.g. pay.example.com, pointed at this server (with https); emails then link there. Leave empty to use this server's address."), None)}
                        {can.then(|| view! { <button type="submit" class="button button--primary">"Save branding"</button> })}
                    </fieldset>
                </form>
                <h2>"Logo"</h2>
                <p class="muted small">
                    {format!("PNG, JPEG or WebP, at most {} KB and {}×{} pixels. It shows at 40 pixels high.", v.logo_max_bytes / 1024, v.logo_max_side, v.logo_max_side)}
                </p>
                {can.then(|| view! {
                    <form method="post" action=format!("{base}/branding/logo") enctype="multipart/form-data" class="stack">
                        <label for="logo">"Logo file"</label>
                        <input id="logo" name="logo" type="file" accept="image/png,image/jpeg,image/webp" required class="input"/>
                        <button type="submit" class="button button--secondary">"Upload logo"</button>
                    </form>
                    {v.logo_url.is_some().then(|| view! {
                        <form method="post" action=format!("{base}/branding/logo/remove") class="inline-form">
                            <button type="submit" class="button button--link">"Remove the logo"</button>
                        </form>
                    })}
                })}
            </section>
    }
    .into_any();
    let preview_section = view! {
            <section aria-labelledby="brand-preview">
                <h2 id="brand-preview">"Preview"</h2>
                <p class="muted small">"The portal follows your colours as you pick them; the email shows what is saved."</p>
                <div class="portal preview" style=style data-testid="portal-preview">
                    <header class="portal__header"><span class="portal__brand">{preview_mark}</span></header>
                    <div class="portal__main">
                        <p>"Hi Sam, you have 2 open invoices: " <strong>"$335.50"</strong></p>
                        <a class="button button--primary" href="#brand-preview">"Pay $335.50"</a>
                        " " <a href="#brand-preview">"View invoice INV-1001"</a>
                    </div>
                </div>
                <iframe class="email-preview" title="Reminder email preview" sandbox="" srcdoc=v.email_preview_html.clone()></iframe>
                <p><a href=format!("/p/{}", v.header.slug) target="_blank" rel="noopener">"Open your portal"</a></p>
            </section>
    }
    .into_any();
    view! {
        {v.warnings.iter().map(|w| view! { <p class="notice notice--warn" role="note">{w.clone()}</p> }).collect_view()}
        <div class="branding">{form_section} {preview_section}</div>
    }
    .into_any()
}

/// `/m/{slug}/branding`: name, colours, contacts, footer and logo, with previews.
#[component]
pub fn ConsoleBrandingPage() -> impl IntoView {
    let slug = param("slug");
    let data = Resource::new(move || slug.get(), load_console_branding);
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let slug = slug.get_untracked();
                match data.await {
                    Ok(v) => view! {
                        <Title text=format!("Branding · {} · Settle console", v.header.merchant_name)/>
                        <ConsoleLayout header=v.header.clone() current="/branding">
                            <h1>"Branding"</h1>
                            {v.notice.clone().map(|(ok, text)| {
                                let class = if ok { "notice notice--ok" } else { "notice notice--error" };
                                view! { <p class=class role="status">{text}</p> }
                            })}
                            <BrandingEditor v/>
                        </ConsoleLayout>
                    }
                    .into_any(),
                    Err(e) => console_page_error(&slug, e),
                }
            })}
        </Suspense>
    }
}
