//! A merchant's staff: who signs in to the console, and with which role.

use crate::server::ids::{MerchantId, MerchantUserId};
use crate::server::UtcMillis;
use sqlx::any::AnyExecutor;

/// What a staff member may do: an owner everything, an admin everything but
/// managing owners, a viewer only look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Owner,
    Admin,
    Viewer,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MerchantUserRow {
    pub id: String,
    pub merchant_id: String,
    pub email: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub role: String,
}

/// Adds a staff member; `email` is stored lower-cased and trimmed, so the
/// unique (merchant, email) constraint holds whatever the capitals.
pub async fn insert<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    email: &str,
    name: &str,
    password_hash: Option<&str>,
    role: Role,
    now: UtcMillis,
) -> Result<MerchantUserId, sqlx::Error> {
    let id = MerchantUserId::new();
    sqlx::query(
        "INSERT INTO merchant_users (id, merchant_id, email, name, password_hash, role, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(id.as_str())
    .bind(merchant.as_str())
    .bind(email.trim().to_lowercase())
    .bind(name)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(now.0)
    .execute(ex)
    .await?;
    Ok(id)
}

pub async fn find_by_email<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    email: &str,
) -> Result<Option<MerchantUserRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, merchant_id, email, name, password_hash, role FROM merchant_users \
         WHERE merchant_id = $1 AND email = $2",
    )
    .bind(merchant.as_str())
    .bind(email.trim().to_lowercase())
    .fetch_optional(ex)
    .await
}

pub async fn find<'c>(
    ex: impl AnyExecutor<'c>,
    merchant: &MerchantId,
    id: &MerchantUserId,
) -> Result<Option<MerchantUserRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, merchant_id, email, name, password_hash, role FROM merchant_users \
         WHERE merchant_id = $1 AND id = $2",
    )
    .bind(merchant.as_str())
    .bind(id.as_str())
    .fetch_optional(ex)
    .await
}

impl MerchantUserRow {
    pub fn user_id(&self) -> MerchantUserId {
        MerchantUserId::from_trusted(self.id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn roles_round_trip_and_unknown_ones_are_refused() {
        for role in [Role::Owner, Role::Admin, Role::Viewer] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Owner"), None);
        assert_eq!(Role::parse("root"), None);
    }
}
