//! Server-Sent Events framing for JSON-RPC messages.

use bytes::Bytes;
use serde::Serialize;

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

#[cfg(test)]
mod tests {
    #[test]
    fn frames_one_event() {
        let e = super::event(&serde_json::json!({"a": "x\ny"}));
        assert_eq!(&e[..], b"event: message\ndata: {\"a\":\"x\\ny\"}\n\n");
    }
}
