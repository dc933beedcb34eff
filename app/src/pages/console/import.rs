use super::console_page_error;
use crate::components::ConsoleLayout;
use crate::console_api::load_console_import;
use crate::pages::{loading, param};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/m/{slug}/import`: upload a CSV of customers and invoices.
#[component]
pub fn ConsoleImportPage() -> impl IntoView {
    let slug = param("slug");
    let data = Resource::new(move || slug.get(), load_console_import);
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                let slug = slug.get_untracked();
                match data.await {
                    Ok(v) => {
                        let report = v.summary.clone().map(|(ok, text)| {
                            let class = if ok { "notice notice--ok" } else { "notice notice--error" };
                            view! { <p class=class role="status">{text}</p> }
                        });
                        let problems = (!v.problems.is_empty()).then(|| view! {
                            <table class="console-table">
                                <caption>"Rows with problems"</caption>
                                <thead><tr><th scope="col">"Line"</th><th scope="col">"Column"</th><th scope="col">"Problem"</th></tr></thead>
                                <tbody>
                                    {v.problems.clone().into_iter().map(|p| view! {
                                        <tr><td class="num">{p.line}</td><td><code>{p.column}</code></td><td>{p.reason}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        });
                        view! {
                            <Title text=format!("Import · {} · Settle console", v.header.merchant_name)/>
                            <ConsoleLayout header=v.header.clone() current="/import">
                                <h1>"Import customers and invoices"</h1>
                                {report}
                                {problems}
                                {v.can_import.then(|| view! {
                                    <form method="post" action=format!("/m/{slug}/import") enctype="multipart/form-data" class="stack">
                                        <label for="file">"CSV file"</label>
                                        <input id="file" name="file" type="file" accept=".csv,text/csv" required class="input"/>
                                        <fieldset class="plain-fieldset">
                                            <legend>"If some rows have problems"</legend>
                                            <span class="check">
                                                <input type="radio" id="mode-all" name="mode" value="all" checked=true/>
                                                <label for="mode-all">"Import nothing, and show me the problems"</label>
                                            </span>
                                            <span class="check">
                                                <input type="radio" id="mode-skip" name="mode" value="skip"/>
                                                <label for="mode-skip">"Import the good rows, skip the bad ones"</label>
                                            </span>
                                        </fieldset>
                                        <button type="submit" class="button button--primary">"Import"</button>
                                    </form>
                                })}
                                <h2>"The file"</h2>
                                <p>{format!("One row per invoice, with its customer's columns; a row without invoice columns adds just the customer. At most {} rows. Importing the same file again changes nothing: customers are matched by customer_ref and invoices by invoice_ref.", v.max_rows)}</p>
                                <p>"Columns: " <code>{v.columns.join(",")}</code></p>
                                <p class="muted small">"Dates are YYYY-MM-DD in the customer's time zone; amounts are decimals like 1250.00 in the row's currency (the merchant's when empty); status is open, paid or void."</p>
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
