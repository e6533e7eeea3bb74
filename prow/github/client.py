"""The GitHub client every component uses (PyGithub underneath).

Plugins and controllers call these methods rather than PyGithub directly, so
dry mode, error classification, caching and the bot's identity live in one
place, and the test double in tests/fakes/github.py plugs in by URL alone.
"""

import base64
import logging
import re
import threading
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.cache import cache
from github import Auth, Github, GithubException, GithubIntegration
from github.GithubException import RateLimitExceededException

from prow.errors import OutsideError, TransientError
from prow.github import graphql, transport
from prow.github.auth import (
    FileToken,
    InstallationAuth,
    TokenFileMissing,
    app_auth,
)
from prow.github.types import (
    ChangedFile,
    CombinedStatus,
    Comment,
    Issue,
    IssueEvent,
    Milestone,
    PullRequest,
    Review,
    Status,
    login_of,
)

logger = logging.getLogger(__name__)

BOT_LOGIN_SECONDS = 3600
MEMBERSHIP_SECONDS = 60
TIMEOUT_SECONDS = 15
PER_PAGE = 100
# GitHub refuses longer status descriptions.
STATUS_DESCRIPTION_LIMIT = 140
# The answers of /collaborators/{login}/permission's role_name that are not a
# custom role; a custom role falls back to its base permission.
ROLES = ("admin", "maintain", "write", "triage", "read", "none")
_LEGACY_ROLES = {"pull": "read", "push": "write"}
_NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')
# What can go wrong talking to GitHub; anything else is a bug and propagates.
_FAILURES = (
    GithubException,
    transport.RateLimited,
    requests.RequestException,
    TokenFileMissing,
)


class GitHubError(OutsideError):
    """A GitHub call failed and trying again will not help (a 404, a 422).
    status is GitHub's HTTP status, when it answered."""

    def __init__(self, message: str, *, status: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.status = status


class GitHubTransientError(GitHubError, TransientError):
    """A GitHub call failed in a way that may pass: a 5xx, a network error,
    a rate limit (retry_after says how long GitHub asked us to wait), a
    credential file briefly missing."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, status=status, retry_after=retry_after)


def _retry_after(exc: GithubException) -> float | None:
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    try:
        return max(float(headers["retry-after"]), 0.0)
    except (KeyError, TypeError, ValueError):
        return None


def _translate(exc: Exception, what: str) -> GitHubError:
    if isinstance(exc, transport.RateLimited):
        return GitHubTransientError(
            f"{what}: {exc}", status=exc.status, retry_after=exc.retry_after
        )
    if isinstance(exc, GithubException):
        message = ""
        if isinstance(exc.data, dict):
            message = exc.data.get("message", "")
        status = exc.status
        text = f"{what}: HTTP {status} {message}".strip()
        permanent = (
            status is not None
            and 400 <= status < 500
            and status != 429
            and not isinstance(exc, RateLimitExceededException)
        )
        if permanent:
            return GitHubError(text, status=status)
        return GitHubTransientError(text, status=status, retry_after=_retry_after(exc))
    if isinstance(exc, TokenFileMissing):
        # The credential may be mounted again; the call itself was fine.
        return GitHubTransientError(f"{what}: {exc}")
    if isinstance(exc, requests.RequestException) and _dry_mode():
        return GitHubTransientError(
            f"{what}: GitHub unreachable at {settings.PROW_GITHUB_ENDPOINT} "
            f"({type(exc).__name__}). Dry mode (no token or App) sends no "
            "writes but still reads from GitHub, so it needs the network"
        )
    return GitHubTransientError(f"{what}: {type(exc).__name__}: {exc}")


def _dry_mode() -> bool:
    return not (settings.PROW_GITHUB_TOKEN_PATH or settings.PROW_GITHUB_APP_ID)


@contextmanager
def _calling(what: str):
    """Turn a failed GitHub call into GitHubError, described by what."""
    try:
        yield
    except GitHubError:
        raise
    except _FAILURES as exc:
        raise _translate(exc, what) from exc


def _is_404(exc: GithubException) -> bool:
    # Removing a label that is not there answers a plain GithubException
    # ("Label does not exist"), not UnknownObjectException: check the status.
    return exc.status == 404


def _message(exc: GithubException) -> str:
    return str(exc.data.get("message", "")) if isinstance(exc.data, dict) else ""


def _next_page(headers: dict) -> str | None:
    for name, value in headers.items():
        if name.lower() == "link":
            found = _NEXT_LINK.search(value)
            return found.group(1) if found else None
    return None


def _repo_of(issue: dict) -> tuple[str, str]:
    """org and repo of a search result, from its repository_url."""
    parts = str(issue.get("repository_url") or "").rstrip("/").split("/")
    return parts[-2], parts[-1]


class GitHubClient:
    def __init__(
        self,
        *,
        base_url: str,
        auth: Auth.Auth | None,
        dry_run: bool,
        identity: str = "",
        app: Auth.AppAuth | None = None,
    ):
        """identity names the credential, so that what depends on who asks
        (the bot's login) is shared by every client and process using it;
        without one it is kept by this client alone. app is the GitHub App
        acting through auth, if any."""
        transport.install()
        self.base_url = base_url
        self.dry_run = dry_run
        self.identity = identity
        self._app = app
        self._bot_login: str | None = None
        self.gh = Github(
            base_url=base_url,
            auth=auth,
            per_page=100,
            timeout=TIMEOUT_SECONDS,
            retry=transport.ROUTED,
            # Our transport handles rate limits; PyGithub's own pacing would
            # sleep a second between every write.
            seconds_between_requests=None,
            seconds_between_writes=None,
            # Writes need no GET of the object first; reads that return an
            # object complete it inside the error handling below.
            lazy=True,
        )

    # Identity --------------------------------------------------------------

    @property
    def bot_login(self) -> str:
        """The bot's own login, asked once and cached (per process, and in
        the shared cache for every process using the same credential)."""
        if self._bot_login is not None:
            return self._bot_login
        if self.dry_run:
            return settings.PROW_GITHUB_BOT_LOGIN or ""
        key = f"github:bot-login:{self.base_url}:{self.identity}"
        login = cache.get(key) if self.identity else None
        if login is None:
            login = self._ask_login()
            if self.identity:
                cache.set(key, login, BOT_LOGIN_SECONDS)
        self._bot_login = login
        return login

    def _ask_login(self) -> str:
        if self._app is None:
            with _calling("GET /user"):
                return self.gh.get_user().login
        # An installation token may not read /user; the App acts as its
        # "<slug>[bot]" user.
        with _calling("GET /app"):
            return f"{_integration(self.base_url, self._app).get_app().slug}[bot]"

    def is_bot(self, login: str) -> bool:
        return bool(login) and login.lower() == self.bot_login.lower()

    # Reads -----------------------------------------------------------------

    def _repo(self, org: str, repo: str):
        return self.gh.get_repo(f"{org}/{repo}")

    def _path(self, org: str, repo: str, *parts: str | int) -> str:
        segments = [quote(str(part), safe="") for part in (org, repo, *parts)]
        return "/repos/" + "/".join(segments)

    def _get(self, path: str, params: dict | None = None) -> Any:
        headers, data = self.gh.requester.requestJsonAndCheck(
            "GET", path, parameters=params
        )
        return data

    def _all(self, path: str, params: dict | None = None, key: str = "") -> list:
        """Every item of a paginated listing, following GitHub's Link
        header. key names the list in an object answer (search)."""
        items: list = []
        url: str | None = path
        query: dict | None = {"per_page": PER_PAGE, **(params or {})}
        while url:
            headers, data = self.gh.requester.requestJsonAndCheck(
                "GET", url, parameters=query
            )
            items += (data.get(key) if key else data) or []
            url = _next_page(headers)
            query = None  # the next page's link carries the query
        return items

    def get_pull(self, org: str, repo: str, number: int) -> PullRequest:
        with _calling(f"GET pull {org}/{repo}#{number}"):
            data = self._get(self._path(org, repo, "pulls", number))
        return PullRequest.from_payload(org, repo, data)

    def get_issue(self, org: str, repo: str, number: int) -> Issue:
        """An issue, or a pull request's issue side (labels, assignees,
        milestone; is_pr tells them apart)."""
        with _calling(f"GET issue {org}/{repo}#{number}"):
            data = self._get(self._path(org, repo, "issues", number))
        return Issue.from_payload(org, repo, data)

    def pull_changes(self, org: str, repo: str, number: int) -> list[ChangedFile]:
        """Every file a pull request changes (all pages). Cached per head SHA
        by callers, since the list only changes with a new push."""
        with _calling(f"GET files of {org}/{repo}#{number}"):
            files = self._all(self._path(org, repo, "pulls", number, "files"))
        return [
            ChangedFile(
                f["filename"],
                f.get("status") or "",
                int(f.get("additions") or 0),
                int(f.get("deletions") or 0),
                int(f.get("changes") or 0),
                f.get("previous_filename") or "",
                f.get("blob_url") or "",
            )
            for f in files
        ]

    def branch_sha(self, org: str, repo: str, branch: str) -> str:
        """The current tip of a branch (a fresh read, not the stale SHA a
        pull request event carries)."""
        with _calling(f"GET ref heads/{branch} of {org}/{repo}"):
            return self._repo(org, repo).get_git_ref(f"heads/{branch}").object.sha

    def commit_tree_sha(self, org: str, repo: str, sha: str) -> str:
        """The SHA of a commit's tree: equal for two commits with the same
        content (a squash or a rebase without conflicts)."""
        with _calling(f"GET commit {sha[:8]} of {org}/{repo}"):
            data = self._get(self._path(org, repo, "commits", sha))
        return str(((data.get("commit") or {}).get("tree") or {}).get("sha") or "")

    def _contents(self, org: str, repo: str, path: str, ref: str):
        """The contents API's answer for path at ref, or None if missing."""
        with _calling(f"GET {path} of {org}/{repo}"):
            kwargs = {"ref": ref} if ref else {}
            try:
                return self._repo(org, repo).get_contents(path, **kwargs)
            except GithubException as exc:
                if _is_404(exc):
                    return None
                raise

    def file_content(self, org: str, repo: str, path: str, ref: str = "") -> str | None:
        """A file's text at ref, or None if it does not exist."""
        content = self._contents(org, repo, path, ref)
        if content is None or isinstance(content, list):
            return None  # missing, or a directory
        return base64.b64decode(content.content or "").decode("utf-8", "replace")

    def directory_files(
        self, org: str, repo: str, path: str, ref: str = ""
    ) -> list[str] | None:
        """Names of the files directly in a directory at ref, or None if
        there is no such directory."""
        content = self._contents(org, repo, path, ref)
        if not isinstance(content, list):
            return None
        return sorted(item.name for item in content if item.type == "file")

    def tree_files(self, org: str, repo: str, ref: str) -> list[str]:
        """Every file path of the repository at ref, in one request (the
        recursive git tree). A tree too large for GitHub to list whole is
        an error rather than a silently partial list."""
        what = f"GET tree {ref[:12]} of {org}/{repo}"
        with _calling(what):
            data = self._get(
                self._path(org, repo, "git", "trees", ref), {"recursive": "1"}
            )
        if data.get("truncated"):
            raise GitHubError(f"{what}: GitHub truncated the listing")
        return sorted(
            str(item["path"])
            for item in data.get("tree") or []
            if item.get("type") == "blob"
        )

    def list_comments(self, org: str, repo: str, number: int) -> list[Comment]:
        """Every comment of an issue or pull request, oldest first."""
        with _calling(f"GET comments of {org}/{repo}#{number}"):
            items = self._all(self._path(org, repo, "issues", number, "comments"))
        return [Comment.from_payload(item) for item in items]

    def list_reviews(self, org: str, repo: str, number: int) -> list[Review]:
        """Every review of a pull request, oldest first (a reviewer's
        current verdict is their latest APPROVED or CHANGES_REQUESTED)."""
        with _calling(f"GET reviews of {org}/{repo}#{number}"):
            items = self._all(self._path(org, repo, "pulls", number, "reviews"))
        return [Review.from_payload(item) for item in items]

    def list_review_comments(self, org: str, repo: str, number: int) -> list[Comment]:
        """Every comment on a line of a pull request's diff, oldest first."""
        with _calling(f"GET review comments of {org}/{repo}#{number}"):
            items = self._all(self._path(org, repo, "pulls", number, "comments"))
        return [Comment.from_payload(item) for item in items]

    def list_issue_events(self, org: str, repo: str, number: int) -> list[IssueEvent]:
        """An issue's or pull request's timeline of events (labeled,
        unlabeled, closed...), oldest first."""
        with _calling(f"GET events of {org}/{repo}#{number}"):
            items = self._all(self._path(org, repo, "issues", number, "events"))
        return [IssueEvent.from_payload(item) for item in items]

    def label_added_by_human(
        self, org: str, repo: str, number: int, label: str
    ) -> bool:
        """Whether the last time label was put on the issue, someone other
        than the bot did it."""
        last = ""
        for event in self.list_issue_events(org, repo, number):
            if event.event == "labeled" and event.label == label:
                last = event.actor
        return bool(last) and not self.is_bot(last)

    def labels(self, org: str, repo: str, number: int) -> list[str]:
        with _calling(f"GET labels of {org}/{repo}#{number}"):
            items = self._all(self._path(org, repo, "issues", number, "labels"))
        return [label["name"] for label in items]

    def repo_labels(self, org: str, repo: str) -> list[str]:
        with _calling(f"GET labels of {org}/{repo}"):
            items = self._all(self._path(org, repo, "labels"))
        return [label["name"] for label in items]

    def list_milestones(self, org: str, repo: str) -> list[Milestone]:
        """Every milestone of a repo, open and closed."""
        with _calling(f"GET milestones of {org}/{repo}"):
            items = self._all(self._path(org, repo, "milestones"), {"state": "all"})
        return [Milestone.from_payload(item) for item in items]

    def combined_status(self, org: str, repo: str, ref: str) -> CombinedStatus:
        """The latest status of every context on ref (all pages: GitHub
        answers 30 contexts a page unless asked for more)."""
        path = self._path(org, repo, "commits", ref, "status")
        with _calling(f"GET status of {org}/{repo}@{ref}"):
            headers, first = self.gh.requester.requestJsonAndCheck(
                "GET", path, parameters={"per_page": PER_PAGE}
            )
            statuses = list(first.get("statuses") or [])
            url = _next_page(headers)
            while url:
                headers, data = self.gh.requester.requestJsonAndCheck("GET", url)
                statuses += data.get("statuses") or []
                url = _next_page(headers)
        return CombinedStatus(
            sha=first.get("sha") or "",
            state=first.get("state") or "",
            statuses=tuple(Status.from_payload(s) for s in statuses),
        )

    def is_org_member(self, org: str, login: str) -> bool:
        return self._cached(
            f"member:{org}:{login}",
            f"GET membership of {login} in {org}",
            lambda: self._presence(f"/orgs/{quote(org)}/members/{quote(login)}"),
        )

    def is_collaborator(self, org: str, repo: str, login: str) -> bool:
        return self._cached(
            f"collaborator:{org}/{repo}:{login}",
            f"GET collaborator {login} of {org}/{repo}",
            lambda: self._presence(self._path(org, repo, "collaborators", login)),
        )

    def list_collaborators(self, org: str, repo: str) -> list[str]:
        """Logins of everyone with access to the repo (directly, through a
        team or as an org owner)."""
        with _calling(f"GET collaborators of {org}/{repo}"):
            items = self._all(self._path(org, repo, "collaborators"))
        return [login_of(item) for item in items]

    def is_team_member(self, org: str, team_slug: str, login: str) -> bool:
        """Whether login is an active member of the team (an invitation not
        yet accepted is not membership)."""

        def ask() -> bool:
            path = "/orgs/{}/teams/{}/memberships/{}".format(
                *(quote(part, safe="") for part in (org, team_slug, login))
            )
            try:
                return self._get(path).get("state") == "active"
            except GithubException as exc:
                if _is_404(exc):
                    return False  # not a member, or no such team
                raise

        return self._cached(
            f"team:{org}/{team_slug}:{login}",
            f"GET membership of {login} in team {org}/{team_slug}",
            ask,
        )

    def is_team_member_by_id(self, team_id: int, login: str) -> bool:
        """is_team_member for a team known by its id (configs that predate
        slugs name teams so)."""

        def ask() -> bool:
            path = f"/teams/{int(team_id)}/memberships/{quote(login, safe='')}"
            try:
                return self._get(path).get("state") == "active"
            except GithubException as exc:
                if _is_404(exc):
                    return False
                raise

        return self._cached(
            f"team-id:{team_id}:{login}",
            f"GET membership of {login} in team {team_id}",
            ask,
        )

    def collaborator_permission(self, org: str, repo: str, login: str) -> str:
        """login's access to the repo, one of ROLES; "none" for someone
        GitHub does not know."""

        def ask() -> str:
            path = self._path(org, repo, "collaborators", login, "permission")
            try:
                data = self._get(path)
            except GithubException as exc:
                if _is_404(exc):
                    return "none"
                raise
            role = data.get("role_name") or ""
            if role in ROLES:
                return role
            # A custom role, or an older GitHub Enterprise without role_name.
            legacy = data.get("permission") or "none"
            legacy = _LEGACY_ROLES.get(legacy, legacy)
            return legacy if legacy in ROLES else "none"

        return self._cached(
            f"permission:{org}/{repo}:{login}",
            f"GET permission of {login} in {org}/{repo}",
            ask,
        )

    def _presence(self, path: str) -> bool:
        """GitHub's yes/no endpoints: 204 yes, 404 no. Anything else is an
        error, never a "no": an outage must not make trusted people
        untrusted. A 302 means the bot may only see public members."""
        status, headers, _ = self.gh.requester.requestJson("GET", path)
        if status == 302 and headers.get("location"):
            public = path.replace("/members/", "/public_members/", 1)
            status, headers, _ = self.gh.requester.requestJson("GET", public)
        if status == 204:
            return True
        if status == 404:
            return False
        raise GithubException(
            status, {"message": f"unexpected answer {status}"}, headers
        )

    def team_members(self, org: str, slug: str) -> list[str]:
        with _calling(f"GET members of team {org}/{slug}"):
            path = "/orgs/{}/teams/{}/members".format(
                quote(org, safe=""), quote(slug, safe="")
            )
            return [member["login"] for member in self._all(path)]

    def _cached(self, key: str, what: str, ask: Callable[[], Any]) -> Any:
        # Trust answers are asked for on every command; a short cache keeps a
        # burst of comments from costing a call each.
        full_key = f"github:{self.base_url}:{key.lower()}"
        value = cache.get(full_key)
        if value is None:
            with _calling(what):
                value = ask()
            cache.set(full_key, value, MEMBERSHIP_SECONDS)
        return value

    def search_issues(self, query: str) -> list[Issue]:
        """Every issue and pull request matching a GitHub search query (at
        most the 1000 GitHub will page through)."""
        with _calling(f"search {query!r}"):
            items = self._all("/search/issues", {"q": query}, key="items")
        return [Issue.from_payload(*_repo_of(item), item) for item in items]

    def list_open_pulls(self, org: str, repo: str) -> list[PullRequest]:
        """A repo's open pull requests (all pages), with head, base, labels
        and draft. mergeable is None: GitHub computes it per pull only, so
        knowing it would cost a request per pull."""
        with _calling(f"GET open pulls of {org}/{repo}"):
            items = self._all(self._path(org, repo, "pulls"), {"state": "open"})
        return [
            PullRequest.from_payload(org, repo, {**item, "mergeable": None})
            for item in items
        ]

    def team_slug(self, team_id: int) -> str:
        """The slug of the team with this id; "" when there is none."""

        def ask() -> str:
            try:
                return str(self._get(f"/teams/{int(team_id)}").get("slug") or "")
            except GithubException as exc:
                if _is_404(exc):
                    return ""
                raise

        return self._cached(f"team-slug:{team_id}", f"GET team {team_id}", ask)

    def branch_protected(self, org: str, repo: str, branch: str) -> bool | None:
        """Whether a branch is protected; None when there is no such branch."""
        path = self._path(org, repo, "branches") + "/" + quote(branch, safe="/")
        with _calling(f"GET branch {branch!r} of {org}/{repo}"):
            try:
                return bool(self._get(path).get("protected"))
            except GithubException as exc:
                if _is_404(exc):
                    return None
                raise

    # GraphQL -------------------------------------------------------------------

    @property
    def graphql_url(self) -> str:
        return settings.PROW_GITHUB_GRAPHQL_ENDPOINT or graphql.endpoint_for(
            self.base_url
        )

    def graphql(
        self, what: str, query: str, variables: dict | None = None, *, write=False
    ) -> dict | None:
        """Run a GraphQL query (or, with write, a mutation: logged and not
        sent in dry mode, where it returns None); returns its `data`. what
        describes it for errors. GitHub's `errors` raise GitHubError, or
        GitHubTransientError when they may pass (a rate limit, a timeout)."""
        body = {"query": query, "variables": variables or {}}

        def send() -> dict:
            headers, data = self.gh.requester.requestJsonAndCheck(
                "POST", self.graphql_url, input=body
            )
            errors = data.get("errors") if isinstance(data, dict) else None
            if errors:
                failure = graphql.failure_of(errors)
                error_class = GitHubTransientError if failure.transient else GitHubError
                kwargs = {"status": failure.status}
                if failure.transient:
                    kwargs["retry_after"] = failure.retry_after
                raise error_class(f"{what}: {failure.message}", **kwargs)
            return (data or {}).get("data") or {}

        if write:
            return self._write(what, send)
        with _calling(what):
            return send()

    # Writes: logged and skipped in dry mode ----------------------------------

    def _write(self, what: str, action):
        if self.dry_run:
            logger.info("dry run, not sent: %s", what)
            return None
        with _calling(what):
            return action()

    def _request(self, verb: str, path: str, body: dict | None = None):
        headers, data = self.gh.requester.requestJsonAndCheck(verb, path, input=body)
        return data

    def add_labels(self, org: str, repo: str, number: int, *labels: str) -> None:
        path = self._path(org, repo, "issues", number, "labels")
        self._write(
            f"add labels {list(labels)} to {org}/{repo}#{number}",
            lambda: self._request("POST", path, {"labels": list(labels)}),
        )

    def remove_label(self, org: str, repo: str, number: int, label: str) -> None:
        def remove():
            # A "/" in the name must be escaped too, or GitHub reads a longer
            # path.
            path = self._path(org, repo, "issues", number, "labels", label)
            try:
                self._request("DELETE", path)
            except GithubException as exc:
                if not _is_404(exc):
                    raise  # a 404 means it is already gone, as wanted

        self._write(f"remove label {label!r} from {org}/{repo}#{number}", remove)

    def create_comment(
        self, org: str, repo: str, number: int, body: str
    ) -> Comment | None:
        """The comment made; None in dry mode."""
        path = self._path(org, repo, "issues", number, "comments")
        data = self._write(
            f"comment on {org}/{repo}#{number}",
            lambda: self._request("POST", path, {"body": body}),
        )
        return None if data is None else Comment.from_payload(data)

    # Comments by id: a caller holding a comment id may not know its issue.

    def edit_comment(self, org: str, repo: str, comment_id: int, body: str) -> None:
        path = self._path(org, repo, "issues", "comments", comment_id)
        self._write(
            f"edit comment {comment_id} in {org}/{repo}",
            lambda: self._request("PATCH", path, {"body": body}),
        )

    def delete_comment(self, org: str, repo: str, comment_id: int) -> None:
        path = self._path(org, repo, "issues", "comments", comment_id)

        def delete():
            try:
                self._request("DELETE", path)
            except GithubException as exc:
                if not _is_404(exc):
                    raise  # already deleted

        self._write(f"delete comment {comment_id} in {org}/{repo}", delete)

    def react_to_comment(
        self,
        org: str,
        repo: str,
        comment_id: int,
        reaction: str,
        *,
        review_comment: bool = False,
    ) -> None:
        """React to an issue comment, or with review_comment to a comment on
        a line of a pull request's diff (their ids are separate series)."""
        kind = "pulls" if review_comment else "issues"
        path = self._path(org, repo, kind, "comments", comment_id, "reactions")
        self._write(
            f"react {reaction} to comment {comment_id} in {org}/{repo}",
            lambda: self._request("POST", path, {"content": reaction}),
        )

    def react_to_issue(self, org: str, repo: str, number: int, reaction: str) -> None:
        """React to the issue or pull request itself (its description)."""
        path = self._path(org, repo, "issues", number, "reactions")
        self._write(
            f"react {reaction} to {org}/{repo}#{number}",
            lambda: self._request("POST", path, {"content": reaction}),
        )

    def create_status(
        self,
        org: str,
        repo: str,
        sha: str,
        *,
        state: str,
        context: str,
        description: str = "",
        target_url: str = "",
    ) -> None:
        body = {"state": state, "context": context}
        if description:
            if len(description) > STATUS_DESCRIPTION_LIMIT:
                description = description[: STATUS_DESCRIPTION_LIMIT - 1] + "…"
            body["description"] = description
        if target_url:
            body["target_url"] = target_url
        path = self._path(org, repo, "statuses", sha)
        self._write(
            f"status {context}={state} on {org}/{repo}@{sha[:8]}",
            lambda: self._request("POST", path, body),
        )

    def assign(self, org: str, repo: str, number: int, *logins: str) -> list[str]:
        """Assign logins; return those GitHub left out (it silently drops
        anyone who cannot be assigned). Nothing is left out in dry mode."""
        path = self._path(org, repo, "issues", number, "assignees")
        data = self._write(
            f"assign {list(logins)} to {org}/{repo}#{number}",
            lambda: self._request("POST", path, {"assignees": list(logins)}),
        )
        if data is None:
            return []
        assigned = {login.lower() for login in _assignees(data)}
        return [login for login in logins if login.lower() not in assigned]

    def unassign(self, org: str, repo: str, number: int, *logins: str) -> None:
        path = self._path(org, repo, "issues", number, "assignees")
        self._write(
            f"unassign {list(logins)} from {org}/{repo}#{number}",
            lambda: self._request("DELETE", path, {"assignees": list(logins)}),
        )

    def request_review(
        self, org: str, repo: str, number: int, logins: list[str]
    ) -> list[str]:
        """Ask logins to review a pull request; return those GitHub refused
        (not collaborators, or the author). GitHub refuses the whole request
        for one such login, so the others are then asked one at a time.
        An "org/team" login asks the team; a team of another org is refused."""
        if not logins:
            return []
        path = self._path(org, repo, "pulls", number, "requested_reviewers")
        foreign = [login for login in logins if _team_of(org, login) == ""]
        logins = [login for login in logins if login not in foreign]
        if not logins:
            return foreign

        def ask(wanted: list[str]) -> bool:
            try:
                self._request("POST", path, _reviewers_body(org, wanted))
            except GithubException as exc:
                if exc.status != 422:
                    raise
                return False
            return True

        def send() -> list[str]:
            if ask(list(logins)):
                return []
            if len(logins) == 1:
                return list(logins)
            return [login for login in logins if not ask([login])]

        what = f"request review of {org}/{repo}#{number} from {list(logins)}"
        return (self._write(what, send) or []) + foreign

    def unrequest_review(
        self, org: str, repo: str, number: int, logins: list[str]
    ) -> None:
        body = _reviewers_body(org, logins)
        if not body:
            return  # nobody, or only teams of other orgs: never asked
        path = self._path(org, repo, "pulls", number, "requested_reviewers")
        self._write(
            f"unrequest review of {org}/{repo}#{number} from {list(logins)}",
            lambda: self._request("DELETE", path, body),
        )

    def edit_issue(self, org: str, repo: str, number: int, **fields) -> None:
        """Change an issue's (or pull request's) fields as GitHub names them:
        title, body, state, labels, assignees, milestone."""
        path = self._path(org, repo, "issues", number)
        self._write(
            f"edit {org}/{repo}#{number} {sorted(fields)}",
            lambda: self._request("PATCH", path, fields),
        )

    def close(self, org: str, repo: str, number: int, reason: str = "") -> None:
        """Close an issue or pull request; reason is GitHub's state_reason
        for issues (completed, not_planned), left to GitHub when empty."""
        fields = {"state": "closed"}
        if reason:
            fields["state_reason"] = reason
        self.edit_issue(org, repo, number, **fields)

    def reopen(self, org: str, repo: str, number: int) -> None:
        self.edit_issue(org, repo, number, state="open")

    def edit_title(self, org: str, repo: str, number: int, title: str) -> None:
        self.edit_issue(org, repo, number, title=title)

    def set_milestone(
        self, org: str, repo: str, number: int, milestone_number: int | None
    ) -> None:
        """Put the issue in milestone_number (see list_milestones); None
        takes it out of any."""
        self.edit_issue(org, repo, number, milestone=milestone_number)

    def merge(
        self, org: str, repo: str, number: int, *, sha: str, method: str, **extra
    ) -> None:
        """Merge by method (merge, squash, rebase) if the head is still sha;
        extra: commit_title, commit_message."""
        path = self._path(org, repo, "pulls", number, "merge")
        body = {"sha": sha, "merge_method": method, **extra}
        self._write(
            f"merge {org}/{repo}#{number} by {method}",
            lambda: self._request("PUT", path, body),
        )

    def delete_branch(self, org: str, repo: str, branch: str) -> None:
        """Delete a branch; one already gone is fine."""
        # Each part of a branch name is escaped, its slashes kept: GitHub
        # reads the rest of the path as the ref.
        path = self._path(org, repo, "git", "refs", "heads") + "/"
        path += quote(branch, safe="/")

        def delete():
            try:
                self._request("DELETE", path)
            except GithubException as exc:
                gone = exc.status == 404 or (
                    exc.status == 422 and "does not exist" in _message(exc)
                )
                if not gone:
                    raise

        self._write(f"delete branch {branch!r} of {org}/{repo}", delete)


def _assignees(issue: dict) -> list[str]:
    return [user.get("login", "") for user in issue.get("assignees") or []]


def _team_of(org: str, login: str) -> str | None:
    """The team slug of an "org/team" reviewer: None for a person, "" for
    a team of another org (GitHub asks only the repo's org's teams)."""
    if "/" not in login:
        return None
    team_org, _, slug = login.partition("/")
    return slug if team_org.lower() == org.lower() and slug else ""


def _reviewers_body(org: str, logins: list[str]) -> dict[str, list[str]]:
    body: dict[str, list[str]] = {}
    for login in logins:
        slug = _team_of(org, login)
        if slug is None:
            body.setdefault("reviewers", []).append(login)
        elif slug:
            body.setdefault("team_reviewers", []).append(slug)
    return body


_clients: dict[tuple, GitHubClient] = {}
_clients_lock = threading.Lock()


def github_client(org: str = "") -> GitHubClient:
    """The client for acting in org: the token's, or the GitHub App's
    installation in that org. No credentials configured means dry mode."""
    base_url = settings.PROW_GITHUB_ENDPOINT
    token_path = settings.PROW_GITHUB_TOKEN_PATH
    app_id = settings.PROW_GITHUB_APP_ID
    key_path = settings.PROW_GITHUB_APP_PRIVATE_KEY_PATH
    key = (base_url, token_path, app_id, key_path, org if app_id else "")
    with _clients_lock:
        client = _clients.get(key)
    if client is not None:
        return client
    # Built outside the lock: an App's installation lookup is a network call
    # that must not hold up every other org. Two threads may both build; one
    # client is kept.
    client = _build(base_url, token_path, app_id, key_path, org)
    if client.dry_run and (token_path or app_id):
        # Dry for want of a credential file: not kept, so the file is looked
        # for again next time.
        return client
    with _clients_lock:
        return _clients.setdefault(key, client)


def _build(
    base_url: str, token_path: str, app_id: str, key_path: str, org: str
) -> GitHubClient:
    if app_id:
        try:
            app = app_auth(app_id, key_path)
        except TokenFileMissing as exc:
            logger.error("%s; GitHub writes are logged, not sent (dry mode)", exc)
        else:
            auth = InstallationAuth(app, _installation_id(base_url, app, org))
            return GitHubClient(
                base_url=base_url,
                auth=auth,
                dry_run=False,
                identity=f"app:{app_id}",
                app=app,
            )
    elif token_path:
        try:
            auth = FileToken(token_path)
        except TokenFileMissing as exc:
            logger.error("%s; GitHub writes are logged, not sent (dry mode)", exc)
        else:
            return GitHubClient(
                base_url=base_url,
                auth=auth,
                dry_run=False,
                identity=f"token:{token_path}",
            )
    return GitHubClient(base_url=base_url, auth=None, dry_run=True)


def _integration(base_url: str, app: Auth.AppAuth) -> GithubIntegration:
    """The App's own API (as the App, not an installation)."""
    return GithubIntegration(
        auth=app,
        base_url=base_url,
        timeout=TIMEOUT_SECONDS,
        retry=transport.ROUTED,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def _installation_id(base_url: str, app: Auth.AppAuth, org: str) -> int:
    if not org:
        raise GitHubError("a GitHub App acts through an installation: name the org")
    integration = _integration(base_url, app)
    with _calling(f"GET the app installation of {org}"):
        try:
            return integration.get_org_installation(org).id
        except GithubException as exc:
            if not _is_404(exc):
                raise
            # Not an org: the App may be installed on a user's account.
            return integration.get_user_installation(org).id


def forget_clients() -> None:
    """Drop cached clients (tests, or after credentials move)."""
    with _clients_lock:
        _clients.clear()
