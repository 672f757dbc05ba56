//! Opaque cursors for the paged listings (`tools/list`, `resources/list`,
//! `resources/templates/list`, `prompts/list`): one format, written once.
//!
//! A cursor is the base64url of `<list>:<offset>`, the offset being the
//! index of the first entry of the next page in the full, unfiltered list.
//! The list's name inside it makes a cursor of one listing invalid in
//! another.

use crate::protocol::ErrorObject;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;

/// The parameters of every paged `*/list` request.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListParams {
    /// Opaque cursor from a previous page.
    #[serde(default)]
    pub(crate) cursor: Option<String>,
}

/// The cursor of the page of `list` that starts at `offset`.
pub(crate) fn encode_cursor(list: &str, offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{list}:{offset}"))
}

/// The offset `cursor` points at, if it is a cursor of `list`.
pub(crate) fn decode_cursor(list: &str, cursor: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    std::str::from_utf8(&bytes)
        .ok()?
        .strip_prefix(list)?
        .strip_prefix(':')?
        .parse()
        .ok()
}

/// The offset to start a page of `list` (of `len` entries) at: 0 without a
/// cursor, else the cursor's; an unreadable or out-of-range cursor is -32602.
pub(crate) fn start_of(list: &str, cursor: Option<&str>, len: usize) -> Result<usize, ErrorObject> {
    match cursor {
        None => Ok(0),
        Some(cursor) => decode_cursor(list, cursor)
            .filter(|&offset| offset <= len)
            .ok_or_else(|| ErrorObject::invalid_params("invalid cursor")),
    }
}

/// One page of `list`: up to `size` entries of `items` that `visible`
/// keeps, from the cursor on, and the cursor of the next page, if any.
pub(crate) fn page<'a, T>(
    list: &str,
    items: &'a [T],
    cursor: Option<&str>,
    size: usize,
    visible: impl Fn(&T) -> bool,
) -> Result<(Vec<&'a T>, Option<String>), ErrorObject> {
    let start = start_of(list, cursor, items.len())?;
    let mut taken = Vec::new();
    for (i, item) in items.iter().enumerate().skip(start) {
        if !visible(item) {
            continue;
        }
        if taken.len() == size {
            return Ok((taken, Some(encode_cursor(list, i))));
        }
        taken.push(item);
    }
    Ok((taken, None))
}

/// `listing` (a JSON object) with `nextCursor` set when there is a next page.
pub(crate) fn with_next(mut listing: Value, next: Option<String>) -> Value {
    if let (Some(next), Some(map)) = (next, listing.as_object_mut()) {
        map.insert("nextCursor".into(), Value::String(next));
    }
    listing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_name_their_list() {
        let cursor = encode_cursor("prompts", 7);
        assert_eq!(decode_cursor("prompts", &cursor), Some(7));
        assert_eq!(decode_cursor("tools", &cursor), None);
        assert_eq!(decode_cursor("prompt", &cursor), None);
        assert_eq!(decode_cursor("prompts", "garbage!"), None);
        assert!(start_of("prompts", Some(&encode_cursor("prompts", 9)), 8).is_err());
    }

    #[test]
    fn pages_cover_every_visible_item_once() {
        let items: Vec<u32> = (0..7).collect();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let (taken, next) =
                page("items", &items, cursor.as_deref(), 2, |i| i % 3 != 1).unwrap();
            assert!(taken.len() <= 2);
            seen.extend(taken.into_iter().copied());
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, [0, 2, 3, 5, 6]);
        let (empty, next) = page("items", &items[..0], None, 2, |_| true).unwrap();
        assert!(empty.is_empty() && next.is_none());
    }
}
