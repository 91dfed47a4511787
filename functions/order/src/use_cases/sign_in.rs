//! Signing in with a phone: a code texted to the number (asked for from inside the cafe: a kiosk,
//! a kiosk order's receipt, a signed-in customer, the operator), traded for the customer the
//! number is.

use super::Failure;
use crate::domain::sign_in::{CODE_SECONDS, CodeAnswer, CodeRequest, SignInCode};
use crate::domain::{OrderError, OrderLimits, Texter};
use crate::store::{Proven, SignIns};
use cafe_shared::auth::KioskClaim;
use cafe_shared::sms::SendText;
use chrono::{DateTime, Utc};

/// A code texted: to which number, when it stops working, and the handle it is tried through
/// (given only to whoever asked for it).
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CodeSent {
    pub phone_number: String,
    pub expires_at: DateTime<Utc>,
    pub handle: String,
}

/// Texts a new code to the number asked for by `asked_by` (`kiosk` the kiosk that asks, checked
/// registered), within the number's codes, the caller's texts and the cafe's, this hour.
pub async fn send_code(
    sign_ins: &impl SignIns,
    texts: &impl SendText,
    request: CodeRequest,
    asked_by: &Texter,
    kiosk: Option<&KioskClaim>,
    limits: &OrderLimits,
    now: DateTime<Utc>,
) -> Result<CodeSent, Failure> {
    let phone = request.number(limits)?;
    let code = SignInCode::generate();
    let expires_at = now + chrono::Duration::seconds(CODE_SECONDS);
    let kept = (sign_ins.keep_sign_in_code(&phone, &code, asked_by, now, expires_at, kiosk, limits)).await?;
    if let Err(refusal) = kept {
        let refused = refusal.error("", limits);
        return Err(refused
            .ok_or_else(|| cafe_shared::Error::from(format!("code refused as {refusal:?}")))?
            .into());
    }
    texts.send(&phone, &code.message()).await?;
    super::text_counted(limits);
    Ok(CodeSent {
        phone_number: phone,
        expires_at,
        handle: code.handle,
    })
}

/// Trades a right code, tried through its handle, for the customer id its number signs in as
/// (`new_customer_id` at the number's first proof). Each code takes a few tries and works once;
/// tries through another handle never touch it.
pub async fn verify_code(
    sign_ins: &impl SignIns,
    answer: &CodeAnswer,
    new_customer_id: &str,
    limits: &OrderLimits,
    now: DateTime<Utc>,
) -> Result<(String, String), Failure> {
    let phone = answer.number(limits)?;
    let live = (sign_ins.try_sign_in_code(&answer.handle, &phone, now).await?).ok_or(OrderError::CodeExpired)?;
    if !live.matches(&phone, &answer.code) {
        return Err(OrderError::WrongCode(live.tries_left()).into());
    }
    match sign_ins.prove_phone(&phone, &live, new_customer_id, now).await? {
        Proven::Customer(customer_id) => Ok((customer_id, phone)),
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

    fn asked(phone: &str) -> CodeRequest {
        CodeRequest {
            phone_number: phone.into(),
        }
    }

    /// A code asked for `phone` by `by` (no kiosk), at noon.
    async fn send_to(store: &MemoryOrders, texts: &FakeTexts, phone: &str, by: &Texter) -> Result<CodeSent, Failure> {
        send_code(store, texts, asked(phone), by, None, &limits(), noon()).await
    }

    async fn send(store: &MemoryOrders, texts: &FakeTexts) -> Result<CodeSent, Failure> {
        send_to(store, texts, PHONE, &Texter::Operator).await
    }

    /// The code in the last text sent.
    fn texted_code(texts: &FakeTexts) -> String {
        let (phone, message) = texts.sent().pop().expect("a text was sent");
        assert_eq!(phone, PHONE);
        message[..6].to_string()
    }

    fn answer(code: &str, sent: &CodeSent) -> CodeAnswer {
        CodeAnswer {
            phone_number: PHONE.into(),
            code: code.into(),
            handle: sent.handle.clone(),
        }
    }

    async fn verify(store: &MemoryOrders, answer: &CodeAnswer, new_customer: &str) -> Result<String, Failure> {
        let verified = verify_code(store, answer, new_customer, &limits(), noon()).await;
        verified.map(|(customer_id, _)| customer_id)
    }

    fn refusal<T: std::fmt::Debug>(outcome: Result<T, Failure>) -> OrderError {
        match outcome {
            Err(Failure::Refused(refusal)) => refusal,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn wrong(right: &str) -> &'static str {
        if right == "000000" { "111111" } else { "000000" }
    }

    #[tokio::test]
    async fn a_texted_code_signs_its_number_in_once() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        let sent = send(&store, &texts).await.unwrap();
        assert_eq!(sent.expires_at, noon() + chrono::Duration::seconds(CODE_SECONDS));
        let code = texted_code(&texts);
        assert_eq!(verify(&store, &answer(&code, &sent), "cust-1").await.unwrap(), "cust-1");
        let reused = verify(&store, &answer(&code, &sent), "cust-2").await;
        assert_eq!(refusal(reused), OrderError::CodeExpired);
    }

    #[tokio::test]
    async fn a_number_written_another_way_is_the_same_number() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        let sent = send_to(&store, &texts, "+82 010-5550-0001", &Texter::Operator)
            .await
            .unwrap();
        assert_eq!(sent.phone_number, PHONE);
        let written = CodeAnswer {
            phone_number: "+8201055500001".into(),
            ..answer(&texted_code(&texts), &sent)
        };
        let verified = verify_code(&store, &written, "cust-1", &limits(), noon())
            .await
            .unwrap();
        assert_eq!(verified, ("cust-1".to_string(), PHONE.to_string()));
    }

    #[tokio::test]
    async fn a_number_signs_in_as_the_customer_it_first_proved() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        let sent = send(&store, &texts).await.unwrap();
        verify(&store, &answer(&texted_code(&texts), &sent), "cust-1")
            .await
            .unwrap();
        let sent = send(&store, &texts).await.unwrap();
        let again = verify(&store, &answer(&texted_code(&texts), &sent), "cust-2").await;
        assert_eq!(again.unwrap(), "cust-1");
    }

    #[tokio::test]
    async fn a_wrong_code_says_the_tries_left_until_the_code_ends() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        let sent = send(&store, &texts).await.unwrap();
        let right = texted_code(&texts);
        for left in (0..5).rev() {
            let tried = verify(&store, &answer(wrong(&right), &sent), "cust-1").await;
            assert_eq!(refusal(tried), OrderError::WrongCode(left));
        }
        let too_late = verify(&store, &answer(&right, &sent), "cust-1").await;
        assert_eq!(
            refusal(too_late),
            OrderError::CodeExpired,
            "no tries left, even for the right code"
        );
        let ended = noon() + chrono::Duration::seconds(CODE_SECONDS);
        let sent = send(&store, &texts).await.unwrap();
        let stale = verify_code(&store, &answer(&texted_code(&texts), &sent), "cust-1", &limits(), ended).await;
        assert_eq!(refusal(stale), OrderError::CodeExpired);
    }

    #[tokio::test]
    async fn guesses_through_another_handle_never_touch_the_owner_s_code() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        let owner = send(&store, &texts).await.unwrap();
        let code = texted_code(&texts);
        let attacker = send(&store, &texts).await.unwrap();
        texts.sent();
        for _ in 0..10 {
            let guess = verify(&store, &answer(wrong(&code), &attacker), "cust-x").await;
            assert!(matches!(
                refusal(guess),
                OrderError::WrongCode(_) | OrderError::CodeExpired
            ));
        }
        let made_up = CodeAnswer {
            handle: "0".repeat(32),
            ..answer(&code, &owner)
        };
        assert_eq!(
            refusal(verify(&store, &made_up, "cust-x").await),
            OrderError::CodeExpired
        );
        let signed_in = verify(&store, &answer(&code, &owner), "cust-1").await;
        assert_eq!(signed_in.unwrap(), "cust-1", "the owner's code kept all its tries");
    }

    #[tokio::test]
    async fn a_number_gets_at_most_its_codes_an_hour_apart_from_its_order_texts() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        for _ in 0..limits().codes_per_number_per_hour {
            send(&store, &texts).await.unwrap();
        }
        let more = send(&store, &texts).await;
        assert_eq!(
            refusal(more),
            OrderError::TooManyCodes(limits().codes_per_number_per_hour)
        );
        assert_eq!(
            texts.sent().len(),
            limits().codes_per_number_per_hour as usize,
            "the refused code was not texted"
        );
    }

    #[tokio::test]
    async fn a_caller_has_at_most_its_texts_an_hour_and_the_cafe_its_own() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        let receipt = Texter::Receipt("o-1".into());
        let per_caller = limits().texts_per_caller_per_hour;
        for i in 0..per_caller {
            let phone = format!("+8210555000{:02}", 10 + i);
            send_to(&store, &texts, &phone, &receipt).await.unwrap();
        }
        let more = send_to(&store, &texts, "+821055500099", &receipt).await;
        assert_eq!(refusal(more), OrderError::CallerTexts(per_caller));
        let cafe = limits().texts_per_cafe_per_hour;
        let mut sent = per_caller;
        while sent < cafe {
            let phone = format!("+8210555001{sent:02}");
            send_to(&store, &texts, &phone, &Texter::Operator).await.unwrap();
            sent += 1;
        }
        let past = send_to(&store, &texts, "+821055500098", &Texter::Operator).await;
        assert_eq!(refusal(past), OrderError::CafeTexts, "even the operator's");
        assert_eq!(texts.sent().len(), cafe as usize);
    }

    #[tokio::test]
    async fn an_unregistered_kiosk_gets_no_code_texted() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        let stranger = KioskClaim {
            kiosk_id: "kiosk-nobody".into(),
            secret_hash: "x".into(),
        };
        let by = Texter::Kiosk(stranger.kiosk_id.clone());
        let sent = send_code(&store, &texts, asked(PHONE), &by, Some(&stranger), &limits(), noon()).await;
        assert_eq!(refusal(sent), OrderError::UnknownKiosk);
        assert!(texts.sent().is_empty());
    }

    #[tokio::test]
    async fn a_number_the_cafe_cannot_text_or_a_malformed_answer_is_refused() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        let refused = send_to(&store, &texts, "+447700900123", &Texter::Operator).await;
        assert!(matches!(refusal(refused), OrderError::PhoneNotTextable(_)));
        let sent = send(&store, &texts).await.unwrap();
        let short = verify(&store, &answer("12345", &sent), "cust-1").await;
        assert_eq!(refusal(short), OrderError::CodeNotSixDigits);
    }

    #[tokio::test]
    async fn texts_that_cannot_go_out_are_a_failure_of_the_cloud() {
        let (store, texts) = (MemoryOrders::default(), FakeTexts::default());
        texts.down.set(true);
        assert!(matches!(send(&store, &texts).await, Err(Failure::Cloud(_))));
    }
}
