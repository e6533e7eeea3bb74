"""What the GitHub client returns: small dataclasses, not PyGithub objects.

PyGithub's objects load attributes lazily, so reading one can cost a request
(or fail) far from the call that made it; these hold exactly what was read.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def login_of(user: Any) -> str:
    """The login of a payload's user object; "" for none (a deleted
    account shows as null)."""
    return str(user.get("login") or "") if isinstance(user, dict) else ""


def time_of(value: Any) -> datetime | None:
    """A GitHub timestamp ("2024-05-01T12:00:00Z"); None when absent."""
    if not value:
        return None
    return datetime.fromisoformat(str(value))


def _logins(users: Any) -> tuple[str, ...]:
    return tuple(login_of(user) for user in users or [])


def _label_names(labels: Any) -> tuple[str, ...]:
    # Webhook payloads and the REST API give label objects; a few older
    # payloads give bare names.
    return tuple(
        label["name"] if isinstance(label, dict) else str(label)
        for label in labels or []
    )


def _milestone_title(milestone: Any) -> str:
    return str(milestone.get("title") or "") if isinstance(milestone, dict) else ""


@dataclass
class PullRequest:
    """A pull request as plugins, the jobs service and Tide read it. labels
    is a list the caller may keep current as it adds and removes labels."""

    org: str
    repo: str
    number: int
    author: str
    head_sha: str
    head_ref: str
    base_ref: str
    title: str
    labels: list[str]
    draft: bool
    state: str
    mergeable: bool | None
    html_url: str = ""
    body: str = ""
    base_sha: str = ""
    merged: bool = False
    # The commit a merge made on the base branch (set once merged).
    merge_commit_sha: str = ""
    assignees: list[str] = field(default_factory=list)
    requested_reviewers: list[str] = field(default_factory=list)
    milestone: str = ""

    @classmethod
    def from_payload(cls, org: str, repo: str, pr: dict) -> "PullRequest":
        """From a webhook's (or the REST API's) pull request object."""
        head = pr.get("head") or {}
        base = pr.get("base") or {}
        milestone = pr.get("milestone") or {}
        return cls(
            org=org,
            repo=repo,
            number=int(pr["number"]),
            author=login_of(pr.get("user")),
            head_sha=head.get("sha", ""),
            head_ref=head.get("ref", ""),
            base_ref=base.get("ref", ""),
            base_sha=base.get("sha", ""),
            title=pr.get("title") or "",
            body=pr.get("body") or "",
            labels=[label["name"] for label in pr.get("labels") or []],
            draft=bool(pr.get("draft")),
            state=pr.get("state") or "open",
            # A listing leaves out "merged" but has "merged_at".
            merged=bool(pr.get("merged") or pr.get("merged_at")),
            merge_commit_sha=pr.get("merge_commit_sha") or "",
            mergeable=pr.get("mergeable"),
            html_url=pr.get("html_url") or "",
            assignees=[login_of(a) for a in pr.get("assignees") or []],
            requested_reviewers=[
                login_of(r) for r in pr.get("requested_reviewers") or []
            ],
            milestone=str(milestone.get("title") or "")
            if isinstance(milestone, dict)
            else "",
        )


@dataclass(frozen=True)
class Issue:
    """An issue, or a pull request seen through the issues API (is_pr)."""

    org: str
    repo: str
    number: int
    author: str
    title: str
    body: str
    state: str
    labels: tuple[str, ...]
    assignees: tuple[str, ...]
    milestone: str
    is_pr: bool
    html_url: str
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_payload(cls, org: str, repo: str, issue: dict) -> "Issue":
        return cls(
            org=org,
            repo=repo,
            number=int(issue["number"]),
            author=login_of(issue.get("user")),
            title=issue.get("title") or "",
            body=issue.get("body") or "",
            state=issue.get("state") or "open",
            labels=_label_names(issue.get("labels")),
            assignees=_logins(issue.get("assignees")),
            milestone=_milestone_title(issue.get("milestone")),
            is_pr="pull_request" in issue,
            html_url=issue.get("html_url") or "",
            created_at=time_of(issue.get("created_at")),
            updated_at=time_of(issue.get("updated_at")),
        )


@dataclass(frozen=True)
class Comment:
    """A comment on an issue or pull request (or, in a review comment's
    webhook, on a line of its diff). user is the author's login."""

    id: int
    user: str
    body: str
    html_url: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_payload(cls, comment: dict) -> "Comment":
        return cls(
            id=int(comment["id"]),
            user=login_of(comment.get("user")),
            body=comment.get("body") or "",
            html_url=comment.get("html_url") or "",
            created_at=time_of(comment.get("created_at")),
            updated_at=time_of(comment.get("updated_at")),
        )


@dataclass(frozen=True)
class Review:
    """A pull request review. state is GitHub's: APPROVED,
    CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING."""

    id: int
    user: str
    state: str
    body: str = ""
    commit_id: str = ""
    submitted_at: datetime | None = None
    html_url: str = ""
    # GitHub's account type of the reviewer: "User", or "Bot" for an app.
    user_type: str = ""

    @classmethod
    def from_payload(cls, review: dict) -> "Review":
        return cls(
            id=int(review["id"]),
            user=login_of(review.get("user")),
            # Webhooks spell the state in lower case, the REST API in upper.
            state=str(review.get("state") or "").upper(),
            body=review.get("body") or "",
            commit_id=review.get("commit_id") or "",
            submitted_at=time_of(review.get("submitted_at")),
            html_url=review.get("html_url") or "",
            user_type=str((review.get("user") or {}).get("type") or ""),
        )


@dataclass(frozen=True)
class IssueEvent:
    """One event of an issue's timeline: event is GitHub's name for it
    (labeled, unlabeled, closed...), label the label's name for the label
    events, actor who did it."""

    id: int
    event: str
    actor: str
    label: str = ""
    created_at: datetime | None = None

    @classmethod
    def from_payload(cls, event: dict) -> "IssueEvent":
        label = event.get("label")
        return cls(
            id=int(event.get("id") or 0),
            event=str(event.get("event") or ""),
            actor=login_of(event.get("actor")),
            label=str(label.get("name") or "") if isinstance(label, dict) else "",
            created_at=time_of(event.get("created_at")),
        )


@dataclass(frozen=True)
class Status:
    context: str
    state: str
    description: str = ""
    target_url: str = ""

    @classmethod
    def from_payload(cls, status: dict) -> "Status":
        return cls(
            context=status.get("context") or "",
            state=status.get("state") or "",
            description=status.get("description") or "",
            target_url=status.get("target_url") or "",
        )


@dataclass(frozen=True)
class CombinedStatus:
    """The latest status of each context on a commit; state is GitHub's
    summary of them (failure, pending or success)."""

    sha: str
    state: str
    statuses: tuple[Status, ...]

    def get(self, context: str) -> Status | None:
        return next((s for s in self.statuses if s.context == context), None)


@dataclass(frozen=True)
class Milestone:
    number: int
    title: str
    state: str

    @classmethod
    def from_payload(cls, milestone: dict) -> "Milestone":
        return cls(
            number=int(milestone["number"]),
            title=milestone.get("title") or "",
            state=milestone.get("state") or "open",
        )


@dataclass(frozen=True)
class ChangedFile:
    """One file of a pull request's diff. previous_filename is set for a
    rename; blob_url is the file's page on GitHub at the head commit."""

    filename: str
    status: str
    additions: int
    deletions: int
    changes: int
    previous_filename: str = ""
    blob_url: str = ""
