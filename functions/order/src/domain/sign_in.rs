//! Signing in with a phone: a one-time code texted to the number proves the customer holds it.
//! A proven number is a customer: the same number always signs in as the same customer id (issued
//! by the cafe at its first proof, so nobody can type it into being), and only a proven number
//! is ever texted about an order. A code is tried only through the handle given to whoever asked
//! for it, so guesses by anyone else never use up its tries.

use super::{OrderError, OrderLimits};
use cafe_shared::auth::sha256_hex;
use serde::Deserialize;

/// How long a texted code can be used.
pub const CODE_SECONDS: i64 = 300;

/// Tries one code allows: a guess is one in a million, so a code falls to guessing once in
/// 200,000 codes, and every code is a text the number's hourly limit counts.
pub const CODE_TRIES: u32 = 5;

/// A handle's length: 128 random bits, in hex.
const HANDLE_CHARS: usize = 32;

/// The body of `POST /sign-in`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CodeRequest {
    pub phone_number: String,
}

/// The body of `POST /sign-in/verify`: the code texted, tried through the handle that
/// `POST /sign-in` gave whoever asked for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CodeAnswer {
    pub phone_number: String,
    pub code: String,
    pub handle: String,
}

impl CodeRequest {
    /// The number to text, in E.164, if the cafe may text it.
    pub fn number(&self, limits: &OrderLimits) -> Result<String, OrderError> {
        limits.textable(&self.phone_number)
    }
}

impl CodeAnswer {
    /// The number answered for, in E.164, once the answer is well formed.
    pub fn number(&self, limits: &OrderLimits) -> Result<String, OrderError> {
        let number = limits.textable(&self.phone_number)?;
        if !(self.code.len() == 6 && self.code.chars().all(|c| c.is_ascii_digit())) {
            return Err(OrderError::CodeNotSixDigits);
        }
        if !(self.handle.len() == HANDLE_CHARS && self.handle.chars().all(|c| c.is_ascii_hexdigit())) {
            return Err(OrderError::UnknownHandle);
        }
        Ok(number)
    }
}

/// A one-time code, as texted, the salt its kept hash is made with, and the handle it is tried
/// through.
pub struct SignInCode {
    pub code: String,
    pub salt: String,
    pub handle: String,
}

impl SignInCode {
    /// Six random digits (from a v4 UUID's random bits; the modulo's bias is below 10^-12).
    pub fn generate() -> Self {
        let random = u64::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..8].try_into().expect("8 bytes"));
        Self {
            code: format!("{:06}", random % 1_000_000),
            salt: uuid::Uuid::new_v4().simple().to_string(),
            handle: uuid::Uuid::new_v4().simple().to_string(),
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

/// What the cafe keeps a code under: the hash of its handle, never the handle itself.
pub fn handle_key(handle: &str) -> String {
    sha256_hex(&format!("cafe sign-in handle\n{handle}"))
}

/// The code kept under a handle, as a try found it (the try already counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCode {
    /// The key of the handle it is kept under.
    pub handle_key: String,
    pub code_hash: String,
    pub salt: String,
    /// Tries made, this one included.
    pub tries: u32,
    /// The customer the number signs in as, once it was first proven.
    pub customer_id: Option<String>,
}

impl LiveCode {
    /// Whether `code` is the one texted to `phone_number` (in E.164).
    pub fn matches(&self, phone_number: &str, code: &str) -> bool {
        code_hash(phone_number, &self.salt, code) == self.code_hash
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
    use crate::use_cases::tests::limits;

    #[test]
    fn a_code_is_six_digits_and_only_its_number_and_salt_match_it() {
        let code = SignInCode::generate();
        assert_eq!(code.code.len(), 6);
        assert!(code.code.chars().all(|c| c.is_ascii_digit()));
        assert!(code.message().starts_with(&code.code));
        let kept = LiveCode {
            handle_key: handle_key(&code.handle),
            code_hash: code.hash("+821012345678"),
            salt: code.salt.clone(),
            tries: 1,
            customer_id: None,
        };
        assert!(!kept.code_hash.contains(&code.code));
        assert!(!kept.handle_key.contains(&code.handle));
        assert!(kept.matches("+821012345678", &code.code));
        assert!(!kept.matches("+821012345679", &code.code), "another number");
        let wrong = format!("{:06}", (code.code.parse::<u32>().unwrap() + 1) % 1_000_000);
        assert!(!kept.matches("+821012345678", &wrong));
        assert_eq!(kept.tries_left(), CODE_TRIES - 1);
        let other = SignInCode::generate();
        assert_ne!((&other.salt, &other.handle), (&code.salt, &code.handle));
    }

    #[test]
    fn only_textable_numbers_get_codes_and_only_six_digits_and_a_handle_answer_them() {
        let request = |phone: &str| CodeRequest {
            phone_number: phone.into(),
        };
        let asked = request("+82 010-1234-5678").number(&limits());
        assert_eq!(asked.as_deref(), Ok("+821012345678"));
        assert!(matches!(
            request("+12025550100").number(&limits()),
            Err(OrderError::PhoneNotTextable(_))
        ));
        assert_eq!(request("0101234").number(&limits()), Err(OrderError::PhoneNotE164));
        let handle = SignInCode::generate().handle;
        let answer = |code: &str, handle: &str| CodeAnswer {
            phone_number: "+8201012345678".into(),
            code: code.into(),
            handle: handle.into(),
        };
        let answered = answer("012345", &handle).number(&limits());
        assert_eq!(answered.as_deref(), Ok("+821012345678"));
        for bad in [
            "12345",
            "1234567",
            "12345a",
            "\u{661}\u{662}\u{663}\u{664}\u{665}\u{666}",
            "",
        ] {
            let answered = answer(bad, &handle).number(&limits());
            assert_eq!(answered, Err(OrderError::CodeNotSixDigits), "{bad}");
        }
        for bad in [
            "",
            "xyz",
            &handle[1..],
            &format!("{handle}0"),
            &format!("{}g", &handle[1..]),
        ] {
            let answered = answer("012345", bad).number(&limits());
            assert_eq!(answered, Err(OrderError::UnknownHandle), "{bad}");
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
