//! Audit events, read as an operator's subscriber receives them (target
//! `mcp::audit`): one per access decision (allowed, refused, step-up), per
//! refused authentication, and per run-time change to the tools; each
//! names the subject, the client and the target, and never a token.

use mcp_runtime::operations::AUDIT_TARGET;
use mcp_runtime::prelude::*;
use mcp_runtime::testing::{ClientError, TestIssuer, TestServer};
use std::sync::{Arc, Mutex};

/// Where the subscriber writes: one buffer for the whole test binary.
#[derive(Clone)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Guarded;

#[mcp_server(name = "guarded", version = "1.0.0", oauth = auth0)]
impl Guarded {
    /// Who is calling.
    #[mcp_tool]
    async fn whoami(auth: &Auth) -> String {
        auth.user.user_id.clone()
    }

    /// Deletes, for admins.
    #[mcp_tool(scopes = "admin")]
    async fn delete() -> &'static str {
        "deleted"
    }
}

#[actix_web::test]
async fn every_decision_is_audited_and_no_token_is_written() {
    let sink = Sink(Arc::default());
    let writer = sink.clone();
    tracing_subscriber::fmt()
        .with_env_filter(format!("{AUDIT_TARGET}=info"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let issuer = TestIssuer::new().expect("issuer");
    let server = Guarded
        .into_mcp_builder()
        .oauth(issuer.provider())
        .build()
        .expect("builds");
    let handle = server.clone();
    let running = TestServer::start_with(server, &issuer).expect("starts");
    let token = issuer
        .token()
        .subject("alice")
        .client_id("inspector")
        .sign()
        .expect("token");
    let alice = running.client().with_token(token.clone());
    assert_eq!(
        alice.call_tool("whoami", ()).await.expect("allowed").text(),
        "alice"
    );
    let stepped = alice.call_tool("delete", ()).await;
    assert!(
        matches!(stepped, Err(ClientError::Forbidden { .. })),
        "{stepped:?}"
    );
    let expired = issuer
        .token()
        .subject("mallory")
        .expired()
        .sign()
        .expect("token");
    let refused = running
        .client()
        .with_token(expired.clone())
        .call_tool("whoami", ())
        .await;
    assert_eq!(
        refused.as_ref().err().and_then(ClientError::status),
        Some(401)
    );
    handle
        .add_tool(Tool::new("late", || async { "late" }))
        .expect("added");

    let written = String::from_utf8(sink.0.lock().unwrap().clone()).expect("UTF-8");
    let lines: Vec<&str> = written.lines().collect();
    let find = |needles: &[&str]| {
        lines
            .iter()
            .find(|line| needles.iter().all(|n| line.contains(n)))
            .unwrap_or_else(|| panic!("no audit event with {needles:?} in:\n{written}"))
    };
    find(&[
        AUDIT_TARGET,
        "event=\"access\"",
        "decision=\"allowed\"",
        "target=\"whoami\"",
        "subject=\"alice\"",
        "client_id=inspector",
    ]);
    let step_up = find(&[
        "event=\"access\"",
        "decision=\"step_up\"",
        "target=\"delete\"",
        "subject=\"alice\"",
    ]);
    assert!(
        step_up.contains("admin"),
        "names what is missing: {step_up}"
    );
    find(&[
        "event=\"authentication\"",
        "decision=\"refused\"",
        "reason=\"expired\"",
        "status=401",
    ]);
    find(&[
        "event=\"registry\"",
        "change=\"added\"",
        "kind=\"tool\"",
        "name=\"late\"",
    ]);
    for secret in [&token, &expired] {
        assert!(
            !written.contains(secret.as_str()),
            "a token was written:\n{written}"
        );
        let signature = secret.rsplit('.').next().expect("a JWS");
        assert!(
            !written.contains(signature),
            "a token's signature was written"
        );
    }
    // Only audit events: the filter routes them alone.
    assert!(
        lines.iter().all(|line| line.contains(AUDIT_TARGET)),
        "{written}"
    );
}
