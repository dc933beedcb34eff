use super::Branding;
use serde::{Deserialize, Serialize};

/// The contact details and preferences page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingsView {
    pub branding: Branding,
    pub email: String,
    pub phone: String,
    pub time_zone: String,
    /// Formatting of amounts and dates, e.g. "en-GB".
    pub locale: String,
    /// (code, name) the customer can pick from.
    pub locales: Vec<(String, String)>,
    pub email_reminders: bool,
    pub sms_reminders: bool,
    /// Proved identity again recently: may change email and phone.
    pub stepped_up: bool,
    pub has_password: bool,
    pub time_zones: Vec<String>,
    pub cards: Vec<CardView>,
    pub autopay: AutopayView,
}

/// Autopay as the customer sees it, and what turning it on means.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AutopayView {
    pub enabled: bool,
    /// When the consent in force was given (customer's zone).
    pub since: Option<String>,
    /// The words agreed to, shown back while autopay is on.
    pub consent_text: Option<String>,
    /// The default card autopay would use, if it can pay.
    pub offer_card_id: Option<String>,
    /// The exact words the customer agrees to by turning it on.
    pub offer_text: Option<String>,
}

/// A saved card as the gateway describes it (never a number).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CardView {
    pub id: String,
    /// "Visa ending 4242"
    pub label: String,
    /// "11/2026"
    pub expires: String,
    pub expired: bool,
    pub is_default: bool,
}
