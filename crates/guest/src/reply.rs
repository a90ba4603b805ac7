//! What handlers return on success. [`crate::serve`] turns a `Reply` (or an `ApiError`) into the
//! Spin response, adding `x-request-id` and the CORS headers to every one.

use serde::Serialize;
use spin_sdk::http::Response;

use crate::error::ApiError;

pub const JSON: &str = "application/json";
pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    /// A JSON body with the given status.
    pub fn json<T: Serialize + ?Sized>(status: u16, body: &T) -> Reply {
        match serde_json::to_vec(body) {
            Ok(bytes) => Reply::bytes(status, JSON, bytes),
            Err(e) => Reply::bytes(
                500,
                JSON,
                format!(r#"{{"error":"response serialization failed: {e}"}}"#).into_bytes(),
            ),
        }
    }

    /// 200 with a JSON body.
    pub fn ok<T: Serialize + ?Sized>(body: &T) -> Reply {
        Reply::json(200, body)
    }

    /// 201 with a JSON body and `Location`.
    pub fn created<T: Serialize + ?Sized>(location: &str, body: &T) -> Reply {
        Reply::json(201, body).header("location", location)
    }

    /// 204.
    pub fn no_content() -> Reply {
        Reply::empty(204)
    }

    /// 304 (conditional GET).
    pub fn not_modified() -> Reply {
        Reply::empty(304)
    }

    /// A status without a body.
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The answer to `HEAD`: this reply's status and headers (content type included, as
    /// RFC 9110 §9.3.2 asks) without its body.
    pub fn without_body(mut self) -> Reply {
        self.body = Vec::new();
        self
    }

    /// Any body with its content type (HTML, YAML, ...).
    pub fn bytes(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// The problem+json rendering of an error, with its status-specific headers.
    pub fn problem(err: &ApiError, instance: &str, request_id: &str, debug: bool) -> Reply {
        let mut reply = Reply::json(err.status(), &err.problem(instance, request_id, debug));
        reply.set_header("content-type", PROBLEM_JSON);
        for (name, value) in err.headers() {
            reply.set_header(name, &value);
        }
        reply
    }

    /// Add a header (replacing one of the same name).
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.set_header(name, value);
        self
    }

    pub fn set_header(&mut self, name: &str, value: &str) {
        let name = name.to_ascii_lowercase();
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.to_string()));
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn header_value(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The Spin response, with `x-request-id` always set.
    pub fn into_response(mut self, request_id: &str) -> Response {
        self.set_header("x-request-id", request_id);
        let mut builder = Response::builder();
        builder.status(self.status);
        for (name, value) in &self.headers {
            builder.header(name.as_str(), value.as_str());
        }
        builder.body(self.body).build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_always_carries_request_id() {
        let resp = Reply::ok(&serde_json::json!({"a": 1})).into_response("rid-9");
        assert_eq!(*resp.status(), 200);
        assert_eq!(resp.header("x-request-id").unwrap().as_str(), Some("rid-9"));
        assert_eq!(
            resp.header("content-type").unwrap().as_str(),
            Some("application/json")
        );
    }

    #[test]
    fn problem_reply_is_problem_json_with_allow() {
        let r = Reply::problem(&ApiError::MethodNotAllowed(vec!["GET"]), "/x", "rid", false);
        assert_eq!(r.status(), 405);
        assert_eq!(r.header_value("content-type"), Some(PROBLEM_JSON));
        assert_eq!(r.header_value("allow"), Some("GET"));
        let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
        assert_eq!(body["request_id"], "rid");
        assert_eq!(body["instance"], "/x");
    }

    #[test]
    fn created_sets_location() {
        let r = Reply::created("/v1/entities/1", &serde_json::json!({}));
        assert_eq!(r.status(), 201);
        assert_eq!(r.header_value("Location"), Some("/v1/entities/1"));
    }
}
