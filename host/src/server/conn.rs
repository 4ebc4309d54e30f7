//! Guards on the listener against clients that hold connections open without
//! finishing a request (slow-loris):
//!
//! - at most `server.max_connections` connections at once; further ones wait
//!   in the kernel's accept backlog until one closes;
//! - a request's headers must be complete within `server.header_read_timeout_ms`
//!   of the connection opening or of the previous response (so an idle
//!   keep-alive connection is closed after that time too), else the
//!   connection is closed;
//! - a request's body must be complete within `server.body_read_timeout_ms`
//!   of the handler starting to read it, else the request fails with 408 and
//!   the connection is closed.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// A [`TcpListener`] that caps open connections and closes those whose request
/// headers do not arrive in time.
pub struct GuardedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    header_timeout: Duration,
}

impl GuardedListener {
    /// Wrap `inner`: at most `max_connections` open at once, headers within
    /// `header_timeout`.
    pub fn new(inner: TcpListener, max_connections: usize, header_timeout: Duration) -> GuardedListener {
        GuardedListener { inner, permits: Arc::new(Semaphore::new(max_connections)), header_timeout }
    }
}

impl axum::serve::Listener for GuardedListener {
    type Io = GuardedStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // The semaphore is never closed, so this cannot fail; if it ever were,
        // accepting without a permit is the lesser harm.
        let permit = self.permits.clone().acquire_owned().await.ok();
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    return (GuardedStream::new(stream, permit, self.header_timeout), addr);
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection that fails its reads once the current request's headers are
/// overdue (which makes hyper close it), and holds its connection permit
/// until dropped.
pub struct GuardedStream {
    inner: TcpStream,
    _permit: Option<OwnedSemaphorePermit>,
    timeout: Duration,
    /// Running while the headers of a request are awaited; `None` once they are complete.
    deadline: Option<Pin<Box<Sleep>>>,
    scan: HeaderEnd,
}

impl GuardedStream {
    fn new(inner: TcpStream, permit: Option<OwnedSemaphorePermit>, timeout: Duration) -> GuardedStream {
        GuardedStream { inner, _permit: permit, timeout, deadline: Some(Box::pin(tokio::time::sleep(timeout))), scan: HeaderEnd::default() }
    }
}

/// Finds the blank line that ends an HTTP/1 header block, across reads.
#[derive(Default)]
struct HeaderEnd {
    /// The last byte was a line end (CRs ignored).
    at_line_start: bool,
    /// Something other than line ends was seen (leading blank lines are allowed).
    seen_content: bool,
}

impl HeaderEnd {
    /// Feed bytes; true once the header block is complete.
    fn feed(&mut self, bytes: &[u8]) -> bool {
        for &b in bytes {
            match b {
                b'\n' if self.at_line_start && self.seen_content => return true,
                b'\n' => self.at_line_start = true,
                b'\r' => {}
                _ => {
                    self.at_line_start = false;
                    self.seen_content = true;
                }
            }
        }
        false
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(deadline) = this.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("request headers not received within {:?}", this.timeout),
            )));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if this.deadline.is_some() && this.scan.feed(&buf.filled()[before..]) {
            this.deadline = None;
        }
        Poll::Ready(Ok(()))
    }
}

impl GuardedStream {
    /// A response is going out: the next request's headers are awaited from now.
    fn rearm(&mut self) {
        let at = Instant::now() + self.timeout;
        match self.deadline.as_mut() {
            Some(d) => d.as_mut().reset(at),
            None => self.deadline = Some(Box::pin(tokio::time::sleep_until(at))),
        }
        self.scan = HeaderEnd::default();
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.inner).poll_write(cx, data))?;
        self.rearm();
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.inner).poll_write_vectored(cx, bufs))?;
        self.rearm();
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The body took longer than `server.body_read_timeout_ms`.
#[derive(Debug, thiserror::Error)]
#[error("request body not received within {0:?}")]
struct BodyTimeout(Duration);

/// Middleware: the request body must be complete within `timeout` of the
/// handler starting to read it; a late body fails the read, and the request
/// is answered 408.
pub async fn body_deadline(timeout: Duration, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let timed_out = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = timed_out.clone();
    let mut deadline: Option<Instant> = None;
    let stream = body.into_data_stream();
    let timed = futures::stream::unfold(Some(stream), move |state| {
        let at = *deadline.get_or_insert_with(|| Instant::now() + timeout);
        let flag = flag.clone();
        async move {
            let mut stream = state?;
            match tokio::time::timeout_at(at, stream.next()).await {
                Ok(Some(Ok(bytes))) => Some((Ok::<Bytes, axum::BoxError>(bytes), Some(stream))),
                Ok(Some(Err(e))) => Some((Err(e.into()), None)),
                Ok(None) => None,
                Err(_) => {
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    Some((Err(BodyTimeout(timeout).into()), None))
                }
            }
        }
    });
    let response = next.run(Request::from_parts(parts, Body::from_stream(timed))).await;
    if timed_out.load(std::sync::atomic::Ordering::SeqCst) {
        let mut late =
            (StatusCode::REQUEST_TIMEOUT, axum::Json(serde_json::json!({ "error": BodyTimeout(timeout).to_string() }))).into_response();
        late.headers_mut().insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
        return late;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::HeaderEnd;

    #[test]
    fn header_end_is_found_across_reads_and_not_in_leading_blank_lines() {
        let mut s = HeaderEnd::default();
        assert!(!s.feed(b"\r\n\r\n"), "leading blank lines do not end headers");
        assert!(!s.feed(b"POST / HTTP/1.1\r\nHost: x\r"));
        assert!(!s.feed(b"\n\r"));
        assert!(s.feed(b"\n{\"a\":1}"));
        let mut bare = HeaderEnd::default();
        assert!(bare.feed(b"GET / HTTP/1.1\nHost: x\n\n"));
    }
}
