//! The response media types a POST's `Accept` header lets the endpoint
//! answer with: JSON, an SSE stream, or both.

use actix_web::http::header::{self, HeaderMap};

/// Which response media types the client takes.
///
/// Read by hand, not with actix-web's `Accept`: that drops every range it
/// cannot parse (`application/json;`, whose empty parameter RFC 9110 allows,
/// or a q-value it does not read) and every line once one is not visible
/// ASCII, where this endpoint takes such a range by its media type.
#[derive(Clone, Copy)]
pub(super) struct Accepts {
    pub(super) json: bool,
    pub(super) sse: bool,
}

impl Accepts {
    /// What the `Accept` lines of `headers` let the endpoint answer with.
    pub(super) fn of(headers: &HeaderMap) -> Self {
        let mut accepts = Accepts {
            json: false,
            sse: false,
        };
        let mut any_header = false;
        for value in headers.get_all(header::ACCEPT) {
            any_header = true;
            // What the MCP clients send, byte for byte, known without parsing.
            match value.as_bytes() {
                b"application/json, text/event-stream" | b"text/event-stream, application/json" => {
                    accepts.json = true;
                    accepts.sse = true;
                    continue;
                }
                _ => {}
            }
            let Ok(value) = value.to_str() else { continue };
            for range in value.split(',') {
                let mut parts = range.split(';');
                let media = parts.next().unwrap_or("").trim();
                let refused = parts.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                if refused {
                    continue;
                }
                // Compared without a lowercased copy: this runs on every
                // POST.
                let is = |name: &str| media.eq_ignore_ascii_case(name);
                if is("*/*") {
                    accepts.json = true;
                    accepts.sse = true;
                } else if is("application/json") || is("application/*") {
                    accepts.json = true;
                } else if is("text/event-stream") || is("text/*") {
                    accepts.sse = true;
                }
            }
        }
        if !any_header {
            accepts.json = true;
        }
        accepts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    /// What a POST's Accept header lets the endpoint answer with.
    #[test]
    fn accept_headers_pick_json_or_sse() {
        // (Accept lines, takes JSON, takes SSE)
        let table: &[(&[&str], bool, bool)] = &[
            (&[], true, false),
            (&["application/json, text/event-stream"], true, true),
            (&["*/*"], true, true),
            (&["application/*"], true, false),
            (&["text/*"], false, true),
            (&["text/event-stream"], false, true),
            (&["application/json"], true, false),
            (&["Application/JSON"], true, false),
            (&["application/json; charset=utf-8"], true, false),
            (
                &["application/json ; q=0.5, text/event-stream;q=1"],
                true,
                true,
            ),
            (&["application/json;q=0, text/html"], false, false),
            (&["application/json;q=0.0, text/event-stream"], false, true),
            (&["*/*;q=0, text/event-stream"], false, true),
            (&["application/json", "text/event-stream"], true, true),
            (&["text/html"], false, false),
            (&["application/vnd.api+json, text/plain"], false, false),
            (&[""], false, false),
            // An empty parameter (RFC 9110 allows it; actix-web's `Accept`
            // would drop the range).
            (&["application/json;", "text/event-stream; "], true, true),
        ];
        for (lines, json, sse) in table {
            let mut req = TestRequest::post();
            for line in *lines {
                req = req.append_header((header::ACCEPT, *line));
            }
            let accepts = Accepts::of(req.to_http_request().headers());
            assert_eq!((accepts.json, accepts.sse), (*json, *sse), "{lines:?}");
        }
    }
}
