//! Server-Sent Events: the framing of JSON-RPC messages, and the response
//! streams that carry a request's notifications and then its response.

use crate::protocol::jsonrpc::OutgoingMessage;
use actix_web::HttpResponse;
use actix_web::http::header;
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt as _, stream};
use serde::Serialize;
use std::future::Future;
use tokio::sync::mpsc;

/// One `message` event carrying `message` as JSON.
pub(crate) fn event<T: Serialize>(message: &T) -> Bytes {
    let json = serde_json::to_string(message).unwrap_or_else(|error| {
        tracing::error!(%error, "SSE message not serializable");
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"message not serializable"}}"#.to_owned()
    });
    // serde_json escapes newlines inside strings, so one `data:` line suffices.
    Bytes::from(format!("event: message\ndata: {json}\n\n"))
}

/// A comment line that keeps idle connections open through proxies.
pub(crate) fn keep_alive() -> Bytes {
    Bytes::from_static(b": keep-alive\n\n")
}

/// The notifications already queued when the handler finished, as SSE events:
/// they must reach the client before its response.
pub(super) fn drain_notifications(rx: &mut mpsc::Receiver<OutgoingMessage>) -> BytesMut {
    let mut events = BytesMut::new();
    while let Ok(notification) = rx.try_recv() {
        events.extend_from_slice(&event(&notification));
    }
    events
}

/// A `text/event-stream` response that proxies must not buffer.
pub(super) fn sse_response(
    body: impl Stream<Item = Result<Bytes, actix_web::Error>> + 'static,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body)
}

/// The rest of a request's stream: notifications as they come, then the
/// response, then the end. Dropping the stream (client gone) drops the handler.
pub(super) fn request_stream<F>(
    running: F,
    rx: mpsc::Receiver<OutgoingMessage>,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>>
where
    F: Future<Output: Serialize> + Unpin,
{
    enum State<F> {
        Running(F, mpsc::Receiver<OutgoingMessage>),
        Done,
    }
    stream::unfold(State::Running(running, rx), |state| async move {
        let State::Running(mut running, mut rx) = state else {
            return None;
        };
        tokio::select! {
            biased;
            Some(notification) = rx.recv() => Some((Ok(event(&notification)), State::Running(running, rx))),
            response = &mut running => {
                let mut chunk = drain_notifications(&mut rx);
                chunk.extend_from_slice(&event(&response));
                Some((Ok(chunk.freeze()), State::Done))
            }
        }
    })
}

/// A `subscriptions/listen` stream: `opening` (its acknowledgement and the
/// state of its tasks), then each notification as it comes, with a
/// keep-alive comment every `every`, until the client goes (dropping
/// `guard` takes the stream out of the registry), the server ends it (its
/// sender dropped), or `lifetime` passes (the token that opened it
/// expired) or `shutdown` fires: then `closing` (the response that ends
/// the subscription gracefully) is its last event.
pub(super) fn listen_stream<G: 'static>(
    opening: impl Stream<Item = Bytes> + 'static,
    rx: mpsc::Receiver<OutgoingMessage>,
    every: std::time::Duration,
    lifetime: std::time::Duration,
    shutdown: tokio_util::sync::WaitForCancellationFutureOwned,
    closing: Bytes,
    guard: G,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>> {
    struct Open<G> {
        rx: mpsc::Receiver<OutgoingMessage>,
        tick: tokio::time::Interval,
        until: std::pin::Pin<Box<tokio::time::Sleep>>,
        shutdown: std::pin::Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>,
        closing: Bytes,
        _guard: G,
    }
    let mut tick = tokio::time::interval(every);
    // The first tick fires at once; the acknowledgement is the first write.
    tick.reset();
    let open = Open {
        rx,
        tick,
        until: Box::pin(tokio::time::sleep(lifetime)),
        shutdown: Box::pin(shutdown),
        closing,
        _guard: guard,
    };
    let rest = stream::unfold(Some(open), |state| async move {
        let mut open = state?;
        tokio::select! {
            message = open.rx.recv() => message.map(|m| (Ok(event(&m)), Some(open))),
            _ = open.tick.tick() => Some((Ok(keep_alive()), Some(open))),
            () = &mut open.until => Some((Ok(open.closing.clone()), None)),
            () = &mut open.shutdown => Some((Ok(open.closing.clone()), None)),
        }
    });
    opening.map(Ok).chain(rest)
}

#[cfg(test)]
mod tests {
    #[test]
    fn frames_one_event() {
        let e = super::event(&serde_json::json!({"a": "x\ny"}));
        assert_eq!(&e[..], b"event: message\ndata: {\"a\":\"x\\ny\"}\n\n");
    }
}
