//! What each staff role may do. Every console action names its `Action`
//! and asks `allows` before touching anything; the matrix lives here only.

use crate::server::repo::merchant_users::Role;

/// Something a staff member does in the console or through the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Read anything of the merchant's: lists, timelines, dashboard, audit log.
    View,
    /// Pause or resume dunning, mark paid, void, resend a link, suspend or reinstate.
    ManageCustomers,
    /// Logo, colours, contact details, email footer, domain.
    EditBranding,
    /// Dunning steps, retries, quiet hours, cap, final action, late fee, templates.
    EditPolicy,
    /// CSV imports of customers and invoices.
    Import,
    /// API keys and webhook endpoints.
    ManageIntegrations,
    /// Invite, change or remove admins and viewers.
    ManageStaff,
    /// Invite, change or remove owners.
    ManageOwners,
    /// Download the audit log and dashboard figures as CSV.
    Export,
}

impl Action {
    pub fn describe(&self) -> &'static str {
        match self {
            Action::View => "view this merchant",
            Action::ManageCustomers => "change customers and invoices",
            Action::EditBranding => "change the branding",
            Action::EditPolicy => "change the dunning policy",
            Action::Import => "import customers and invoices",
            Action::ManageIntegrations => "manage API keys and webhooks",
            Action::ManageStaff => "manage staff",
            Action::ManageOwners => "manage owners",
            Action::Export => "export data",
        }
    }
}

/// Owners may do everything; admins everything but touch owners; viewers
/// only look (they may not export either: an export is data leaving).
pub fn allows(role: Role, action: Action) -> bool {
    match role {
        Role::Owner => true,
        Role::Admin => action != Action::ManageOwners,
        Role::Viewer => action == Action::View,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Action; 9] = [
        Action::View,
        Action::ManageCustomers,
        Action::EditBranding,
        Action::EditPolicy,
        Action::Import,
        Action::ManageIntegrations,
        Action::ManageStaff,
        Action::ManageOwners,
        Action::Export,
    ];

    #[test]
    fn owners_do_everything_admins_all_but_owners_viewers_only_look() {
        for action in ALL {
            assert!(allows(Role::Owner, action), "owner: {action:?}");
            assert_eq!(allows(Role::Admin, action), action != Action::ManageOwners, "admin: {action:?}");
            assert_eq!(allows(Role::Viewer, action), action == Action::View, "viewer: {action:?}");
        }
    }
}
