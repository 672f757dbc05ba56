//! One session follows at most 1024 resources: the next subscription is
//! refused with a JSON-RPC error that says what to do, re-subscribing to a
//! followed resource costs nothing, and an unsubscription frees a place; a
//! subscribed URI is at most 2 KiB, so what a session holds is bounded.

use mcp_runtime::prelude::*;
use mcp_runtime::testing::{ClientError, TestServer};

#[actix_web::test]
async fn a_session_follows_a_bounded_number_of_resources() {
    let server = McpServer::builder("notes", "1.0.0")
        .resource_template(ResourceTemplate::new(
            "notes://{id}",
            |r: ResourceRequest| async move { r.param("id").unwrap_or_default().to_owned() },
        ))
        .build()
        .expect("builds");
    let server = TestServer::start(server).expect("starts");
    let client = server.client();
    for id in 0..1024 {
        client
            .subscribe(&format!("notes://{id}"))
            .await
            .unwrap_or_else(|e| panic!("subscription {id}: {e:?}"));
    }
    match client.subscribe("notes://1024").await {
        Err(ClientError::Rpc { code, message, .. }) => {
            assert_eq!(code, -32600);
            assert!(
                message.contains("already follows 1024 resources"),
                "{message}"
            );
        }
        other => panic!("the 1025th subscription: {other:?}"),
    }
    client
        .subscribe("notes://7")
        .await
        .expect("already followed: no new place");
    client.unsubscribe("notes://7").await.expect("unsubscribe");
    client
        .subscribe("notes://1024")
        .await
        .expect("a freed place");
    // And each URI is bounded too, so the places are.
    client
        .unsubscribe("notes://1024")
        .await
        .expect("unsubscribe");
    let long = format!("notes://{}", "x".repeat(2048));
    match client.subscribe(&long).await {
        Err(ClientError::Rpc { code, message, .. }) => {
            assert_eq!(code, -32602);
            assert!(message.contains("at most 2048 bytes"), "{message}");
        }
        other => panic!("a 2 KiB URI: {other:?}"),
    }
}
