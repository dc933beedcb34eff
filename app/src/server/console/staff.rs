//! The merchant's staff: who is on the team, invitations by email (a
//! one-time link, stored hashed, 7 days), role changes and removals. Owners
//! manage everyone; admins manage admins and viewers; nobody can leave a
//! merchant without an owner.

use super::access::Action;
use super::actions::{Origin, Outcome};
use super::session::{ConsoleIdentity, Staff};
use crate::server::db::begin_write;
use crate::server::ids::{new_id_body, MerchantUserId};
use crate::server::mail::{render_branded, EmailContent};
use crate::server::repo::events;
use crate::server::repo::merchant_users::{self, Role};
use crate::server::repo::merchants::MerchantRow;
use crate::server::repo::messages::{self, NewEmail};
use crate::server::sign_in::looks_like_email;
use crate::server::tokens::SecretToken;
use crate::server::{passwords, AppError, UtcMillis};
use sqlx::AnyPool;

pub const INVITATION_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// A second invitation to the same address this soon is the same one.
const REINVITE_AFTER_MS: i64 = 10 * 60 * 1000;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub role: String,
    pub created_at: i64,
    pub expires_at: i64,
}

async fn audit(
    ex: impl sqlx::any::AnyExecutor<'_>,
    staff: &Staff,
    merchant: &MerchantRow,
    origin: &Origin,
    action: &str,
    subject: (&str, &str),
    detail: serde_json::Value,
    now: UtcMillis,
) -> Result<(), AppError> {
    events::audit(
        ex,
        &merchant.merchant_id(),
        "merchant_user",
        Some(staff.user.id.as_str()),
        action,
        Some(subject),
        &detail,
        origin.ip.as_deref(),
        origin.user_agent.as_deref(),
        now,
    )
    .await?;
    Ok(())
}

/// Inviting or managing someone with `role` needs this permission.
fn needed_for(role: Role) -> Action {
    if role == Role::Owner {
        Action::ManageOwners
    } else {
        Action::ManageStaff
    }
}

pub async fn pending(pool: &AnyPool, merchant: &MerchantRow, now: UtcMillis) -> Result<Vec<InvitationRow>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, email, role, created_at, expires_at FROM merchant_invitations WHERE merchant_id = $1 \
         AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC",
    )
    .bind(merchant.id.as_str())
    .bind(now.0)
    .fetch_all(pool)
    .await?)
}

pub async fn members(pool: &AnyPool, merchant: &MerchantRow) -> Result<Vec<merchant_users::MerchantUserRow>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, merchant_id, email, name, password_hash, role FROM merchant_users WHERE merchant_id = $1 \
         ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, email",
    )
    .bind(merchant.id.as_str())
    .fetch_all(pool)
    .await?)
}

#[allow(clippy::too_many_arguments)]
pub async fn invite(
    pool: &AnyPool,
    staff: &Staff,
    merchant: &MerchantRow,
    email: &str,
    role: &str,
    origin: &Origin,
    base_url: &str,
    now: UtcMillis,
) -> Result<Outcome, AppError> {
    staff.require(Action::ManageStaff)?;
    let email = email.trim().to_lowercase();
    if !looks_like_email(&email) {
        return Ok(Outcome::Unchanged(format!("{email:?} is not an email address; nobody was invited.")));
    }
    let Some(role) = Role::parse(role) else {
        return Ok(Outcome::Unchanged(format!("{role:?} is not a role; nobody was invited.")));
    };
    staff.require(needed_for(role))?;
    let mid = merchant.merchant_id();
    if merchant_users::find_by_email(pool, &mid, &email).await?.is_some() {
        return Ok(Outcome::Unchanged(format!("{email} is already on the team.")));
    }
    let mut tx = begin_write(pool).await?;
    let recent: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM merchant_invitations WHERE merchant_id = $1 AND email = $2 AND accepted_at IS NULL \
         AND revoked_at IS NULL AND created_at > $3",
    )
    .bind(mid.as_str())
    .bind(&email)
    .bind(now.0 - REINVITE_AFTER_MS)
    .fetch_optional(&mut *tx)
    .await?;
    if recent.is_some() {
        return Ok(Outcome::Unchanged(format!("An invitation went to {email} a moment ago; it is on its way.")));
    }
    // A new invitation replaces any older one for the address.
    sqlx::query(
        "UPDATE merchant_invitations SET revoked_at = $1 WHERE merchant_id = $2 AND email = $3 \
         AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(now.0)
    .bind(mid.as_str())
    .bind(&email)
    .execute(&mut *tx)
    .await?;
    let id = format!("inv_{}", new_id_body());
    let token = SecretToken::generate();
    sqlx::query(
        "INSERT INTO merchant_invitations (id, merchant_id, email, role, token_hash, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(mid.as_str())
    .bind(&email)
    .bind(role.as_str())
    .bind(token.hash())
    .bind(staff.user.id.as_str())
    .bind(now.0)
    .bind(now.0 + INVITATION_TTL_MS)
    .execute(&mut *tx)
    .await?;
    let url = format!("{}/m/{}/invite/{}", base_url.trim_end_matches('/'), merchant.slug, token.expose());
    let who = if staff.user.name.is_empty() { staff.user.email.clone() } else { staff.user.name.clone() };
    let (text, html) = render_branded(
        merchant,
        base_url,
        &EmailContent {
            heading: format!("Join {} on Settle", merchant.display_name),
            paragraphs: vec![
                format!(
                    "{who} invited you to {}'s billing console as {} {}.",
                    merchant.display_name,
                    if role == Role::Admin { "an" } else { "a" },
                    role.as_str()
                ),
                "Choose your name and a password with the link below. It works once, for 7 days.".into(),
            ],
            action: Some(("Accept the invitation".into(), url)),
        },
    );
    messages::enqueue_email(
        &mut *tx,
        &mid,
        &NewEmail {
            customer: None,
            to_address: email.clone(),
            subject: format!("You're invited to {} on Settle", merchant.display_name),
            body_text: text,
            body_html: html,
            template_key: "staff_invitation".into(),
            dedupe_key: format!("invite:{id}"),
        },
        now,
    )
    .await?;
    let detail = serde_json::json!({ "email": email, "role": role.as_str() });
    audit(&mut *tx, staff, merchant, origin, "staff.invited", ("invitation", &id), detail, now).await?;
    tx.commit().await?;
    Ok(Outcome::Done(format!("Invited {email} as {}; the email is on its way.", role.as_str())))
}

pub async fn revoke(
    pool: &AnyPool,
    staff: &Staff,
    merchant: &MerchantRow,
    invitation: &str,
    origin: &Origin,
    now: UtcMillis,
) -> Result<Outcome, AppError> {
    staff.require(Action::ManageStaff)?;
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT email, role FROM merchant_invitations WHERE merchant_id = $1 AND id = $2 AND accepted_at IS NULL \
         AND revoked_at IS NULL",
    )
    .bind(merchant.id.as_str())
    .bind(invitation)
    .fetch_optional(pool)
    .await?;
    let Some((email, role)) = row else { return Err(AppError::NotFound) };
    staff.require(needed_for(Role::parse(&role).unwrap_or(Role::Owner)))?;
    let mut tx = begin_write(pool).await?;
    sqlx::query("UPDATE merchant_invitations SET revoked_at = $1 WHERE merchant_id = $2 AND id = $3")
        .bind(now.0)
        .bind(merchant.id.as_str())
        .bind(invitation)
        .execute(&mut *tx)
        .await?;
    audit(
        &mut *tx,
        staff,
        merchant,
        origin,
        "staff.invitation_withdrawn",
        ("invitation", invitation),
        serde_json::json!({ "email": email }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Done(format!("Withdrew the invitation to {email}; its link no longer works.")))
}

/// A new role for a member, or `None` to remove them.
pub async fn change(
    pool: &AnyPool,
    staff: &Staff,
    merchant: &MerchantRow,
    member: &MerchantUserId,
    new_role: Option<&str>,
    origin: &Origin,
    now: UtcMillis,
) -> Result<Outcome, AppError> {
    staff.require(Action::ManageStaff)?;
    let mid = merchant.merchant_id();
    let target = merchant_users::find(pool, &mid, member).await?.ok_or(AppError::NotFound)?;
    let current = Role::parse(&target.role).unwrap_or(Role::Viewer);
    staff.require(needed_for(current))?;
    let new_role = match new_role {
        Some(r) => match Role::parse(r) {
            Some(role) => Some(role),
            None => return Ok(Outcome::Unchanged(format!("{r:?} is not a role; nothing changed."))),
        },
        None => None,
    };
    if let Some(role) = new_role {
        staff.require(needed_for(role))?;
        if role == current {
            return Ok(Outcome::Unchanged(format!("{} is already {}.", target.email, role.as_str())));
        }
    }
    if target.id == staff.user.id && new_role.is_none() {
        return Ok(Outcome::Unchanged("You can't remove yourself; ask another owner.".into()));
    }
    let mut tx = begin_write(pool).await?;
    if current == Role::Owner {
        let (owners,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM merchant_users WHERE merchant_id = $1 AND role = 'owner'")
                .bind(mid.as_str())
                .fetch_one(&mut *tx)
                .await?;
        if owners <= 1 {
            return Ok(Outcome::Unchanged(format!(
                "{} is the only owner; make someone else an owner first.",
                target.email
            )));
        }
    }
    let subject = ("merchant_user", target.id.as_str());
    let outcome = match new_role {
        Some(role) => {
            sqlx::query("UPDATE merchant_users SET role = $1, updated_at = $2 WHERE merchant_id = $3 AND id = $4")
                .bind(role.as_str())
                .bind(now.0)
                .bind(mid.as_str())
                .bind(target.id.as_str())
                .execute(&mut *tx)
                .await?;
            let detail = serde_json::json!({ "email": target.email, "from": current.as_str(), "to": role.as_str() });
            audit(&mut *tx, staff, merchant, origin, "staff.role_changed", subject, detail, now).await?;
            Outcome::Done(format!("{} is now {}.", target.email, role.as_str()))
        }
        None => {
            // Their audit entries keep their id; the name is gone with them.
            sqlx::query("UPDATE merchant_invitations SET invited_by = NULL WHERE merchant_id = $1 AND invited_by = $2")
                .bind(mid.as_str())
                .bind(target.id.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM merchant_users WHERE merchant_id = $1 AND id = $2")
                .bind(mid.as_str())
                .bind(target.id.as_str())
                .execute(&mut *tx)
                .await?;
            let detail = serde_json::json!({ "email": target.email, "role": current.as_str() });
            audit(&mut *tx, staff, merchant, origin, "staff.removed", subject, detail, now).await?;
            Outcome::Done(format!("Removed {}; they are signed out on their next click.", target.email))
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// What an invitation link leads to.
pub enum Invitation {
    Valid {
        email: String,
        role: String,
    },
    /// Used, withdrawn, expired or never issued: one answer.
    Invalid,
}

pub async fn look_up(
    pool: &AnyPool,
    merchant: &MerchantRow,
    token: &str,
    now: UtcMillis,
) -> Result<Invitation, AppError> {
    let Ok(token) = SecretToken::parse(token) else { return Ok(Invitation::Invalid) };
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT email, role FROM merchant_invitations WHERE merchant_id = $1 AND token_hash = $2 \
         AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3",
    )
    .bind(merchant.id.as_str())
    .bind(token.hash())
    .bind(now.0)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        Some((email, role)) => Invitation::Valid { email, role },
        None => Invitation::Invalid,
    })
}

/// Accepts an invitation: the account is created and the link used up, in
/// one transaction (a second click finds it used). `Err(message)` when the
/// name or password won't do.
pub async fn accept(
    pool: &AnyPool,
    merchant: &MerchantRow,
    token: &str,
    name: &str,
    password: &str,
    now: UtcMillis,
) -> Result<Result<ConsoleIdentity, String>, AppError> {
    let Invitation::Valid { email, role } = look_up(pool, merchant, token, now).await? else {
        return Ok(Err("This invitation link has been used, withdrawn or has expired; ask for a new one.".into()));
    };
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Ok(Err("Enter your name (at most 100 characters).".into()));
    }
    if let Err(problem) = passwords::check_policy(password, &[&email, name, &merchant.display_name]) {
        return Ok(Err(format!("Choose another password: {problem}")));
    }
    let hash = passwords::hash(password.to_string()).await.map_err(AppError::internal)?;
    let role = Role::parse(&role).unwrap_or(Role::Viewer);
    let hashed = SecretToken::parse(token).map_err(|_| AppError::NotFound)?.hash();
    let mut tx = begin_write(pool).await?;
    let used = sqlx::query(
        "UPDATE merchant_invitations SET accepted_at = $1 WHERE merchant_id = $2 AND token_hash = $3 \
         AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
    )
    .bind(now.0)
    .bind(merchant.id.as_str())
    .bind(&hashed)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if used == 0 {
        return Ok(Err("This invitation link has been used, withdrawn or has expired; ask for a new one.".into()));
    }
    let mid = merchant.merchant_id();
    if merchant_users::find_by_email(&mut *tx, &mid, &email).await?.is_some() {
        return Ok(Err(format!("{email} already has an account here; sign in instead.")));
    }
    let user = merchant_users::insert(&mut *tx, &mid, &email, name, Some(&hash), role, now).await?;
    events::audit(
        &mut *tx,
        &mid,
        "merchant_user",
        Some(user.as_str()),
        "staff.joined",
        Some(("merchant_user", user.as_str())),
        &serde_json::json!({ "email": email, "role": role.as_str() }),
        None,
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(ConsoleIdentity { merchant_id: mid, user_id: user, signed_in_at: now.0, last_seen_at: now.0 }))
}
