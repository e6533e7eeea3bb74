"""External plugins: the services plugins.yaml lists under external_plugins.

Each gets the webhooks it asked for as GitHub sent them, signed again with
the repository's secret so it can check them the way it would check GitHub.
A plugin that is down, slow or busy (a 5xx, a 429) fails the delivery for a
retry; one that answers another 4xx refused it for good.
"""

import hashlib
import hmac
import json

from django.conf import settings

from hook import hmac_secrets
from prow import outside
from prow.errors import OutsideError

# The whole call, answer included; external plugins are expected to queue
# the work and answer at once.
FORWARD_TIMEOUT = 10.0


def forward_to(external, *, timeout: float = FORWARD_TIMEOUT):
    """A handler(ctx, event) that passes the webhook on to external."""

    def forward(ctx, event) -> None:
        body = json.dumps(event.payload).encode()
        try:
            secrets = hmac_secrets.secrets_from(settings.PROW_HMAC_SECRET_FILE)
            tokens = secrets.candidates(event.org, event.repo)
        except hmac_secrets.SecretsUnavailable as exc:
            raise OutsideError(f"cannot sign for {external.name}: {exc}") from exc
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event.kind,
            "X-GitHub-Delivery": event.guid,
            "User-Agent": "Prow-Hook",
        }
        if tokens:
            digest = hmac.new(tokens[0], body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={digest}"
            legacy = hmac.new(tokens[0], body, hashlib.sha1).hexdigest()
            headers["X-Hub-Signature"] = f"sha1={legacy}"
        # Only whether the plugin took the webhook matters, not what it said.
        outside.post(
            external.effective_endpoint,
            data=body,
            headers=headers,
            timeout=timeout,
            max_bytes=0,
        )

    return forward
