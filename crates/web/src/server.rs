//! The accept loop: HTTP/1.1 connections with a deadline for every part a client controls
//! (headers, each piece of a body), a cap on connections per address, and a shutdown that
//! ends within a bound. `axum::serve` sets none of these, so one client sending half a
//! request could hold a connection, or the shutdown, forever.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use newsdesk_core::config::Server;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower_service::Service;

/// What a client beyond its address's connection cap reads before the connection closes.
const TOO_MANY_CONNECTIONS: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: text/plain; charset=utf-8\r\nretry-after: 10\r\nconnection: close\r\n\
content-length: 58\r\n\r\nToo many connections from your address. Close some first.\n";

/// Open connections per peer address; a slot is given back when its connection ends.
#[derive(Clone, Default)]
struct OpenConnections(Arc<Mutex<HashMap<IpAddr, usize>>>);

struct Slot {
    open: OpenConnections,
    address: IpAddr,
}

impl OpenConnections {
    /// A slot for one more connection from `address`, unless it holds `cap` already
    /// (0: no cap).
    fn take(&self, address: IpAddr, cap: usize) -> Option<Slot> {
        let Ok(mut open) = self.0.lock() else {
            // A poisoned map means a panic elsewhere: serving without the cap beats serving
            // no one.
            return Some(Slot {
                open: self.clone(),
                address,
            });
        };
        let count = open.entry(address).or_insert(0);
        if cap > 0 && *count >= cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            open: self.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.0.lock()
            && let Some(count) = open.get_mut(&self.address)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

fn seconds(value: u32) -> Duration {
    Duration::from_secs(u64::from(value))
}

/// Serves until `shutdown` resolves, then lets requests in flight finish for at most
/// `server.shutdown_grace_seconds`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: &Server,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open = OpenConnections::default();
    let cap = settings.max_connections_per_address as usize;
    let trusted = settings.trusted_proxies.clone();
    let header_read = seconds(settings.header_read_timeout_seconds);
    let body_read = seconds(settings.body_read_timeout_seconds);
    // Every connection holds a receiver: a send asks them to finish, and the sender's
    // `closed()` tells when the last one has.
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most likely: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let peer_ip = peer.ip().to_canonical();
        // A trusted proxy carries many clients on its connections: its own are not capped.
        let capped = !trusted.iter().any(|range| range.contains(peer_ip));
        let Some(slot) = open.take(peer_ip, if capped { cap } else { 0 }) else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(|body| Body::new(BodyDeadline::new(body, body_read)));
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            let mut app = app.clone();
            async move { app.call(request).await }
        });
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_read)
                .keep_alive(true);
            let connection = builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = stop.changed() => connection.as_mut().graceful_shutdown(),
            }
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error while stopping");
            }
            drop(stop);
        });
    }
    drop(listener);
    drop(stop_rx);
    let _ = stop_tx.send(true);
    let grace = seconds(settings.shutdown_grace_seconds);
    if tokio::time::timeout(grace, stop_tx.closed()).await.is_err() {
        tracing::warn!(
            grace_seconds = settings.shutdown_grace_seconds,
            "connections still open at the end of the shutdown grace; closing them"
        );
    }
    Ok(())
}

/// A request body that fails when no piece of it arrives within `patience`: a client that
/// declares a body and stops sending would otherwise hold its request, and its connection,
/// open for as long as it likes.
struct BodyDeadline {
    body: Incoming,
    patience: Duration,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

#[derive(Debug, thiserror::Error)]
#[error("the request body stopped arriving")]
struct BodyStalled;

impl BodyDeadline {
    fn new(body: Incoming, patience: Duration) -> Self {
        BodyDeadline {
            body,
            patience,
            deadline: None,
        }
    }
}

impl hyper::body::Body for BodyDeadline {
    type Data = axum::body::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let patience = self.patience;
        let deadline = self
            .deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(patience)));
        if deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(BodyStalled))));
        }
        match Pin::new(&mut self.body).poll_frame(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(frame) => {
                // Something arrived: the next piece gets the whole patience again.
                self.deadline = None;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Tells a client over its cap why, without reading its request, and closes.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(TOO_MANY_CONNECTIONS).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_counts_each_address_apart_and_gives_slots_back() {
        let open = OpenConnections::default();
        let a: IpAddr = "198.51.100.1".parse().expect("address");
        let b: IpAddr = "198.51.100.2".parse().expect("address");
        let first = open.take(a, 2).expect("1 of 2");
        let _second = open.take(a, 2).expect("2 of 2");
        assert!(open.take(a, 2).is_none(), "3 of 2");
        assert!(open.take(b, 2).is_some(), "another address");
        drop(first);
        assert!(open.take(a, 2).is_some(), "a slot given back");
        let unlimited: Vec<Slot> = (0..100).filter_map(|_| open.take(b, 0)).collect();
        assert_eq!(unlimited.len(), 100);
    }

    #[test]
    fn the_refusal_is_a_complete_http_answer() {
        let text = std::str::from_utf8(TOO_MANY_CONNECTIONS).expect("utf-8");
        let (_, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(text.contains(&format!("content-length: {}\r\n", body.len())));
    }
}
