//! Types shared by the server and the browser: what crosses a server function.

pub mod account;
pub mod branding;
pub mod console;
pub mod error;
#[cfg(test)]
pub mod fixtures;
pub mod invoice;
pub mod link;
pub mod locale;
pub mod money;
pub mod pay;
pub mod settings;
pub mod sign_in;

pub use account::{AccountSecurity, AccountView, BalanceLine, InvoiceStatusLabel, OpenInvoice};
pub use branding::{Branding, PortalHome};
pub use console::{
    Alert, ApiKeyView, ApiKeysView, AtRisk, AuditEntry, AuditPage, Bar, BrandingForm, BrandingView, ConsoleEvent,
    ConsoleHeader, ConsoleInvoice, ConsoleInvoiceDetail, ConsoleSignInView, CustomerDetail, CustomerFilter,
    CustomerList, CustomerListItem, Dashboard, DsoFigure, FieldError, ImportProblemView, ImportView, InvitationPage,
    InvitationView, InvoiceFilter, InvoiceList, InvoiceListItem, PolicyForm, PolicyStepRow, PolicyView, SetupForm,
    SetupView, StaffMemberView, StaffView, TemplateEditorView, WebhookEndpointView,
};
pub use error::PortalError;
pub use invoice::{InvoiceDetail, InvoiceLineView, PaymentHistory, PaymentView, Receipt, TimelineEntry};
pub use link::LinkStatus;
pub use money::{AmountError, Currency, Money};
pub use settings::{CardView, SettingsView};
pub use sign_in::{SignInLinkView, SignInPending};
