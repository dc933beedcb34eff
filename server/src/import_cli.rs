//! `settle import`: customers and invoices from a CSV file, with a
//! progress bar on standard error and a row-by-row report.

use app::server::import::{import, ImportReport};
use app::server::repo::merchants;
use app::server::{Clock, Db};
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The merchant's portal name, e.g. acme.
    #[arg(long)]
    pub merchant: String,
    /// Import the good rows and report the bad ones (by default one bad row
    /// stops the whole file and nothing is written).
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// The CSV file (columns: see the README, "Import").
    pub file: PathBuf,
}

/// The report as printed: the summary, then one line per problem.
pub fn render(report: &ImportReport) -> String {
    let mut out = format!("{}\n", report.summary());
    for p in &report.problems {
        let column = if p.column.is_empty() { String::new() } else { format!(", column {}", p.column) };
        out.push_str(&format!("  line {}{column}: {}\n", p.line, p.reason));
    }
    out
}

/// A one-line bar, redrawn in place: `[#########-----------] 45% 450/1000 rows`.
fn draw(done: usize, total: usize) {
    let width = 30;
    let filled = if total == 0 { width } else { done * width / total };
    let percent = if total == 0 { 100 } else { done * 100 / total };
    let bar: String = "#".repeat(filled) + &"-".repeat(width - filled);
    let mut err = std::io::stderr();
    let _ = write!(err, "\r[{bar}] {percent:>3}% {done}/{total} rows");
    if done == total {
        let _ = writeln!(err);
    }
    let _ = err.flush();
}

/// Runs the import; `Ok((report text, written))`.
pub async fn run(db: &Db, clock: &dyn Clock, args: ImportArgs) -> Result<(String, bool), Box<dyn std::error::Error>> {
    let merchant = merchants::find_by_slug(db.pool(), &args.merchant)
        .await?
        .ok_or_else(|| format!("no merchant has the portal address `{}`", args.merchant))?;
    let bytes = std::fs::read(&args.file).map_err(|e| format!("can't read {}: {e}", args.file.display()))?;
    let mut last = usize::MAX;
    let report = import(db.pool(), &merchant, &bytes, args.skip_bad_rows, clock.now(), |done, total| {
        // Redraw at each whole percent (and at the end), not every row.
        let step = if total == 0 { 0 } else { done * 100 / total };
        if step != last || done == total {
            last = step;
            draw(done, total);
        }
    })
    .await?;
    if report.written {
        let detail = serde_json::json!({ "via": "cli", "file": args.file.display().to_string(), "rows": report.rows,
            "customers_created": report.customers_created, "invoices_created": report.invoices_created,
            "skipped_problems": report.problems.len() });
        app::server::repo::events::audit(
            db.pool(),
            &merchant.merchant_id(),
            "system",
            None,
            "import.completed",
            Some(("merchant", merchant.id.as_str())),
            &detail,
            None,
            None,
            clock.now(),
        )
        .await?;
    }
    Ok((render(&report), report.written))
}
