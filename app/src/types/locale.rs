//! Number and date conventions for the locales the portal supports. The
//! customer's locale (a preference) decides how amounts and dates look.

/// (code, name shown in the language picker)
pub const LOCALES: &[(&str, &str)] = &[
    ("en-US", "English (United States)"),
    ("en-GB", "English (United Kingdom)"),
    ("de-DE", "Deutsch (Deutschland)"),
    ("fr-FR", "Français (France)"),
    ("es-ES", "Español (España)"),
    ("nl-NL", "Nederlands (Nederland)"),
];

pub fn is_supported(code: &str) -> bool {
    LOCALES.iter().any(|(c, _)| *c == code)
}

/// How one locale writes numbers and where the currency symbol goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NumberStyle {
    pub group: &'static str,
    pub decimal: char,
    /// "$1.00" (prefix) or "1,00 €" (suffix, with a no-break space).
    pub symbol_first: bool,
}

pub fn number_style(locale: &str) -> NumberStyle {
    match locale {
        "de-DE" | "es-ES" => NumberStyle { group: ".", decimal: ',', symbol_first: false },
        "fr-FR" => NumberStyle { group: "\u{202f}", decimal: ',', symbol_first: false },
        "nl-NL" => NumberStyle { group: ".", decimal: ',', symbol_first: true },
        _ => NumberStyle { group: ",", decimal: '.', symbol_first: true },
    }
}

const MONTHS_EN: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTHS_DE: [&str; 12] =
    ["Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sept.", "Okt.", "Nov.", "Dez."];
const MONTHS_FR: [&str; 12] =
    ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];
const MONTHS_ES: [&str; 12] = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"];
const MONTHS_NL: [&str; 12] = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"];

/// A calendar date as people in `locale` write it: "Mar 4, 2026",
/// "4 Mar 2026", "4. März 2026", "4 mars 2026" …
pub fn format_date(locale: &str, year: i16, month: i8, day: i8) -> String {
    let m = (month.clamp(1, 12) - 1) as usize;
    match locale {
        "en-GB" => format!("{day} {} {year}", MONTHS_EN[m]),
        "de-DE" => format!("{day}. {} {year}", MONTHS_DE[m]),
        "fr-FR" => format!("{day} {} {year}", MONTHS_FR[m]),
        "es-ES" => format!("{day} {} {year}", MONTHS_ES[m]),
        "nl-NL" => format!("{day} {} {year}", MONTHS_NL[m]),
        _ => format!("{} {day}, {year}", MONTHS_EN[m]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_the_locale() {
        assert_eq!(format_date("en-US", 2026, 3, 4), "Mar 4, 2026");
        assert_eq!(format_date("en-GB", 2026, 3, 4), "4 Mar 2026");
        assert_eq!(format_date("de-DE", 2026, 3, 4), "4. März 2026");
        assert_eq!(format_date("fr-FR", 2026, 12, 25), "25 déc. 2026");
        assert_eq!(format_date("xx-XX", 2026, 1, 1), "Jan 1, 2026", "unknown locales fall back to en-US");
    }
}
