//! Signing in with a phone: a code texted to the number (asked for from inside the cafe: a kiosk,
//! a kiosk order's receipt, a signed-in customer, the operator), traded for the customer the
//! number is.

use super::Failure;
use crate::domain::sign_in::{CODE_SECONDS, CodeAnswer, CodeRequest, SignInCode};
use crate::domain::{OrderError, OrderLimits};
use crate::store::{CodeKept, Proven, SignIns};
use cafe_shared::auth::KioskClaim;
use cafe_shared::sms::SendText;
use chrono::{DateTime, Utc};

/// A code texted: to which number, and when it stops working.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeSent {
    pub phone_number: String,
    pub expires_at: DateTime<Utc>,
}

/// Texts a new code to the number asked for, `kiosk` the kiosk that asks (checked registered);
/// the number's hourly texts count it.
pub async fn send_code(
    sign_ins: &impl SignIns,
    texts: &impl SendText,
    request: CodeRequest,
    kiosk: Option<&KioskClaim>,
    limits: &OrderLimits,
    now: DateTime<Utc>,
) -> Result<CodeSent, Failure> {
    request.check(limits)?;
    let phone = request.phone_number;
    let code = SignInCode::generate();
    let expires_at = now + chrono::Duration::seconds(CODE_SECONDS);
    match (sign_ins.keep_sign_in_code(&phone, &code, now, expires_at, kiosk, limits)).await? {
        CodeKept::Kept => {}
        CodeKept::UnknownKiosk => return Err(OrderError::UnknownKiosk.into()),
        CodeKept::TooManyTexts => return Err(OrderError::TooManyCodes(limits.texts_per_hour).into()),
    }
    texts.send(&phone, &code.message()).await?;
    Ok(CodeSent {
        phone_number: phone,
        expires_at,
    })
}

/// Trades a right code for the customer id its number signs in as (`new_customer_id` at the
/// number's first proof). The code is the credential, so anyone may answer one: each code takes
/// a few tries and works once.
pub async fn verify_code(
    sign_ins: &impl SignIns,
    answer: &CodeAnswer,
    new_customer_id: &str,
    now: DateTime<Utc>,
) -> Result<String, Failure> {
    answer.check()?;
    let live = (sign_ins.try_sign_in_code(&answer.phone_number, now).await?).ok_or(OrderError::CodeExpired)?;
    if !live.matches(answer) {
        return Err(OrderError::WrongCode(live.tries_left()).into());
    }
    match sign_ins
        .prove_phone(&answer.phone_number, &live, new_customer_id, now)
        .await?
    {
        Proven::Customer(customer_id) => Ok(customer_id),
        Proven::CodeUsed => Err(OrderError::CodeExpired.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fake::MemoryOrders;
    use crate::use_cases::tests::{limits, noon};
    use cafe_shared::fakes::FakeTexts;

    const PHONE: &str = "+821055500001";

    async fn send(store: &MemoryOrders, texts: &FakeTexts, kiosk: Option<&KioskClaim>) -> Result<CodeSent, Failure> {
        let asked = CodeRequest {
            phone_number: PHONE.into(),
        };
        send_code(store, texts, asked, kiosk, &limits(), noon()).await
    }

    /// The code in the last text sent.
    fn texted_code(texts: &FakeTexts) -> String {
        let (phone, message) = texts.sent().pop().expect("a text was sent");
        assert_eq!(phone, PHONE);
        message[..6].to_string()
    }

    fn answer(code: &str) -> CodeAnswer {
        CodeAnswer {
            phone_number: PHONE.into(),
            code: code.into(),
        }
    }

    fn refusal<T: std::fmt::Debug>(outcome: Result<T, Failure>) -> OrderError {
        match outcome {
            Err(Failure::Refused(refusal)) => refusal,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_texted_code_signs_its_number_in_once() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        let sent = send(&store, &texts, None).await.unwrap();
        assert_eq!(sent.expires_at, noon() + chrono::Duration::seconds(CODE_SECONDS));
        let code = texted_code(&texts);
        let customer = verify_code(&store, &answer(&code), "cust-1", noon()).await.unwrap();
        assert_eq!(customer, "cust-1");
        let reused = verify_code(&store, &answer(&code), "cust-2", noon()).await;
        assert_eq!(refusal(reused), OrderError::CodeExpired);
    }

    #[tokio::test]
    async fn a_number_signs_in_as_the_customer_it_first_proved() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        send(&store, &texts, None).await.unwrap();
        verify_code(&store, &answer(&texted_code(&texts)), "cust-1", noon())
            .await
            .unwrap();
        send(&store, &texts, None).await.unwrap();
        let again = verify_code(&store, &answer(&texted_code(&texts)), "cust-2", noon()).await;
        assert_eq!(again.unwrap(), "cust-1");
    }

    #[tokio::test]
    async fn a_wrong_code_says_the_tries_left_until_the_code_ends() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        send(&store, &texts, None).await.unwrap();
        let right = texted_code(&texts);
        let wrong = if right == "000000" { "111111" } else { "000000" };
        for left in (0..5).rev() {
            let tried = verify_code(&store, &answer(wrong), "cust-1", noon()).await;
            assert_eq!(refusal(tried), OrderError::WrongCode(left));
        }
        let too_late = verify_code(&store, &answer(&right), "cust-1", noon()).await;
        assert_eq!(
            refusal(too_late),
            OrderError::CodeExpired,
            "no tries left, even for the right code"
        );
        let ended = noon() + chrono::Duration::seconds(CODE_SECONDS);
        send(&store, &texts, None).await.unwrap();
        let stale = verify_code(&store, &answer(&texted_code(&texts)), "cust-1", ended).await;
        assert_eq!(refusal(stale), OrderError::CodeExpired);
    }

    #[tokio::test]
    async fn a_number_gets_at_most_its_texts_an_hour() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        send(&store, &texts, None).await.unwrap();
        send(&store, &texts, None).await.unwrap();
        assert_eq!(refusal(send(&store, &texts, None).await), OrderError::TooManyCodes(2));
        assert_eq!(texts.sent().len(), 2, "the refused code was not texted");
    }

    #[tokio::test]
    async fn an_unregistered_kiosk_gets_no_code_texted() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        let stranger = KioskClaim {
            kiosk_id: "kiosk-nobody".into(),
            secret_hash: "x".into(),
        };
        assert_eq!(
            refusal(send(&store, &texts, Some(&stranger)).await),
            OrderError::UnknownKiosk
        );
        assert!(texts.sent().is_empty());
    }

    #[tokio::test]
    async fn a_number_the_cafe_cannot_text_or_a_malformed_answer_is_refused() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        let abroad = CodeRequest {
            phone_number: "+447700900123".into(),
        };
        let refused = send_code(&store, &texts, abroad, None, &limits(), noon()).await;
        assert!(matches!(refusal(refused), OrderError::PhoneNotTextable(_)));
        let short = verify_code(&store, &answer("12345"), "cust-1", noon()).await;
        assert_eq!(refusal(short), OrderError::CodeNotSixDigits);
    }

    #[tokio::test]
    async fn texts_that_cannot_go_out_are_a_failure_of_the_cloud() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        texts.down.set(true);
        assert!(matches!(send(&store, &texts, None).await, Err(Failure::Cloud(_))));
    }
}
