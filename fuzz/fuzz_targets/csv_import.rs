//! A merchant's CSV upload: any bytes give rows and problems, never a panic.
#![no_main]

use app::server::import;
use app::server::repo::merchants::MerchantRow;
use libfuzzer_sys::fuzz_target;

fn merchant() -> MerchantRow {
    MerchantRow {
        id: "mer_fuzz".into(),
        slug: "acme".into(),
        name: "Acme".into(),
        display_name: "Acme".into(),
        logo_url: None,
        primary_color: "#1f4e8c".into(),
        accent_color: "#b4451f".into(),
        support_email: None,
        support_phone: None,
        email_footer: None,
        default_currency: "USD".into(),
        time_zone: "America/Chicago".into(),
        gateway: "sandbox".into(),
        access_link_ttl_days: 14,
        promise_max_days: 30,
        created_at: 0,
        updated_at: 0,
        custom_domain: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = import::read(data, &merchant());
});
