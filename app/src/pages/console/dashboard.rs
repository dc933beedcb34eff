use super::console_page_error;
use crate::components::ConsoleLayout;
use crate::console_api::load_console_dashboard;
use crate::pages::{loading, param};
use crate::types::{Alert, AtRisk, Bar, Dashboard};
use leptos::prelude::*;
use leptos_meta::Title;

fn show_tenths(t: i64) -> String {
    format!("{}.{}", t / 10, t % 10)
}

/// A chart (server-drawn SVG) with its figures as a table underneath, and
/// its CSV when the role may export.
fn chart(title: &'static str, svg: String, bars: Vec<Bar>, csv: Option<String>) -> impl IntoView {
    view! {
        <section class="panel chart-panel" aria-label=title>
            <h2>{title}</h2>
            <div class="chart-wrap" inner_html=svg></div>
            <details>
                <summary>"Figures"</summary>
                <table class="console-table">
                    <tbody>
                        {bars.into_iter().map(|b| view! { <tr><th scope="row">{b.label}</th><td class="num">{b.display}</td></tr> }).collect_view()}
                    </tbody>
                </table>
            </details>
            {csv.map(|href| view! { <p><a href=href download="">"Download CSV"</a></p> })}
        </section>
    }
}

fn at_risk_row(base: String, r: AtRisk) -> impl IntoView {
    view! {
        <tr>
            <td><a href=format!("{base}/customers/{}", r.customer_id)>{r.customer}</a></td>
            <td>{r.number}</td>
            <td class="num">{r.owed}</td>
            <td class="num">{r.days_overdue}</td>
            <td>{r.final_notice_on}</td>
        </tr>
    }
}

fn alert_item(base: String, a: Alert) -> impl IntoView {
    let label = match a.kind.as_str() {
        "overdue" => "Overdue",
        "promise_broken" => "Promise broken",
        _ => "Dispute",
    };
    view! {
        <li class="timeline__entry">
            <span class="timeline__date">{a.at}</span>
            <span class="tag">{label}</span>
            <a href=format!("{base}/customers/{}", a.customer_id)>{a.text}</a>
        </li>
    }
}

fn body(d: Dashboard) -> impl IntoView {
    let base = format!("/m/{}", d.header.slug);
    let csv = |part: &str| d.can_export.then(|| format!("{base}/dashboard.csv?part={part}"));
    let dso = match &d.dso {
        Some(f) => view! {
            <p class="figure">{format!("{} days", show_tenths(f.tenths))}</p>
            <p class="muted small">
                {format!("DSO = open receivables ÷ invoiced in the last 90 days × 90 = {} ÷ {} × 90", f.receivables, f.invoiced)}
            </p>
        }
        .into_any(),
        None => view! { <p class="figure">"—"</p><p class="muted small">"Nothing invoiced in the last 90 days."</p> }.into_any(),
    };
    let recovery = match d.recovery_tenths {
        Some(t) => format!("{}%", show_tenths(t)),
        None => "—".to_string(),
    };
    view! {
        {(!d.other_currencies.is_empty()).then(|| view! {
            <p class="notice notice--warn" role="note">
                {format!("Figures are in {}; open invoices in {} are not included.", d.currency, d.other_currencies.join(", "))}
            </p>
        })}
        <div class="figures">
            <section class="panel">
                <h2>"Open receivables"</h2>
                <p class="figure">{d.receivables.clone()}</p>
            </section>
            <section class="panel">
                <h2>"DSO (trailing 90 days)"</h2>
                {dso}
            </section>
            <section class="panel">
                <h2>"Failed-payment recovery"</h2>
                <p class="figure">{recovery}</p>
                <p class="muted small">
                    {format!("{} of {} invoices whose autopay charge failed in the last 90 days are paid now.", d.recovered_invoices, d.failed_invoices)}
                </p>
            </section>
            <section class="panel">
                <h2>"Collected this month"</h2>
                <p class="figure">{d.collected_this_month.clone()}</p>
            </section>
        </div>
        <div class="charts">
            {chart("Aging", d.aging_svg.clone(), d.aging.clone(), csv("aging"))}
            {chart("Dunning funnel (paid in the last 90 days)", d.funnel_svg.clone(), d.funnel.clone(), csv("funnel"))}
            {chart("Collected per month", d.collected_svg.clone(), d.collected.clone(), csv("collected"))}
        </div>
        <section aria-labelledby="at-risk">
            <h2 id="at-risk">"At risk: final notice sent"</h2>
            {if d.at_risk.is_empty() {
                view! { <p>"No open invoice has had its final notice."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="console-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Customer"</th>
                                    <th scope="col">"Invoice"</th>
                                    <th scope="col" class="num">"Owed"</th>
                                    <th scope="col" class="num">"Days overdue"</th>
                                    <th scope="col">"Final notice"</th>
                                </tr>
                            </thead>
                            <tbody>{d.at_risk.clone().into_iter().map(|r| at_risk_row(base.clone(), r)).collect_view()}</tbody>
                        </table>
                    </div>
                }.into_any()
            }}
            {csv("at-risk").map(|href| view! { <p><a href=href download="">"Download CSV"</a></p> })}
        </section>
        <section aria-labelledby="alerts">
            <h2 id="alerts">"Alerts (last 14 days)"</h2>
            {if d.alerts.is_empty() {
                view! { <p>"Nothing new."</p> }.into_any()
            } else {
                view! { <ol class="timeline console-timeline">{d.alerts.clone().into_iter().map(|a| alert_item(base.clone(), a)).collect_view()}</ol> }.into_any()
            }}
        </section>
    }
}

/// `/m/{slug}/dashboard`: the merchant's receivables at a glance.
#[component]
pub fn ConsoleDashboardPage() -> impl IntoView {
    let slug = param("slug");
    let data = Resource::new(move || slug.get(), load_console_dashboard);
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let slug = slug.get_untracked();
                match data.await {
                    Ok(d) => view! {
                        <Title text=format!("Dashboard · {} · Settle console", d.header.merchant_name)/>
                        <ConsoleLayout header=d.header.clone() current="/dashboard">
                            <h1>"Receivables"</h1>
                            {body(d)}
                        </ConsoleLayout>
                    }
                    .into_any(),
                    Err(e) => console_page_error(&slug, e),
                }
            })}
        </Suspense>
    }
}
