//! Server functions: the only door from the browser into server code.
//! Each one takes the merchant and customer from the session, never from
//! its arguments (the slug only selects which portal is being looked at).

use crate::types::{
    AccountView, InvoiceDetail, LinkStatus, PaymentHistory, PortalError, PortalHome, Receipt, SettingsView,
    SignInLinkView, SignInPending,
};
use leptos::prelude::*;

/// What every server function needs: the state and the session.
#[cfg(feature = "ssr")]
pub(crate) mod ssr_helpers {
    use crate::server::{AppError, AppState};
    use tower_sessions::Session;

    pub fn state() -> Result<AppState, AppError> {
        leptos::prelude::use_context::<AppState>().ok_or_else(|| AppError::internal("AppState missing from context"))
    }

    pub async fn session() -> Result<Session, AppError> {
        leptos_axum::extract::<Session>().await.map_err(|e| AppError::internal(format!("no session layer: {e}")))
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use super::ssr_helpers::{session, state};
    pub use crate::server::repo::merchants;
    pub use crate::server::{portal, portal_session, AppError, AppState};

    /// The portal's merchant and the customer signed in to it.
    pub async fn signed_in(
        state: &AppState,
        slug: &str,
    ) -> Result<(merchants::MerchantRow, crate::server::portal_session::PortalIdentity), AppError> {
        let merchant = merchants::find_by_slug(state.db.pool(), slug).await?.ok_or(AppError::NotFound)?;
        let session = session().await?;
        let identity = portal_session::for_merchant(&session, &merchant.merchant_id(), state.clock.now()).await?;
        Ok((merchant, identity))
    }
}

/// What an access link leads to. Reads only: it never consumes the link.
#[server(prefix = "/_srv", endpoint = "link_status")]
pub async fn fetch_link_status(slug: String, token: String) -> Result<LinkStatus, PortalError> {
    use ssr::*;
    let state = state()?;
    let check = portal::check_link(state.db.pool(), state.clock.now(), &slug, &token).await?;
    Ok(check.to_status())
}

/// The portal's front door: branding, and whether this browser is signed in here.
#[server(prefix = "/_srv", endpoint = "portal_home")]
pub async fn fetch_portal_home(slug: String) -> Result<PortalHome, PortalError> {
    use ssr::*;
    let state = state()?;
    let merchant =
        merchants::find_by_slug(state.db.pool(), &slug).await.map_err(AppError::from)?.ok_or(AppError::NotFound)?;
    let session = session().await?;
    let signed_in = match portal_session::for_merchant(&session, &merchant.merchant_id(), state.clock.now()).await {
        Ok(_) => true,
        Err(AppError::NotSignedIn) => false,
        Err(e) => return Err(e.into()),
    };
    Ok(PortalHome { branding: merchant.branding(), signed_in })
}

/// The signed-in customer's open invoices and balance.
#[server(prefix = "/_srv", endpoint = "account")]
pub async fn load_account(slug: String) -> Result<AccountView, PortalError> {
    use ssr::*;
    let state = state()?;
    let session = session().await?;
    Ok(portal::signed_in_account(state.db.pool(), &session, &slug, state.clock.now()).await?)
}

/// The code-entry page: branding and the address a code was sent to.
#[server(prefix = "/_srv", endpoint = "sign_in_pending")]
pub async fn fetch_sign_in_pending(slug: String) -> Result<SignInPending, PortalError> {
    use ssr::*;
    let state = state()?;
    let merchant =
        merchants::find_by_slug(state.db.pool(), &slug).await.map_err(AppError::from)?.ok_or(AppError::NotFound)?;
    let session = session().await?;
    let pending = portal_session::pending_for(&session, &merchant.merchant_id()).await?;
    Ok(SignInPending { branding: merchant.branding(), email: pending.map(|p| p.email) })
}

/// Whether an emailed sign-in link can still be used. Reads only.
#[server(prefix = "/_srv", endpoint = "sign_in_link")]
pub async fn fetch_sign_in_link(slug: String, token: String) -> Result<SignInLinkView, PortalError> {
    use ssr::*;
    let state = state()?;
    let pool = state.db.pool();
    let merchant = merchants::find_by_slug(pool, &slug).await.map_err(AppError::from)?.ok_or(AppError::NotFound)?;
    let (known, usable) = crate::server::sign_in::link_state(pool, state.clock.now(), &merchant, &token).await?;
    Ok(SignInLinkView { branding: merchant.branding(), usable, known })
}

/// One of the signed-in customer's invoices, in full.
#[server(prefix = "/_srv", endpoint = "invoice")]
pub async fn load_invoice(slug: String, id: String) -> Result<InvoiceDetail, PortalError> {
    use ssr::*;
    let state = state()?;
    let pool = state.db.pool();
    let (merchant, identity) = signed_in(&state, &slug).await?;
    Ok(crate::server::history::invoice_detail(pool, state.clock.now(), &merchant, &identity, &id).await?)
}

/// The signed-in customer's payments, newest first.
#[server(prefix = "/_srv", endpoint = "payments")]
pub async fn load_payments(slug: String) -> Result<PaymentHistory, PortalError> {
    use ssr::*;
    let state = state()?;
    let pool = state.db.pool();
    let (merchant, identity) = signed_in(&state, &slug).await?;
    Ok(crate::server::history::payment_history(pool, &merchant, &identity).await?)
}

/// Contact details and preferences of the signed-in customer.
#[server(prefix = "/_srv", endpoint = "settings")]
pub async fn load_settings(slug: String) -> Result<SettingsView, PortalError> {
    use ssr::*;
    let state = state()?;
    let pool = state.db.pool();
    let now = state.clock.now();
    let merchant = merchants::find_by_slug(pool, &slug).await.map_err(AppError::from)?.ok_or(AppError::NotFound)?;
    let session = session().await?;
    let identity = portal_session::for_merchant(&session, &merchant.merchant_id(), now).await?;
    let stepped_up = portal_session::is_stepped_up(&session, &identity, now).await?;
    Ok(crate::server::settings::view(pool, now, &merchant, &identity, stepped_up).await?)
}

/// A receipt for one of the signed-in customer's payments.
#[server(prefix = "/_srv", endpoint = "receipt")]
pub async fn load_receipt(slug: String, id: String) -> Result<Receipt, PortalError> {
    use ssr::*;
    let state = state()?;
    let pool = state.db.pool();
    let (merchant, identity) = signed_in(&state, &slug).await?;
    Ok(crate::server::history::receipt(pool, &merchant, &identity, &id).await?)
}

/// The review-and-confirm page of a payment: the chosen invoices (none: all
/// open ones), an optional partial amount as typed, the card to use.
#[server(prefix = "/_srv", endpoint = "pay_review")]
pub async fn load_pay_review(
    slug: String,
    // Comma-separated: an empty list must still encode as a field.
    invoices: String,
    amount: String,
    amount_minor: Option<i64>,
    card: Option<String>,
    declined: Option<String>,
) -> Result<crate::types::pay::PayReview, PortalError> {
    use ssr::*;
    let state = state()?;
    let (merchant, identity) = signed_in(&state, &slug).await?;
    let invoices: Vec<String> = invoices.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
    let view =
        crate::server::pay_views::review(&state, &merchant, &identity, invoices, amount, amount_minor, card, declined);
    Ok(view.await?)
}

/// A payment waiting for the customer's bank (3-D Secure).
#[server(prefix = "/_srv", endpoint = "pay_authenticate")]
pub async fn load_authentication(slug: String, id: String) -> Result<crate::types::pay::AuthenticateView, PortalError> {
    use ssr::*;
    let state = state()?;
    let (merchant, identity) = signed_in(&state, &slug).await?;
    Ok(crate::server::pay_views::authenticate(&state, &merchant, &identity, &id).await?)
}

/// Starts adding a card: the gateway's hosted fields (or the sandbox's form).
#[server(prefix = "/_srv", endpoint = "add_card")]
pub async fn start_add_card(slug: String, return_to: String) -> Result<crate::types::pay::AddCardView, PortalError> {
    use ssr::*;
    let state = state()?;
    let (merchant, identity) = signed_in(&state, &slug).await?;
    Ok(crate::server::pay_views::add_card(&state, &merchant, &identity, &return_to).await?)
}
