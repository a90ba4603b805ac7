"""errors.py against crates/guest/src/error.rs: the cases of that module's unit tests for the kinds
the reports component answers with (it has no 400, 409, 412, 413, 415, 422 or 428), then each
kind's slug, title, detail and headers as `ApiError::kind`, `detail` and `headers` write them."""

import unittest

from errors import PROBLEM_TYPE_BASE, ApiError


class ApiErrors(unittest.TestCase):
    def test_every_variant_maps_to_its_status(self):
        cases = [
            (ApiError.unauthorized(), 401),
            (ApiError.forbidden("x"), 403),
            (ApiError.not_found("x"), 404),
            (ApiError.method_not_allowed(["GET"]), 405),
            (ApiError.too_many_requests(3), 429),
            (ApiError.unavailable("Postgres", "refused"), 503),
            (ApiError.internal_error("boom"), 500),
        ]
        for err, status in cases:
            with self.subTest(err=err):
                self.assertEqual(err.status, status)
                self.assertEqual(err.problem("/x", "rid", False)["status"], status)

    def test_internal_detail_is_hidden_unless_debug(self):
        err = ApiError.internal_error("SELECT secret FROM t")
        self.assertNotIn("SELECT", err.public_detail(False))
        self.assertIn("SELECT", err.public_detail(True))
        err = ApiError.unavailable("Postgres", "connection refused at 10.0.0.1")
        self.assertNotIn("10.0.0.1", err.public_detail(False))
        self.assertIn("Postgres", err.public_detail(False))
        self.assertIn("10.0.0.1", err.public_detail(True))

    def test_problem_body_has_rfc9457_fields_and_field_errors(self):
        # Rust's case is a 422 with field errors, which this component never answers: its
        # fields on a 404, and (as there) no `errors` without field errors.
        body = ApiError.not_found("gone").problem("/v1/reports/types", "abc", False)
        self.assertEqual(
            body,
            {
                "type": "https://spingraph.dev/problems/not-found",
                "title": "Not Found",
                "status": 404,
                "detail": "gone",
                "instance": "/v1/reports/types",
                "request_id": "abc",
            },
        )
        self.assertNotIn("errors", body)

    def test_status_specific_headers_are_present(self):
        self.assertEqual(
            ApiError.method_not_allowed(["GET", "POST"]).headers, [("allow", "GET, POST")]
        )
        self.assertEqual(ApiError.too_many_requests(7).headers, [("retry-after", "7")])

    # The rows of error.rs's `kind`, `detail` and `headers` that no Rust test spells out.

    def test_every_kind_has_the_slug_and_title_of_the_rust_variant(self):
        cases = [
            (ApiError.unauthorized(), "unauthorized", "Unauthorized"),
            (ApiError.forbidden("x"), "forbidden", "Forbidden"),
            (ApiError.not_found("x"), "not-found", "Not Found"),
            (ApiError.method_not_allowed(["GET"]), "method-not-allowed", "Method Not Allowed"),
            (ApiError.too_many_requests(3), "rate-limited", "Too Many Requests"),
            (ApiError.unavailable("Postgres", "refused"), "unavailable", "Service Unavailable"),
            (ApiError.internal_error("boom"), "internal", "Internal Server Error"),
        ]
        for err, slug, title in cases:
            with self.subTest(err=err):
                body = err.problem("/x", "rid", False)
                self.assertEqual(body["type"], PROBLEM_TYPE_BASE + slug)
                self.assertEqual(body["title"], title)

    def test_details_are_worded_as_the_rust_components_word_them(self):
        cases = [
            # crates/authn-client's UNAUTHENTICATED, the detail of every 401.
            (ApiError.unauthorized(), False, "Missing or invalid credentials."),
            (ApiError.forbidden("No."), False, "No."),
            (ApiError.method_not_allowed(["GET", "POST"]), False, "Allowed methods: GET, POST."),
            (ApiError.too_many_requests(7), False, "Rate limit exceeded; retry in 7 s."),
            (
                ApiError.unavailable("Redis", "refused"),
                False,
                "Redis is unavailable; try again shortly.",
            ),
            (
                ApiError.unavailable("Redis", "refused"),
                True,
                "Redis is unavailable; try again shortly. (refused)",
            ),
            (
                ApiError.internal_error("boom"),
                False,
                "An internal error occurred; it has been logged with the request id.",
            ),
            (ApiError.internal_error("boom"), True, "Internal error: boom"),
        ]
        for err, debug, detail in cases:
            with self.subTest(err=err, debug=debug):
                self.assertEqual(err.public_detail(debug), detail)
                self.assertEqual(err.problem("/x", "rid", debug)["detail"], detail)

    def test_only_server_errors_have_an_internal_detail_to_log(self):
        self.assertEqual(
            ApiError.unavailable("Redis", "refused").internal_detail(), "Redis: refused"
        )
        self.assertEqual(ApiError.internal_error("boom").internal_detail(), "boom")
        for err in [
            ApiError.unauthorized(),
            ApiError.forbidden("x"),
            ApiError.too_many_requests(1),
        ]:
            with self.subTest(err=err):
                self.assertIsNone(err.internal_detail())

    def test_unauthorized_and_unavailable_carry_their_headers_and_the_rest_none(self):
        self.assertEqual(ApiError.unauthorized().headers, [("www-authenticate", "Bearer")])
        self.assertEqual(ApiError.unavailable("Redis", "x").headers, [("retry-after", "1")])
        for err in [
            ApiError.forbidden("x"),
            ApiError.not_found("x"),
            ApiError.internal_error("x"),
        ]:
            with self.subTest(err=err):
                self.assertEqual(err.headers, [])


if __name__ == "__main__":
    unittest.main()
