//! Money as integer minor units plus an ISO 4217 currency. Never floats.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A three-letter upper-case ISO 4217 code, validated on construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a currency code: expected three letters such as USD or EUR")]
pub struct InvalidCurrency(pub String);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");
    pub const GBP: Currency = Currency(*b"GBP");

    /// Accepts any case ("usd" is USD) but nothing other than three ASCII letters.
    pub fn parse(code: &str) -> Result<Self, InvalidCurrency> {
        let bytes = code.trim().as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(InvalidCurrency(code.to_string()));
        }
        let mut out = [0u8; 3];
        for (o, b) in out.iter_mut().zip(bytes) {
            *o = b.to_ascii_uppercase();
        }
        Ok(Currency(out))
    }

    pub fn code(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point (ISO 4217 minor unit).
    pub fn exponent(&self) -> u32 {
        match self.code() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "VND" | "VUV"
            | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            _ => 2,
        }
    }

    fn symbol(&self) -> Option<&'static str> {
        Some(match self.code() {
            "USD" => "$",
            "EUR" => "€",
            "GBP" => "£",
            "JPY" => "¥",
            "CAD" => "CA$",
            "AUD" => "A$",
            "NZD" => "NZ$",
            "INR" => "₹",
            _ => return None,
        })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Currency {
    type Error = InvalidCurrency;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Currency::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}

/// An amount in the currency's minor unit (cents for USD).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount out of range")]
    Overflow,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        let minor = self.minor.checked_add(other.minor).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, currency: self.currency })
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        let minor = self.minor.checked_sub(other.minor).ok_or(MoneyError::Overflow)?;
        Ok(Money { minor, currency: self.currency })
    }

    /// "$1,234.56", "€0.50", "-$3.00", "1,200 ISK" (en-US conventions).
    pub fn display(&self) -> String {
        self.display_in("en-US")
    }

    /// As written in `locale`: "1.234,56 €" in de-DE, "€ 1.234,56" in nl-NL.
    pub fn display_in(&self, locale: &str) -> String {
        let style = super::locale::number_style(locale);
        let exp = self.currency.exponent();
        let negative = self.minor < 0;
        let abs = self.minor.unsigned_abs();
        let scale = 10u64.pow(exp);
        let whole = group_thousands(abs / scale, style.group);
        let number = if exp == 0 {
            whole
        } else {
            format!("{whole}{}{:0width$}", style.decimal, abs % scale, width = exp as usize)
        };
        let sign = if negative { "-" } else { "" };
        match (self.currency.symbol(), style.symbol_first) {
            (Some(sym), true) if locale == "nl-NL" => format!("{sym}\u{a0}{sign}{number}"),
            (Some(sym), true) => format!("{sign}{sym}{number}"),
            (Some(sym), false) => format!("{sign}{number}\u{a0}{sym}"),
            (None, _) => format!("{sign}{number}\u{a0}{}", self.currency),
        }
    }
}

/// Why typed text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("Enter an amount.")]
    Empty,
    #[error("Enter the amount as a number, for example {0}.")]
    NotANumber(String),
    #[error("Use at most {0} digits after the decimal point.")]
    TooManyDecimals(u32),
    #[error("Enter an amount above zero.")]
    NotPositive,
    #[error("That amount is too large.")]
    TooLarge,
}

impl Money {
    /// Reads an amount as a customer of `locale` types it ("1,234.50",
    /// "1.234,50 €", "$20"): group separators and the currency's symbol or
    /// code are ignored, the locale's decimal mark separates the minor units.
    pub fn parse_in(text: &str, currency: Currency, locale: &str) -> Result<Money, AmountError> {
        let style = super::locale::number_style(locale);
        let example = Money::new(2050 * 10i64.pow(currency.exponent()) / 100, currency).display_in(locale);
        let mut cleaned: String = text.trim().to_string();
        if let Some(sym) = currency.symbol() {
            cleaned = cleaned.replace(sym, "");
        }
        cleaned = cleaned.replace(currency.code(), "").replace(&currency.code().to_lowercase(), "");
        let cleaned: String = cleaned
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{202f}' && *c != '\'')
            .collect();
        if cleaned.is_empty() {
            return Err(AmountError::Empty);
        }
        if cleaned.starts_with('-') {
            return Err(AmountError::NotPositive);
        }
        let (whole, fraction) = match cleaned.rfind(style.decimal) {
            Some(i) => (&cleaned[..i], &cleaned[i + style.decimal.len_utf8()..]),
            None => (cleaned.as_str(), ""),
        };
        let group: Vec<char> = style.group.chars().collect();
        let whole: String = whole.chars().filter(|c| !group.contains(c)).collect();
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if !digits(&whole) || !digits(fraction) || (whole.is_empty() && fraction.is_empty()) {
            return Err(AmountError::NotANumber(example));
        }
        let exp = currency.exponent();
        if fraction.len() > exp as usize {
            return Err(AmountError::TooManyDecimals(exp));
        }
        let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| AmountError::TooLarge)? };
        let fraction_minor: i64 =
            if fraction.is_empty() { 0 } else { fraction.parse::<i64>().map_err(|_| AmountError::TooLarge)? };
        let fraction_minor = fraction_minor * 10i64.pow(exp - fraction.len() as u32);
        let minor = whole
            .checked_mul(10i64.pow(exp))
            .and_then(|w| w.checked_add(fraction_minor))
            .ok_or(AmountError::TooLarge)?;
        if minor == 0 {
            return Err(AmountError::NotPositive);
        }
        Ok(Money::new(minor, currency))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

fn group_thousands(n: u64, separator: &str) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push_str(separator);
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises_currency_codes() {
        assert_eq!(Currency::parse("usd").unwrap(), Currency::USD);
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("U$D").is_err());
        assert!(Currency::parse("USDX").is_err());
    }

    #[test]
    fn formats_minor_units_with_the_currency_exponent() {
        assert_eq!(Money::new(123456, Currency::USD).display(), "$1,234.56");
        assert_eq!(Money::new(5, Currency::EUR).display(), "€0.05");
        assert_eq!(Money::new(-300, Currency::GBP).display(), "-£3.00");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::new(1200, jpy).display(), "¥1,200");
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::new(1234, kwd).display(), "1.234\u{a0}KWD");
        assert_eq!(Money::new(100_000_000, Currency::USD).display(), "$1,000,000.00");
    }

    #[test]
    fn formats_for_the_customer_locale() {
        let eur = Money::new(123456, Currency::EUR);
        assert_eq!(eur.display_in("de-DE"), "1.234,56\u{a0}€");
        assert_eq!(eur.display_in("fr-FR"), "1\u{202f}234,56\u{a0}€");
        assert_eq!(eur.display_in("nl-NL"), "€\u{a0}1.234,56");
        assert_eq!(eur.display_in("en-GB"), "€1,234.56");
        assert_eq!(Money::new(-5, Currency::USD).display_in("es-ES"), "-0,05\u{a0}$");
    }

    #[test]
    fn parses_typed_amounts_in_the_customer_locale() {
        let usd = |t: &str| Money::parse_in(t, Currency::USD, "en-US").map(|m| m.minor);
        assert_eq!(usd("1,234.50"), Ok(123450));
        assert_eq!(usd("$20"), Ok(2000));
        assert_eq!(usd(" 0.5 "), Ok(50));
        assert_eq!(usd(".75"), Ok(75));
        assert_eq!(usd("20 USD"), Ok(2000));
        assert_eq!(usd(""), Err(AmountError::Empty));
        assert_eq!(usd("0"), Err(AmountError::NotPositive));
        assert_eq!(usd("-5"), Err(AmountError::NotPositive));
        assert_eq!(usd("1.234"), Err(AmountError::TooManyDecimals(2)));
        assert!(matches!(usd("12abc"), Err(AmountError::NotANumber(_))));
        assert!(matches!(usd("1.2.3"), Err(AmountError::NotANumber(_))));
        assert_eq!(usd("99999999999999999999"), Err(AmountError::TooLarge));
        let eur_de = |t: &str| Money::parse_in(t, Currency::EUR, "de-DE").map(|m| m.minor);
        assert_eq!(eur_de("1.234,56 €"), Ok(123456));
        assert_eq!(eur_de("10,5"), Ok(1050));
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::parse_in("1,200", jpy, "en-US").map(|m| m.minor), Ok(1200));
        assert_eq!(Money::parse_in("12.5", jpy, "en-US"), Err(AmountError::TooManyDecimals(0)));
    }

    #[test]
    fn refuses_to_mix_currencies() {
        let a = Money::new(100, Currency::USD);
        let b = Money::new(100, Currency::EUR);
        assert_eq!(a.checked_add(b), Err(MoneyError::CurrencyMismatch(Currency::USD, Currency::EUR)));
        assert_eq!(a.checked_add(a).unwrap().minor, 200);
        assert_eq!(Money::new(i64::MAX, Currency::USD).checked_add(a), Err(MoneyError::Overflow));
    }
}
