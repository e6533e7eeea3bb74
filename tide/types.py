"""What Tide reads from GitHub: pull requests with everything a merge
decision needs, branch tips and blocker issues, as plain data.

One GraphQL document per sync fills these (tide.search); the rest of Tide
works on them without asking GitHub again, so deciding is cheap and
testable without a server.
"""

from dataclasses import dataclass, field

# GitHub's mergeable states (GraphQL MergeableState).
MERGEABLE = "MERGEABLE"
CONFLICTING = "CONFLICTING"
UNKNOWN = "UNKNOWN"

OPEN_STATE = "OPEN"

# Context states, lower-cased as the REST API writes them. Check runs are
# folded into these (a neutral or skipped run counts as success).
SUCCESS = "success"
PENDING = "pending"
FAILURE = "failure"
ERROR = "error"


@dataclass(frozen=True)
class Context:
    """A status context or a check run on a pull request's head commit."""

    name: str
    state: str
    description: str = ""


@dataclass(frozen=True)
class TidePull:
    org: str
    repo: str
    number: int
    author: str
    title: str
    head_ref: str
    head_sha: str
    base_ref: str
    # The base branch's tip when this pull request was read.
    base_sha: str
    mergeable: str = MERGEABLE
    # GitHub's mergeStateStatus (CLEAN, BLOCKED, BEHIND, DIRTY, ...).
    merge_state_status: str = ""
    can_be_rebased: bool = True
    labels: tuple[str, ...] = ()
    milestone: str = ""
    # APPROVED, CHANGES_REQUESTED, REVIEW_REQUIRED or "" (none required).
    review_decision: str = ""
    # OPEN, CLOSED or MERGED.
    state: str = "OPEN"
    draft: bool = False
    body: str = ""
    updated_at: str = ""
    contexts: tuple[Context, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.org}/{self.repo}#{self.number}"

    @property
    def pool_key(self) -> tuple[str, str, str]:
        return (self.org, self.repo, self.base_ref)

    def has_label(self, name: str) -> bool:
        wanted = name.lower()
        return any(label.lower() == wanted for label in self.labels)


@dataclass(frozen=True)
class BranchTip:
    """A branch's head now, and the status contexts branch protection
    requires on it (None when the branch is not protected or GitHub would
    not say)."""

    org: str
    repo: str
    branch: str
    sha: str
    protected_contexts: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Blocker:
    """An open issue carrying the blocker label."""

    org: str
    repo: str
    number: int
    title: str
    url: str
    # Branches named by `branch:<name>` in the title; empty blocks all.
    branches: tuple[str, ...] = ()


@dataclass
class SearchResult:
    pulls: list[TidePull] = field(default_factory=list)
    tips: dict[tuple[str, str, str], BranchTip] = field(default_factory=dict)
    blockers: list[Blocker] = field(default_factory=list)
    # GraphQL requests made, and the rate-limit points GitHub said they cost.
    requests: int = 0
    cost: int = 0
