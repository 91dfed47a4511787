//! What an order costs and the card it is paid with: what `OrderPlaced` asks the payment step to
//! charge.

use super::Order;
use cafe_shared::checks::Invalid;
use cafe_shared::events::PaymentDue;

impl Order {
    /// What the order costs: each line's beverages at the price they were placed at (0 when
    /// unpriced).
    pub fn total(&self) -> u64 {
        (self.lines().iter())
            .map(|line| u64::from(line.unit_price.unwrap_or(0)) * u64::from(line.beverage_qty))
            .sum()
    }

    /// What its customer pays, and with what card: none when nothing is charged.
    pub fn payment_due(&self) -> Option<PaymentDue> {
        let (Some(card), Some(currency)) = (&self.payment_method, &self.currency) else {
            return None;
        };
        let amount = self.total();
        (amount > 0).then(|| PaymentDue {
            amount,
            currency: currency.clone(),
            payment_method: card.clone(),
        })
    }
}

/// A card as the payment provider names it: `pm_` and up to 100 letters, digits or `_`.
pub(super) fn check_payment_method(card: &str) -> Result<(), Invalid> {
    let named = card.strip_prefix("pm_").is_some_and(|rest| {
        (1..=100).contains(&rest.len()) && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    match named {
        true => Ok(()),
        false => Err(Invalid::Field(
            "paymentMethod must be the payment provider's id of the card, such as pm_card_visa".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_is_the_payment_provider_s_id_of_it_never_its_number() {
        assert_eq!(check_payment_method("pm_card_visa"), Ok(()));
        for bad in [
            "4242424242424242",
            "pm_",
            "pm_card visa",
            &format!("pm_{}", "x".repeat(101)),
        ] {
            assert!(matches!(check_payment_method(bad), Err(Invalid::Field(_))), "{bad}");
        }
    }
}
