"""What plugins receive: the webhook, plus the generic comment it implies.

As in the original, any event that carries text a person wrote (a comment, a
review, the description of a new issue or pull request) also becomes one
GenericComment, so a command plugin handles `/meow` the same wherever it was
written.
"""

from dataclasses import dataclass, field
from typing import Any

from hook import commands

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
    """A webhook as delivered: its kind, action, payload and where it is."""

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
    comment_id: int | None = None
    source: str = ""  # the webhook kind it came from

    @property
    def command_text(self) -> str:
        """The body as commands are looked for in it: without fenced code
        blocks (pasted logs and examples) and HTML comments (template
        instructions)."""
        return commands.command_text(self.body)


def login_of(user: Any) -> str:
    return str(user.get("login") or "") if isinstance(user, dict) else ""


def repo_of(payload: dict[str, Any]) -> tuple[str, str]:
    """(org, repo) of a payload; ("org", "") for org-level events."""
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
        # GitHub marks an issue that is a pull request with a "pull_request"
        # object; a null one (as Go's decoding reads it) marks none.
        is_pr = isinstance(issue.get("pull_request"), dict)
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
        "source": event.kind,
    }
    if event.kind in ("issue_comment", "pull_request_review_comment"):
        comment = p.get("comment") or {}
        return GenericComment(
            body=str(comment.get("body") or ""),
            user=login_of(comment.get("user")),
            html_url=str(comment.get("html_url") or ""),
            comment_id=comment.get("id"),
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
