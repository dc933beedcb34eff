//! The merchant console's server functions. The merchant comes from the
//! slug and the staff member from the session; every call checks that the
//! staff member belongs to that merchant and that their role allows it.

use crate::types::{
    ApiKeysView, AuditPage, BrandingView, ConsoleInvoiceDetail, ConsoleSignInView, CustomerDetail, CustomerFilter,
    CustomerList, Dashboard, ImportView, InvitationPage, InvoiceFilter, InvoiceList, PolicyView, PortalError,
    SetupView, StaffView, TemplateEditorView,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::api::ssr_helpers::{session, state};
    pub use crate::server::console::{session as console_session, Action, Staff};
    pub use crate::server::repo::merchants::{self, MerchantRow};
    pub use crate::server::{AppError, AppState};
    pub use crate::types::ConsoleHeader;

    /// The merchant behind the slug and the staff member signed in to it.
    pub async fn staff(state: &AppState, slug: &str) -> Result<(MerchantRow, Staff), AppError> {
        let merchant = merchants::find_by_slug(state.db.pool(), slug).await?.ok_or(AppError::NotFound)?;
        let session = session().await?;
        let staff =
            console_session::for_merchant(state.db.pool(), &session, &merchant.merchant_id(), state.clock.now())
                .await?;
        Ok((merchant, staff))
    }

    pub fn header(merchant: &MerchantRow, staff: &Staff) -> ConsoleHeader {
        ConsoleHeader {
            slug: merchant.slug.clone(),
            merchant_name: merchant.display_name.clone(),
            user_name: staff.user.name.clone(),
            user_email: staff.user.email.clone(),
            role: staff.role.as_str().to_string(),
            can_manage: staff.require(Action::ManageCustomers).is_ok(),
        }
    }
}

/// The console sign-in page: the merchant's name, and whether this browser
/// is already signed in to its console.
#[server(prefix = "/_srv", endpoint = "console_sign_in")]
pub async fn fetch_console_sign_in(slug: String) -> Result<ConsoleSignInView, PortalError> {
    use ssr::*;
    let state = state()?;
    let merchant =
        merchants::find_by_slug(state.db.pool(), &slug).await.map_err(AppError::from)?.ok_or(AppError::NotFound)?;
    let session = session().await?;
    let signed_in = match console_session::for_merchant(
        state.db.pool(),
        &session,
        &merchant.merchant_id(),
        state.clock.now(),
    )
    .await
    {
        Ok(_) => true,
        Err(AppError::NotSignedIn) => false,
        Err(e) => return Err(e.into()),
    };
    Ok(ConsoleSignInView { slug: merchant.slug, merchant_name: merchant.display_name, signed_in })
}

/// One page of the merchant's customers, searched and filtered.
#[server(prefix = "/_srv", endpoint = "console_customers")]
pub async fn load_console_customers(slug: String, filter: CustomerFilter) -> Result<CustomerList, PortalError> {
    use ssr::*;
    let state = state()?;
    let (merchant, staff) = staff(&state, &slug).await?;
    staff.require(Action::View)?;
    let listed = crate::server::console::customers::list(
        state.db.pool(),
        &merchant.merchant_id(),
        "en-US",
        state.clock.now(),
        &filter,
    )
    .await?;
    Ok(CustomerList {
        header: header(&merchant, &staff),
        items: listed.items,
        total: listed.total,
        page: filter.page.max(1),
        per_page: crate::server::console::customers::PER_PAGE,
        errors: listed.errors,
    })
}

/// One customer: facts, invoices, the full timeline, and the notice left
/// by the last action (shown once).
#[server(prefix = "/_srv", endpoint = "console_customer")]
pub async fn load_console_customer(slug: String, id: String) -> Result<CustomerDetail, PortalError> {
    use ssr::*;
    let state = state()?;
    let (merchant, staff) = staff(&state, &slug).await?;
    staff.require(Action::View)?;
    let customer = crate::server::ids::CustomerId::parse(&id).map_err(|_| AppError::NotFound)?;
    let mut detail = crate::server::console::customer_detail::load(
        state.db.pool(),
        &merchant,
        header(&merchant, &staff),
        &customer,
        state.clock.now(),
    )
    .await?;
    detail.notice = console_session::take_notice(&session().await?).await?;
    Ok(detail)
}

/// The AR dashboard: aging, DSO, recovery, the funnel, collections, the
/// at-risk list and alerts.
#[server(prefix = "/_srv", endpoint = "console_dashboard")]
pub async fn load_console_dashboard(slug: String) -> Result<Dashboard, PortalError> {
    use ssr::*;
    let state = state()?;
    let (merchant, staff) = staff(&state, &slug).await?;
    staff.require(Action::View)?;
    let can_export = staff.require(Action::Export).is_ok();
    Ok(crate::server::console::dashboard::load(
        state.db.pool(),
        &merchant,
        header(&merchant, &staff),
        can_export,
        state.clock.now(),
    )
    .await?)
}

/// The session key of a branding form that couldn't be saved.
pub const REJECTED_BRANDING: &str = "console_rejected_branding";

/// The branding page: the saved branding (or the rejected form, with its
/// errors), contrast warnings, and previews of the portal and a reminder.
#[server(prefix = "/_srv", endpoint = "console_branding")]
pub async fn load_console_branding(slug: String) -> Result<BrandingView, PortalError> {
    use crate::server::console::branding::{self, LOGO_MAX_BYTES, LOGO_MAX_SIDE};
    use crate::types::{BrandingForm, FieldError};
    use ssr::*;
    let state = state()?;
    let (merchant, staff) = staff(&state, &slug).await?;
    staff.require(Action::View)?;
    let session = session().await?;
    let rejected: Option<(BrandingForm, Vec<FieldError>)> =
        console_session::take_rejected(&session, REJECTED_BRANDING).await?;
    let saved = BrandingForm {
        display_name: merchant.display_name.clone(),
        primary_color: merchant.primary_color.clone(),
        accent_color: merchant.accent_color.clone(),
        support_email: merchant.support_email.clone().unwrap_or_default(),
        support_phone: merchant.support_phone.clone().unwrap_or_default(),
        email_footer: merchant.email_footer.clone().unwrap_or_default(),
        custom_domain: merchant.custom_domain.clone().unwrap_or_default(),
    };
    let (form, errors) = rejected.unwrap_or((saved, Vec::new()));
    let email_preview_html = crate::server::console::previews::sample_reminder(&merchant, &state.portal.base_url);
    Ok(BrandingView {
        header: header(&merchant, &staff),
        warnings: branding::warnings(&merchant.primary_color, &merchant.accent_color),
        form,
        errors,
        logo_url: merchant.logo_url.clone(),
        branding: merchant.branding(),
        email_preview_html,
        can_edit: staff.require(Action::EditBranding).is_ok(),
        notice: console_session::take_notice(&session).await?,
        logo_max_bytes: LOGO_MAX_BYTES as i64,
        logo_max_side: LOGO_MAX_SIDE as i64,
    })
}

/// The audit log, a page at a time (1-based), newest first.
#[server(prefix = "/_srv", endpoint = "console_audit")]
pub async fn load_console_audit(slug: String, page: u32) -> Result<AuditPage, PortalError> {
    use crate::server::console::audit::{entries, PER_PAGE};
    use ssr::*;
    let state = state()?;
    let (merchant, staff) = staff(&state, &slug).await?;
    staff.require(Action::View)?;
    let page = page.max(1);
    let offset = (page as i64 - 1) * PER_PAGE as i64;
    // One more than a page says whether there is a next one.
    let mut rows = entries(state.db.pool(), &merchant, offset, PER_PAGE as i64 + 1).await?;
    let has_more = rows.len() > PER_PAGE as usize;
    rows.truncate(PER_PAGE as usize);
    Ok(AuditPage {
        header: header(&merchant, &staff),
        entries: rows,
        page,
        has_more,
        can_export: staff.require(Action::Export).is_ok(),
    })
}

/// Session keys: a policy form that couldn't be saved (with its problems),
/// and a form previewed with the simulator (with its timeline).
pub const REJECTED_POLICY: &str = "console_rejected_policy";
pub const PREVIEWED_POLICY: &str = "console_previewed_policy";

/// The policy editor: the active policy (or the form just rejected or
/// previewed), and the simulator's timeline when one was asked for.
#[server(prefix = "/_srv", endpoint = "console_policy")]
pub async fn load_console_policy(slug: String) -> Result<PolicyView, PortalError> {
    use crate::server::console::policy_form::{from_policy, TEMPLATES};
    use crate::types::{Currency, PolicyForm};
    use ssr::*;
    let state = state()?;
    let (merchant, staff) = staff(&state, &slug).await?;
    staff.require(Action::View)?;
    let session = session().await?;
    let currency = Currency::parse(&merchant.default_currency).map_err(AppError::internal)?;
    let rejected: Option<(PolicyForm, Vec<String>)> = console_session::take_rejected(&session, REJECTED_POLICY).await?;
    let previewed: Option<(PolicyForm, String)> = console_session::take_rejected(&session, PREVIEWED_POLICY).await?;
    let (form, errors, preview) = match (rejected, previewed) {
        (Some((form, errors)), _) => (form, errors, None),
        (None, Some((form, timeline))) => (form, Vec::new(), Some(timeline)),
        (None, None) => {
            let policy = crate::server::dunning::store::policy_for(state.db.pool(), &merchant.merchant_id()).await?;
            (from_policy(&policy, currency), Vec::new(), None)
        }
    };
    Ok(PolicyView {
        header: header(&merchant, &staff),
        form,
        errors,
        can_edit: staff.require(Action::EditPolicy).is_ok(),
        notice: console_session::take_notice(&session).await?,
        preview,
        templates: TEMPLATES.iter().map(|(k, d)| (k.to_string(), d.to_string())).collect(),
        currency: currency.code().to_string(),
    })
}

/// Session key of the last import's report.
pub const IMPORT_REPORT: &str = "console_import_report";

/// The import page: the columns, and the last import's report (once).
#[server(prefix = "/_srv", endpoint = "console_import")]
pub async fn load_console_import(slug: String) -> Result<ImportView, PortalError> {
    use crate::server::import::{ImportReport, COLUMNS, MAX_ROWS};
    use crate::types::ImportProblemView;
    use ssr::*;
    let state = state()?;
    let (merchant, staff) = staff(&state, &slug).await?;
    staff.require(Action::View)?;
    let session = session().await?;
    let report: Option<ImportReport> = console_session::take_rejected(&session, IMPORT_REPORT).await?;
    Ok(ImportView {
        header: header(&merchant, &staff),
        can_import: staff.require(Action::Import).is_ok(),
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        summary: report.as_ref().map(|r| (r.written, r.summary())),
        problems: report
            .map(|r| {
                r.problems
                    .into_iter()
                    .map(|p| ImportProblemView { line: p.line, column: p.column, reason: p.reason })
                    .collect()
            })
            .unwrap_or_default(),
        max_rows: MAX_ROWS as i64,
    })
}

/// Session key of a first-run form that couldn't be used.
pub const REJECTED_SETUP: &str = "console_rejected_setup";

/// The first-run form: offered only while the install has no merchant.
#[server(prefix = "/_srv", endpoint = "setup")]
pub async fn load_setup() -> Result<SetupView, PortalError> {
    use crate::types::SetupForm;
    use ssr::*;
    let state = state()?;
    let (merchants,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM merchants").fetch_one(state.db.pool()).await.map_err(AppError::from)?;
    let session = session().await?;
    let rejected: Option<(SetupForm, String)> = console_session::take_rejected(&session, REJECTED_SETUP).await?;
    let (form, error) = match rejected {
        Some((form, error)) => (form, Some(error)),
        None => (SetupForm { time_zone: "UTC".into(), currency: "USD".into(), ..SetupForm::default() }, None),
    };
    Ok(SetupView { available: merchants == 0, form, error })
}

/// The team: members, pending invitations, and what this member may change.
#[server(prefix = "/_srv", endpoint = "console_staff")]
pub async fn load_console_staff(slug: String) -> Result<StaffView, PortalError> {
    use crate::server::console::staff::{members, pending};
    use crate::types::{InvitationView, StaffMemberView};
    use ssr::*;
    let state = state()?;
    let (merchant, staff) = staff(&state, &slug).await?;
    staff.require(Action::View)?;
    let pool = state.db.pool();
    let zone = jiff::tz::TimeZone::get(&merchant.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let members = members(pool, &merchant)
        .await?
        .into_iter()
        .map(|m| StaffMemberView {
            is_you: m.id == staff.user.id,
            id: m.id,
            name: m.name,
            email: m.email,
            role: m.role,
        })
        .collect();
    let invitations = pending(pool, &merchant, state.clock.now())
        .await?
        .into_iter()
        .map(|i| InvitationView {
            id: i.id,
            email: i.email,
            role: i.role,
            expires_on: crate::server::UtcMillis(i.expires_at)
                .to_timestamp()
                .to_zoned(zone.clone())
                .strftime("%b %-d, %Y")
                .to_string(),
        })
        .collect();
    Ok(StaffView {
        header: header(&merchant, &staff),
        members,
        invitations,
        can_manage_staff: staff.require(Action::ManageStaff).is_ok(),
        can_manage_owners: staff.require(Action::ManageOwners).is_ok(),
        notice: console_session::take_notice(&session().await?).await?,
    })
}

/// Session key of an invitation acceptance that failed (name, message).
pub const REJECTED_INVITATION: &str = "console_rejected_invitation";

/// What an invitation link opens. Reading it uses nothing up.
#[server(prefix = "/_srv", endpoint = "invitation")]
pub async fn load_invitation(slug: String, token: String) -> Result<InvitationPage, PortalError> {
    use crate::server::console::staff::{look_up, Invitation};
    use ssr::*;
    let state = state()?;
    let merchant =
        merchants::find_by_slug(state.db.pool(), &slug).await.map_err(AppError::from)?.ok_or(AppError::NotFound)?;
    let invitation = match look_up(state.db.pool(), &merchant, &token, state.clock.now()).await? {
        Invitation::Valid { email, role } => Some((email, role)),
        Invitation::Invalid => None,
    };
    let error: Option<String> = console_session::take_rejected(&session().await?, REJECTED_INVITATION).await?;
    Ok(InvitationPage { slug: merchant.slug, merchant_name: merchant.display_name, invitation, error })
}

/// The merchant's API keys (never the secrets).
#[server(prefix = "/_srv", endpoint = "console_api_keys")]
pub async fn load_console_api_keys(slug: String) -> Result<ApiKeysView, PortalError> {
    use crate::types::ApiKeyView;
    use ssr::*;
    let state = state()?;
    let (merchant, staff) = staff(&state, &slug).await?;
    staff.require(Action::View)?;
    let zone = jiff::tz::TimeZone::get(&merchant.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let day = |ms: i64| {
        crate::server::UtcMillis(ms).to_timestamp().to_zoned(zone.clone()).strftime("%b %-d, %Y %H:%M").to_string()
    };
    let keys = crate::server::console::api_keys::list(state.db.pool(), &merchant)
        .await?
        .into_iter()
        .map(|k| ApiKeyView {
            id: k.id,
            name: k.name,
            prefix: format!("{}…", k.prefix),
            created_on: day(k.created_at),
            last_used: k.last_used_at.map(day).unwrap_or_else(|| "never".into()),
            revoked: k.revoked_at.is_some(),
        })
        .collect();
    type EndpointRow = (String, String, i64, Option<i64>, i64, i64, i64, Option<String>);
    let endpoints: Vec<EndpointRow> = sqlx::query_as(
        "SELECT w.id, w.url, w.created_at, w.disabled_at, \
         (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.status = 'delivered'), \
         (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.status IN ('queued', 'sending')), \
         (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.status = 'failed'), \
         (SELECT d.last_error FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.last_error IS NOT NULL \
          ORDER BY d.next_attempt_at DESC LIMIT 1) \
         FROM webhook_endpoints w WHERE w.merchant_id = $1 ORDER BY w.created_at DESC",
    )
    .bind(merchant.id.as_str())
    .fetch_all(state.db.pool())
    .await
    .map_err(AppError::from)?;
    let endpoints = endpoints
        .into_iter()
        .map(|(id, url, created, disabled, delivered, pending, failed, last_error)| crate::types::WebhookEndpointView {
            id,
            url,
            created_on: day(created),
            delivered,
            pending,
            failed,
            last_error,
            disabled: disabled.is_some(),
        })
        .collect();
    Ok(ApiKeysView {
        header: header(&merchant, &staff),
        keys,
        endpoints,
        can_manage: staff.require(Action::ManageIntegrations).is_ok(),
        notice: console_session::take_notice(&session().await?).await?,
    })
}

/// Session key of a template edit that couldn't be saved:
/// (key, channel, subject, body, problem).
pub const REJECTED_TEMPLATE: &str = "console_rejected_template";

/// The template editor for one key and channel.
#[server(prefix = "/_srv", endpoint = "console_template")]
pub async fn load_console_template(
    slug: String,
    key: String,
    channel: String,
) -> Result<TemplateEditorView, PortalError> {
    use crate::server::console::policy_form::TEMPLATES;
    use crate::server::console::templates::{current, parse_channel, preview};
    use crate::server::dunning::templates::{Template, VARIABLES};
    use ssr::*;
    let state = state()?;
    let (merchant, staff) = staff(&state, &slug).await?;
    staff.require(Action::View)?;
    let key = if TEMPLATES.iter().any(|(k, _)| *k == key) { key } else { TEMPLATES[0].0.to_string() };
    let channel_value = parse_channel(&channel).unwrap_or(crate::server::dunning::policy::Channel::Email);
    let channel = if channel_value == crate::server::dunning::policy::Channel::Sms { "sms" } else { "email" };
    let session = session().await?;
    let rejected: Option<(String, String, String, String, String)> =
        console_session::take_rejected(&session, REJECTED_TEMPLATE).await?;
    let (template, is_custom, error) = match rejected {
        Some((k, c, subject, body, problem)) if k == key && c == channel => {
            (Template { subject, body }, true, Some(problem))
        }
        _ => {
            let (t, custom) = current(state.db.pool(), &merchant, &key, channel_value).await?;
            (t, custom, None)
        }
    };
    let (preview_subject, preview_html, preview_text, error) =
        match preview(&merchant, &state.portal.base_url, &template, channel_value) {
            Ok((s, h, t)) => (s, h, t, error),
            Err(e) => (String::new(), None, String::new(), error.or(Some(e))),
        };
    Ok(TemplateEditorView {
        header: header(&merchant, &staff),
        keys: TEMPLATES.iter().map(|(k, d)| (k.to_string(), d.to_string())).collect(),
        key,
        channel: channel.to_string(),
        subject: template.subject,
        body: template.body,
        is_custom,
        variables: VARIABLES.iter().map(|(n, d)| (n.to_string(), d.to_string())).collect(),
        preview_subject,
        preview_html,
        preview_text,
        error,
        notice: console_session::take_notice(&session).await?,
        can_edit: staff.require(Action::EditPolicy).is_ok(),
    })
}

/// One page of the merchant's invoices, searched and filtered.
#[server(prefix = "/_srv", endpoint = "console_invoices")]
pub async fn load_console_invoices(slug: String, filter: InvoiceFilter) -> Result<InvoiceList, PortalError> {
    use ssr::*;
    let state = state()?;
    let (merchant, staff) = staff(&state, &slug).await?;
    staff.require(Action::View)?;
    let zone = jiff::tz::TimeZone::get(&merchant.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let listed = crate::server::console::invoices::list(
        state.db.pool(),
        &merchant.merchant_id(),
        &zone,
        state.clock.now(),
        &filter,
    )
    .await?;
    Ok(InvoiceList {
        header: header(&merchant, &staff),
        items: listed.items,
        total: listed.total,
        page: filter.page.max(1),
        per_page: crate::server::console::invoices::PER_PAGE,
        errors: listed.errors,
    })
}

/// One invoice: facts, lines and its timeline.
#[server(prefix = "/_srv", endpoint = "console_invoice")]
pub async fn load_console_invoice(slug: String, id: String) -> Result<ConsoleInvoiceDetail, PortalError> {
    use ssr::*;
    let state = state()?;
    let (merchant, staff) = staff(&state, &slug).await?;
    staff.require(Action::View)?;
    let invoice = crate::server::ids::InvoiceId::parse(&id).map_err(|_| AppError::NotFound)?;
    Ok(crate::server::console::invoice_detail::load(
        state.db.pool(),
        &merchant,
        header(&merchant, &staff),
        &invoice,
        state.clock.now(),
    )
    .await?)
}
