"""GitHub's GraphQL API: where it is, and what its errors mean.

GraphQL answers most failures with HTTP 200 and an `errors` list; each
error's `type` tells a failure worth retrying (a rate limit, GitHub timing
out) from one that will fail again (a field GitHub does not know, a node not
found). GitHubClient.graphql sends the request through the same credential
and transport as REST calls and raises by these rules.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

# Error types that may pass on their own.
TRANSIENT_TYPES = frozenset(
    {"RATE_LIMITED", "INTERNAL", "SERVICE_UNAVAILABLE", "TIMEOUT"}
)
# Error types GitHub means as an HTTP status would.
STATUS_OF_TYPE = {"NOT_FOUND": 404, "FORBIDDEN": 403, "UNPROCESSABLE": 422}
# GitHub names no wait for a GraphQL rate limit; the REST side's default.
RATE_LIMIT_WAIT = 60.0
# GitHub's words when a query ran out of time, which carry no type.
_TIMEOUT_WORDS = ("timeout", "something went wrong while executing your query")


def endpoint_for(rest_endpoint: str) -> str:
    """The GraphQL endpoint beside a REST endpoint: `<rest>/graphql`, or
    `https://HOST/api/graphql` for GitHub Enterprise's `https://HOST/api/v3`."""
    rest = rest_endpoint.rstrip("/")
    parts = urlsplit(rest)
    if parts.path.endswith("/api/v3"):
        path = parts.path[: -len("/v3")] + "/graphql"
        return urlunsplit(parts._replace(path=path))
    return f"{rest}/graphql"


@dataclass(frozen=True)
class Failure:
    message: str
    transient: bool
    status: int | None = None
    retry_after: float | None = None


def failure_of(errors: list) -> Failure:
    """What a GraphQL `errors` list means for the caller."""
    messages, types = [], set()
    for error in errors:
        if isinstance(error, dict):
            messages.append(str(error.get("message") or error))
            types.add(str(error.get("type") or ""))
        else:
            messages.append(str(error))
    message = "; ".join(messages) or "GraphQL error"
    if "RATE_LIMITED" in types:
        return Failure(message, True, 403, RATE_LIMIT_WAIT)
    lowered = message.lower()
    if types & TRANSIENT_TYPES or any(word in lowered for word in _TIMEOUT_WORDS):
        return Failure(message, True)
    status = next((STATUS_OF_TYPE[t] for t in types if t in STATUS_OF_TYPE), None)
    return Failure(message, False, status)
