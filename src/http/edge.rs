//! The network edge, below the router: what a connection may do before (or instead of) a request
//! reaching a handler.
//!
//! - `refuse_oversized_bodies`: a declared `Content-Length` over the body limit is answered 413 at
//!   once, before the body is read or `100 Continue` invited (hyper sends `100 Continue` only
//!   when the body is first polled, and nothing polls it here).
//! - `AddressLimiter`: connections held at once per client address, so one address cannot take
//!   the whole connection budget (slowloris). Refused connections get `REFUSED_TOO_MANY`.
//! - `TwilioShapedParseErrors`: hyper answers requests it cannot parse (request line or URI too
//!   long, too many or too large headers, malformed HTTP) itself, with an empty body and no way
//!   to change it; this IO wrapper replaces those automatic answers with Twilio's error JSON, so
//!   every error the server sends has the same shape.

use std::{
    collections::HashMap,
    future::Future,
    io,
    net::IpAddr,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, ready},
};

use axum::{
    extract::Request,
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::extract::BodyLimit;
use crate::{domain::auth::ClientAddress, error::Error};

/// 413 before the body is read when the declared `Content-Length` is over the limit. A chunked
/// body (no length up front) is still cut off by the limit while it is read.
pub async fn refuse_oversized_bodies(request: Request, next: Next) -> Response {
    let limit = request.extensions().get::<BodyLimit>().map(|l| l.0);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let (Some(limit), Some(declared)) = (limit, declared)
        && declared > limit as u64
    {
        return Error::PayloadTooLarge { limit }.into_response();
    }
    next.run(request).await
}

/// The body of a Twilio error: `{"code","message","more_info","status"}` (API.md §3.1), for the
/// answers written below the router, where no `crate::Error` is rendered.
fn twilio_error_json(status: u16, code: u32, message: &str) -> String {
    super::error::twilio_error(status, code, message).to_string()
}

/// A complete HTTP/1.1 response carrying a Twilio error, that closes the connection.
fn canned_response(status: u16, reason: &str, extra_headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n{extra_headers}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// What a connection refused by `AddressLimiter` is sent before it is closed: 429 20429, as
/// for too many failed authentications, with `Retry-After`.
/// Built once: it is sent exactly when one address floods the server with connections.
pub fn refused_too_many() -> &'static [u8] {
    static REFUSAL: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
        canned_response(
            429,
            "Too Many Requests",
            "retry-after: 1\r\n",
            &twilio_error_json(
                429,
                20429,
                "Too Many Requests: too many connections from this address",
            ),
        )
    });
    &REFUSAL
}

/// Counts the connections each client holds, by `ClientAddress` (IPv6 per /64, IPv4-mapped as
/// IPv4): the same grouping as the failed-auth budget.
#[derive(Clone)]
pub struct AddressLimiter {
    per_address: usize,
    held: Arc<Mutex<HashMap<ClientAddress, usize>>>,
}

/// One admitted connection; its place is given back when dropped.
pub struct AddressPermit {
    key: ClientAddress,
    held: Arc<Mutex<HashMap<ClientAddress, usize>>>,
}

impl AddressLimiter {
    /// `per_address` = 0 means no cap.
    pub fn new(per_address: usize) -> Self {
        Self {
            per_address,
            held: Arc::default(),
        }
    }

    /// A place for a new connection from `ip`, or `None` when that address holds its cap.
    pub fn admit(&self, ip: IpAddr) -> Option<AddressPermit> {
        let key = ClientAddress::of(ip);
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let count = held.entry(key).or_insert(0);
        if self.per_address > 0 && *count >= self.per_address {
            return None;
        }
        *count += 1;
        Some(AddressPermit {
            key,
            held: Arc::clone(&self.held),
        })
    }
}

impl Drop for AddressPermit {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = held.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.key);
            }
        }
    }
}

/// hyper's automatic answers to requests it could not parse, and what replaces each. hyper
/// writes them as `HTTP/1.1 <status> <reason>\r\nconnection: close\r\ncontent-length: 0\r\n…`
/// (hyper 1.x `proto::h1::role::Server::on_error`); nothing the router sends has an empty
/// 4xx body, since every error it renders carries Twilio's JSON.
const PARSE_ERRORS: &[(&str, u16, &str)] = &[
    (
        "HTTP/1.1 400 Bad Request\r\n",
        400,
        "Invalid request: the request is not valid HTTP/1.1",
    ),
    (
        "HTTP/1.1 414 URI Too Long\r\n",
        414,
        "Invalid request: the request URI exceeds 65534 bytes",
    ),
    (
        "HTTP/1.1 431 Request Header Fields Too Large\r\n",
        431,
        "Invalid request: the request headers are too large (more than 100 fields or about 400 KiB)",
    ),
];

/// Where, in bytes hyper is about to write, its automatic parse-error answer starts, and the
/// Twilio-shaped answer that replaces it. The answer is the last thing hyper writes on a
/// connection (it closes it next), so it can only be the tail of the buffer, possibly after
/// the end of the previous response of a keep-alive connection.
fn find_parse_error(buf: &[u8]) -> Option<(usize, Vec<u8>)> {
    let end = buf.len().checked_sub(4)?;
    if &buf[end..] != b"\r\n\r\n" {
        return None;
    }
    for (line, status, message) in PARSE_ERRORS {
        let Some(start) = find_last(buf, line.as_bytes()) else {
            continue;
        };
        let head = &buf[start..];
        let is_automatic = contains(head, b"\r\ncontent-length: 0\r\n")
            && contains(head, b"\r\nconnection: close\r\n")
            && find_first(head, b"\r\n\r\n") == Some(head.len() - 4);
        if is_automatic {
            let reason = &line["HTTP/1.1 000 ".len()..line.len() - 2];
            let body = twilio_error_json(*status, crate::error::INVALID_PARAMETER, message);
            return Some((start, canned_response(*status, reason, "", &body)));
        }
    }
    None
}

fn find_first(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find_first(haystack, needle).is_some()
}

/// Wraps a connection's IO (see the module docs). Reads pass through. It does not offer
/// vectored writes, so hyper writes each flush as one buffer and an automatic answer is
/// always whole in one `poll_write`.
pub struct TwilioShapedParseErrors<IO> {
    inner: IO,
    /// The replacement still to write, and how many bytes of hyper's buffer it stands for.
    replacing: Option<(Vec<u8>, usize, usize)>,
    /// Set once a replacement was written: on shutdown, what the client still sends is read
    /// and dropped for a moment (until it closes, `LINGER` passes or `LINGER_BYTES` came), as
    /// closing a socket with unread data resets the connection and the client may lose the
    /// answer before reading it (the rest of an over-large head is usually still in flight).
    linger: Option<Linger>,
}

struct Linger {
    deadline: Pin<Box<tokio::time::Sleep>>,
    drained: usize,
    write_closed: bool,
}

const LINGER: std::time::Duration = std::time::Duration::from_secs(1);
const LINGER_BYTES: usize = 1 << 20;

impl<IO> TwilioShapedParseErrors<IO> {
    pub fn new(inner: IO) -> Self {
        Self {
            inner,
            replacing: None,
            linger: None,
        }
    }
}

impl<IO: AsyncWrite + Unpin> TwilioShapedParseErrors<IO> {
    /// Writes what is left of the replacement; `Ready(Ok(n))` with the bytes of hyper's
    /// buffer it stood for once all of it is written.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        while let Some((bytes, written, stands_for)) = &mut self.replacing {
            if *written == bytes.len() {
                let n = *stands_for;
                self.replacing = None;
                return Poll::Ready(Ok(n));
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(0))
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> TwilioShapedParseErrors<IO> {
    fn poll_linger(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(linger) = &mut self.linger else {
            return Pin::new(&mut self.inner).poll_shutdown(cx);
        };
        if !linger.write_closed {
            ready!(Pin::new(&mut self.inner).poll_shutdown(cx))?;
            linger.write_closed = true;
        }
        let mut scratch = [0u8; 8192];
        loop {
            if linger.drained >= LINGER_BYTES || linger.deadline.as_mut().poll(cx).is_ready() {
                break;
            }
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.inner).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => {
                    linger.drained += buf.filled().len();
                }
                Poll::Ready(_) => break,
                Poll::Pending => return Poll::Pending,
            }
        }
        self.linger = None;
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for TwilioShapedParseErrors<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TwilioShapedParseErrors<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.replacing.is_some() {
            // hyper calls again with the same bytes after a Pending.
            return this.poll_replacement(cx);
        }
        match find_parse_error(buf) {
            // The previous response's tail first, unchanged.
            Some((start, _)) if start > 0 => {
                Pin::new(&mut this.inner).poll_write(cx, &buf[..start])
            }
            Some((_, replacement)) => {
                this.replacing = Some((replacement, 0, buf.len()));
                this.linger = Some(Linger {
                    deadline: Box::pin(tokio::time::sleep(LINGER)),
                    drained: 0,
                    write_closed: false,
                });
                this.poll_replacement(cx)
            }
            None => Pin::new(&mut this.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_replacement(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_replacement(cx))?;
        self.poll_linger(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_automatic_answers_are_found_and_nothing_else() {
        let automatic = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n\
                          content-length: 0\r\ndate: Tue, 01 Dec 2026 08:41:30 GMT\r\n\r\n";
        let (start, replacement) = find_parse_error(automatic).unwrap();
        assert_eq!(start, 0);
        let text = String::from_utf8(replacement).unwrap();
        assert!(text.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(text.contains("\"code\":20001"), "{text}");

        let previous = b"HTTP/1.1 200 OK\r\ncontent-length: 15\r\n\r\n{\"status\":\"ok\"}";
        let pipelined = [
            &previous[..],
            b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
        ]
        .concat();
        assert_eq!(find_parse_error(&pipelined).unwrap().0, previous.len());

        // A response of the router: a body, or no `content-length: 0`.
        assert!(find_parse_error(previous).is_none());
        assert!(
            find_parse_error(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 80\r\n\r\n").is_none()
        );
    }

    #[test]
    fn each_address_holds_at_most_its_cap_and_gets_places_back() {
        let limiter = AddressLimiter::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = limiter.admit(a).unwrap();
        let _second = limiter.admit(a).unwrap();
        assert!(limiter.admit(a).is_none());
        assert!(
            limiter.admit(b).is_some(),
            "another address is not affected"
        );
        drop(first);
        let _third = limiter.admit(a).unwrap();
        // One IPv6 /64 is one client; a mapped IPv4 address is that IPv4 address.
        let v6a: IpAddr = "2001:db8::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8::ffff:2".parse().unwrap();
        let _x = limiter.admit(v6a).unwrap();
        let _y = limiter.admit(v6b).unwrap();
        assert!(limiter.admit(v6a).is_none());
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert!(limiter.admit(mapped).is_none());
        assert!(AddressLimiter::new(0).admit(a).is_some(), "0 = no cap");
    }
}
