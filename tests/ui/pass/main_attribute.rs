//! `#[mcp_runtime::main]` runs `main`'s body to the end on the system the
//! server is served on: here an actix task, which needs that system.

#[mcp_runtime::main]
async fn main() -> std::io::Result<()> {
    let answer = actix_web::rt::spawn(async { 42 }).await;
    assert_eq!(answer.ok(), Some(42));
    Ok(())
}
