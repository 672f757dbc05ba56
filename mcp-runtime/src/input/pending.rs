//! Requests the server sent on a response stream, waiting for the client to
//! POST their answers back.

use super::InputError;
use crate::protocol::RequestId;
use dashmap::DashMap;
use serde_json::value::RawValue;
use std::sync::Arc;
use tokio::sync::oneshot;

/// The client's `result`, or its `error` object.
pub(crate) type ClientOutcome = Result<Box<RawValue>, Box<RawValue>>;

/// Beyond this many unanswered requests, asking fails instead of growing.
const MAX_PENDING: usize = 10_000;
/// Unanswered requests one caller's handlers may have out at once: one
/// caller cannot take every slot of [`MAX_PENDING`].
const MAX_PENDING_PER_OWNER: usize = 100;

/// Who may answer: the caller and session that the request was sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Addressee {
    pub(crate) owner: Option<Arc<str>>,
    pub(crate) session: Option<Arc<str>>,
}

struct Waiting {
    addressee: Addressee,
    reply: oneshot::Sender<ClientOutcome>,
}

/// Every unanswered server-to-client request of one server, by id.
///
/// Ids are random, so one client cannot guess another's; and an answer is
/// taken only from the caller and session the request went to.
#[derive(Default)]
pub(crate) struct PendingRequests {
    waiting: DashMap<Arc<str>, Waiting>,
    /// Unanswered requests per caller (issuer and subject).
    per_owner: DashMap<Arc<str>, usize>,
}

/// Removes its request from the table when the asking future ends, however
/// it ends (answer, timeout, cancellation, dropped stream).
pub(crate) struct PendingGuard<'a> {
    table: &'a PendingRequests,
    id: Arc<str>,
    owner: Option<Arc<str>>,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.table.waiting.remove(&self.id);
        if let Some(owner) = &self.owner {
            self.table.per_owner.remove_if_mut(owner, |_, count| {
                *count = count.saturating_sub(1);
                *count == 0
            });
        }
    }
}

impl PendingRequests {
    /// Registers a request to `addressee`; returns its id, the answer to
    /// await, and the guard that forgets it.
    pub(crate) fn open(
        &self,
        addressee: Addressee,
    ) -> Result<
        (
            RequestId,
            oneshot::Receiver<ClientOutcome>,
            PendingGuard<'_>,
        ),
        InputError,
    > {
        if self.waiting.len() >= MAX_PENDING {
            return Err(InputError::Unavailable {
                reason: "too many questions to clients are waiting for answers",
            });
        }
        let owner = addressee.owner.clone();
        if let Some(owner) = &owner {
            let mut count = self.per_owner.entry(Arc::clone(owner)).or_insert(0);
            if *count >= MAX_PENDING_PER_OWNER {
                return Err(InputError::Unavailable {
                    reason: "this user already has the most questions waiting for answers",
                });
            }
            *count += 1;
        }
        let id: Arc<str> = format!("mcp-{}", crate::random::random_token::<18>()).into();
        let (reply, answer) = oneshot::channel();
        self.waiting
            .insert(Arc::clone(&id), Waiting { addressee, reply });
        let guard = PendingGuard {
            table: self,
            id: Arc::clone(&id),
            owner,
        };
        Ok((RequestId::String(id.to_string()), answer, guard))
    }

    /// Hands the client's answer to whoever waits for `id`. Returns whether
    /// someone did; an answer from anyone but the addressee is dropped.
    pub(crate) fn resolve(&self, id: &RequestId, from: &Addressee, outcome: ClientOutcome) -> bool {
        let RequestId::String(id) = id else {
            return false;
        };
        let Some((_, waiting)) = self
            .waiting
            .remove_if(id.as_str(), |_, w| w.addressee == *from)
        else {
            return false;
        };
        waiting.reply.send(outcome).is_ok()
    }

    /// Whether `id` has the shape of the ids this server gives its
    /// questions (`mcp-` and 24 base64url characters).
    pub(crate) fn is_our_id(id: &RequestId) -> bool {
        matches!(id, RequestId::String(id) if id.len() == 28
            && id.starts_with("mcp-")
            && id[4..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    }

    /// Whether a handler of this process waits for `id` (from anyone).
    pub(crate) fn waits_here(&self, id: &RequestId) -> bool {
        matches!(id, RequestId::String(id) if self.waiting.contains_key(id.as_str()))
    }

    /// How many questions wait for their answers.
    pub(crate) fn len(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addressee(owner: &str) -> Addressee {
        Addressee {
            owner: Some(owner.into()),
            session: Some("s1".into()),
        }
    }

    fn ok() -> ClientOutcome {
        Ok(RawValue::from_string("{}".to_owned()).unwrap())
    }

    #[tokio::test]
    async fn only_the_addressee_answers() {
        let table = PendingRequests::default();
        let (id, answer, _guard) = table.open(addressee("alice")).unwrap();
        assert!(!table.resolve(&id, &addressee("mallory"), ok()));
        assert!(!table.resolve(&RequestId::Number(1), &addressee("alice"), ok()));
        assert!(table.resolve(&id, &addressee("alice"), ok()));
        assert!(answer.await.unwrap().is_ok());
        assert!(
            !table.resolve(&id, &addressee("alice"), ok()),
            "answered once"
        );
    }

    #[test]
    fn one_caller_cannot_take_every_slot() {
        let table = PendingRequests::default();
        let mut guards = Vec::new();
        for _ in 0..MAX_PENDING_PER_OWNER {
            guards.push(table.open(addressee("mallory")).unwrap());
        }
        let refused = table
            .open(addressee("mallory"))
            .err()
            .expect("over the share");
        assert!(refused.to_string().contains("this user"), "{refused}");
        assert!(table.open(addressee("alice")).is_ok(), "others still ask");
        guards.pop();
        assert!(
            table.open(addressee("mallory")).is_ok(),
            "an answered one frees a slot"
        );
    }

    #[test]
    fn our_ids_are_told_apart() {
        let table = PendingRequests::default();
        let (id, _answer, _guard) = table.open(addressee("alice")).unwrap();
        assert!(PendingRequests::is_our_id(&id));
        for other in [
            "mcp-",
            "x",
            "mcp-aaaaaaaaaaaaaaaaaaaaaaa!",
            "mcp-aaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert!(
                !PendingRequests::is_our_id(&RequestId::String(other.into())),
                "{other}"
            );
        }
        assert!(!PendingRequests::is_our_id(&RequestId::Number(1)));
    }

    #[test]
    fn a_dropped_guard_forgets_the_request() {
        let table = PendingRequests::default();
        let (id, _answer, guard) = table.open(addressee("alice")).unwrap();
        let (other, _, _other_guard) = table.open(addressee("alice")).unwrap();
        assert_ne!(id, other);
        drop(guard);
        assert_eq!(table.len(), 1);
        assert!(!table.resolve(&id, &addressee("alice"), ok()));
    }
}
