use super::console_page_error;
use crate::components::ConsoleLayout;
use crate::console_api::load_console_policy;
use crate::pages::{loading, param};
use crate::types::{PolicyStepRow, PolicyView};
use leptos::prelude::*;
use leptos_meta::Title;

/// A `<select>` with the current value chosen; labelled for each row.
fn select(name: String, label: String, current: String, options: Vec<(String, String)>) -> impl IntoView {
    view! {
        <label for=name.clone() class="visually-hidden">{label}</label>
        <select id=name.clone() name=name class="input">
            {options
                .into_iter()
                .map(|(value, text)| {
                    let selected = value == current;
                    view! { <option value=value selected=selected>{text}</option> }
                })
                .collect_view()}
        </select>
    }
}

fn step_row(i: usize, row: PolicyStepRow, templates: Vec<(String, String)>) -> impl IntoView {
    let n = i + 1;
    let blank = row.offset.is_empty() && row.template.is_empty();
    let mut template_options: Vec<(String, String)> = vec![(String::new(), "Choose…".into())];
    template_options.extend(templates.into_iter().map(|(k, _)| (k.clone(), k)));
    if !row.template.is_empty() && !template_options.iter().any(|(k, _)| *k == row.template) {
        template_options.push((row.template.clone(), row.template.clone()));
    }
    view! {
        <tr>
            <th scope="row">{if blank { format!("New {n}") } else { format!("{n}") }}</th>
            <td>
                <label for=format!("offset_{i}") class="visually-hidden">{format!("Step {n}: days from the due date")}</label>
                <input id=format!("offset_{i}") name=format!("offset_{i}") class="input input--short" value=row.offset
                    inputmode="numeric"/>
            </td>
            <td>{select(format!("channel_{i}"), format!("Step {n}: channel"), row.channel, vec![("email".into(), "Email".into()), ("sms".into(), "Text".into())])}</td>
            <td>{select(format!("template_{i}"), format!("Step {n}: template"), row.template, template_options)}</td>
            <td>{select(format!("tone_{i}"), format!("Step {n}: tone"), row.tone, vec![("friendly".into(), "Friendly".into()), ("firm".into(), "Firm".into()), ("final".into(), "Final".into())])}</td>
            <td>
                {(!blank).then(|| view! {
                    <input type="checkbox" id=format!("remove_{i}") name=format!("remove_{i}")/>
                    <label for=format!("remove_{i}")>{format!("Remove step {n}")}</label>
                })}
            </td>
        </tr>
    }
}

fn field(id: &'static str, label: &'static str, value: String, hint: &'static str) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <span id=format!("{id}-hint") class="muted small">{hint}</span>
            <input id=id name=id class="input input--short" value=value aria-describedby=format!("{id}-hint")/>
        </div>
    }
}

fn body(v: PolicyView) -> AnyView {
    let base = format!("/m/{}", v.header.slug);
    let f = v.form.clone();
    let templates = v.templates.clone();
    let steps = view! {
        <table class="console-table policy-steps">
            <caption>"Reminder steps (negative days are before the due date)"</caption>
            <thead>
                <tr>
                    <th scope="col">"Step"</th>
                    <th scope="col">"Days from due date"</th>
                    <th scope="col">"Channel"</th>
                    <th scope="col">"Template"</th>
                    <th scope="col">"Tone"</th>
                    <th scope="col">"Remove"</th>
                </tr>
            </thead>
            <tbody>
                {f.steps.clone().into_iter().enumerate().map(|(i, row)| step_row(i, row, templates.clone())).collect_view()}
            </tbody>
        </table>
    }
    .into_any();
    let rules = view! {
        <div class="policy-rules">
            {field("retry_days", "Card retries (days after a failed charge)", f.retry_days.clone(), "Comma-separated, e.g. 1, 3, 5, 7. Hard declines skip retries.")}
            {field("retry_hour", "Retry hour", f.retry_hour.clone(), "0–23, in the customer's time zone.")}
            {field("quiet_start", "Quiet from", f.quiet_start.clone(), "No messages from this time…")}
            {field("quiet_end", "Quiet until", f.quiet_end.clone(), "…until this time, customer's zone (HH:MM).")}
            {field("weekly_cap", "Weekly cap", f.weekly_cap.clone(), "At most this many messages to a customer in 7 days (1–14).")}
            <div class="field">
                <span class="check">
                    <input type="checkbox" id="consolidate" name="consolidate" checked=f.consolidate/>
                    <label for="consolidate">"One message per customer covers all their due invoices"</label>
                </span>
            </div>
            <div class="field">
                {select("final_action".into(), "Final action".into(), f.final_action.clone(), vec![
                    ("none".into(), "None".into()), ("suspend".into(), "Suspend the customer".into()),
                    ("collections".into(), "Mark for collections".into()), ("write_off".into(), "Write off".into())])}
                <span class="muted small">"Final action (after the last step)"</span>
            </div>
            {field("final_after_days", "Days after the last step", f.final_after_days.clone(), "0–60.")}
            <div class="field">
                {select("late_fee_kind".into(), "Late fee".into(), f.late_fee_kind.clone(), vec![
                    ("none".into(), "No late fee".into()), ("flat".into(), format!("Flat amount ({})", v.currency)),
                    ("percent".into(), "Percent of the amount due".into())])}
                <span class="muted small">"Late fee, added with the first overdue reminder"</span>
            </div>
            {field("late_fee_value", "Late fee amount or percent", f.late_fee_value.clone(), "25.00 for a flat fee, 2.5 for 2.5 %.")}
            {field("expiry_days", "Card-expiry warnings (days before)", f.expiry_days.clone(), "Comma-separated, e.g. 30, 7.")}
        </div>
    }
    .into_any();
    let can = v.can_edit;
    view! {
        {(!v.errors.is_empty()).then(|| view! {
            <div class="notice notice--error" role="alert">
                <p>"Please fix:"</p>
                <ul>{v.errors.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul>
            </div>
        })}
        <form method="post" action=format!("{base}/policy") class="stack">
            {steps}
            {rules}
            <div class="actions">
                {can.then(|| view! { <button type="submit" class="button button--primary">"Save policy"</button> })}
                <button type="submit" class="button button--secondary" formaction=format!("{base}/policy/preview")>
                    "Preview the next 30 days"
                </button>
            </div>
        </form>
        <section id="preview" aria-labelledby="preview-title">
            <h2 id="preview-title">"Timeline preview"</h2>
            {match v.preview.clone() {
                Some(t) => view! {
                    <p class="muted small">"What this policy would do over the next 30 days with your customers as they are now (nothing is sent)."</p>
                    <pre class="timeline-preview" tabindex="0">{t}</pre>
                }.into_any(),
                None => view! { <p class="muted">"Press “Preview the next 30 days” to see what the policy above would send, to whom and when."</p> }.into_any(),
            }}
        </section>
        <section aria-labelledby="templates-title">
            <h2 id="templates-title">"Templates"</h2>
            <dl class="facts">
                {v.templates.iter().map(|(k, d)| view! { <dt><code>{k.clone()}</code></dt><dd>{d.clone()}</dd> }).collect_view()}
            </dl>
        </section>
    }
    .into_any()
}

/// `/m/{slug}/policy`: the dunning policy, editable, with a simulated preview.
#[component]
pub fn ConsolePolicyPage() -> impl IntoView {
    let slug = param("slug");
    let data = Resource::new(move || slug.get(), load_console_policy);
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let slug = slug.get_untracked();
                match data.await {
                    Ok(v) => view! {
                        <Title text=format!("Dunning policy · {} · Settle console", v.header.merchant_name)/>
                        <ConsoleLayout header=v.header.clone() current="/policy">
                            <h1>"Dunning policy"</h1>
                            {v.notice.clone().map(|(ok, text)| {
                                let class = if ok { "notice notice--ok" } else { "notice notice--error" };
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
