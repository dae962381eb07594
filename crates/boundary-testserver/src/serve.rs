//! The accept loop shared by the test server and the proxy: HTTP/1.1 with keep-alive on a
//! loopback port, stopped when its handle is dropped.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::body::ScriptedBody;

/// A request with its body read.
pub struct ReadRequest {
    pub method: hyper::Method,
    pub path: String,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

/// What a handler answers: a response, or `None` to close the connection without one.
pub type Reply = Option<Response<ScriptedBody>>;

/// A running server; dropping it stops accepting and closes open connections.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: CancellationToken,
}

impl ServerHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1`, the base URL clients are given.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Serves `handler` on `addr` (use port 0 for any free port) until the handle is dropped.
pub async fn serve<H, F>(addr: SocketAddr, handler: H) -> std::io::Result<ServerHandle>
where
    H: Fn(ReadRequest) -> F + Send + Sync + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let stop = CancellationToken::new();
    let handler = Arc::new(handler);
    let accept_stop = stop.clone();
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = accept_stop.cancelled() => return,
                accepted = listener.accept() => accepted,
            };
            let Ok((stream, _)) = accepted else { continue };
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            let connection_stop = accept_stop.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let handler = handler.clone();
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = match body.collect().await {
                            Ok(collected) => collected.to_bytes(),
                            Err(e) => return Err(std::io::Error::other(e)),
                        };
                        let read = ReadRequest {
                            method: parts.method,
                            path: parts.uri.path().to_owned(),
                            headers: parts.headers,
                            body,
                        };
                        handler(read)
                            .await
                            .ok_or_else(|| std::io::Error::other("connection closed on purpose"))
                    }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    () = connection_stop.cancelled() => {}
                    _ = connection => {}
                }
            });
        }
    });
    Ok(ServerHandle { addr, stop })
}

/// A JSON response with `Content-Length`.
pub fn json_response(status: u16, value: &serde_json::Value) -> Response<ScriptedBody> {
    bytes_response(status, Bytes::from(value.to_string()))
}

pub fn bytes_response(status: u16, bytes: Bytes) -> Response<ScriptedBody> {
    let mut response = Response::new(ScriptedBody::full(bytes));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// The `{"error": {...}}` body OpenAI-compatible servers send with a failure status.
pub fn error_response(status: u16, message: &str) -> Response<ScriptedBody> {
    json_response(
        status,
        &serde_json::json!({"error": {"message": message, "type": "test_server_error", "code": status}}),
    )
}
