"""The one error of the hand-written layer: an answer other than 2xx, with its problem+json."""

from __future__ import annotations

from typing import Any

from spingraph_api.models import Problem
from spingraph_api.types import Response


class ApiError(Exception):
    """A non-2xx answer. `problem` is the parsed problem+json when the body was one."""

    def __init__(self, status: int, problem: Problem | None, headers: Any):
        self.status = status
        self.problem = problem
        self.headers = headers
        detail = f"{problem.title}: {problem.detail}" if problem else "no problem details"
        request_id = f" (request {problem.request_id})" if problem else ""
        super().__init__(f"HTTP {status}: {detail}{request_id}")

    @classmethod
    def of(cls, response: Response[Any]) -> ApiError:
        parsed = response.parsed
        return cls(
            int(response.status_code),
            parsed if isinstance(parsed, Problem) else None,
            response.headers,
        )
