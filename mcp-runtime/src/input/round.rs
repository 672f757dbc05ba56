//! Asking for input the 2026-07-28 way: the server answers `input_required`
//! with its questions, and the client retries the whole request carrying
//! `inputResponses` and the opaque `requestState` the server gave it.
//!
//! The handler simply runs again on each retry. Answers it already used are
//! carried forward in the request state, signed with the server's key and
//! bound to the method, the target and the caller, so a client can neither
//! alter them nor replay them elsewhere.

use crate::protocol::ErrorObject;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a request state stays good: long enough for a person to fill in
/// a form, short enough that an old one is useless.
const STATE_TTL: Duration = Duration::from_secs(3600);

/// What the signed state is for, so no other token of the server passes as one.
const PURPOSE: &str = "mcp-input-state";

/// The key that signs request states.
pub(crate) struct StateKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl StateKey {
    /// A key drawn at start-up: states do not survive a restart, nor travel
    /// to another instance.
    pub(crate) fn random() -> Self {
        Self::from_secret(&crate::random::random_bytes::<32>())
    }

    /// A key shared by every instance behind one URL.
    pub(crate) fn from_secret(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }
}

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(..)")
    }
}

#[derive(Serialize, Deserialize)]
struct StateClaims {
    #[serde(rename = "use")]
    purpose: String,
    /// Method, target and caller this state belongs to.
    bind: String,
    exp: u64,
    answers: Map<String, Value>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn invalid_state() -> ErrorObject {
    ErrorObject::invalid_params(
        "requestState is not one this server issued for this request, or it expired",
    )
}

/// One attempt of a request on the 2026-07-28 wire: the answers it arrived
/// with, and the questions its handler asked.
#[derive(Debug, Default)]
pub(crate) struct RetryRound {
    /// Method, target and caller: what this round's request state is bound to.
    binding: String,
    answers: Map<String, Value>,
    used: Mutex<Map<String, Value>>,
    asked: Mutex<Map<String, Value>>,
    invalid: Mutex<Option<String>>,
}

impl RetryRound {
    /// Reads the retry parameters of a request bound to `binding`: the
    /// verified state's answers, overlaid with this attempt's responses.
    pub(crate) fn open(
        key: &StateKey,
        binding: String,
        state: Option<&str>,
        responses: Option<Value>,
    ) -> Result<Self, ErrorObject> {
        let mut answers = match state {
            None => Map::new(),
            Some(state) => {
                let mut validation = Validation::new(Algorithm::HS256);
                validation.validate_aud = false;
                validation.leeway = 0;
                validation.set_required_spec_claims(&["exp"]);
                let claims = jsonwebtoken::decode::<StateClaims>(state, &key.decoding, &validation)
                    .map_err(|_| invalid_state())?
                    .claims;
                if claims.purpose != PURPOSE || claims.bind != binding {
                    return Err(invalid_state());
                }
                claims.answers
            }
        };
        match responses {
            None | Some(Value::Null) => {}
            Some(Value::Object(responses)) => answers.extend(responses),
            Some(_) => {
                return Err(ErrorObject::invalid_params(
                    "inputResponses must be an object keyed by the server's input request keys",
                ));
            }
        }
        Ok(Self {
            binding,
            answers,
            ..Self::default()
        })
    }

    /// The client's answer under `key`, if it sent one.
    pub(crate) fn answer(&self, key: &str) -> Option<&Value> {
        self.answers.get(key)
    }

    /// Remembers that the handler used the answer under `key`, so later
    /// rounds keep it.
    pub(crate) fn used(&self, key: &str, answer: &Value) {
        if let Ok(mut used) = self.used.lock() {
            used.insert(key.to_owned(), answer.clone());
        }
    }

    /// Records a question to send back in `input_required`.
    pub(crate) fn ask(&self, key: &str, method: &str, params: Value) {
        let request = super::input_request(method, params);
        if let Ok(mut asked) = self.asked.lock() {
            asked.insert(key.to_owned(), request);
        }
    }

    /// Records that an answer was malformed: the request fails, whatever the
    /// handler returns.
    pub(crate) fn refuse(&self, reason: String) {
        if let Ok(mut invalid) = self.invalid.lock() {
            invalid.get_or_insert(reason);
        }
    }

    /// After the handler: `None` if its own result stands; else the error
    /// for a malformed answer, or the `input_required` result asking the
    /// recorded questions.
    pub(crate) fn conclude(&self, key: &StateKey) -> Option<Result<Value, ErrorObject>> {
        if let Some(reason) = self.invalid.lock().ok().and_then(|mut i| i.take()) {
            return Some(Err(ErrorObject::invalid_params(reason)));
        }
        let asked = self
            .asked
            .lock()
            .ok()
            .map(|mut a| std::mem::take(&mut *a))?;
        if asked.is_empty() {
            return None;
        }
        let claims = StateClaims {
            purpose: PURPOSE.to_owned(),
            bind: self.binding.clone(),
            exp: now().saturating_add(STATE_TTL.as_secs()),
            answers: self.used.lock().map(|u| u.clone()).unwrap_or_default(),
        };
        Some(
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key.encoding)
                .map(|state| {
                    json!({
                        "resultType": "input_required",
                        "inputRequests": asked,
                        "requestState": state,
                    })
                })
                .map_err(|e| ErrorObject::internal(format!("request state not signed: {e}"))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_round(key: &StateKey) -> String {
        let round = RetryRound::open(key, "tools/call\nt\nalice".into(), None, None).unwrap();
        assert!(round.answer("step1").is_none());
        round.ask("step1", "elicitation/create", json!({"message": "Name?"}));
        let result = round.conclude(key).unwrap().unwrap();
        assert_eq!(result["resultType"], "input_required");
        assert_eq!(
            result["inputRequests"]["step1"]["method"],
            "elicitation/create"
        );
        result["requestState"].as_str().unwrap().to_owned()
    }

    #[test]
    fn used_answers_travel_in_the_state() {
        let key = StateKey::random();
        let state = first_round(&key);
        let round = RetryRound::open(
            &key,
            "tools/call\nt\nalice".into(),
            Some(&state),
            Some(json!({"step1": {"action": "accept", "content": {"name": "Ada"}}})),
        )
        .unwrap();
        let answer = round.answer("step1").unwrap().clone();
        round.used("step1", &answer);
        round.ask("step2", "roots/list", json!({}));
        let second = round.conclude(&key).unwrap().unwrap();
        assert_eq!(
            second["inputRequests"]["step2"],
            json!({"method": "roots/list"})
        );
        let state2 = second["requestState"].as_str().unwrap();
        assert_ne!(state2, state);
        let third =
            RetryRound::open(&key, "tools/call\nt\nalice".into(), Some(state2), None).unwrap();
        assert_eq!(third.answer("step1"), Some(&answer));
        assert!(third.conclude(&key).is_none());
    }

    #[test]
    fn altered_foreign_or_misbound_states_are_refused() {
        let key = StateKey::random();
        let state = first_round(&key);
        let tampered = format!("{state}-TAMPERED");
        for (state, binding) in [
            (tampered.as_str(), "tools/call\nt\nalice"),
            (state.as_str(), "tools/call\nt\nmallory"),
            (state.as_str(), "prompts/get\nt\nalice"),
            ("not-a-state", "tools/call\nt\nalice"),
        ] {
            let error = RetryRound::open(&key, binding.into(), Some(state), None).unwrap_err();
            assert_eq!(error.code, crate::protocol::jsonrpc::INVALID_PARAMS);
        }
        let other_key = StateKey::random();
        assert!(
            RetryRound::open(
                &other_key,
                "tools/call\nt\nalice".into(),
                Some(&state),
                None
            )
            .is_err()
        );
    }

    #[test]
    fn responses_must_be_an_object_or_null() {
        let key = StateKey::random();
        assert!(RetryRound::open(&key, "b".into(), None, Some(Value::Null)).is_ok());
        assert!(RetryRound::open(&key, "b".into(), None, Some(json!([1]))).is_err());
    }

    #[test]
    fn a_refused_answer_fails_the_request() {
        let key = StateKey::random();
        let round = RetryRound::open(&key, "b".into(), None, Some(json!({"k": 12345}))).unwrap();
        round.refuse("bad answer".into());
        round.ask("k", "elicitation/create", json!({}));
        let error = round.conclude(&key).unwrap().unwrap_err();
        assert_eq!(error.message, "bad answer");
    }
}
