//! The portal's use cases, between HTTP and the repositories: resolving an
//! access link, issuing one, and building the account page.

use super::ids::CustomerId;
use super::portal_session::{self, PortalIdentity, SignInMethod};
use super::repo::{access_tokens, account_page, customers, merchants};
use super::tokens::SecretToken;
use super::{AppError, UtcMillis};
use crate::types::{
    AccountSecurity, AccountView, BalanceLine, Currency, InvoiceStatusLabel, LinkStatus, Money, OpenInvoice,
};
use jiff::tz::TimeZone;
use sqlx::AnyPool;
use tower_sessions::Session;

/// An access link checked against one merchant's portal. Short-lived (one
/// request), so the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
pub enum LinkCheck {
    Valid { merchant: merchants::MerchantRow, customer: customers::CustomerRow, token_id: String },
    Expired { merchant: merchants::MerchantRow },
    Unknown { merchant: merchants::MerchantRow },
    Malformed { merchant: merchants::MerchantRow },
    NoSuchPortal,
}

impl LinkCheck {
    pub fn to_status(&self) -> LinkStatus {
        match self {
            LinkCheck::Valid { merchant, customer, .. } => LinkStatus::Valid {
                branding: merchant.branding(),
                customer_first_name: customer.first_name().to_string(),
            },
            LinkCheck::Expired { merchant } => LinkStatus::Expired { branding: merchant.branding() },
            LinkCheck::Unknown { merchant } => LinkStatus::Unknown { branding: merchant.branding() },
            LinkCheck::Malformed { merchant } => LinkStatus::Malformed { branding: merchant.branding() },
            LinkCheck::NoSuchPortal => LinkStatus::NoSuchPortal,
        }
    }
}

/// Reads only: a GET of the link (or a mail scanner prefetching it) must not
/// change anything.
pub async fn check_link(pool: &AnyPool, now: UtcMillis, slug: &str, raw_token: &str) -> Result<LinkCheck, AppError> {
    let Some(merchant) = merchants::find_by_slug(pool, slug).await? else {
        return Ok(LinkCheck::NoSuchPortal);
    };
    let Ok(token) = SecretToken::parse(raw_token) else {
        return Ok(LinkCheck::Malformed { merchant });
    };
    let merchant_id = merchant.merchant_id();
    let Some(row) = access_tokens::find_by_hash(pool, &merchant_id, &token.hash()).await? else {
        return Ok(LinkCheck::Unknown { merchant });
    };
    if row.revoked_at.is_some() {
        return Ok(LinkCheck::Unknown { merchant });
    }
    if row.expires_at <= now.0 {
        return Ok(LinkCheck::Expired { merchant });
    }
    let customer_id = CustomerId::from_trusted(row.customer_id.clone());
    let Some(customer) = customers::find(pool, &merchant_id, &customer_id).await? else {
        return Ok(LinkCheck::Unknown { merchant });
    };
    Ok(LinkCheck::Valid { merchant, customer, token_id: row.id })
}

/// The POST side of the link: on a valid link, who to sign in.
pub async fn redeem_link(
    pool: &AnyPool,
    now: UtcMillis,
    slug: &str,
    raw_token: &str,
) -> Result<Result<PortalIdentity, LinkCheck>, AppError> {
    match check_link(pool, now, slug, raw_token).await? {
        LinkCheck::Valid { merchant, customer, token_id } => {
            let merchant_id = merchant.merchant_id();
            access_tokens::record_use(pool, &merchant_id, &token_id, now).await?;
            Ok(Ok(PortalIdentity {
                merchant_id,
                customer_id: customer.customer_id(),
                method: SignInMethod::AccessLink,
                signed_in_at: now.0,
                last_seen_at: now.0,
            }))
        }
        other => Ok(Err(other)),
    }
}

/// Creates a new access link for a customer, valid for the merchant's TTL.
/// Returns the secret token: it exists nowhere else afterwards.
pub async fn issue_access_link(
    pool: &AnyPool,
    now: UtcMillis,
    merchant: &merchants::MerchantRow,
    customer: &CustomerId,
) -> Result<SecretToken, AppError> {
    let token = SecretToken::generate();
    let expires_at = now.plus_days(merchant.access_link_ttl_days);
    access_tokens::insert(
        pool,
        &merchant.merchant_id(),
        customer,
        &token.hash(),
        access_tokens::TokenPurpose::AccessLink,
        now,
        expires_at,
    )
    .await?;
    Ok(token)
}

/// Portal addresses: 1–63 lower-case letters, digits and inner hyphens.
pub fn is_valid_slug(slug: &str) -> bool {
    (1..=63).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

pub fn access_link_path(slug: &str, token: &SecretToken) -> String {
    format!("/p/{slug}/l/{}", token.expose())
}

/// The account page of the customer signed in to the portal `slug`: one
/// query reads the session row and everything else, the page being the
/// portal's busiest. Unknown portal: `NotFound`; no session, or one for
/// another portal or an expired one: `NotSignedIn`.
pub async fn signed_in_account(
    pool: &AnyPool,
    session: &Session,
    slug: &str,
    now: UtcMillis,
) -> Result<AccountView, AppError> {
    // The query reads the session as stored; a change made earlier in this
    // request would otherwise be missed.
    if session.is_modified() {
        session.save().await?;
    }
    let session_id = session.id().map(|id| id.to_string());
    let read = account_page::read(pool, session_id.as_deref(), slug).await?.ok_or(AppError::NotFound)?;
    // The same checks as every signed-in page (this portal, not expired).
    let identity =
        portal_session::for_merchant_from_stored(session, read.session.as_deref(), &read.merchant.merchant_id(), now)
            .await?;
    let account = read.account.ok_or(AppError::NotSignedIn)?;
    // The rows were read for the customer the stored session named; the
    // identity just checked must be that same customer.
    if account.customer.id != identity.customer_id.as_str()
        || account.customer.merchant_id != identity.merchant_id.as_str()
    {
        return Err(AppError::NotSignedIn);
    }
    account_view(now, &read.merchant, &identity, account)
}

/// Everything the account page shows, from what [`account_page::read`]
/// found for the session's merchant and customer.
fn account_view(
    now: UtcMillis,
    merchant: &merchants::MerchantRow,
    identity: &PortalIdentity,
    account: account_page::AccountRead,
) -> Result<AccountView, AppError> {
    let account_page::AccountRead { customer, has_password, open_invoices: rows, autopay_failure } = account;
    let zone = customer_zone(&customer.time_zone, &merchant.time_zone);
    let today = now.to_timestamp().to_zoned(zone.clone()).date();

    let mut open = Vec::with_capacity(rows.len());
    for row in rows {
        let currency = Currency::parse(&row.currency).map_err(AppError::internal)?;
        let issued = local_date(row.issued_at, &zone);
        let due = local_date(row.due_at, &zone);
        let days_overdue = due.until(today).map_err(AppError::internal)?.get_days() as i64;
        let status = if row.amount_paid_minor > 0 {
            InvoiceStatusLabel::PartlyPaid
        } else if days_overdue > 0 {
            InvoiceStatusLabel::Overdue
        } else if days_overdue == 0 {
            InvoiceStatusLabel::DueToday
        } else {
            InvoiceStatusLabel::NotYetDue
        };
        open.push(OpenInvoice {
            id: row.id.clone(),
            number: row.number.clone(),
            issued_on: issued.to_string(),
            due_on: due.to_string(),
            issued_on_display: human_date(issued, &customer.locale),
            due_on_display: human_date(due, &customer.locale),
            amount_due: Money::new(row.amount_due_minor(), currency),
            days_overdue,
            status,
        });
    }
    let autopay_problem = autopay_failure.map(|(message, at)| {
        let day = human_date(local_date(at, &zone), &customer.locale);
        format!("Autopay couldn't charge your card on {day}: {message}")
    });
    Ok(AccountView {
        autopay_problem,
        security: AccountSecurity {
            has_password,
            recent_email_proof: super::account_security::has_recent_email_proof(identity, now),
        },
        branding: merchant.branding(),
        customer_name: customer.name.clone(),
        customer_email: customer.email.clone(),
        locale: customer.locale.clone(),
        time_zone: zone.iana_name().unwrap_or("UTC").to_string(),
        balance: balance_lines(&open)?,
        invoices: open,
    })
}

/// "Mar 4, 2026", "4. März 2026" … as the customer's locale writes it.
pub(crate) fn human_date(d: jiff::civil::Date, locale: &str) -> String {
    crate::types::locale::format_date(locale, d.year(), d.month(), d.day())
}

/// The calendar date of `ms` in `zone`.
pub(crate) fn local_date(ms: i64, zone: &TimeZone) -> jiff::civil::Date {
    UtcMillis(ms).to_timestamp().to_zoned(zone.clone()).date()
}

/// Sums per currency, in the order currencies first appear.
fn balance_lines(open: &[OpenInvoice]) -> Result<Vec<BalanceLine>, AppError> {
    let mut lines: Vec<BalanceLine> = Vec::new();
    for inv in open {
        let currency = inv.amount_due.currency;
        let idx = match lines.iter().position(|l| l.total.currency == currency) {
            Some(i) => i,
            None => {
                lines.push(BalanceLine {
                    total: Money::zero(currency),
                    overdue: Money::zero(currency),
                    invoice_count: 0,
                });
                lines.len() - 1
            }
        };
        let line = &mut lines[idx];
        line.total = line.total.checked_add(inv.amount_due).map_err(AppError::internal)?;
        if inv.days_overdue > 0 {
            line.overdue = line.overdue.checked_add(inv.amount_due).map_err(AppError::internal)?;
        }
        line.invoice_count += 1;
    }
    Ok(lines)
}

/// The customer's zone, else the merchant's, else UTC. Zones are validated
/// when stored, so the fallbacks only guard against a tzdb that lost a name.
pub(crate) fn customer_zone(customer_tz: &str, merchant_tz: &str) -> TimeZone {
    TimeZone::get(customer_tz)
        .or_else(|_| {
            tracing::warn!(zone = customer_tz, "unknown customer time zone; using the merchant's");
            TimeZone::get(merchant_tz)
        })
        .unwrap_or(TimeZone::UTC)
}

#[cfg(test)]
mod tests {
    use super::is_valid_slug;

    #[test]
    fn slugs_are_url_and_header_safe() {
        assert!(is_valid_slug("acme"));
        assert!(is_valid_slug("acme-co-2"));
        assert!(!is_valid_slug(""));
        assert!(!is_valid_slug("-acme"));
        assert!(!is_valid_slug("Acme"));
        assert!(!is_valid_slug("acme\r\nSet-Cookie: x"));
        assert!(!is_valid_slug(&"a".repeat(64)));
    }
}
