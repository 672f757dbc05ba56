//! Audit events: one structured `tracing` event per access decision, per
//! sign-in step and per run-time change to what the server serves, all
//! under the target [`AUDIT_TARGET`] so they can be routed on their own (to
//! a file, a SIEM) with a per-target filter such as
//! `RUST_LOG=info,mcp::audit=info`.
//!
//! Each carries who (subject, client id), what (method, tool or other
//! target), the decision and why; never a token, a code or a secret. The
//! callers pass only such fields.

/// The `tracing` target of every audit event.
pub const AUDIT_TARGET: &str = "mcp::audit";

/// Who an event is about: the verified caller, if any.
#[derive(Default, Clone, Copy)]
pub(crate) struct Who<'a> {
    pub(crate) subject: Option<&'a str>,
    pub(crate) client_id: Option<&'a str>,
}

/// An access decision on a call: `allowed`, `refused` (with why), or
/// `step_up` (refused, naming the scopes that would allow it).
pub(crate) fn access(
    who: Who<'_>,
    method: &str,
    target: &str,
    request_id: &str,
    decision: &'static str,
    reason: Option<&str>,
) {
    tracing::info!(
        target: AUDIT_TARGET,
        event = "access",
        decision,
        reason = reason.unwrap_or(""),
        method,
        target,
        request_id,
        subject = who.subject.unwrap_or(""),
        client_id = %who.client_id.map(client_label).unwrap_or_default(),
    );
}

/// A request refused before any caller was known (no token, or a token
/// refused: `cause` says why in a word).
pub(crate) fn authentication_refused(cause: &str, status: u16) {
    tracing::info!(
        target: AUDIT_TARGET,
        event = "authentication",
        decision = "refused",
        reason = cause,
        status,
    );
}

/// A step of a sign-in through this server (proxy or development mode):
/// `registered`, `consented`, `denied`, `code_redeemed`, `refresh_rotated`,
/// `family_revoked`.
pub(crate) fn sign_in(step: &'static str, client_id: Option<&str>, subject: Option<&str>) {
    tracing::info!(
        target: AUDIT_TARGET,
        event = "sign_in",
        step,
        client_id = %client_id.map(client_label).unwrap_or_default(),
        subject = subject.unwrap_or(""),
    );
}

/// A client id as events name it: itself if short, else a fingerprint
/// (this server's signed client ids run to kilobytes).
pub(crate) fn client_label(id: &str) -> String {
    if id.len() <= 64 {
        // Written as it is, so without control characters: a client id
        // cannot start a line of its own in the log.
        return id.chars().filter(|c| !c.is_control()).collect();
    }
    format!("sha256:{}", super::fingerprint(id, 8))
}

/// A change to what the server serves while it runs: `kind` (`tool`,
/// `resource`, `resource_template`, `prompt`) `name` was `added` or
/// `removed`.
pub(crate) fn registry_change(kind: &'static str, name: &str, change: &'static str) {
    tracing::info!(
        target: AUDIT_TARGET,
        event = "registry",
        change,
        kind,
        name,
    );
}
