"""The hand-written layer over the generated `spingraph_api` package: sign-in and token refresh,
cursor iteration, Idempotency-Key on retries and waiting out a 429's Retry-After."""

from .errors import ApiError
from .retry import RetryEvent, RetryPolicy, RetryTransport
from .spingraph import Spingraph
from .tokens import ApiKeyAuth, BearerAuth, Tokens

__all__ = [
    "ApiError",
    "ApiKeyAuth",
    "BearerAuth",
    "RetryEvent",
    "RetryPolicy",
    "RetryTransport",
    "Spingraph",
    "Tokens",
]
