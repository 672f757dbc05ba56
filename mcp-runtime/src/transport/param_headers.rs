//! SEP-2243 custom headers (2026-07-28): a `tools/call` must repeat, in an
//! `Mcp-Param-{Name}` header, every argument whose schema property carries
//! `"x-mcp-header": "{Name}"`. Intermediaries may have routed on the header
//! while the tool acts on the body, so a disagreement is refused with 400 and
//! -32020 (HeaderMismatch) before the tool runs.
//!
//! Rules (SEP-2243 "Server Behavior" and "Custom Header Handling", and the
//! conformance suite's `http-custom-header-server-validation`):
//! * a value is compared after trimming optional white space; one wrapped as
//!   `=?base64?{payload}?=` (exact, lowercase sentinel) is decoded first, and
//!   a payload that is not canonical padded Base64 of UTF-8 text is refused;
//! * any `Mcp-Param-*` value with characters outside visible ASCII, space
//!   and tab is refused;
//! * an argument that is present (not null) needs its header: missing → refused;
//! * an absent or null argument expects no header; one sent anyway is refused,
//!   as it claims a value the body does not carry;
//! * strings compare exactly, integers numerically, booleans as `true`/`false`.

// Refusals are returned as ready responses on cold paths; boxing them buys nothing.
#![allow(clippy::result_large_err)]

use super::stateless::trim_ows;
use crate::auth::bearer;
use crate::protocol::jsonrpc::{self, ErrorObject, Request, Response};
use crate::server::ServerCore;
use crate::tools::HeaderParam;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine as _;
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;

const PREFIX: &str = "mcp-param-";
const SENTINEL_START: &str = "=?base64?";
const SENTINEL_END: &str = "?=";

/// Checks the `Mcp-Param-*` headers of a 2026-07-28 request against its body.
pub(super) fn check(
    req: &HttpRequest,
    request: &Request,
    core: &ServerCore,
) -> Result<(), HttpResponse> {
    let refuse = |message: String| {
        HttpResponse::BadRequest().json(Response::error(
            Some(request.id.clone()),
            ErrorObject::new(jsonrpc::HEADER_MISMATCH, message),
        ))
    };
    if !core.tools.load().has_header_params() && !has_param_header(req) {
        return Ok(());
    }
    let sent: Vec<(&str, &[u8])> = req
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str().starts_with(PREFIX))
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    if let Some((name, _)) = sent.iter().find(|(_, value)| !valid_chars(value)) {
        return Err(refuse(format!(
            "{} header contains characters other than visible ASCII, space and tab",
            display(name)
        )));
    }
    if request.method != "tools/call" {
        return Ok(());
    }
    #[derive(serde::Deserialize)]
    struct Call {
        name: String,
        arguments: Option<Box<RawValue>>,
    }
    // A malformed call is the dispatcher's to refuse (-32602); it never runs a tool.
    let Some(call) = request
        .params
        .as_deref()
        .and_then(|p| serde_json::from_str::<Call>(p.get()).ok())
    else {
        return Ok(());
    };
    let registry = core.tools.load();
    let Some(entry) = registry.get(&call.name) else {
        return Ok(());
    };
    let params = entry.tool.header_params();
    // A caller who may not use the tool is refused with 401/403 next; checking
    // headers first would tell them what the tool declares.
    if params.is_empty()
        || entry
            .tool
            .access()
            .check(bearer::caller_of(req).as_deref())
            .is_err()
    {
        return Ok(());
    }
    let arguments: Value = match call.arguments.as_deref().map(RawValue::get) {
        None => Value::Null,
        Some(text) => match serde_json::from_str(text) {
            Ok(value) => value,
            Err(_) => return Ok(()),
        },
    };
    for param in params {
        if let Err(why) = check_param(param, &sent, &arguments) {
            return Err(refuse(format!("{} header {why}", param.header_name())));
        }
    }
    Ok(())
}

/// Whether the request carries any `Mcp-Param-*` header (their values are
/// checked for bad characters even when no tool declares one).
fn has_param_header(req: &HttpRequest) -> bool {
    req.headers()
        .keys()
        .any(|name| name.as_str().starts_with(PREFIX))
}

fn check_param(
    param: &HeaderParam,
    sent: &[(&str, &[u8])],
    arguments: &Value,
) -> Result<(), String> {
    let argument = format!("`{}`", param.path().join("."));
    let mut values = sent
        .iter()
        .filter(|(name, _)| *name == param.lowercase_header())
        .map(|(_, value)| *value);
    let header = values.next();
    if values.next().is_some() {
        return Err("appears more than once".to_owned());
    }
    let value = param
        .path()
        .iter()
        .try_fold(arguments, |node, key| node.get(key))
        .filter(|v| !v.is_null());
    match (header, value) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(format!(
            "is required: the tools/call arguments carry {argument}"
        )),
        (Some(_), None) => Err(format!(
            "is set, but the tools/call arguments carry no {argument}"
        )),
        (Some(header), Some(value)) => {
            let decoded = decode(header).map_err(|e| e.to_string())?;
            match matches(&decoded, value) {
                Some(true) => Ok(()),
                Some(false) => Err(format!("does not match the argument {argument}")),
                None => Err(format!(
                    "cannot be compared: the argument {argument} is not a string, integer or boolean"
                )),
            }
        }
    }
}

/// Why a header value could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(super) enum DecodeError {
    /// Outside RFC 9110 field-value characters (or obs-text).
    #[error("contains characters other than visible ASCII, space and tab")]
    InvalidChars,
    /// The `=?base64?...?=` payload is not canonical padded Base64.
    #[error("is not valid Base64 inside =?base64?...?=")]
    InvalidBase64,
    /// The decoded bytes are not UTF-8 text.
    #[error("does not decode to UTF-8 text")]
    NotUtf8,
}

/// A header value as the argument it repeats: OWS trimmed, and the
/// `=?base64?...?=` form decoded. Anything else is literal.
pub(super) fn decode(raw: &[u8]) -> Result<Cow<'_, str>, DecodeError> {
    let trimmed = trim_ows(raw);
    if !valid_chars(trimmed) {
        return Err(DecodeError::InvalidChars);
    }
    let text = std::str::from_utf8(trimmed).map_err(|_| DecodeError::InvalidChars)?;
    let payload = (text.len() >= SENTINEL_START.len() + SENTINEL_END.len())
        .then(|| {
            text.strip_prefix(SENTINEL_START)?
                .strip_suffix(SENTINEL_END)
        })
        .flatten();
    let Some(payload) = payload else {
        return Ok(Cow::Borrowed(text));
    };
    // STANDARD requires canonical padding: `SGVsbG8` (no `=`) is refused.
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .map_err(|_| DecodeError::InvalidBase64)?;
    String::from_utf8(bytes)
        .map(Cow::Owned)
        .map_err(|_| DecodeError::NotUtf8)
}

/// Whether a decoded header value repeats `value`; `None` for a value no
/// header can carry.
fn matches(header: &str, value: &Value) -> Option<bool> {
    match value {
        Value::String(text) => Some(header == text),
        Value::Bool(flag) => Some(header == if *flag { "true" } else { "false" }),
        Value::Number(number) => {
            let wanted = number
                .as_i64()
                .map(i128::from)
                .or_else(|| number.as_u64().map(i128::from));
            Some(match wanted {
                Some(wanted) => header.parse::<i128>().is_ok_and(|h| h == wanted),
                None => header
                    .parse::<f64>()
                    .is_ok_and(|h| h.is_finite() && Some(h) == number.as_f64()),
            })
        }
        _ => None,
    }
}

/// RFC 9110 field-value characters without obs-text: visible ASCII, space, tab.
fn valid_chars(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// `mcp-param-region` as `Mcp-Param-region`, for messages.
fn display(lowercase: &str) -> String {
    format!("Mcp-Param-{}", &lowercase[PREFIX.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literal_values_are_trimmed_and_kept() {
        assert_eq!(decode(b"us-west1").unwrap(), "us-west1");
        assert_eq!(decode(b"  us west 1\t").unwrap(), "us west 1");
        assert_eq!(decode(b"").unwrap(), "");
        // Not the exact sentinel: literal.
        assert_eq!(decode(b"SGVsbG8=").unwrap(), "SGVsbG8=");
        assert_eq!(decode(b"=?base64?SGVsbG8=").unwrap(), "=?base64?SGVsbG8=");
        assert_eq!(
            decode(b"=?BASE64?SGVsbG8=?=").unwrap(),
            "=?BASE64?SGVsbG8=?="
        );
        assert_eq!(decode(b"=?base64?=").unwrap(), "=?base64?=");
    }

    #[test]
    fn base64_values_are_decoded() {
        assert_eq!(decode(b"=?base64?SGVsbG8=?=").unwrap(), "Hello");
        assert_eq!(decode(b" =?base64?SGVsbG8=?= ").unwrap(), "Hello");
        assert_eq!(
            decode(b"=?base64?SGVsbG8sIOS4lueVjA==?=").unwrap(),
            "Hello, 世界"
        );
        assert_eq!(decode(b"=?base64?IHBhZGRlZCA=?=").unwrap(), " padded ");
        assert_eq!(
            decode(b"=?base64?bGluZTEKbGluZTI=?=").unwrap(),
            "line1\nline2"
        );
        assert_eq!(decode(b"=?base64??=").unwrap(), "");
    }

    #[test]
    fn malformed_values_are_refused() {
        assert_eq!(
            decode(b"=?base64?SGVsbG8?="),
            Err(DecodeError::InvalidBase64)
        );
        assert_eq!(
            decode(b"=?base64?SGVs!!!bG8=?="),
            Err(DecodeError::InvalidBase64)
        );
        assert_eq!(
            decode(b"=?base64?SGVsbG8==?="),
            Err(DecodeError::InvalidBase64)
        );
        assert_eq!(decode(b"=?base64?/w==?="), Err(DecodeError::NotUtf8));
        assert_eq!(decode("Région".as_bytes()), Err(DecodeError::InvalidChars));
        assert_eq!(decode(b"a\x7fb"), Err(DecodeError::InvalidChars));
        assert_eq!(decode(b"a\x00b"), Err(DecodeError::InvalidChars));
    }

    #[test]
    fn values_compare_by_json_type() {
        assert_eq!(matches("Hello", &json!("Hello")), Some(true));
        assert_eq!(matches("hello", &json!("Hello")), Some(false));
        assert_eq!(matches("true", &json!(true)), Some(true));
        assert_eq!(matches("True", &json!(true)), Some(false));
        assert_eq!(matches("false", &json!(false)), Some(true));
        assert_eq!(matches("42", &json!(42)), Some(true));
        assert_eq!(matches("-7", &json!(-7)), Some(true));
        assert_eq!(matches("43", &json!(42)), Some(false));
        assert_eq!(matches("42", &json!(42.0)), Some(true));
        assert_eq!(matches("x", &json!(42)), Some(false));
        assert_eq!(
            matches("18446744073709551615", &json!(u64::MAX)),
            Some(true)
        );
        assert_eq!(matches("[]", &json!([])), None);
        assert_eq!(matches("{}", &json!({})), None);
    }
}
