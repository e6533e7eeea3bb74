"""What plank asks of the thing that runs pods: create, look, delete, read logs.

Two executors implement it: kubernetes (the real thing) and local (runs the
containers' commands as processes, for a laptop with no cluster).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from prow.errors import OutsideError, TransientError


class ExecutorError(OutsideError):
    """The executor failed a call. Raised as is, retrying will not help (the
    spec was refused, the cluster is unknown); callers catch this class and
    read `permanent`, since the transient kind is a subclass."""


class ExecutorTransientError(ExecutorError, TransientError):
    """Try again on the next sync: the cluster was unreachable or failed."""


class PodExists(Exception):
    """A pod with the job's name is already there: an earlier attempt made it."""


@dataclass(frozen=True)
class ContainerState:
    name: str
    state: str  # waiting, running or terminated
    exit_code: int | None = None
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class PodStatus:
    exists: bool
    phase: str = ""  # Pending, Running, Succeeded, Failed, Unknown
    start_time: datetime | None = None
    deleting: bool = False
    reason: str = ""
    message: str = ""
    containers: tuple[ContainerState, ...] = field(default_factory=tuple)
    build_id: str = ""
    # When the pod ended, where the executor knows it: the job's completion
    # time, rather than the moment plank happened to look.
    finish_time: datetime | None = None

    @property
    def scheduled(self) -> bool:
        return self.start_time is not None


MISSING = PodStatus(exists=False)


class Collected(list):
    """The (relative name, bytes) files an executor collected from a job's
    $ARTIFACTS, and in `left_out` why any were not (a cap was reached), so
    plank can say so in the job's log rather than drop them silently."""

    def __init__(self, files=()):
        super().__init__(files)
        self.left_out: list[str] = []


@dataclass(frozen=True)
class PodSummary:
    """A pod seen in a listing: enough for plank and sinker to match it to a
    ProwJob and judge its age."""

    name: str
    namespace: str
    labels: dict
    phase: str
    created: datetime | None
    finished: datetime | None


class Executor(Protocol):
    kind: str

    def create(self, pod: dict) -> None:
        """Create the pod; raise PodExists if one of that name exists."""

    def status(self, namespace: str, name: str) -> PodStatus: ...

    def delete(self, namespace: str, name: str) -> None:
        """Delete the pod; a pod already gone is not an error."""

    def logs(self, namespace: str, name: str, container: str, limit_bytes: int) -> str:
        """The container's log, at most limit_bytes of it."""

    def list_pods(self, namespace: str, selector: str) -> list[PodSummary]: ...
