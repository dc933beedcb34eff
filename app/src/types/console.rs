//! What the merchant console's server functions return.

use serde::{Deserialize, Serialize};

/// The merchant and the staff member a console page is for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleHeader {
    pub slug: String,
    pub merchant_name: String,
    pub user_name: String,
    pub user_email: String,
    /// "owner", "admin" or "viewer".
    pub role: String,
    /// Whether the role may change customers and invoices (buttons hidden otherwise).
    pub can_manage: bool,
}

/// The console sign-in page: which merchant it signs in to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleSignInView {
    pub slug: String,
    pub merchant_name: String,
    pub signed_in: bool,
}

/// The customer list's search and filters, as in the page's query string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomerFilter {
    /// Part of the name or email, any case.
    pub q: String,
    /// "active" or "suspended".
    pub status: String,
    /// An aging bucket key: "current", "1-30", "31-60", "61-90", "90+".
    pub aging: String,
    /// "yes": has an invoice in the reminder sequence; "no": none.
    pub dunning: String,
    /// "yes" / "no".
    pub autopay: String,
    /// "yes": has an active promise to pay.
    pub promise: String,
    /// "yes": has an open dispute.
    pub dispute: String,
    /// 1-based.
    pub page: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerListItem {
    pub id: String,
    pub name: String,
    pub email: String,
    pub status: String,
    pub autopay: bool,
    /// Open balance per currency, formatted ("$1,250.00").
    pub balances: Vec<String>,
    pub open_invoices: i64,
    /// Days past due of the oldest open invoice, when any is past due.
    pub days_overdue: Option<i64>,
    pub aging_label: String,
    pub in_dunning: bool,
    pub promise: bool,
    pub dispute: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerList {
    pub header: ConsoleHeader,
    pub items: Vec<CustomerListItem>,
    /// Customers matching the filters, over all pages.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    /// The filter's problems (an unknown bucket, say), shown above the list.
    pub errors: Vec<String>,
}

/// One customer as the console shows it: facts, invoices, timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDetail {
    pub header: ConsoleHeader,
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub time_zone: String,
    pub locale: String,
    pub status: String,
    pub autopay: bool,
    /// When reminders were paused, in the merchant's zone.
    pub paused_since: Option<String>,
    pub email_opt_out: bool,
    pub sms_opt_out: bool,
    /// "Visa •••• 4242, expires 04/2027 (default)".
    pub cards: Vec<String>,
    pub invoices: Vec<ConsoleInvoice>,
    /// Newest first.
    pub timeline: Vec<ConsoleEvent>,
    /// What the last action did: (succeeded, words).
    pub notice: Option<(bool, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleInvoice {
    pub id: String,
    pub number: String,
    pub status: String,
    pub total: String,
    pub owed: String,
    pub due_on: String,
    pub days_overdue: Option<i64>,
    /// Reminders sent for it so far.
    pub reminders_sent: i64,
    pub promise: Option<String>,
    pub dispute: Option<String>,
    /// Open: it can be marked paid; open with nothing paid: it can be voided.
    pub open: bool,
    pub voidable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleEvent {
    /// In the merchant's zone: "Mar 15, 2026, 2:05 PM CDT".
    pub at: String,
    /// "message", "payment", "retry", "promise", "dispute", "link", "staff", "customer", "dunning".
    pub category: String,
    pub title: String,
    pub detail: String,
}

/// One bar of a chart (and one row of its CSV).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    pub label: String,
    /// Minor units for money, a count otherwise.
    pub value: i64,
    pub display: String,
}

/// Days sales outstanding over the trailing 90 days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsoFigure {
    /// Tenths of a day, rounded half up (345 is 34.5 days).
    pub tenths: i64,
    pub receivables: String,
    pub invoiced: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtRisk {
    pub customer_id: String,
    pub customer: String,
    pub number: String,
    pub owed: String,
    pub days_overdue: i64,
    pub final_notice_on: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub at: String,
    /// "overdue", "promise_broken", "dispute".
    pub kind: String,
    pub text: String,
    pub customer_id: String,
}

/// The AR dashboard, in the merchant's default currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub header: ConsoleHeader,
    pub currency: String,
    /// Open invoices in other currencies are left out, and said so.
    pub other_currencies: Vec<String>,
    pub aging: Vec<Bar>,
    pub receivables: String,
    pub dso: Option<DsoFigure>,
    /// Invoices whose autopay charge failed in the last 90 days, and how
    /// many of them are paid now.
    pub failed_invoices: i64,
    pub recovered_invoices: i64,
    /// Tenths of a percent (625 is 62.5%); none without failures.
    pub recovery_tenths: Option<i64>,
    /// Invoices paid in the last 90 days, by reminders sent before payment.
    pub funnel: Vec<Bar>,
    pub collected_this_month: String,
    /// The last six months, oldest first.
    pub collected: Vec<Bar>,
    pub at_risk: Vec<AtRisk>,
    pub alerts: Vec<Alert>,
    pub aging_svg: String,
    pub funnel_svg: String,
    pub collected_svg: String,
    pub can_export: bool,
}

/// The branding form's fields, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BrandingForm {
    pub display_name: String,
    pub primary_color: String,
    pub accent_color: String,
    pub support_email: String,
    pub support_phone: String,
    pub email_footer: String,
    /// `pay.example.com`, or empty for none.
    pub custom_domain: String,
}

/// A problem with one field of a form, said in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BrandingView {
    pub header: ConsoleHeader,
    /// What was saved, or what was typed when it couldn't be.
    pub form: BrandingForm,
    pub errors: Vec<FieldError>,
    /// Contrast below WCAG AA, and the like: saved, but worth a look.
    pub warnings: Vec<String>,
    pub logo_url: Option<String>,
    /// The portal as customers see it (saved branding).
    pub branding: crate::types::Branding,
    /// A sample reminder, rendered with the saved branding.
    pub email_preview_html: String,
    pub can_edit: bool,
    pub notice: Option<(bool, String)>,
    /// Limits shown next to the upload.
    pub logo_max_bytes: i64,
    pub logo_max_side: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// In the merchant's zone.
    pub at: String,
    /// "Pat Staff (staff)", "Dana Whitfield (customer)", "Settle", "API".
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub ip: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub header: ConsoleHeader,
    pub entries: Vec<AuditEntry>,
    pub page: u32,
    pub has_more: bool,
    pub can_export: bool,
}

/// One row of the policy editor's step table, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyStepRow {
    /// Days from the due date: "-7" before, "3" after.
    pub offset: String,
    /// "email" or "sms".
    pub channel: String,
    pub template: String,
    /// "friendly", "firm" or "final".
    pub tone: String,
}

/// The policy editor's fields, as typed (so a rejected form loses nothing).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyForm {
    pub steps: Vec<PolicyStepRow>,
    /// "1, 3, 5, 7": days after a failed charge.
    pub retry_days: String,
    pub retry_hour: String,
    /// "21:00" and "08:00".
    pub quiet_start: String,
    pub quiet_end: String,
    pub weekly_cap: String,
    pub consolidate: bool,
    /// "none", "suspend", "collections", "write_off".
    pub final_action: String,
    pub final_after_days: String,
    /// "none", "flat" (an amount), "percent".
    pub late_fee_kind: String,
    pub late_fee_value: String,
    /// "30, 7": days before a card expires.
    pub expiry_days: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyView {
    pub header: ConsoleHeader,
    pub form: PolicyForm,
    /// Everything wrong with the last attempt, in words.
    pub errors: Vec<String>,
    pub can_edit: bool,
    pub notice: Option<(bool, String)>,
    /// The simulator's timeline for the form's policy, when asked for.
    pub preview: Option<String>,
    /// (key, what it says) of the templates a step can use.
    pub templates: Vec<(String, String)>,
    pub currency: String,
}

/// One problem of an import, for the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProblemView {
    pub line: u64,
    pub column: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportView {
    pub header: ConsoleHeader,
    pub can_import: bool,
    pub columns: Vec<String>,
    /// The last import's summary and problems, shown once.
    pub summary: Option<(bool, String)>,
    pub problems: Vec<ImportProblemView>,
    pub max_rows: i64,
}

/// The first-run form's fields (the password is never sent back).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SetupForm {
    pub name: String,
    pub slug: String,
    pub owner_name: String,
    pub owner_email: String,
    pub time_zone: String,
    pub currency: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupView {
    /// Only a fresh install (no merchant yet) offers the form.
    pub available: bool,
    pub form: SetupForm,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMemberView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub is_you: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    pub role: String,
    pub expires_on: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffView {
    pub header: ConsoleHeader,
    pub members: Vec<StaffMemberView>,
    pub invitations: Vec<InvitationView>,
    pub can_manage_staff: bool,
    pub can_manage_owners: bool,
    pub notice: Option<(bool, String)>,
}

/// The page an invitation link opens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationPage {
    pub slug: String,
    pub merchant_name: String,
    /// None when the link is used, withdrawn, expired or unknown.
    pub invitation: Option<(String, String)>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    /// The first characters, e.g. `sk_settle_AbCd…`.
    pub prefix: String,
    pub created_on: String,
    pub last_used: String,
    pub revoked: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpointView {
    pub id: String,
    pub url: String,
    pub created_on: String,
    pub delivered: i64,
    pub pending: i64,
    pub failed: i64,
    pub last_error: Option<String>,
    pub disabled: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeysView {
    pub header: ConsoleHeader,
    pub keys: Vec<ApiKeyView>,
    pub endpoints: Vec<WebhookEndpointView>,
    pub can_manage: bool,
    pub notice: Option<(bool, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateEditorView {
    pub header: ConsoleHeader,
    /// (key, what it is for) of every editable template.
    pub keys: Vec<(String, String)>,
    pub key: String,
    /// "email" or "sms".
    pub channel: String,
    pub subject: String,
    pub body: String,
    /// The merchant's own wording (else the built-in text is shown).
    pub is_custom: bool,
    /// (name, what it says).
    pub variables: Vec<(String, String)>,
    /// The sample rendering: subject, and HTML for email or text for SMS.
    pub preview_subject: String,
    pub preview_html: Option<String>,
    pub preview_text: String,
    pub error: Option<String>,
    pub notice: Option<(bool, String)>,
    pub can_edit: bool,
}

/// The invoice list's search and filters, as in the query string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InvoiceFilter {
    /// Part of the number or the customer's name.
    pub q: String,
    /// "open", "paid", "void", "uncollectible".
    pub status: String,
    pub aging: String,
    pub dunning: String,
    pub promise: String,
    pub dispute: String,
    pub page: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceListItem {
    pub id: String,
    pub number: String,
    pub customer_id: String,
    pub customer: String,
    pub status: String,
    pub due_on: String,
    pub total: String,
    pub owed: String,
    pub days_overdue: Option<i64>,
    pub in_dunning: bool,
    pub promise: bool,
    pub dispute: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceList {
    pub header: ConsoleHeader,
    pub items: Vec<InvoiceListItem>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
    pub errors: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleInvoiceDetail {
    pub header: ConsoleHeader,
    pub invoice: ConsoleInvoice,
    pub customer_id: String,
    pub customer: String,
    pub issued_on: String,
    pub paid: String,
    pub memo: Option<String>,
    pub external_ref: Option<String>,
    /// (description, quantity, unit price, amount).
    pub lines: Vec<(String, i64, String, String)>,
    /// Newest first: reminders, payments, retries, promises, disputes, staff and API actions.
    pub timeline: Vec<ConsoleEvent>,
}
