"""What plugins receive: typed events, and the generic comment they imply.

Each webhook kind a plugin may handle has a small frozen dataclass holding
the fields plugins read (typed_event builds it); the raw payload stays on it
for anything rarer. As in the original, any event that carries text a person
wrote (a comment, a review, the description of a new issue or pull request)
also becomes one GenericComment, so a command plugin handles `/meow` the
same wherever it was written.
"""

from dataclasses import dataclass, field, replace
from typing import Any

from hook import commands
from prow.github.types import Comment, Issue, PullRequest, Review, login_of

GENERIC_COMMENT = "generic_comment"

# Source event -> {its action: the generic comment's action}
_GENERIC_ACTIONS = {
    "issue_comment": {"created": "created", "edited": "edited", "deleted": "deleted"},
    "pull_request_review": {
        "submitted": "created",
        "edited": "edited",
        "dismissed": "deleted",
    },
    "pull_request_review_comment": {
        "created": "created",
        "edited": "edited",
        "deleted": "deleted",
    },
    "pull_request": {"opened": "created", "edited": "edited"},
    "issues": {"opened": "created", "edited": "edited"},
}


@dataclass(frozen=True)
class Event:
    """A webhook as delivered: its kind, action, payload and where it is.
    Kinds no plugin may handle are delivered as this (external plugins get
    every kind)."""

    kind: str
    guid: str
    payload: dict[str, Any]

    @property
    def action(self) -> str:
        return str(self.payload.get("action") or "")

    @property
    def org(self) -> str:
        return repo_of(self.payload)[0]

    @property
    def repo(self) -> str:
        return repo_of(self.payload)[1]

    @property
    def sender(self) -> str:
        return login_of(self.payload.get("sender"))


def _object(payload: dict, key: str) -> dict:
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


def _is_pr(issue: dict) -> bool:
    # GitHub marks an issue that is a pull request with a "pull_request"
    # object; a null one (as Go's decoding reads it) marks none.
    return isinstance(issue.get("pull_request"), dict)


def _issue(event: Event) -> Issue:
    raw = _object(event.payload, "issue")
    issue = Issue.from_payload(event.org, event.repo, {"number": 0, **raw})
    return replace(issue, is_pr=_is_pr(raw))


def _pull(event: Event) -> PullRequest:
    raw = _object(event.payload, "pull_request")
    return PullRequest.from_payload(event.org, event.repo, {"number": 0, **raw})


@dataclass(frozen=True)
class PullRequestEvent(Event):
    """pull_request: opened, synchronize, labeled, closed..."""

    @property
    def pull(self) -> PullRequest:
        # A fresh copy each time: callers may keep its labels current.
        return _pull(self)

    @property
    def number(self) -> int:
        return int(_object(self.payload, "pull_request").get("number") or 0)

    @property
    def label(self) -> str:
        """The label added or removed (labeled / unlabeled)."""
        return str(_object(self.payload, "label").get("name") or "")

    @property
    def changes(self) -> dict[str, Any]:
        """What an `edited` changed (title, body, base)."""
        return _object(self.payload, "changes")


@dataclass(frozen=True)
class IssueEvent(Event):
    """issues: opened, labeled, closed... (on pull requests too)."""

    @property
    def issue(self) -> Issue:
        return _issue(self)

    @property
    def label(self) -> str:
        return str(_object(self.payload, "label").get("name") or "")


@dataclass(frozen=True)
class IssueCommentEvent(Event):
    @property
    def issue(self) -> Issue:
        return _issue(self)

    @property
    def comment(self) -> Comment:
        return Comment.from_payload({"id": 0, **_object(self.payload, "comment")})


@dataclass(frozen=True)
class ReviewEvent(Event):
    """pull_request_review: submitted, edited, dismissed."""

    @property
    def pull(self) -> PullRequest:
        return _pull(self)

    @property
    def review(self) -> Review:
        return Review.from_payload({"id": 0, **_object(self.payload, "review")})


@dataclass(frozen=True)
class ReviewCommentEvent(Event):
    @property
    def pull(self) -> PullRequest:
        return _pull(self)

    @property
    def comment(self) -> Comment:
        return Comment.from_payload({"id": 0, **_object(self.payload, "comment")})


@dataclass(frozen=True)
class PushEvent(Event):
    @property
    def ref(self) -> str:
        return str(self.payload.get("ref") or "")

    @property
    def after(self) -> str:
        return str(self.payload.get("after") or "")

    @property
    def deleted(self) -> bool:
        """A branch or tag removed: nothing to build."""
        after = self.after
        return bool(self.payload.get("deleted")) or not after or set(after) == {"0"}

    @property
    def is_tag(self) -> bool:
        return self.ref.startswith("refs/tags/")

    @property
    def branch(self) -> str:
        """The branch or tag name without refs/heads/ or refs/tags/."""
        ref = self.ref
        if ref.startswith(("refs/heads/", "refs/tags/")):
            return ref.split("/", 2)[2]
        return ref

    @property
    def compare(self) -> str:
        return str(self.payload.get("compare") or "")

    @property
    def changed_files(self) -> list[str]:
        files: set[str] = set()
        for commit in self.payload.get("commits") or []:
            for kind in ("added", "removed", "modified"):
                files.update(commit.get(kind) or [])
        return sorted(files)


@dataclass(frozen=True)
class StatusEvent(Event):
    @property
    def sha(self) -> str:
        return str(self.payload.get("sha") or "")

    @property
    def context(self) -> str:
        return str(self.payload.get("context") or "")

    @property
    def state(self) -> str:
        return str(self.payload.get("state") or "")

    @property
    def description(self) -> str:
        return str(self.payload.get("description") or "")

    @property
    def target_url(self) -> str:
        return str(self.payload.get("target_url") or "")


def _pull_numbers(item: dict) -> list[int]:
    return [int(p["number"]) for p in item.get("pull_requests") or [] if "number" in p]


@dataclass(frozen=True)
class CheckRunEvent(Event):
    @property
    def check_run(self) -> dict[str, Any]:
        return _object(self.payload, "check_run")

    @property
    def name(self) -> str:
        return str(self.check_run.get("name") or "")

    @property
    def head_sha(self) -> str:
        return str(self.check_run.get("head_sha") or "")

    @property
    def conclusion(self) -> str:
        return str(self.check_run.get("conclusion") or "")

    @property
    def pull_numbers(self) -> list[int]:
        return _pull_numbers(self.check_run)


@dataclass(frozen=True)
class CheckSuiteEvent(Event):
    @property
    def check_suite(self) -> dict[str, Any]:
        return _object(self.payload, "check_suite")

    @property
    def head_sha(self) -> str:
        return str(self.check_suite.get("head_sha") or "")

    @property
    def conclusion(self) -> str:
        return str(self.check_suite.get("conclusion") or "")

    @property
    def pull_numbers(self) -> list[int]:
        return _pull_numbers(self.check_suite)


# The kinds a plugin may register a handler for, and what each receives.
EVENT_TYPES: dict[str, type[Event]] = {
    "pull_request": PullRequestEvent,
    "issues": IssueEvent,
    "issue_comment": IssueCommentEvent,
    "pull_request_review": ReviewEvent,
    "pull_request_review_comment": ReviewCommentEvent,
    "push": PushEvent,
    "status": StatusEvent,
    "check_run": CheckRunEvent,
    "check_suite": CheckSuiteEvent,
}
HANDLED_KINDS = frozenset({*EVENT_TYPES, GENERIC_COMMENT})


def typed_event(kind: str, guid: str, payload: dict[str, Any]) -> Event:
    return EVENT_TYPES.get(kind, Event)(kind, guid, payload)


@dataclass(frozen=True)
class GenericComment:
    action: str  # created, edited or deleted
    body: str
    user: str
    is_pr: bool
    number: int
    org: str
    repo: str
    html_url: str
    guid: str
    issue_author: str = ""
    issue_state: str = "open"
    issue_title: str = ""
    issue_body: str = ""
    issue_html_url: str = ""
    assignees: tuple[str, ...] = field(default_factory=tuple)
    labels: tuple[str, ...] = field(default_factory=tuple)
    comment_id: int | None = None
    # Review comments take their reactions at another address.
    review_comment: bool = False
    source: str = ""  # the webhook kind it came from

    @property
    def command_text(self) -> str:
        """The body as commands are looked for in it: without fenced code
        blocks (pasted logs and examples) and HTML comments (template
        instructions)."""
        return commands.command_text(self.body)


def repo_of(payload: dict[str, Any]) -> tuple[str, str]:
    """(org, repo) of a payload; ("org", "") for org-level events. The one
    reading of where an event happened: the webhook secret is chosen by it,
    so whatever acts on the event must use it too, never another field of
    the payload (a push's repository.owner.name, say)."""
    repository = payload.get("repository")
    if isinstance(repository, dict):
        full = repository.get("full_name") or ""
        if "/" in full:
            org, _, repo = full.partition("/")
            return org, repo
        owner = login_of(repository.get("owner"))
        if owner and repository.get("name"):
            return owner, str(repository["name"])
    organization = payload.get("organization")
    if isinstance(organization, dict) and organization.get("login"):
        return str(organization["login"]), ""
    return "", ""


def generic_comment(event: Event) -> GenericComment | None:
    actions = _GENERIC_ACTIONS.get(event.kind, {})
    action = actions.get(event.action)
    if action is None:
        return None
    p = event.payload
    org, repo = event.org, event.repo
    if event.kind in ("issue_comment", "issues"):
        issue = p.get("issue") or {}
        is_pr = _is_pr(issue)
    else:
        issue = p.get("pull_request") or {}
        is_pr = True
    common = {
        "action": action,
        "is_pr": is_pr,
        "number": int(issue.get("number") or 0),
        "org": org,
        "repo": repo,
        "guid": event.guid,
        "issue_author": login_of(issue.get("user")),
        "issue_state": str(issue.get("state") or "open"),
        "issue_title": str(issue.get("title") or ""),
        "issue_body": str(issue.get("body") or ""),
        "issue_html_url": str(issue.get("html_url") or ""),
        "assignees": tuple(login_of(a) for a in issue.get("assignees") or []),
        "labels": tuple(
            label["name"]
            for label in issue.get("labels") or []
            if isinstance(label, dict) and label.get("name")
        ),
        "source": event.kind,
    }
    if event.kind in ("issue_comment", "pull_request_review_comment"):
        comment = p.get("comment") or {}
        return GenericComment(
            body=str(comment.get("body") or ""),
            user=login_of(comment.get("user")),
            html_url=str(comment.get("html_url") or ""),
            comment_id=comment.get("id"),
            review_comment=event.kind == "pull_request_review_comment",
            **common,
        )
    if event.kind == "pull_request_review":
        review = p.get("review") or {}
        return GenericComment(
            body=str(review.get("body") or ""),
            user=login_of(review.get("user")),
            html_url=str(review.get("html_url") or ""),
            **common,
        )
    # A new or edited issue / pull request: its description is the text.
    return GenericComment(
        body=common["issue_body"],
        user=common["issue_author"],
        html_url=common["issue_html_url"],
        **common,
    )
