"""The one error type of the reports component: each kind knows its HTTP status and renders as
the same RFC 9457 problem+json body the Rust components write (crates/guest/src/error.rs):
`type`, `title`, `status`, `detail`, `instance`, `request_id`. Internal detail is logged, and
shown to clients only when the `debug` variable is true."""

PROBLEM_TYPE_BASE = "https://spingraph.dev/problems/"

# crates/authn-client's detail of every 401: the same for every reason.
UNAUTHENTICATED = "Missing or invalid credentials."

# status, slug, title: one row a kind, as crates/guest's ApiError::kind.
KINDS = {
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not Found"),
    405: ("method-not-allowed", "Method Not Allowed"),
    429: ("rate-limited", "Too Many Requests"),
    500: ("internal", "Internal Server Error"),
    503: ("unavailable", "Service Unavailable"),
}


class ApiError(Exception):
    """A refused or failed request. `internal` (5xx only) is logged, never shown unless debug."""

    def __init__(self, status, detail="", headers=(), internal=None, dependency=None):
        super().__init__(f"{status} {detail}")
        self.status = status
        self.detail = detail
        self.headers = list(headers)
        self.internal = internal
        self.dependency = dependency

    @staticmethod
    def unauthorized():
        return ApiError(401, UNAUTHENTICATED, [("www-authenticate", "Bearer")])

    @staticmethod
    def forbidden(detail):
        return ApiError(403, detail)

    @staticmethod
    def not_found(detail):
        return ApiError(404, detail)

    @staticmethod
    def method_not_allowed(allow):
        return ApiError(405, f"Allowed methods: {', '.join(allow)}.", [("allow", ", ".join(allow))])

    @staticmethod
    def too_many_requests(retry_after_secs):
        return ApiError(
            429,
            f"Rate limit exceeded; retry in {retry_after_secs} s.",
            [("retry-after", str(retry_after_secs))],
        )

    @staticmethod
    def unavailable(dependency, internal):
        return ApiError(503, "", [("retry-after", "1")], internal=internal, dependency=dependency)

    @staticmethod
    def internal_error(internal):
        return ApiError(500, "", internal=internal)

    def public_detail(self, debug):
        if self.status == 503:
            detail = f"{self.dependency} is unavailable; try again shortly."
            return f"{detail} ({self.internal})" if debug else detail
        if self.status == 500:
            if debug:
                return f"Internal error: {self.internal}"
            return "An internal error occurred; it has been logged with the request id."
        return self.detail

    def internal_detail(self):
        """What is worth logging (5xx); None for a client's error."""
        if self.status == 503:
            return f"{self.dependency}: {self.internal}"
        if self.status == 500:
            return self.internal
        return None

    def problem(self, instance, request_id, debug):
        slug, title = KINDS[self.status]
        return {
            "type": PROBLEM_TYPE_BASE + slug,
            "title": title,
            "status": self.status,
            "detail": self.public_detail(debug),
            "instance": instance,
            "request_id": request_id,
        }
