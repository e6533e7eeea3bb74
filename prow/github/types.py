"""What the GitHub client returns: small dataclasses, not PyGithub objects.

PyGithub's objects load attributes lazily, so reading one can cost a request
(or fail) far from the call that made it; these hold exactly what was read.
"""

from dataclasses import dataclass, field
from typing import Any


def login_of(user: Any) -> str:
    """The login of a payload's user object; "" for none."""
    return str(user.get("login") or "") if isinstance(user, dict) else ""


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
            merged=bool(pr.get("merged")),
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
