//! What the host answers itself when a request does not reach its component, or the component
//! does not answer: each [`HostFailure`] knows its status and problem text (RFC 9457), so the
//! trigger returns them with `?`.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// A request the host answers itself, with a problem+json body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostFailure {
    NoRoute,
    ComponentNotLoaded,
    /// The client holds its cap of open connections (the connection is then closed).
    TooManyConnections,
    BodyTooLarge,
    BodyUnreadable,
    /// The body did not arrive in time; the rest of it is never read, so the connection
    /// cannot carry another request.
    BodyTimedOut,
    AtConcurrencyLimit,
    CannotPrepareInstance,
    CannotPassRequest,
    /// The component answered with a wasi-http error code instead of a response.
    ComponentErrorCode,
    ComponentFailed,
    DeadlineExceeded,
}

impl HostFailure {
    pub fn status(self) -> StatusCode {
        use HostFailure as F;
        match self {
            F::NoRoute => StatusCode::NOT_FOUND,
            F::TooManyConnections => StatusCode::TOO_MANY_REQUESTS,
            F::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            F::BodyUnreadable | F::CannotPassRequest => StatusCode::BAD_REQUEST,
            F::BodyTimedOut => StatusCode::REQUEST_TIMEOUT,
            F::AtConcurrencyLimit | F::DeadlineExceeded => StatusCode::SERVICE_UNAVAILABLE,
            F::ComponentNotLoaded
            | F::CannotPrepareInstance
            | F::ComponentErrorCode
            | F::ComponentFailed => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem's `detail`.
    pub fn detail(self) -> &'static str {
        use HostFailure as F;
        match self {
            F::NoRoute => "no route matches this path",
            F::ComponentNotLoaded => "the routed component is not loaded",
            F::TooManyConnections => "this client address holds too many open connections",
            F::BodyTooLarge => "request body too large",
            F::BodyUnreadable => "could not read the request body",
            F::BodyTimedOut => "the request body did not arrive in time",
            F::AtConcurrencyLimit => "the server is at its concurrent request limit",
            F::CannotPrepareInstance => "cannot prepare the component instance",
            F::CannotPassRequest => "the request cannot be passed to the component",
            F::ComponentErrorCode => "the component failed to produce a response",
            F::ComponentFailed => "the component failed while handling the request",
            F::DeadlineExceeded => "the request exceeded its time limit",
        }
    }

    /// The answer to the request for `path` with id `request_id`.
    pub fn response(self, path: &str, request_id: &str) -> Response<HyperOutgoingBody> {
        let mut resp = problem(self.status(), self.detail(), path, request_id);
        let headers = resp.headers_mut();
        match self {
            HostFailure::TooManyConnections => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            HostFailure::BodyTimedOut => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        resp
    }
}

/// An RFC 9457 problem answer made by the host itself.
fn problem(
    status: StatusCode,
    detail: &str,
    instance: &str,
    request_id: &str,
) -> Response<HyperOutgoingBody> {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
        "instance": instance,
        "request_id": request_id,
    });
    let bytes = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
    let mut resp = Response::new(
        Full::new(bytes)
            .map_err(|never: Infallible| match never {})
            .boxed_unsync(),
    );
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_carries_status_and_request_id() {
        let r = problem(StatusCode::PAYLOAD_TOO_LARGE, "too big", "/x", "rid");
        assert_eq!(r.status(), 413);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        assert_eq!(r.headers()["x-request-id"], "rid");
    }

    #[test]
    fn failures_that_leave_a_request_unread_close_the_connection() {
        let r = HostFailure::BodyTimedOut.response("/x", "rid");
        assert_eq!(r.status(), 408);
        assert_eq!(r.headers()["connection"], "close");
        let r = HostFailure::TooManyConnections.response("/x", "rid");
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "1");
        assert_eq!(r.headers()["connection"], "close");
        let r = HostFailure::DeadlineExceeded.response("/x", "rid");
        assert_eq!(r.status(), 503);
        assert!(r.headers().get("connection").is_none());
    }
}
