//! The one error type of every handler: each variant knows its HTTP status and renders as an
//! RFC 9457 `application/problem+json` body. Internal detail (SQL, host messages) is logged and
//! shown to clients only when the `debug` variable is true.

use serde::Serialize;

/// Result of a handler step.
pub type Result<T, E = ApiError> = std::result::Result<T, E>;

/// One invalid input field of a 422 (or a 400 naming a query parameter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// A dotted path into the input: `name`, `metadata.source`, `items[3].confidence`.
    pub field: String,
    /// What is wrong with it, for people.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every way a request can fail. Handlers return `Result<_, ApiError>` and use `?`.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 400: malformed JSON, query string or header.
    BadRequest(String),
    /// 400 naming the offending query parameters.
    InvalidQuery(Vec<FieldError>),
    /// 401: no or invalid credentials. Sends `WWW-Authenticate: Bearer`.
    Unauthorized(String),
    /// 403: authenticated but not allowed (role, scope, CSRF).
    Forbidden(String),
    /// 404.
    NotFound(String),
    /// 405 with the methods the resource does allow (sent as `Allow`).
    MethodNotAllowed(Vec<&'static str>),
    /// 409: unique violation, duplicate, state conflict.
    Conflict(String),
    /// 412: `If-Match` does not match the current version.
    PreconditionFailed(String),
    /// 413: the body is larger than `limit` bytes.
    PayloadTooLarge { limit: usize },
    /// 415: the body is not of the `expected` media type.
    UnsupportedMediaType { expected: &'static str },
    /// 422: well-formed input that breaks the rules, field by field.
    Validation(Vec<FieldError>),
    /// 428: the operation needs `If-Match`.
    PreconditionRequired(String),
    /// 429 with `Retry-After` in seconds.
    TooManyRequests { retry_after_secs: u64 },
    /// 503: a dependency (Postgres, Redis, configuration) is unavailable.
    /// `internal` is logged, and shown only under `debug`.
    Unavailable {
        dependency: &'static str,
        internal: String,
    },
    /// 500: a bug. `internal` is logged, and shown only under `debug`.
    Internal(String),
}

/// The rendered body, field for field as RFC 9457 (plus `request_id` and `errors`).
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub instance: String,
    pub request_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Base of the problem `type` URIs; the OpenAPI document lists every slug.
pub const PROBLEM_TYPE_BASE: &str = "https://spingraph.dev/problems/";

/// `pub fn name(detail) -> ApiError`: the variant of a detail alone, from any string.
macro_rules! with_detail {
    ($($name:ident => $variant:ident),* $(,)?) => {
        $(
            #[doc = concat!("An [`ApiError::", stringify!($variant), "`] with `detail`.")]
            pub fn $name(detail: impl Into<String>) -> Self {
                ApiError::$variant(detail.into())
            }
        )*
    };
}

impl ApiError {
    with_detail! {
        bad_request => BadRequest,
        unauthorized => Unauthorized,
        forbidden => Forbidden,
        not_found => NotFound,
        conflict => Conflict,
        internal => Internal,
    }

    pub fn unavailable(dependency: &'static str, internal: impl Into<String>) -> Self {
        ApiError::Unavailable {
            dependency,
            internal: internal.into(),
        }
    }
    /// A 422 with a single field error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    /// The variant's status, the slug of its problem type and its title: one row a variant.
    fn kind(&self) -> (u16, &'static str, &'static str) {
        match self {
            ApiError::BadRequest(_) => (400, "bad-request", "Bad Request"),
            ApiError::InvalidQuery(_) => (400, "invalid-query", "Invalid query parameters"),
            ApiError::Unauthorized(_) => (401, "unauthorized", "Unauthorized"),
            ApiError::Forbidden(_) => (403, "forbidden", "Forbidden"),
            ApiError::NotFound(_) => (404, "not-found", "Not Found"),
            ApiError::MethodNotAllowed(_) => (405, "method-not-allowed", "Method Not Allowed"),
            ApiError::Conflict(_) => (409, "conflict", "Conflict"),
            ApiError::PreconditionFailed(_) => (412, "precondition-failed", "Precondition Failed"),
            ApiError::PayloadTooLarge { .. } => (413, "payload-too-large", "Content Too Large"),
            ApiError::UnsupportedMediaType { .. } => {
                (415, "unsupported-media-type", "Unsupported Media Type")
            }
            ApiError::Validation(_) => (422, "validation", "Validation failed"),
            ApiError::PreconditionRequired(_) => {
                (428, "precondition-required", "Precondition Required")
            }
            ApiError::TooManyRequests { .. } => (429, "rate-limited", "Too Many Requests"),
            ApiError::Unavailable { .. } => (503, "unavailable", "Service Unavailable"),
            ApiError::Internal(_) => (500, "internal", "Internal Server Error"),
        }
    }

    pub fn status(&self) -> u16 {
        self.kind().0
    }

    /// The stable slug of the problem type (`type` is `PROBLEM_TYPE_BASE` + slug).
    pub fn slug(&self) -> &'static str {
        self.kind().1
    }

    pub fn title(&self) -> &'static str {
        self.kind().2
    }

    /// Detail that never leaks internals; `debug` appends the internal message for 500/503.
    pub fn detail(&self, debug: bool) -> String {
        match self {
            ApiError::BadRequest(d)
            | ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::NotFound(d)
            | ApiError::Conflict(d)
            | ApiError::PreconditionFailed(d)
            | ApiError::PreconditionRequired(d) => d.clone(),
            ApiError::InvalidQuery(_) => "One or more query parameters are invalid.".into(),
            ApiError::MethodNotAllowed(allow) => {
                format!("Allowed methods: {}.", allow.join(", "))
            }
            ApiError::PayloadTooLarge { limit } => {
                format!("The request body is larger than {limit} bytes.")
            }
            ApiError::UnsupportedMediaType { expected } => {
                format!("The request body must be {expected}.")
            }
            ApiError::Validation(_) => "One or more fields are invalid.".into(),
            ApiError::TooManyRequests { retry_after_secs } => {
                format!("Rate limit exceeded; retry in {retry_after_secs} s.")
            }
            ApiError::Unavailable {
                dependency,
                internal,
            } => {
                let mut d = format!("{dependency} is unavailable; try again shortly.");
                if debug {
                    d.push_str(" (");
                    d.push_str(internal);
                    d.push(')');
                }
                d
            }
            ApiError::Internal(internal) => {
                if debug {
                    format!("Internal error: {internal}")
                } else {
                    "An internal error occurred; it has been logged with the request id.".into()
                }
            }
        }
    }

    /// The message worth logging (internal detail included); `None` for client errors.
    pub fn internal_detail(&self) -> Option<String> {
        match self {
            ApiError::Unavailable {
                dependency,
                internal,
            } => Some(format!("{dependency}: {internal}")),
            ApiError::Internal(internal) => Some(internal.clone()),
            _ => None,
        }
    }

    /// Extra headers the status calls for (`Allow`, `Retry-After`, `WWW-Authenticate`).
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            ApiError::MethodNotAllowed(allow) => vec![("allow", allow.join(", "))],
            ApiError::TooManyRequests { retry_after_secs } => {
                vec![("retry-after", retry_after_secs.to_string())]
            }
            ApiError::Unauthorized(_) => vec![("www-authenticate", "Bearer".to_string())],
            ApiError::Unavailable { .. } => vec![("retry-after", "1".to_string())],
            _ => Vec::new(),
        }
    }

    pub fn problem(&self, instance: &str, request_id: &str, debug: bool) -> Problem {
        let errors = match self {
            ApiError::Validation(errors) | ApiError::InvalidQuery(errors) => errors.clone(),
            _ => Vec::new(),
        };
        Problem {
            type_: format!("{PROBLEM_TYPE_BASE}{}", self.slug()),
            title: self.title(),
            status: self.status(),
            detail: self.detail(debug),
            instance: instance.to_string(),
            request_id: request_id.to_string(),
            errors,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status(),
            self.title(),
            self.detail(true)
        )
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_its_status() {
        let cases: Vec<(ApiError, u16)> = vec![
            (ApiError::bad_request("x"), 400),
            (ApiError::InvalidQuery(vec![]), 400),
            (ApiError::unauthorized("x"), 401),
            (ApiError::forbidden("x"), 403),
            (ApiError::not_found("x"), 404),
            (ApiError::MethodNotAllowed(vec!["GET"]), 405),
            (ApiError::conflict("x"), 409),
            (ApiError::PreconditionFailed("x".into()), 412),
            (ApiError::PayloadTooLarge { limit: 1 }, 413),
            (
                ApiError::UnsupportedMediaType {
                    expected: "application/json",
                },
                415,
            ),
            (ApiError::invalid("name", "required"), 422),
            (ApiError::PreconditionRequired("x".into()), 428),
            (
                ApiError::TooManyRequests {
                    retry_after_secs: 3,
                },
                429,
            ),
            (ApiError::unavailable("Postgres", "refused"), 503),
            (ApiError::internal("boom"), 500),
        ];
        for (err, status) in cases {
            assert_eq!(err.status(), status, "{err:?}");
            assert_eq!(err.problem("/x", "rid", false).status, status);
        }
    }

    #[test]
    fn internal_detail_is_hidden_unless_debug() {
        let err = ApiError::internal("SELECT secret FROM t");
        assert!(!err.detail(false).contains("SELECT"));
        assert!(err.detail(true).contains("SELECT"));
        let err = ApiError::unavailable("Postgres", "connection refused at 10.0.0.1");
        assert!(!err.detail(false).contains("10.0.0.1"));
        assert!(err.detail(false).contains("Postgres"));
        assert!(err.detail(true).contains("10.0.0.1"));
    }

    #[test]
    fn problem_body_has_rfc9457_fields_and_field_errors() {
        let err = ApiError::Validation(vec![FieldError::new("name", "must not be empty")]);
        let body = serde_json::to_value(err.problem("/v1/entities", "abc", false)).unwrap();
        assert_eq!(body["type"], "https://spingraph.dev/problems/validation");
        assert_eq!(body["title"], "Validation failed");
        assert_eq!(body["status"], 422);
        assert_eq!(body["instance"], "/v1/entities");
        assert_eq!(body["request_id"], "abc");
        assert_eq!(body["errors"][0]["field"], "name");
        assert_eq!(body["errors"][0]["message"], "must not be empty");
        let body = serde_json::to_value(ApiError::not_found("gone").problem("/", "r", false));
        assert!(body.unwrap().get("errors").is_none());
    }

    #[test]
    fn status_specific_headers_are_present() {
        assert_eq!(
            ApiError::MethodNotAllowed(vec!["GET", "POST"]).headers(),
            vec![("allow", "GET, POST".to_string())]
        );
        assert_eq!(
            ApiError::TooManyRequests {
                retry_after_secs: 7
            }
            .headers(),
            vec![("retry-after", "7".to_string())]
        );
    }
}
