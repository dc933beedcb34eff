//! Which invoices a payment covers and how much of each: the selected open
//! invoices, oldest due first, the last one partly when the customer pays
//! less than the whole. Pure, so the confirmation page and the charge use
//! exactly the same arithmetic.

use crate::server::repo::invoices::InvoiceRow;
use crate::types::{Currency, Money};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocation {
    pub invoice_id: String,
    pub number: String,
    pub due_at: i64,
    /// What the invoice still owed when the plan was made.
    pub amount_due_minor: i64,
    /// What this payment puts towards it.
    pub amount_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentPlan {
    pub total: Money,
    pub allocations: Vec<Allocation>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("Choose at least one invoice to pay.")]
    NothingSelected,
    /// Paid, voided or not this customer's since the page was shown.
    #[error("Some of the invoices you chose are already paid or no longer open. Review what's due now.")]
    NoLongerOpen,
    #[error("Invoices in different currencies can't be paid together. Choose invoices in one currency.")]
    MixedCurrencies,
    #[error("You can pay at most {0} for the invoices you chose.")]
    MoreThanDue(String),
    #[error("Enter an amount above zero.")]
    NotPositive,
}

impl PlanError {
    pub fn code(&self) -> &'static str {
        match self {
            PlanError::NothingSelected => "none_selected",
            PlanError::NoLongerOpen => "not_open",
            PlanError::MixedCurrencies => "currencies",
            PlanError::MoreThanDue(_) => "too_much",
            PlanError::NotPositive => "not_positive",
        }
    }
}

/// `open`: the customer's open invoices (any order); `selected`: invoice ids
/// from the form; `amount`: a partial amount in minor units, or `None` for
/// everything selected.
pub fn plan(open: &[InvoiceRow], selected: &[String], amount: Option<i64>) -> Result<PaymentPlan, PlanError> {
    if selected.is_empty() {
        return Err(PlanError::NothingSelected);
    }
    let mut chosen: Vec<&InvoiceRow> = Vec::with_capacity(selected.len());
    for id in selected {
        let row = open.iter().find(|r| &r.id == id && r.amount_due_minor() > 0).ok_or(PlanError::NoLongerOpen)?;
        if !chosen.iter().any(|c| c.id == row.id) {
            chosen.push(row);
        }
    }
    chosen.sort_by(|a, b| a.due_at.cmp(&b.due_at).then_with(|| a.number.cmp(&b.number)));
    let currency = chosen[0].currency.clone();
    if chosen.iter().any(|r| r.currency != currency) {
        return Err(PlanError::MixedCurrencies);
    }
    let currency = Currency::parse(&currency).map_err(|_| PlanError::MixedCurrencies)?;
    let due: i64 = chosen.iter().map(|r| r.amount_due_minor()).sum();
    let total = match amount {
        None => due,
        Some(a) if a <= 0 => return Err(PlanError::NotPositive),
        Some(a) if a > due => return Err(PlanError::MoreThanDue(Money::new(due, currency).display())),
        Some(a) => a,
    };
    let mut left = total;
    let mut allocations = Vec::new();
    for row in chosen {
        if left == 0 {
            break;
        }
        let part = left.min(row.amount_due_minor());
        left -= part;
        allocations.push(Allocation {
            invoice_id: row.id.clone(),
            number: row.number.clone(),
            due_at: row.due_at,
            amount_due_minor: row.amount_due_minor(),
            amount_minor: part,
        });
    }
    Ok(PaymentPlan { total: Money::new(total, currency), allocations })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(id: &str, due_at: i64, total: i64, paid: i64) -> InvoiceRow {
        InvoiceRow {
            id: id.into(),
            customer_id: "cus".into(),
            number: id.to_uppercase(),
            currency: "USD".into(),
            subtotal_minor: total,
            tax_minor: 0,
            total_minor: total,
            amount_paid_minor: paid,
            status: "open".into(),
            issued_at: 0,
            due_at,
        }
    }

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pays_everything_selected_oldest_due_first() {
        let open = [inv("c", 30, 300, 0), inv("a", 10, 100, 0), inv("b", 20, 250, 50)];
        let p = plan(&open, &ids(&["c", "a", "b"]), None).unwrap();
        assert_eq!(p.total, Money::new(600, Currency::USD));
        let order: Vec<(&str, i64)> = p.allocations.iter().map(|a| (a.invoice_id.as_str(), a.amount_minor)).collect();
        assert_eq!(order, [("a", 100), ("b", 200), ("c", 300)]);
    }

    #[test]
    fn a_partial_amount_fills_the_oldest_first() {
        let open = [inv("new", 30, 300, 0), inv("old", 10, 100, 0), inv("mid", 20, 200, 0)];
        let p = plan(&open, &ids(&["new", "old", "mid"]), Some(250)).unwrap();
        let order: Vec<(&str, i64)> = p.allocations.iter().map(|a| (a.invoice_id.as_str(), a.amount_minor)).collect();
        assert_eq!(order, [("old", 100), ("mid", 150)]);
        assert_eq!(p.total.minor, 250);
    }

    #[test]
    fn deselected_invoices_are_left_alone() {
        let open = [inv("a", 10, 100, 0), inv("b", 20, 200, 0)];
        let p = plan(&open, &ids(&["b"]), None).unwrap();
        assert_eq!(p.allocations.len(), 1);
        assert_eq!(p.allocations[0].invoice_id, "b");
    }

    #[test]
    fn refuses_what_cannot_be_paid() {
        let open = [inv("a", 10, 100, 0), inv("paid", 5, 100, 100)];
        assert_eq!(plan(&open, &[], None), Err(PlanError::NothingSelected));
        assert_eq!(plan(&open, &ids(&["zzz"]), None), Err(PlanError::NoLongerOpen));
        assert_eq!(plan(&open, &ids(&["paid"]), None), Err(PlanError::NoLongerOpen));
        assert_eq!(plan(&open, &ids(&["a"]), Some(0)), Err(PlanError::NotPositive));
        assert_eq!(plan(&open, &ids(&["a"]), Some(101)), Err(PlanError::MoreThanDue("$1.00".into())));
        let mut eur = inv("e", 1, 100, 0);
        eur.currency = "EUR".into();
        assert_eq!(plan(&[inv("a", 10, 100, 0), eur], &ids(&["a", "e"]), None), Err(PlanError::MixedCurrencies));
    }

    #[test]
    fn a_repeated_id_counts_once() {
        let open = [inv("a", 10, 100, 0)];
        assert_eq!(plan(&open, &ids(&["a", "a"]), None).unwrap().total.minor, 100);
    }
}
