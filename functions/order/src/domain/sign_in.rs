//! Signing in with a phone: a one-time code texted to the number proves the customer holds it.
//! A proven number is a customer: the same number always signs in as the same customer id (issued
//! by the cafe at its first proof, so nobody can type it into being), and only a proven number
//! is ever texted about an order.

use super::{OrderError, OrderLimits, check_phone_number};
use cafe_shared::auth::sha256_hex;
use serde::Deserialize;

/// How long a texted code can be used.
pub const CODE_SECONDS: i64 = 300;

/// Tries one code allows: a guess is one in a million, so a code falls to guessing once in
/// 200,000 codes, and every code is a text the number's hourly limit counts.
pub const CODE_TRIES: u32 = 5;

/// The body of `POST /sign-in`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CodeRequest {
    pub phone_number: String,
}

/// The body of `POST /sign-in/verify`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CodeAnswer {
    pub phone_number: String,
    pub code: String,
}

impl CodeRequest {
    /// A number the cafe may text.
    pub fn check(&self, limits: &OrderLimits) -> Result<(), OrderError> {
        check_phone_number(&self.phone_number)?;
        limits.check_textable(&self.phone_number)
    }
}

impl CodeAnswer {
    pub fn check(&self) -> Result<(), OrderError> {
        check_phone_number(&self.phone_number)?;
        if self.code.len() == 6 && self.code.chars().all(|c| c.is_ascii_digit()) {
            Ok(())
        } else {
            Err(OrderError::CodeNotSixDigits)
        }
    }
}

/// A one-time code, as texted, and the salt its kept hash is made with.
pub struct SignInCode {
    pub code: String,
    pub salt: String,
}

impl SignInCode {
    /// Six random digits (from a v4 UUID's random bits; the modulo's bias is below 10^-12).
    pub fn generate() -> Self {
        let random = u64::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..8].try_into().expect("8 bytes"));
        Self {
            code: format!("{:06}", random % 1_000_000),
            salt: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    /// What the cafe keeps of the code: never the code itself.
    pub fn hash(&self, phone_number: &str) -> String {
        code_hash(phone_number, &self.salt, &self.code)
    }

    /// The text the customer gets.
    pub fn message(&self) -> String {
        format!(
            "{} is your cafe sign-in code. It works for {} minutes. Nobody from the cafe will ever ask you for it.",
            self.code,
            CODE_SECONDS / 60
        )
    }
}

/// The hash of `code` sent to `phone_number` with `salt`.
pub fn code_hash(phone_number: &str, salt: &str, code: &str) -> String {
    sha256_hex(&format!("cafe sign-in code\n{phone_number}\n{salt}\n{code}"))
}

/// The code kept for a number, as a try found it (the try already counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCode {
    pub code_hash: String,
    pub salt: String,
    /// Tries made, this one included.
    pub tries: u32,
    /// The customer the number signs in as, once it was first proven.
    pub customer_id: Option<String>,
}

impl LiveCode {
    pub fn matches(&self, answer: &CodeAnswer) -> bool {
        code_hash(&answer.phone_number, &self.salt, &answer.code) == self.code_hash
    }

    pub fn tries_left(&self) -> u32 {
        CODE_TRIES.saturating_sub(self.tries)
    }
}

/// The customer id the cafe issues a number at its first proof.
pub fn new_phone_customer_id() -> String {
    format!("cust-{}", &uuid::Uuid::new_v4().simple().to_string()[..20])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> OrderLimits {
        OrderLimits {
            orders_per_minute: 1,
            orders_per_kiosk_per_minute: 1,
            texts_per_hour: 1,
            text_country_codes: vec!["82".into()],
            max_orders_in_progress: 100,
        }
    }

    #[test]
    fn a_code_is_six_digits_and_only_its_number_and_salt_match_it() {
        let code = SignInCode::generate();
        assert_eq!(code.code.len(), 6);
        assert!(code.code.chars().all(|c| c.is_ascii_digit()));
        assert!(code.message().starts_with(&code.code));
        let kept = LiveCode {
            code_hash: code.hash("+821012345678"),
            salt: code.salt.clone(),
            tries: 1,
            customer_id: None,
        };
        assert!(!kept.code_hash.contains(&code.code));
        let answer = |phone: &str, digits: &str| CodeAnswer {
            phone_number: phone.into(),
            code: digits.into(),
        };
        assert!(kept.matches(&answer("+821012345678", &code.code)));
        assert!(!kept.matches(&answer("+821012345679", &code.code)), "another number");
        let wrong = format!("{:06}", (code.code.parse::<u32>().unwrap() + 1) % 1_000_000);
        assert!(!kept.matches(&answer("+821012345678", &wrong)));
        assert_eq!(kept.tries_left(), CODE_TRIES - 1);
        assert_ne!(SignInCode::generate().salt, code.salt);
    }

    #[test]
    fn only_textable_numbers_get_codes_and_only_six_digits_answer_them() {
        let request = |phone: &str| CodeRequest {
            phone_number: phone.into(),
        };
        assert!(request("+821012345678").check(&limits()).is_ok());
        assert!(matches!(
            request("+12025550100").check(&limits()),
            Err(OrderError::PhoneNotTextable(_))
        ));
        assert_eq!(request("0101234").check(&limits()), Err(OrderError::PhoneNotE164));
        let answer = |code: &str| CodeAnswer {
            phone_number: "+821012345678".into(),
            code: code.into(),
        };
        assert!(answer("012345").check().is_ok());
        for bad in ["12345", "1234567", "12345a", "١٢٣٤٥٦", ""] {
            assert_eq!(answer(bad).check(), Err(OrderError::CodeNotSixDigits), "{bad}");
        }
    }

    #[test]
    fn issued_customer_ids_are_distinct_and_valid_ids() {
        let id = new_phone_customer_id();
        assert!(id.starts_with("cust-") && id.len() == 25);
        assert!(cafe_shared::checks::check_id("customerId", &id, 64).is_ok());
        assert_ne!(new_phone_customer_id(), id);
    }
}
