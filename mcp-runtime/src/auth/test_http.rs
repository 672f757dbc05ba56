//! Loopback HTTP servers for the unit tests of what the server fetches from
//! providers (JWK sets, metadata).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A server answering every request with `respond(path)` (the whole
/// response), counting the connections in `count`; its port.
pub(crate) async fn serve(
    respond: impl Fn(&str) -> String + Send + Sync + 'static,
    count: Arc<AtomicUsize>,
) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let respond = Arc::new(respond);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let respond = Arc::clone(&respond);
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let n = socket.read(&mut request).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&request[..n]);
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let _ = socket.write_all(respond(&path).as_bytes()).await;
            });
        }
    });
    port
}

/// A server whose one answer is a JSON body that never ends; its port.
pub(crate) async fn endless_body() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                    transfer-encoding: chunked\r\n\r\n";
        if socket.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = format!("{:x}\r\n{}\r\n", 1024, " ".repeat(1024));
        while socket.write_all(chunk.as_bytes()).await.is_ok() {}
    });
    port
}
