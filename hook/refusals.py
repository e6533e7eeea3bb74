"""Refused webhooks, counted by reason for the health page.

A refused webhook is never stored (its body is unsigned, or unreadable), so
the only trace would be a log line; counting them in the shared cache lets
the person wiring up a repository see at a glance that GitHub's deliveries
arrive but are turned away, and why. Only the reason is kept.
"""

import logging

from django.core.exceptions import DisallowedHost
from django.http import HttpResponse

from prow import counters

logger = logging.getLogger(__name__)

NO_SECRET = "no-secret"
BAD_SIGNATURE = "bad-signature"
CONTENT_TYPE = "content-type"
HOST_NOT_ALLOWED = "host-not-allowed"

REASONS = {
    NO_SECRET: "no webhook secret is configured (PROW_HMAC_SECRET_FILE)",
    BAD_SIGNATURE: "signature missing or not made with the configured secret",
    CONTENT_TYPE: "content type is not application/json",
    HOST_NOT_ALLOWED: "Host header not in DJANGO_ALLOWED_HOSTS",
}


def _key(reason: str) -> str:
    return f"hook:refused:{reason}"


def record(reason: str) -> None:
    """Count one refused webhook."""
    if reason not in REASONS:
        raise ValueError(f"unknown refusal reason {reason!r}")
    counters.count(_key(reason))


def counts() -> dict[str, int]:
    """Refused webhooks by reason, every reason listed (0 when none)."""
    values = counters.read([_key(reason) for reason in REASONS])
    return {reason: values[_key(reason)] for reason in REASONS}


def reset() -> None:
    counters.reset([_key(reason) for reason in REASONS])


class DisallowedHostHint:
    """Answers a request whose Host is not allowed with the setting to
    change. Django's own answer is a bare 400 whose reason is only in the
    log, which is what a tunnelled GitHub `ping` meets first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            request.get_host()
        except DisallowedHost:
            host = request.META.get("HTTP_HOST", "")[:255]
            logger.warning(
                "request to %s for host %r refused: add the host to "
                "DJANGO_ALLOWED_HOSTS (comma-separated) and restart",
                request.path[:200],
                host,
            )
            if request.path == "/hook":
                record(HOST_NOT_ALLOWED)
            return HttpResponse(
                "400 Bad Request: this server does not answer to the host "
                f"{host!r}; add it to DJANGO_ALLOWED_HOSTS (comma-separated) "
                "and restart\n",
                status=400,
                content_type="text/plain",
            )
        return self.get_response(request)
