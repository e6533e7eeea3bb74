"""The two kinds of failure a caller can act on.

Anything that talks to the outside world (GitHub, a cluster, an external
plugin, an image service) fails with a subclass of one of these, so the one
task decorator (prow.tasks.prow_task) and the webhook runner can tell
"give up" from "try again later" without knowing who failed.
"""


class OutsideError(Exception):
    """Another system refused or failed a call, and trying again will not
    help (a 404, a refused spec, a bad answer)."""

    permanent = True
    retry_after: float | None = None


class TransientError(OutsideError):
    """Trying again later may work (a 5xx, a timeout, a rate limit).
    retry_after, when set, is how many seconds the other side asked us to
    wait; callers that retry honour it."""

    permanent = False

    def __init__(self, message: str = "", *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after
