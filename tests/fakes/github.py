"""In-process fake of the GitHub REST API v3.

Tests point a real PyGithub client at ``FakeGitHub.url`` so the code under test
exercises genuine HTTP, pagination, conditional requests and error handling, while
the test seeds and inspects state through plain Python methods::

    with FakeGitHub() as fake:
        fake.add_repo("org", "repo")
        gh = github.Github(base_url=fake.url, auth=github.Auth.Token("t"))
        assert gh.get_repo("org/repo").default_branch == "main"

GitHub App authentication works as on GitHub: ``add_installation`` puts the app
(``set_app``) in an org; a JWT signed as the app finds the installation and
mints installation tokens (``ghs_...``, one per call, ``installation_token_ttl``
seconds long); a request carrying one acts as the app's ``<slug>[bot]`` user
in that org, until the token expires.

The OAuth web flow ("Log in with GitHub") works too: ``set_oauth_app``
registers the app, ``authorize_as(login)`` chooses who is signed in to GitHub
in the browser. ``GET /login/oauth/authorize`` then sends the browser back to
``redirect_uri`` with a ``code`` and the ``state``; ``POST
/login/oauth/access_token`` trades the code, once, for a ``gho_...`` token
when the client secret is right; a request carrying that token acts as that
user (``GET /user``, also under GitHub Enterprise's ``/api/v3``).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import (
    parse_qs,
    parse_qsl,
    quote,
    unquote,
    urlencode,
    urlsplit,
    urlunsplit,
)

from tests.fakes import github_graphql
from tests.fakes.server import FakeServer

DOCS_URL = "https://docs.github.com/rest"
WEB_URL = "https://github.com"
DEFAULT_RATE_LIMIT = 5000
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
# PyGithub classifies rate limit errors by these message prefixes.
PRIMARY_RATE_LIMIT_MESSAGE = "API rate limit exceeded for user ID 1."
SECONDARY_RATE_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before "
    "you try again."
)
REACTIONS = frozenset(
    {"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"}
)
STATUS_STATES = frozenset({"error", "failure", "pending", "success"})
MERGE_METHODS = frozenset({"merge", "squash", "rebase"})
ROLE_RANK = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}
# Team and collaborator APIs still accept the old pull/push names.
ROLE_ALIASES = {"pull": "read", "push": "write"}
# The `permission` field of the permission endpoint predates triage/maintain.
LEGACY_PERMISSION = {"maintain": "write", "triage": "read"}
# What a pull request listing leaves out: GitHub computes these per pull.
_PULL_DETAIL_FIELDS = (
    "merged",
    "mergeable",
    "mergeable_state",
    "merged_by",
    "comments",
    "commits",
    "additions",
    "deletions",
    "changed_files",
)
GRAPHQL_PATHS = frozenset({"/graphql", "/api/graphql"})
# Qualifiers a merge bot sends that cannot change the fake's results.
IGNORED_SEARCH_QUALIFIERS = frozenset({"archived", "in", "sort", "fork"})
# Repeated qualifiers of these kinds widen the search instead of narrowing it.
SCOPE_QUALIFIERS = frozenset({"repo", "org", "user"})
# Endpoints a GitHub App reaches with its JWT, and only those.
_APP_PATH = re.compile(
    r"/app(/installations(/\d+(/access_tokens)?)?)?"
    r"|/(orgs|users)/[^/]+/installation|/repos/[^/]+/[^/]+/installation"
)
# The account a /repos/{owner}/... or /orgs/{org}/... path belongs to.
_OWNER_IN_PATH = re.compile(r"/(?:repos|orgs)/([^/]+)")
# The OAuth web flow's pages: reached by a browser or with the client secret
# in a form, never with an API token, and not counted against the rate limit.
_OAUTH_WEB_PATH = re.compile(r"/login/oauth/(?:authorize|access_token)")
OAUTH_DOCS_URL = "https://docs.github.com/apps/oauth-apps"
# GitHub's authorization codes expire after ten minutes.
OAUTH_CODE_TTL = 600.0


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0:{kind}{number}".encode()).decode()


def _role(permission: str) -> str:
    role = ROLE_ALIASES.get(permission, permission)
    if role not in ROLE_RANK:
        raise ValueError(f"unknown permission {permission!r}")
    return role


# --------------------------------------------------------------------------- state


@dataclass
class RecordedRequest:
    """One request as received; header names are lower-cased, path is decoded."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw_path: str
    status: int | None = None
    # Set when the request authenticated as a GitHub App installation (its
    # id) or as the App itself (the JWT's claims).
    installation: int | None = None
    jwt_claims: dict[str, Any] | None = None
    # Set when the request carried an OAuth app's user token (that user).
    oauth_user: str | None = None


Req = RecordedRequest


@dataclass
class User:
    login: str
    id: int
    type: str = "User"


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str = ""


@dataclass
class Milestone:
    id: int
    number: int
    title: str
    state: str = "open"


@dataclass
class Reaction:
    id: int
    user: str
    content: str
    created_at: str = field(default_factory=_now)


@dataclass
class Comment:
    id: int
    issue_number: int
    author: str
    body: str
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class ReviewComment:
    """A comment on a line of a pull request's diff; its ids are a series of
    their own on GitHub, apart from issue comments'."""

    id: int
    pull_number: int
    author: str
    body: str
    path: str
    line: int
    commit_id: str
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class Review:
    id: int
    author: str
    state: str
    body: str
    commit_id: str
    submitted_at: str = field(default_factory=_now)


@dataclass
class Status:
    id: int
    sha: str
    context: str
    state: str
    description: str
    target_url: str | None
    creator: str
    created_at: str = field(default_factory=_now)


@dataclass
class CheckRun:
    """A check run on a commit; runs of one app on one commit form its
    check suite, where a later run of the same name replaces an earlier."""

    id: int
    sha: str
    name: str
    status: str  # queued, in_progress, completed
    conclusion: str | None  # success, failure, neutral, skipped, ...
    app: str


@dataclass
class IssueEvent:
    """One event of an issue's timeline (labeled, unlabeled)."""

    id: int
    event: str
    actor: str
    label: str = ""
    created_at: str = field(default_factory=_now)


@dataclass
class Issue:
    number: int
    id: int
    author: str
    title: str
    body: str = ""
    state: str = "open"
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    milestone: int | None = None
    reactions: list[Reaction] = field(default_factory=list)
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    closed_at: str | None = None
    # GitHub's reason for the state: completed, not_planned, reopened.
    state_reason: str | None = None
    # Label events of labels added or removed through the API or
    # label_as(); labels given when seeding the issue have none.
    events: list[IssueEvent] = field(default_factory=list)


@dataclass
class Pull(Issue):
    head_sha: str = ""
    head_ref: str = ""
    base_ref: str = "main"
    base_sha: str = ""
    files: list[dict[str, Any]] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    draft: bool = False
    mergeable: bool | None = True
    merged: bool = False
    merged_at: str | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    merge_method: str | None = None
    requested_reviewers: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    # GitHub holds it back (branch protection or rulesets): BLOCKED.
    blocked: bool = False


@dataclass
class Team:
    id: int
    org: str
    slug: str
    name: str
    permission: str = "write"
    members: list[str] = field(default_factory=list)
    repos: list[str] = field(default_factory=list)
    # Invited, not yet accepted: a "pending" membership, not a member.
    pending: list[str] = field(default_factory=list)


@dataclass
class Org:
    login: str
    members: dict[str, str] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)


@dataclass
class Repo:
    org: str
    name: str
    id: int
    default_branch: str
    private: bool
    branches: dict[str, str] = field(default_factory=dict)
    protected: set[str] = field(default_factory=set)
    # protected branch -> the status contexts its protection requires
    required_contexts: dict[str, list[str]] = field(default_factory=dict)
    check_runs: list[CheckRun] = field(default_factory=list)
    collaborators: dict[str, str] = field(default_factory=dict)
    # Keyed by lower-cased name because GitHub label names are case-insensitive.
    labels: dict[str, Label] = field(default_factory=dict)
    milestones: dict[int, Milestone] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    review_comments: dict[int, ReviewComment] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)
    commit_messages: dict[str, str] = field(default_factory=dict)
    # commit sha -> its tree's sha; a commit not named here has a tree of
    # its own (its sha).
    commit_trees: dict[str, str] = field(default_factory=dict)
    # ref (branch name or sha) -> path -> content
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.org}/{self.name}"


@dataclass
class App:
    id: int
    slug: str
    name: str
    owner: str
    # PEM; when set, JWT signatures are verified against it.
    public_key: str | None = None

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"


@dataclass
class Installation:
    id: int
    account: str
    created_at: str = field(default_factory=_now)


@dataclass
class InstallationToken:
    token: str
    installation_id: int
    expires_at: float
    jwt_claims: dict[str, Any]


@dataclass
class OAuthApp:
    client_id: str
    client_secret: str
    # When set, redirect_uri must be on its host and under its path.
    callback_url: str | None = None


@dataclass
class OAuthGrant:
    """An authorization code handed to the browser, good for one exchange."""

    code: str
    client_id: str
    login: str
    redirect_uri: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass
class OAuthToken:
    token: str
    client_id: str
    login: str
    scope: str


@dataclass
class Fault:
    method: str | None
    path: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    payload: bytes = b""


class ApiError(Exception):
    """Raised by handlers to answer with GitHub's JSON error shape."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def _error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, **extra, "documentation_url": DOCS_URL}


def _validation_error(resource: str, field_name: str, code: str) -> ApiError:
    errors = [{"resource": resource, "field": field_name, "code": code}]
    return ApiError(422, "Validation Failed", errors=errors)


def _not_found() -> ApiError:
    return ApiError(404, "Not Found")


# -------------------------------------------------------------------------- router

_ROUTES: list[tuple[str, re.Pattern[str], Callable[..., Any]]] = []
_PLACEHOLDER = re.compile(r"\{(\w+)(?::(int|path))?\}")
_PLACEHOLDER_REGEX = {"": "[^/]+", "int": r"\d+", "path": ".+"}


def route(method: str, template: str) -> Callable[[Callable], Callable]:
    """Register a handler for a path template such as ``/repos/{org}/{repo}``.

    ``{name}`` matches one segment, ``{name:int}`` digits and ``{name:path}`` the
    rest of the path, slashes included. ``FakeGitHub._resolve`` turns the values
    into the state objects handlers receive.
    """

    def to_group(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2) or ""
        return f"(?P<{name}>{_PLACEHOLDER_REGEX[kind]})"

    pattern = re.compile(_PLACEHOLDER.sub(to_group, template))

    def register(handler: Callable) -> Callable:
        _ROUTES.append((method, pattern, handler))
        return handler

    return register


# ---------------------------------------------------------------------------- fake


class FakeGitHub(FakeServer):
    """A thread-safe, in-memory GitHub serving the REST API over local HTTP."""

    thread_name = "fake-github"

    def __init__(
        self, require_auth: bool = True, rate_limit: int = DEFAULT_RATE_LIMIT
    ) -> None:
        self.require_auth = require_auth
        self._lock = threading.RLock()
        self._ids = itertools.count(1000)
        self._users: dict[str, User] = {}
        self._orgs: dict[str, Org] = {}
        self._repos: dict[tuple[str, str], Repo] = {}
        self._log: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._rate_limit = rate_limit
        self.reset_rate_limit()
        self.set_authenticated_user("bot")
        self.app = App(1, "fake-app", "Fake App", "fake-app-owner")
        self._installations: dict[str, Installation] = {}
        self._installation_tokens: dict[str, InstallationToken] = {}
        # Lifetime of new installation tokens; GitHub's is one hour.
        self.installation_token_ttl: float = 3600.0
        self._oauth_apps: dict[str, OAuthApp] = {}
        self._oauth_grants: dict[str, OAuthGrant] = {}
        self._oauth_tokens: dict[str, OAuthToken] = {}
        # Who is signed in to GitHub in the browser, and whether they approve.
        self.oauth_login: str | None = None
        self.oauth_approves = True
        # Projects (v2) and faults of the GraphQL API (tests/fakes/github_graphql.py).
        self.graphql = github_graphql.GraphQLState()
        # GraphQL has a points budget of its own, as on GitHub: a request
        # costs what its connections could return (github_graphql.cost_of)
        # and takes nothing from the REST counter.
        self.graphql_requests = 0
        self.graphql_cost = 0

    # ------------------------------------------------------------------- seeding

    def add_user(self, login: str, type: str = "User") -> User:
        with self._lock:
            if login not in self._users:
                self._users[login] = User(login, next(self._ids))
            self._users[login].type = type
            return self._users[login]

    def set_authenticated_user(self, login: str) -> None:
        """Choose who the token belongs to: what GET /user returns and who acts."""
        with self._lock:
            self._ensure_user(login)
            self.authenticated_user = login

    def add_org(self, org: str) -> Org:
        with self._lock:
            if org not in self._orgs:
                self.add_user(org, type="Organization")
                self._orgs[org] = Org(org)
            return self._orgs[org]

    def add_repo(
        self,
        org: str,
        repo: str,
        default_branch: str = "main",
        private: bool = False,
        sha: str | None = None,
    ) -> Repo:
        with self._lock:
            self.add_org(org)
            state = Repo(org, repo, next(self._ids), default_branch, private)
            state.branches[default_branch] = sha or self._new_sha()
            self._repos[(org, repo)] = state
            return state

    def add_branch(
        self, org: str, repo: str, name: str, sha: str, protected: bool = False
    ) -> None:
        with self._lock:
            state = self._seeded_repo(org, repo)
            state.branches[name] = sha
            if protected:
                state.protected.add(name)

    def protect_branch(
        self, org: str, repo: str, branch: str, contexts: Iterable[str] = ()
    ) -> None:
        """Protect branch, requiring contexts to pass before a merge, as
        GraphQL's branchProtectionRule and REST's required_status_checks
        report."""
        with self._lock:
            state = self._seeded_repo(org, repo)
            state.protected.add(branch)
            state.required_contexts[branch] = list(contexts)

    def set_app(
        self,
        app_id: int,
        slug: str = "fake-app",
        owner: str = "fake-app-owner",
        public_key: str | None = None,
    ) -> App:
        """Who GitHub App JWTs must be issued by (``iss``); with ``public_key``
        (PEM) their RS256 signatures are checked too."""
        with self._lock:
            self.app = App(int(app_id), slug, slug.replace("-", " ").title(), owner)
            self.app.public_key = public_key
            self.add_user(self.app.bot_login, type="Bot")
            return self.app

    def add_installation(self, account: str, id: int | None = None) -> Installation:
        """Install the app in an org (created if unknown) or a user account."""
        with self._lock:
            if account not in self._users:
                self.add_org(account)
            self.add_user(self.app.bot_login, type="Bot")
            installation = Installation(
                id if id is not None else next(self._ids), account
            )
            self._installations[account] = installation
            return installation

    def set_oauth_app(
        self, client_id: str, client_secret: str, callback_url: str | None = None
    ) -> OAuthApp:
        """Register an OAuth app ("Log in with GitHub"); ``callback_url`` is
        the app's authorization callback URL, used when the browser brings no
        redirect_uri and checked against the one it brings."""
        with self._lock:
            app = OAuthApp(client_id, client_secret, callback_url)
            self._oauth_apps[client_id] = app
            return app

    def authorize_as(self, login: str | None, approve: bool = True) -> None:
        """Who is signed in to GitHub when the browser reaches the authorize
        page (None: nobody), and whether they approve the app or cancel."""
        with self._lock:
            if login is not None:
                self._ensure_user(login)
            self.oauth_login = login
            self.oauth_approves = approve

    def add_org_member(self, org: str, login: str, role: str = "member") -> None:
        with self._lock:
            self._ensure_user(login)
            self.add_org(org).members[login] = role

    def add_collaborator(
        self, org: str, repo: str, login: str, permission: str = "write"
    ) -> None:
        with self._lock:
            self._ensure_user(login)
            self._seeded_repo(org, repo).collaborators[login] = _role(permission)

    def add_team(
        self,
        org: str,
        slug: str,
        id: int | None = None,
        members: Iterable[str] = (),
        repos: Iterable[str] = (),
        name: str | None = None,
        permission: str = "write",
        pending: Iterable[str] = (),
    ) -> Team:
        """Create a team; ``repos`` are names of repos in ``org`` it can access,
        ``pending`` people invited who have not accepted yet."""
        members, pending = list(members), list(pending)
        with self._lock:
            for login in members + pending:
                self._ensure_user(login)
            team_id = id if id is not None else next(self._ids)
            team = Team(team_id, org, slug, name or slug, _role(permission))
            team.members, team.repos, team.pending = members, list(repos), pending
            self.add_org(org).teams[slug] = team
            return team

    def add_label(self, org: str, repo: str, name: str, color: str = "ededed") -> Label:
        with self._lock:
            return self._ensure_label(self._seeded_repo(org, repo), name, color)

    def add_milestone(
        self, org: str, repo: str, title: str, state: str = "open"
    ) -> Milestone:
        with self._lock:
            milestones = self._seeded_repo(org, repo).milestones
            number = len(milestones) + 1
            milestones[number] = Milestone(next(self._ids), number, title, state)
            return milestones[number]

    def add_issue(
        self,
        org: str,
        repo: str,
        number: int | None = None,
        author: str = "author",
        title: str = "An issue",
        body: str = "",
        labels: Iterable[str] = (),
        state: str = "open",
        assignees: Iterable[str] = (),
    ) -> Issue:
        with self._lock:
            state_repo = self._seeded_repo(org, repo)
            number = number or self._next_number(state_repo)
            issue = Issue(number, next(self._ids), author, title, body, state)
            issue.assignees = list(assignees)
            self._store_issue(state_repo, issue, labels)
            return issue

    def add_pull(
        self,
        org: str,
        repo: str,
        number: int | None,
        author: str,
        head_sha: str,
        base_ref: str = "main",
        base_sha: str | None = None,
        title: str | None = None,
        body: str = "",
        head_ref: str | None = None,
        files: Iterable[dict[str, Any]] = (),
        labels: Iterable[str] = (),
        draft: bool = False,
        mergeable: bool | None = True,
        state: str = "open",
        commits: Iterable[str] | None = None,
    ) -> Pull:
        """Create a pull request; ``base_sha`` defaults to the base branch's head."""
        with self._lock:
            state_repo = self._seeded_repo(org, repo)
            number = number or self._next_number(state_repo)
            pull = Pull(
                number=number,
                id=next(self._ids),
                author=author,
                title=title if title is not None else f"Pull request {number}",
                body=body,
                state=state,
                head_sha=head_sha,
                head_ref=head_ref or f"{author}-patch-{number}",
                base_ref=base_ref,
                base_sha=base_sha or state_repo.branches.get(base_ref, ""),
                files=[dict(item) for item in files],
                commits=list(commits) if commits is not None else [head_sha],
                draft=draft,
                mergeable=mergeable,
            )
            for sha in pull.commits:
                state_repo.commit_messages.setdefault(sha, pull.title)
            self._store_issue(state_repo, pull, labels)
            return pull

    def add_comment(
        self, org: str, repo: str, number: int, author: str, body: str
    ) -> Comment:
        """A comment by someone other than the bot, e.g. a ``/lgtm`` command."""
        with self._lock:
            state = self._seeded_repo(org, repo)
            self._issue_in(state, number)
            return self._new_comment(state, number, author, body)

    def add_review(
        self,
        org: str,
        repo: str,
        number: int,
        author: str,
        state: str = "APPROVED",
        body: str = "",
    ) -> Review:
        with self._lock:
            pull = self._pull_in(self._seeded_repo(org, repo), number)
            self._ensure_user(author)
            review = Review(next(self._ids), author, state, body, pull.head_sha)
            pull.reviews.append(review)
            return review

    def add_review_comment(
        self,
        org: str,
        repo: str,
        number: int,
        author: str,
        body: str,
        path: str = "README.md",
        line: int = 1,
    ) -> ReviewComment:
        """A comment on a line of the pull request's diff."""
        with self._lock:
            state = self._seeded_repo(org, repo)
            pull = self._pull_in(state, number)
            self._ensure_user(author)
            comment = ReviewComment(
                next(self._ids), number, author, body, path, line, pull.head_sha
            )
            state.review_comments[comment.id] = comment
            return comment

    def label_as(
        self, org: str, repo: str, number: int, actor: str, label: str
    ) -> None:
        """Put label on an issue as actor did, with its `labeled` event."""
        with self._lock:
            state = self._seeded_repo(org, repo)
            issue = self._issue_in(state, number)
            self._ensure_user(actor)
            self._add_labels(state, issue, [label])
            self._label_event(issue, "labeled", actor, label)

    def set_file(
        self,
        org: str,
        repo: str,
        path: str,
        content: str | bytes,
        ref: str | None = None,
    ) -> None:
        """Serve ``content`` from the contents API at ``ref`` (default branch)."""
        with self._lock:
            state = self._seeded_repo(org, repo)
            tree = state.files.setdefault(ref or state.default_branch, {})
            data = content.encode() if isinstance(content, str) else content
            tree[path.strip("/")] = data

    def set_commit_tree(self, org: str, repo: str, sha: str, tree_sha: str) -> None:
        """Give commit sha the tree tree_sha, e.g. the same tree as another
        commit, as a squash or a clean rebase would."""
        with self._lock:
            self._seeded_repo(org, repo).commit_trees[sha] = tree_sha

    def set_status(
        self,
        org: str,
        repo: str,
        sha: str,
        context: str,
        state: str,
        description: str = "",
        target_url: str | None = None,
        creator: str | None = None,
    ) -> Status:
        fields = {
            "context": context,
            "state": state,
            "description": description,
            "target_url": target_url,
        }
        with self._lock:
            creator = creator or self.authenticated_user
            return self._new_status(self._seeded_repo(org, repo), sha, fields, creator)

    def add_check_run(
        self,
        org: str,
        repo: str,
        sha: str,
        name: str,
        status: str = "completed",
        conclusion: str | None = "success",
        app: str = "fake-ci",
    ) -> CheckRun:
        """A check run of app on commit sha, served by GraphQL's
        checkSuites/checkRuns of that commit."""
        with self._lock:
            state = self._seeded_repo(org, repo)
            if status != "completed":
                conclusion = None
            run = CheckRun(next(self._ids), sha, name, status, conclusion, app)
            state.check_runs.append(run)
            return run

    def add_project_v2(
        self,
        org: str,
        title: str,
        statuses: Iterable[str] = ("Todo", "In Progress", "Done"),
        closed: bool = False,
    ) -> github_graphql.ProjectV2:
        """An org's project board (Projects v2) with a single-select Status
        field offering ``statuses``."""
        with self._lock:
            self.add_org(org)
            return self.graphql.add_project(org, title, tuple(statuses), closed)

    def add_project_v2_item(
        self,
        project: github_graphql.ProjectV2,
        org: str,
        repo: str,
        number: int,
        status: str | None = None,
    ) -> github_graphql.ProjectV2Item:
        """Put an issue or pull request on a board, in Status ``status``."""
        with self._lock:
            self._issue_in(self._seeded_repo(org, repo), number)
            item = self.graphql.add_item(project, org, repo, number)
            item.status = project.option(status).id if status else None
            return item

    def fail_graphql(
        self,
        field: str,
        status: int = 502,
        times: int = 1,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        """Answer the next ``times`` GraphQL operations selecting the root
        field ``field`` (a query's or a mutation's) with ``status``, or with
        200 and GitHub's ``errors`` when given (``[{"type": "RATE_LIMITED",
        ...}]``). Nothing of the operation is executed."""
        with self._lock:
            fault = github_graphql.GraphQLFault(field, status, times, errors)
            self.graphql.faults.append(fault)

    # ---------------------------------------------------------------- inspection

    def repo(self, org: str, repo: str) -> Repo:
        with self._lock:
            return self._seeded_repo(org, repo)

    def issue(self, org: str, repo: str, number: int) -> Issue:
        with self._lock:
            return self._issue_in(self._seeded_repo(org, repo), number)

    def pull(self, org: str, repo: str, number: int) -> Pull:
        with self._lock:
            return self._pull_in(self._seeded_repo(org, repo), number)

    def comments(self, org: str, repo: str, number: int) -> list[Comment]:
        with self._lock:
            comments = self._seeded_repo(org, repo).comments.values()
            return [comment for comment in comments if comment.issue_number == number]

    def review_comments(self, org: str, repo: str, number: int) -> list[ReviewComment]:
        with self._lock:
            comments = self._seeded_repo(org, repo).review_comments.values()
            return [c for c in comments if c.pull_number == number]

    def statuses(self, org: str, repo: str, sha: str) -> list[Status]:
        with self._lock:
            return [s for s in self._seeded_repo(org, repo).statuses if s.sha == sha]

    def requests(
        self, method: str | None = None, path: str | re.Pattern[str] | None = None
    ) -> list[RecordedRequest]:
        """Recorded requests, oldest first.

        A ``path`` string must equal the decoded request path; a compiled pattern
        is searched in it.
        """
        with self._lock:
            return [
                request
                for request in self._log
                if (method is None or request.method == method.upper())
                and (path is None or _path_matches(path, request.path))
            ]

    def installation_tokens(
        self, installation_id: int | None = None
    ) -> list[InstallationToken]:
        """Installation tokens handed out, oldest first."""
        with self._lock:
            return [
                issued
                for issued in self._installation_tokens.values()
                if installation_id in (None, issued.installation_id)
            ]

    def oauth_tokens(self, login: str | None = None) -> list[OAuthToken]:
        """OAuth user tokens handed out, oldest first."""
        with self._lock:
            return [
                issued
                for issued in self._oauth_tokens.values()
                if login in (None, issued.login)
            ]

    def expire_installation_tokens(self) -> None:
        """Make every token handed out so far expired: GitHub answers 401."""
        with self._lock:
            for issued in self._installation_tokens.values():
                issued.expires_at = min(issued.expires_at, time.time() - 1)

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    # -------------------------------------------------------------------- faults

    def fail_next(
        self,
        method: str | None,
        path_regex: str,
        status: int = 500,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status``.

        ``method`` None matches any method; ``path_regex`` is searched in the
        decoded request path. Faults apply before routing, so they hit any path.
        """
        if body is None:
            body = _error_body(status, "Not Found" if status == 404 else "Server Error")
        fault = Fault(
            method.upper() if method else None,
            re.compile(path_regex),
            status,
            times,
            dict(headers or {}),
            body,
        )
        with self._lock:
            self._faults.append(fault)

    def rate_limit_next(
        self,
        times: int = 1,
        retry_after: int = 1,
        secondary: bool = True,
        status: int = 403,
        path_regex: str = "",
    ) -> None:
        """Rate-limit the next requests the way GitHub does (403, or 429)."""
        if secondary:
            message = SECONDARY_RATE_LIMIT_MESSAGE
            headers = {"Retry-After": str(retry_after)}
        else:
            message = PRIMARY_RATE_LIMIT_MESSAGE
            headers = {
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time()) + retry_after),
            }
        body = _error_body(status, message)
        self.fail_next(None, path_regex, status, times, headers, body)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self.graphql.faults.clear()

    def reset_rate_limit(self) -> None:
        """Refill the counter; it floors at zero and never blocks on its own."""
        with self._lock:
            self.rate_limit_remaining = self._rate_limit
            self.graphql_remaining = self._rate_limit
            self._rate_reset = int(time.time()) + 3600

    # ------------------------------------------------------------- request cycle

    def handle(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> Reply:
        """Record and answer one HTTP request; called from the server threads."""
        split = urlsplit(target)
        content_type = {k.lower(): v for k, v in headers.items()}.get(
            "content-type", ""
        )
        if raw and content_type.startswith("application/x-www-form-urlencoded"):
            # Only the OAuth web flow takes forms; the API still refuses them.
            body, valid_json = dict(parse_qsl(raw.decode(errors="replace"))), False
        else:
            try:
                body, valid_json = (json.loads(raw) if raw else None), True
            except ValueError:
                body, valid_json = raw.decode(errors="replace"), False
        request = RecordedRequest(
            method=method,
            path=unquote(split.path),
            query={key: values[-1] for key, values in parse_qs(split.query).items()},
            headers={name.lower(): value for name, value in headers.items()},
            body=body,
            raw_path=split.path,
        )
        with self._lock:
            self._log.append(request)
            reply = self._finish(request, self._respond(request, valid_json))
            request.status = reply.status
        return reply

    def _respond(self, request: RecordedRequest, valid_json: bool) -> Reply:
        try:
            web = _is_oauth_web(request)
            if not web:
                self._check_auth(request)
                self._check_app_auth(request)
            fault = self._take_fault(request)
            if fault is not None:
                return Reply(fault.status, fault.body, dict(fault.headers))
            if not valid_json and not web:
                raise ApiError(400, "Problems parsing JSON")
            return self._dispatch_as_caller(request)
        except ApiError as error:
            body = _error_body(error.status, error.message, **error.extra)
            return Reply(error.status, body)
        except Exception as error:
            # A bug in the fake reaches the test as a readable 500, not a hung socket.
            message = f"FakeGitHub handler failed: {error!r}"
            return Reply(500, _error_body(500, message))

    def _check_auth(self, request: RecordedRequest) -> None:
        if not self.require_auth:
            return
        authorization = request.headers.get("authorization")
        if not authorization:
            raise ApiError(401, "Requires authentication")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() not in {"token", "bearer", "basic"} or not credentials:
            raise ApiError(401, "Bad credentials")

    def _check_app_auth(self, request: RecordedRequest) -> None:
        """Recognise installation tokens and App JWTs, and hold each to what
        GitHub lets it reach."""
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        scheme = scheme.lower()
        app_path = _APP_PATH.fullmatch(request.path.rstrip("/")) is not None
        if scheme in ("token", "bearer") and credentials.startswith("gho_"):
            issued_to_user = self._oauth_tokens.get(credentials)
            if issued_to_user is None:
                raise ApiError(401, "Bad credentials")
            request.oauth_user = issued_to_user.login
            if app_path:
                raise ApiError(
                    401, "A JSON web token could not be decoded", errors=["not a JWT"]
                )
        elif scheme == "token" and credentials.startswith("ghs_"):
            issued = self._installation_tokens.get(credentials)
            if issued is None or issued.expires_at <= time.time():
                raise ApiError(401, "Bad credentials")
            request.installation = issued.installation_id
            if app_path or request.path == "/user":
                raise ApiError(403, "Resource not accessible by integration")
            account = self._installation_account(issued.installation_id)
            owner = _OWNER_IN_PATH.match(request.path)
            if owner is not None and owner.group(1).lower() != account.lower():
                # An installation sees only its own account's repositories.
                raise _not_found()
        elif scheme == "bearer" and credentials.count(".") == 2:
            request.jwt_claims = self._jwt_claims(credentials)
            if not app_path:
                raise ApiError(403, "Resource not accessible by integration")
        elif app_path:
            raise ApiError(
                401, "A JSON web token could not be decoded", errors=["not a JWT"]
            )

    def _jwt_claims(self, token: str) -> dict[str, Any]:
        """The claims of an App JWT, or 401 as GitHub answers a bad one."""

        def refuse(reason: str) -> ApiError:
            return ApiError(401, f"A JSON web token could not be decoded: {reason}")

        try:
            payload = token.split(".")[1]
            claims = json.loads(
                base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            )
        except (ValueError, IndexError):
            raise refuse("malformed")
        now = time.time()
        if not isinstance(claims, dict) or {"iss", "iat", "exp"} - claims.keys():
            raise refuse("iss, iat and exp are required")
        if str(claims["iss"]) != str(self.app.id):
            raise refuse(f"issuer {claims['iss']} is not app {self.app.id}")
        if claims["exp"] <= now or claims["exp"] - claims["iat"] > 660:
            # GitHub refuses expired JWTs and ones valid for over ten minutes.
            raise refuse("'exp' is too far in the future or in the past")
        if self.app.public_key is not None:
            import jwt  # PyJWT, installed with PyGithub; only needed here

            try:
                jwt.decode(token, self.app.public_key, algorithms=["RS256"])
            except jwt.InvalidTokenError as error:
                raise refuse(f"bad signature ({error})")
        return claims

    def _installation_account(self, installation_id: int) -> str:
        for account, installation in self._installations.items():
            if installation.id == installation_id:
                return account
        raise _not_found()

    def _dispatch_as_caller(self, request: RecordedRequest) -> Reply:
        """Dispatch; an installation's request acts as the app's bot user, an
        OAuth user token's as its user."""
        if request.installation is not None:
            caller = self.app.bot_login
        elif request.oauth_user is not None:
            caller = request.oauth_user
        else:
            return self._dispatch(request)
        user = self.authenticated_user
        self.authenticated_user = caller
        try:
            return self._dispatch(request)
        finally:
            self.authenticated_user = user

    def _take_fault(self, request: RecordedRequest) -> Fault | None:
        for fault in self._faults:
            method_matches = fault.method in (None, request.method)
            if method_matches and fault.path.search(request.path):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _dispatch(self, request: RecordedRequest) -> Reply:
        path = request.raw_path.rstrip("/") or "/"
        for method, pattern, handler in _ROUTES:
            match = pattern.fullmatch(path)
            if match is not None and method == request.method:
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                result = handler(self, request, **self._resolve(params))
                return result if isinstance(result, Reply) else Reply(body=result)
        raise _not_found()

    def _resolve(self, params: dict[str, str]) -> dict[str, Any]:
        """Swap path parameters for the state they name, or answer 404."""
        if "slug" in params or "team_id" in params:
            slug, team_id = params.pop("slug", None), params.pop("team_id", "0")
            params["team"] = self._team(params.pop("org", None), slug, int(team_id))
        if "repo" in params:
            params["repo"] = repo = self._repo(params.pop("org"), params["repo"])
            if "number" in params:
                params["issue"] = self._issue_in(repo, int(params.pop("number")))
            if "pull" in params:
                params["pull"] = self._pull_in(repo, int(params["pull"]))
            if "comment_id" in params:
                comment = repo.comments.get(int(params.pop("comment_id")))
                params["comment"] = _found(comment)
            if "review_comment_id" in params:
                review_comment_id = int(params.pop("review_comment_id"))
                params["comment"] = _found(repo.review_comments.get(review_comment_id))
        if "org" in params:
            params["org"] = _found(self._orgs.get(params["org"]))
        return params

    def _finish(self, request: RecordedRequest, reply: Reply) -> Reply:
        if reply.body is not None:
            reply.payload = json.dumps(reply.body).encode()
            reply.headers["Content-Type"] = "application/json; charset=utf-8"
        if request.method == "GET" and reply.status == 200:
            etag = f'"{hashlib.sha256(reply.payload).hexdigest()}"'
            reply.headers["ETag"] = etag
            if _etag_matches(request.headers.get("if-none-match"), etag):
                # A 304 costs nothing against the rate limit, as on GitHub.
                reply = Reply(304, headers={"ETag": etag})
        is_graphql = request.path in GRAPHQL_PATHS and request.method == "POST"
        counted = request.path != "/rate_limit" and not _is_oauth_web(request)
        if reply.status != 304 and counted and not is_graphql:
            self.rate_limit_remaining = max(0, self.rate_limit_remaining - 1)
        remaining = self.graphql_remaining if is_graphql else self.rate_limit_remaining
        for name, value in (
            ("Limit", self._rate_limit),
            ("Remaining", remaining),
            ("Reset", self._rate_reset),
            ("Used", self._rate_limit - remaining),
            ("Resource", "graphql" if is_graphql else "core"),
        ):
            # Injected faults may already carry their own rate limit headers.
            reply.headers.setdefault(f"X-RateLimit-{name}", str(value))
        reply.headers["X-GitHub-Request-Id"] = f"FAKE:{len(self._log)}"
        return reply

    # ------------------------------------------------------------- state helpers

    def _ensure_user(self, login: str) -> User:
        return self._users.get(login) or self.add_user(login)

    def _new_sha(self) -> str:
        return hashlib.sha1(str(next(self._ids)).encode()).hexdigest()

    def _repo(self, org: str, repo: str) -> Repo:
        return _found(self._repos.get((org, repo)))

    def _seeded_repo(self, org: str, repo: str) -> Repo:
        # Seeding mistakes deserve a clearer error than the API's 404.
        if (org, repo) not in self._repos:
            raise KeyError(f"unknown repo {org}/{repo}: call add_repo() first")
        return self._repos[(org, repo)]

    @staticmethod
    def _issue_in(repo: Repo, number: int) -> Issue:
        return _found(repo.issues.get(number))

    def _pull_in(self, repo: Repo, number: int) -> Pull:
        issue = self._issue_in(repo, number)
        if not isinstance(issue, Pull):
            raise _not_found()
        return issue

    def _team(self, org: str | None, slug: str | None, team_id: int = 0) -> Team:
        if org is not None:
            return _found(self._orgs.get(org, Org(org)).teams.get(slug or ""))
        teams = (team for o in self._orgs.values() for team in o.teams.values())
        return _found(next((team for team in teams if team.id == team_id), None))

    @staticmethod
    def _next_number(repo: Repo) -> int:
        return max(repo.issues, default=0) + 1

    def _store_issue(self, repo: Repo, issue: Issue, labels: Iterable[str]) -> None:
        for login in (issue.author, *issue.assignees):
            self._ensure_user(login)
        if issue.state == "closed":
            issue.closed_at = _now()
        self._add_labels(repo, issue, labels)
        repo.issues[issue.number] = issue

    def _ensure_label(self, repo: Repo, name: str, color: str = "ededed") -> Label:
        key = name.lower()
        if key not in repo.labels:
            repo.labels[key] = Label(next(self._ids), name, color)
        return repo.labels[key]

    def _add_labels(self, repo: Repo, issue: Issue, names: Iterable[str]) -> None:
        present = {name.lower() for name in issue.labels}
        for name in names:
            # GitHub creates unknown labels on the fly when adding them to an issue.
            label = self._ensure_label(repo, name)
            if label.name.lower() not in present:
                issue.labels.append(label.name)
                present.add(label.name.lower())
        issue.updated_at = _now()

    def _label_event(self, issue: Issue, event: str, actor: str, label: str) -> None:
        issue.events.append(IssueEvent(next(self._ids), event, actor, label))

    def _new_comment(self, repo: Repo, number: int, author: str, body: str) -> Comment:
        self._ensure_user(author)
        comment = Comment(next(self._ids), number, author, body)
        repo.comments[comment.id] = comment
        return comment

    def _new_status(
        self, repo: Repo, sha: str, fields: dict[str, Any], creator: str
    ) -> Status:
        if fields.get("state") not in STATUS_STATES:
            raise _validation_error("Status", "state", "custom")
        status = Status(
            id=next(self._ids),
            sha=sha,
            context=fields.get("context") or "default",
            state=fields["state"],
            description=fields.get("description") or "",
            target_url=fields.get("target_url"),
            creator=creator,
        )
        repo.statuses.append(status)
        return status

    def _role_of(self, repo: Repo, login: str) -> str:
        """Best access ``login`` has to ``repo``, directly or through a team."""
        roles = [repo.collaborators.get(login, "none")]
        org = self._orgs.get(repo.org, Org(repo.org))
        if org.members.get(login) == "admin":
            roles.append("admin")
        roles += [
            team.permission
            for team in org.teams.values()
            if login in team.members and repo.name in team.repos
        ]
        return max(roles, key=ROLE_RANK.__getitem__)

    def _is_member(self, repo: Repo, login: str) -> bool:
        return login in self._orgs.get(repo.org, Org(repo.org)).members

    def _is_assignable(self, repo: Repo, login: str) -> bool:
        return self._is_member(repo, login) or self._role_of(repo, login) != "none"

    def _association(self, repo: Repo, login: str) -> str:
        if login == repo.org:
            return "OWNER"
        if self._is_member(repo, login):
            return "MEMBER"
        return "NONE" if self._role_of(repo, login) == "none" else "COLLABORATOR"

    def _tree(self, repo: Repo, ref: str) -> dict[str, bytes]:
        """Files visible at ``ref``; a branch and the sha it points at are aliases."""
        aliases = [ref, repo.branches.get(ref, "")]
        aliases += [name for name, sha in repo.branches.items() if sha == ref]
        tree: dict[str, bytes] = {}
        for alias in reversed(aliases):
            tree.update(repo.files.get(alias, {}))
        return tree

    def _page(
        self,
        request: RecordedRequest,
        items: list[Any],
        render: Callable[[Any], Any],
        wrap: Callable[[list[Any]], Any] | None = None,
    ) -> Reply:
        """One page of ``items`` with the Link header PaginatedList follows."""
        per_page = min(_int_param(request.query, "per_page", DEFAULT_PER_PAGE), 100)
        page = _int_param(request.query, "page", 1)
        last = max(1, -(-len(items) // per_page))
        body = [render(item) for item in items[(page - 1) * per_page :][:per_page]]
        reply = Reply(body=wrap(body) if wrap else body)

        def link(number: int, rel: str) -> str:
            query = urlencode({**request.query, "per_page": per_page, "page": number})
            return f'<{self.url}{request.raw_path}?{query}>; rel="{rel}"'

        links = [link(page - 1, "prev"), link(1, "first")] if page > 1 else []
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if links:
            reply.headers["Link"] = ", ".join(links)
        return reply

    # ----------------------------------------------------------------- rendering

    def _api(self, *parts: str) -> str:
        return "/".join([self.url or "", *parts])

    def _repo_api(self, repo: Repo, *parts: str) -> str:
        return self._api("repos", repo.org, repo.name, *parts)

    def _user_json(self, login: str) -> dict[str, Any]:
        user = self._ensure_user(login)
        return {
            "login": user.login,
            "id": user.id,
            "node_id": _node_id("U", user.id),
            "type": user.type,
            "site_admin": False,
            "url": self._api("users", user.login),
            "html_url": f"{WEB_URL}/{user.login}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{user.id}",
        }

    def _org_json(self, org: Org) -> dict[str, Any]:
        return {
            **self._user_json(org.login),
            "url": self._api("orgs", org.login),
            "repos_url": self._api("orgs", org.login, "repos"),
            "members_url": self._api("orgs", org.login, "members{/member}"),
            "description": "",
        }

    def _repo_json(self, repo: Repo) -> dict[str, Any]:
        return {
            "id": repo.id,
            "node_id": _node_id("R", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self._user_json(repo.org),
            "private": repo.private,
            "visibility": "private" if repo.private else "public",
            "html_url": f"{WEB_URL}/{repo.full_name}",
            "url": self._repo_api(repo),
            "fork": False,
            "archived": False,
            "default_branch": repo.default_branch,
            "permissions": _permissions(self._role_of(repo, self.authenticated_user)),
        }

    def _label_json(self, repo: Repo, name: str) -> dict[str, Any]:
        label = self._ensure_label(repo, name)
        return {
            "id": label.id,
            "node_id": _node_id("L", label.id),
            "url": self._repo_api(repo, "labels", quote(label.name, safe="")),
            "name": label.name,
            "color": label.color,
            "description": label.description,
            "default": False,
        }

    def _milestone_json(self, repo: Repo, milestone: Milestone) -> dict[str, Any]:
        return {
            "id": milestone.id,
            "node_id": _node_id("M", milestone.id),
            "number": milestone.number,
            "title": milestone.title,
            "state": milestone.state,
            "url": self._repo_api(repo, "milestones", str(milestone.number)),
            "html_url": f"{WEB_URL}/{repo.full_name}/milestone/{milestone.number}",
        }

    def _issue_json(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        url = self._repo_api(repo, "issues", str(issue.number))
        html_kind = "pull" if isinstance(issue, Pull) else "issues"
        milestone = repo.milestones.get(issue.milestone or 0)
        data = {
            "id": issue.id,
            "node_id": _node_id("I", issue.id),
            "number": issue.number,
            "title": issue.title,
            "body": issue.body,
            "state": issue.state,
            "locked": False,
            "user": self._user_json(issue.author),
            "author_association": self._association(repo, issue.author),
            "labels": [self._label_json(repo, name) for name in issue.labels],
            "assignee": next(iter(self._users_json(issue.assignees)), None),
            "assignees": self._users_json(issue.assignees),
            "milestone": milestone and self._milestone_json(repo, milestone),
            "comments": len(self.comments(repo.org, repo.name, issue.number)),
            "url": url,
            "html_url": f"{WEB_URL}/{repo.full_name}/{html_kind}/{issue.number}",
            "repository_url": self._repo_api(repo),
            "comments_url": f"{url}/comments",
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
            "state_reason": issue.state_reason,
        }
        if isinstance(issue, Pull):
            data["draft"] = issue.draft
            data["pull_request"] = {
                "url": self._repo_api(repo, "pulls", str(issue.number)),
                "html_url": data["html_url"],
                "merged_at": issue.merged_at,
            }
        return data

    def _users_json(self, logins: Iterable[str]) -> list[dict[str, Any]]:
        return [self._user_json(login) for login in logins]

    def _pull_listed_json(self, repo: Repo, pull: Pull) -> dict[str, Any]:
        """A pull request in a listing: GitHub leaves out what it computes
        per pull (mergeable and the counts)."""
        data = self._pull_json(repo, pull)
        for name in _PULL_DETAIL_FIELDS:
            data.pop(name, None)
        return data

    def _pull_json(self, repo: Repo, pull: Pull) -> dict[str, Any]:
        data = self._issue_json(repo, pull)
        url = data.pop("pull_request")["url"]
        merged_by = pull.merged_by and self._user_json(pull.merged_by)
        teams = [self._team(repo.org, slug) for slug in pull.requested_teams]
        data.update(
            url=url,
            issue_url=self._repo_api(repo, "issues", str(pull.number)),
            commits_url=f"{url}/commits",
            statuses_url=self._repo_api(repo, "statuses", pull.head_sha),
            head=self._pull_ref_json(repo, pull.head_ref, pull.head_sha),
            base=self._pull_ref_json(repo, pull.base_ref, pull.base_sha),
            merged=pull.merged,
            mergeable=pull.mergeable,
            mergeable_state=_mergeable_state(pull),
            merged_at=pull.merged_at,
            merged_by=merged_by,
            merge_commit_sha=pull.merge_commit_sha,
            requested_reviewers=self._users_json(pull.requested_reviewers),
            requested_teams=[self._team_json(team) for team in teams],
            commits=len(pull.commits),
            additions=sum(item.get("additions", 1) for item in pull.files),
            deletions=sum(item.get("deletions", 0) for item in pull.files),
            changed_files=len(pull.files),
        )
        return data

    def _pull_ref_json(self, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
        return {
            "label": f"{repo.org}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self._user_json(repo.org),
            "repo": self._repo_json(repo),
        }

    def _file_json(self, repo: Repo, pull: Pull, item: dict[str, Any]) -> dict:
        name = item["filename"]
        blob_url = f"{WEB_URL}/{repo.full_name}/blob/{pull.head_sha}/{name}"
        return {
            "sha": hashlib.sha1(name.encode()).hexdigest(),
            "status": "modified",
            "additions": 1,
            "deletions": 0,
            "changes": 1,
            "blob_url": blob_url,
            "raw_url": blob_url.replace("/blob/", "/raw/", 1),
            "contents_url": self._repo_api(repo, "contents", quote(name)),
            "patch": "",
            **item,
        }

    def _commit_json(self, repo: Repo, sha: str) -> dict[str, Any]:
        # A fixed date keeps a commit's ETag stable between requests.
        date = "2020-01-01T00:00:00Z"
        person = {"name": "Author", "email": "author@example.com", "date": date}
        message = repo.commit_messages.get(sha, f"Commit {sha[:7]}")
        tree = repo.commit_trees.get(sha, sha)
        return {
            "sha": sha,
            "node_id": _node_id("C", repo.id),
            "url": self._repo_api(repo, "commits", sha),
            "html_url": f"{WEB_URL}/{repo.full_name}/commit/{sha}",
            "commit": {
                "message": message,
                "author": person,
                "committer": person,
                "tree": {"sha": tree, "url": self._repo_api(repo, "git/trees", tree)},
                "url": self._repo_api(repo, "git/commits", sha),
            },
            "author": None,
            "committer": None,
            "parents": [],
            "files": [],
        }

    def _comment_json(self, repo: Repo, comment: Comment) -> dict[str, Any]:
        issue_path = f"{repo.full_name}/issues/{comment.issue_number}"
        return {
            "id": comment.id,
            "node_id": _node_id("IC", comment.id),
            "url": self._repo_api(repo, "issues/comments", str(comment.id)),
            "html_url": f"{WEB_URL}/{issue_path}#issuecomment-{comment.id}",
            "issue_url": self._api("repos", issue_path),
            "body": comment.body,
            "user": self._user_json(comment.author),
            "author_association": self._association(repo, comment.author),
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
        }

    def _review_comment_json(self, repo: Repo, comment: ReviewComment) -> dict:
        pull_path = f"{repo.full_name}/pull/{comment.pull_number}"
        return {
            "id": comment.id,
            "node_id": _node_id("PRRC", comment.id),
            "url": self._repo_api(repo, "pulls/comments", str(comment.id)),
            "html_url": f"{WEB_URL}/{pull_path}#discussion_r{comment.id}",
            "pull_request_url": self._api(
                "repos", pull_path.replace("/pull/", "/pulls/")
            ),
            "body": comment.body,
            "path": comment.path,
            "line": comment.line,
            "side": "RIGHT",
            "commit_id": comment.commit_id,
            "original_commit_id": comment.commit_id,
            "user": self._user_json(comment.author),
            "author_association": self._association(repo, comment.author),
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
        }

    def _reaction_json(self, reaction: Reaction) -> dict[str, Any]:
        return {
            "id": reaction.id,
            "node_id": _node_id("RE", reaction.id),
            "user": self._user_json(reaction.user),
            "content": reaction.content,
            "created_at": reaction.created_at,
        }

    def _review_json(self, repo: Repo, pull: Pull, review: Review) -> dict:
        pull_path = f"{repo.full_name}/pull/{pull.number}"
        return {
            "id": review.id,
            "node_id": _node_id("PRR", review.id),
            "user": self._user_json(review.author),
            "body": review.body,
            "state": review.state,
            "commit_id": review.commit_id,
            "submitted_at": review.submitted_at,
            "html_url": f"{WEB_URL}/{pull_path}#pullrequestreview-{review.id}",
            "pull_request_url": self._repo_api(repo, "pulls", str(pull.number)),
            "author_association": self._association(repo, review.author),
        }

    def _status_json(self, repo: Repo, status: Status) -> dict[str, Any]:
        return {
            "id": status.id,
            "node_id": _node_id("S", status.id),
            "url": self._repo_api(repo, "statuses", status.sha),
            "state": status.state,
            "context": status.context,
            "description": status.description,
            "target_url": status.target_url,
            "creator": self._user_json(status.creator),
            "created_at": status.created_at,
            "updated_at": status.created_at,
        }

    def _team_json(self, team: Team) -> dict[str, Any]:
        url = self._api("teams", str(team.id))
        return {
            "id": team.id,
            "node_id": _node_id("T", team.id),
            "url": url,
            "html_url": f"{WEB_URL}/orgs/{team.org}/teams/{team.slug}",
            "name": team.name,
            "slug": team.slug,
            "privacy": "closed",
            "permission": {"read": "pull", "write": "push"}.get(
                team.permission, team.permission
            ),
            "members_url": f"{url}/members{{/member}}",
            "repositories_url": f"{url}/repos",
            "organization": self._org_json(self._orgs[team.org]),
        }

    def _branch_json(self, repo: Repo, name: str) -> dict[str, Any]:
        sha = repo.branches[name]
        return {
            "name": name,
            "commit": {"sha": sha, "url": self._repo_api(repo, "commits", sha)},
            "protected": name in repo.protected,
        }

    def _ref_json(self, repo: Repo, name: str) -> dict[str, Any]:
        sha = repo.branches[name]
        commit_url = self._repo_api(repo, "git/commits", sha)
        return {
            "ref": f"refs/heads/{name}",
            "node_id": _node_id("REF", repo.id),
            "url": self._repo_api(repo, "git/refs/heads", quote(name)),
            "object": {"sha": sha, "type": "commit", "url": commit_url},
        }

    def _content_json(
        self, repo: Repo, path: str, ref: str, data: bytes | None
    ) -> dict[str, Any]:
        """A file entry when ``data`` is given, otherwise a directory entry."""
        blob = data if data is not None else path.encode()
        sha = hashlib.sha1(b"blob %d\0" % len(blob) + blob).hexdigest()
        url = f"{self._repo_api(repo, 'contents', quote(path))}?ref={quote(ref)}"
        kind, view = ("file", "blob") if data is not None else ("dir", "tree")
        entry = {
            "type": kind,
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            "size": len(data or b""),
            "url": url,
            "git_url": self._repo_api(repo, "git/blobs", sha),
            "html_url": f"{WEB_URL}/{repo.full_name}/{view}/{ref}/{path}",
            "download_url": None,
        }
        if data is not None:
            entry.update(encoding="base64", content=base64.encodebytes(data).decode())
        return entry

    def _collaborator_json(self, repo: Repo, login: str) -> dict[str, Any]:
        role = self._role_of(repo, login)
        user = self._user_json(login)
        return {**user, "permissions": _permissions(role), "role_name": role}

    # ========================================================== handlers: users

    @route("GET", "/user")
    @route("GET", "/api/v3/user")  # GitHub Enterprise serves the API there
    def _get_authenticated_user(self, req: Req) -> Any:
        return self._get_user(req, self.authenticated_user)

    @route("GET", "/users/{login}")
    def _get_user(self, req: Req, login: str) -> Any:
        _found(self._users.get(login))
        return {**self._user_json(login), "name": login, "email": None}

    @route("GET", "/rate_limit")
    def _get_rate_limit(self, req: Req) -> Any:
        core = {
            "limit": self._rate_limit,
            "remaining": self.rate_limit_remaining,
            "reset": self._rate_reset,
            "used": self._rate_limit - self.rate_limit_remaining,
        }
        search = {"limit": 30, "remaining": 30, "reset": self._rate_reset, "used": 0}
        graphql = {
            **core,
            "remaining": self.graphql_remaining,
            "used": self._rate_limit - self.graphql_remaining,
        }
        resources = {"core": core, "search": search, "graphql": graphql}
        return {"resources": resources, "rate": core}

    # ================================================= handlers: orgs and teams

    @route("GET", "/orgs/{org}")
    def _get_org(self, req: Req, org: Org) -> Any:
        return self._org_json(org)

    @route("GET", "/orgs/{org}/members")
    def _list_members(self, req: Req, org: Org) -> Any:
        return self._page(req, sorted(org.members), self._user_json)

    @route("GET", "/orgs/{org}/members/{login}")
    def _check_member(self, req: Req, org: Org, login: str) -> Any:
        return _presence(login in org.members)

    @route("GET", "/orgs/{org}/teams")
    def _list_teams(self, req: Req, org: Org) -> Any:
        return self._page(req, list(org.teams.values()), self._team_json)

    @route("GET", "/orgs/{org}/teams/{slug}")
    @route("GET", "/teams/{team_id:int}")
    def _get_team(self, req: Req, team: Team) -> Any:
        return self._team_json(team)

    @route("GET", "/orgs/{org}/teams/{slug}/members")
    @route("GET", "/teams/{team_id:int}/members")
    def _list_team_members(self, req: Req, team: Team) -> Any:
        return self._page(req, team.members, self._user_json)

    @route("GET", "/orgs/{org}/teams/{slug}/members/{login}")
    @route("GET", "/teams/{team_id:int}/members/{login}")
    def _check_team_member(self, req: Req, team: Team, login: str) -> Any:
        return _presence(login in team.members)

    @route("GET", "/orgs/{org}/teams/{slug}/memberships/{login}")
    @route("GET", "/teams/{team_id:int}/memberships/{login}")
    def _get_team_membership(self, req: Req, team: Team, login: str) -> Any:
        if login in team.members:
            state = "active"
        elif login in team.pending:
            state = "pending"
        else:
            raise _not_found()
        url = self._api("teams", str(team.id), "memberships", login)
        return {"url": url, "role": "member", "state": state}

    # ==================================================== handlers: repositories

    @route("GET", "/repos/{org}/{repo}")
    def _get_repo(self, req: Req, repo: Repo) -> Any:
        return self._repo_json(repo)

    @route("GET", "/repos/{org}/{repo}/branches")
    def _list_branches(self, req: Req, repo: Repo) -> Any:
        return self._page(req, sorted(repo.branches), partial(self._branch_json, repo))

    # Before the branch itself, whose {branch:path} would take this path too.
    @route(
        "GET",
        "/repos/{org}/{repo}/branches/{branch:path}/protection/required_status_checks",
    )
    def _get_required_status_checks(self, req: Req, repo: Repo, branch: str) -> Any:
        if branch not in repo.branches:
            raise ApiError(404, "Branch not found")
        if branch not in repo.protected:
            raise ApiError(404, "Branch not protected")
        contexts = repo.required_contexts.get(branch, [])
        url = self._repo_api(repo, "branches", quote(branch, safe=""), "protection")
        return {
            "url": f"{url}/required_status_checks",
            "strict": False,
            "contexts": contexts,
            "checks": [{"context": name, "app_id": None} for name in contexts],
            "contexts_url": f"{url}/required_status_checks/contexts",
        }

    @route("GET", "/repos/{org}/{repo}/branches/{branch:path}")
    def _get_branch(self, req: Req, repo: Repo, branch: str) -> Any:
        if branch not in repo.branches:
            raise ApiError(404, "Branch not found")
        return self._branch_json(repo, branch)

    @route("GET", "/repos/{org}/{repo}/git/refs/heads/{branch:path}")
    @route("GET", "/repos/{org}/{repo}/git/ref/heads/{branch:path}")
    def _get_ref(self, req: Req, repo: Repo, branch: str) -> Any:
        if branch not in repo.branches:
            raise _not_found()
        return self._ref_json(repo, branch)

    @route("DELETE", "/repos/{org}/{repo}/git/refs/heads/{branch:path}")
    def _delete_ref(self, req: Req, repo: Repo, branch: str) -> Any:
        if branch not in repo.branches:
            raise ApiError(422, "Reference does not exist")
        if branch in repo.protected:
            raise ApiError(422, "Cannot delete this protected branch")
        if branch == repo.default_branch:
            raise ApiError(422, "Cannot delete the default branch")
        del repo.branches[branch]
        return Reply(204)

    @route("GET", "/repos/{org}/{repo}/collaborators")
    def _list_collaborators(self, req: Req, repo: Repo) -> Any:
        logins = sorted(u for u in self._users if self._role_of(repo, u) != "none")
        return self._page(req, logins, partial(self._collaborator_json, repo))

    @route("GET", "/repos/{org}/{repo}/collaborators/{login}")
    def _check_collaborator(self, req: Req, repo: Repo, login: str) -> Any:
        return _presence(self._role_of(repo, login) != "none")

    @route("GET", "/repos/{org}/{repo}/collaborators/{login}/permission")
    def _get_permission(self, req: Req, repo: Repo, login: str) -> Any:
        _found(self._users.get(login))
        role = self._role_of(repo, login)
        if role == "none" and not repo.private:
            role = "read"  # anyone may read a public repo
        return {
            "permission": LEGACY_PERMISSION.get(role, role),
            "role_name": role,
            "user": self._collaborator_json(repo, login),
        }

    @route("GET", "/repos/{org}/{repo}/assignees/{login}")
    def _check_assignee(self, req: Req, repo: Repo, login: str) -> Any:
        return _presence(self._is_assignable(repo, login))

    @route("GET", "/repos/{org}/{repo}/contents")
    @route("GET", "/repos/{org}/{repo}/contents/{path:path}")
    def _get_contents(self, req: Req, repo: Repo, path: str = "") -> Any:
        ref = req.query.get("ref") or repo.default_branch
        tree = self._tree(repo, ref)
        path = path.strip("/")
        if path in tree:
            return self._content_json(repo, path, ref, tree[path])
        prefix = f"{path}/" if path else ""
        # A directory is any prefix of stored paths; list its direct children.
        children = {
            prefix + name[len(prefix) :].split("/", 1)[0]
            for name in tree
            if name.startswith(prefix)
        }
        if not children:
            raise _not_found()
        return [
            self._content_json(repo, child, ref, tree.get(child))
            for child in sorted(children)
        ]

    @route("GET", "/repos/{org}/{repo}/git/trees/{ref:path}")
    def _get_tree(self, req: Req, repo: Repo, ref: str) -> Any:
        """Only the recursive listing's files (blobs); directories are left
        out, which callers listing files do not read."""
        tree = self._tree(repo, ref)
        if not tree:
            raise _not_found()
        entries = [
            {
                "path": path,
                "mode": "100644",
                "type": "blob",
                "sha": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(),
                "size": len(data),
            }
            for path, data in sorted(tree.items())
        ]
        return {"sha": ref, "tree": entries, "truncated": False}

    # ================================================== handlers: commits/status

    @route("GET", "/repos/{org}/{repo}/commits/{ref}")
    def _get_commit(self, req: Req, repo: Repo, ref: str) -> Any:
        sha = repo.branches.get(ref, ref)
        if not re.fullmatch(r"[0-9a-f]{4,40}", sha):
            raise ApiError(422, f"No commit found for SHA: {ref}")
        return self._commit_json(repo, sha)

    @route("POST", "/repos/{org}/{repo}/statuses/{sha}")
    def _create_status(self, req: Req, repo: Repo, sha: str) -> Any:
        status = self._new_status(repo, sha, _fields(req), self.authenticated_user)
        return Reply(201, self._status_json(repo, status))

    @route("GET", "/repos/{org}/{repo}/commits/{ref}/statuses")
    @route("GET", "/repos/{org}/{repo}/statuses/{ref}")
    def _list_statuses(self, req: Req, repo: Repo, ref: str) -> Any:
        statuses = _statuses_newest_first(repo, ref)
        return self._page(req, statuses, partial(self._status_json, repo))

    @route("GET", "/repos/{org}/{repo}/commits/{ref}/status")
    def _get_combined_status(self, req: Req, repo: Repo, ref: str) -> Any:
        latest: dict[str, Status] = {}
        for status in _statuses_newest_first(repo, ref):
            latest.setdefault(status.context, status)
        statuses = sorted(latest.values(), key=lambda status: status.id)
        sha = repo.branches.get(ref, ref)
        # The summary covers every context; the list is paginated like any
        # other (30 a page unless per_page asks for up to 100).
        return self._page(
            req,
            statuses,
            partial(self._status_json, repo),
            wrap=lambda page: {
                "state": _combined_state(statuses),
                "statuses": page,
                "sha": sha,
                "total_count": len(statuses),
                "repository": self._repo_json(repo),
                "commit_url": self._repo_api(repo, "commits", sha),
                "url": self._repo_api(repo, "commits", sha, "status"),
            },
        )

    # ========================================================= handlers: labels

    @route("GET", "/repos/{org}/{repo}/labels")
    def _list_labels(self, req: Req, repo: Repo) -> Any:
        names = [label.name for label in repo.labels.values()]
        return self._page(req, names, partial(self._label_json, repo))

    @route("GET", "/repos/{org}/{repo}/labels/{name:path}")
    def _get_label(self, req: Req, repo: Repo, name: str) -> Any:
        _found(repo.labels.get(name.lower()))
        return self._label_json(repo, name)

    @route("POST", "/repos/{org}/{repo}/labels")
    def _create_label(self, req: Req, repo: Repo) -> Any:
        fields = _fields(req)
        name = fields.get("name")
        if not name:
            raise _validation_error("Label", "name", "missing_field")
        if name.lower() in repo.labels:
            raise _validation_error("Label", "name", "already_exists")
        label = self._ensure_label(repo, name, fields.get("color") or "ededed")
        label.description = fields.get("description") or ""
        return Reply(201, self._label_json(repo, name))

    @route("GET", "/repos/{org}/{repo}/issues/{number:int}/labels")
    def _list_issue_labels(self, req: Req, repo: Repo, issue: Issue) -> Any:
        return self._page(req, issue.labels, partial(self._label_json, repo))

    @route("POST", "/repos/{org}/{repo}/issues/{number:int}/labels")
    def _add_issue_labels(self, req: Req, repo: Repo, issue: Issue) -> Any:
        names = _label_names(req.body)
        present = {name.lower() for name in issue.labels}
        self._add_labels(repo, issue, names)
        for name in names:
            if name.lower() not in present:
                stored = self._ensure_label(repo, name).name
                self._label_event(issue, "labeled", self.authenticated_user, stored)
        return [self._label_json(repo, name) for name in issue.labels]

    @route("PUT", "/repos/{org}/{repo}/issues/{number:int}/labels")
    def _set_issue_labels(self, req: Req, repo: Repo, issue: Issue) -> Any:
        issue.labels.clear()
        return self._add_issue_labels(req, repo, issue)

    @route("DELETE", "/repos/{org}/{repo}/issues/{number:int}/labels/{name:path}")
    def _remove_issue_label(self, req: Req, repo: Repo, issue: Issue, name: str):
        remaining = [label for label in issue.labels if label.lower() != name.lower()]
        if len(remaining) == len(issue.labels):
            raise ApiError(404, "Label does not exist")
        issue.labels[:] = remaining
        issue.updated_at = _now()
        self._label_event(issue, "unlabeled", self.authenticated_user, name)
        return [self._label_json(repo, label) for label in issue.labels]

    @route("GET", "/repos/{org}/{repo}/issues/{number:int}/events")
    def _list_issue_events(self, req: Req, repo: Repo, issue: Issue) -> Any:
        def render(event: IssueEvent) -> dict[str, Any]:
            data = {
                "id": event.id,
                "node_id": _node_id("LE", event.id),
                "event": event.event,
                "actor": self._user_json(event.actor),
                "created_at": event.created_at,
            }
            if event.label:
                data["label"] = {"name": event.label, "color": "ededed"}
            return data

        return self._page(req, issue.events, render)

    @route("GET", "/repos/{org}/{repo}/milestones")
    def _list_milestones(self, req: Req, repo: Repo) -> Any:
        wanted = req.query.get("state", "open")
        milestones = [
            milestone
            for milestone in repo.milestones.values()
            if wanted in ("all", milestone.state)
        ]
        return self._page(req, milestones, partial(self._milestone_json, repo))

    @route("GET", "/repos/{org}/{repo}/milestones/{milestone:int}")
    def _get_milestone(self, req: Req, repo: Repo, milestone: str) -> Any:
        found = _found(repo.milestones.get(int(milestone)))
        return self._milestone_json(repo, found)

    # ========================================================= handlers: issues

    @route("GET", "/repos/{org}/{repo}/issues")
    def _list_issues(self, req: Req, repo: Repo) -> Any:
        query = req.query
        wanted_labels = {n.lower() for n in query.get("labels", "").split(",") if n}
        issues = [
            issue
            for issue in sorted(repo.issues.values(), key=lambda i: -i.number)
            if query.get("state", "open") in ("all", issue.state)
            and wanted_labels <= {name.lower() for name in issue.labels}
            and query.get("creator", issue.author) == issue.author
        ]
        return self._page(req, issues, partial(self._issue_json, repo))

    @route("GET", "/repos/{org}/{repo}/issues/{number:int}")
    def _get_issue(self, req: Req, repo: Repo, issue: Issue) -> Any:
        return self._issue_json(repo, issue)

    @route("POST", "/repos/{org}/{repo}/issues")
    def _create_issue(self, req: Req, repo: Repo) -> Any:
        fields = _fields(req)
        if not fields.get("title"):
            raise _validation_error("Issue", "title", "missing_field")
        number = self._next_number(repo)
        issue = Issue(number, next(self._ids), self.authenticated_user, "")
        self._apply_issue_fields(repo, issue, fields)
        self._store_issue(repo, issue, ())
        return Reply(201, self._issue_json(repo, issue))

    @route("PATCH", "/repos/{org}/{repo}/issues/{number:int}")
    def _update_issue(self, req: Req, repo: Repo, issue: Issue) -> Any:
        self._apply_issue_fields(repo, issue, _fields(req))
        return self._issue_json(repo, issue)

    def _apply_issue_fields(
        self, repo: Repo, issue: Issue, fields: dict[str, Any]
    ) -> None:
        issue.title = fields.get("title") or issue.title
        issue.body = fields.get("body", issue.body) or ""
        if "state" in fields:
            _set_state(issue, fields["state"])
            _set_state_reason(issue, fields.get("state_reason"))
        if "labels" in fields:
            issue.labels.clear()
            self._add_labels(repo, issue, _label_names(fields))
        if "assignees" in fields:
            wanted = fields["assignees"] or []
            issue.assignees = [u for u in wanted if self._is_assignable(repo, u)]
        if "milestone" in fields:
            milestone = fields["milestone"]
            if milestone is not None and milestone not in repo.milestones:
                raise _validation_error("Issue", "milestone", "invalid")
            issue.milestone = milestone
        issue.updated_at = _now()

    @route("POST", "/repos/{org}/{repo}/issues/{number:int}/assignees")
    def _add_assignees(self, req: Req, repo: Repo, issue: Issue) -> Any:
        # GitHub silently drops users who cannot be assigned; callers diff the reply.
        for login in _fields(req).get("assignees", []):
            if self._is_assignable(repo, login) and login not in issue.assignees:
                issue.assignees.append(login)
        return Reply(201, self._issue_json(repo, issue))

    @route("DELETE", "/repos/{org}/{repo}/issues/{number:int}/assignees")
    def _remove_assignees(self, req: Req, repo: Repo, issue: Issue) -> Any:
        removed = set(_fields(req).get("assignees", []))
        issue.assignees = [login for login in issue.assignees if login not in removed]
        return self._issue_json(repo, issue)

    @route("POST", "/repos/{org}/{repo}/issues/{number:int}/reactions")
    def _react_to_issue(self, req: Req, repo: Repo, issue: Issue) -> Any:
        return self._react(issue.reactions, _fields(req))

    @route("POST", "/repos/{org}/{repo}/issues/comments/{comment_id:int}/reactions")
    def _react_to_comment(self, req: Req, repo: Repo, comment: Comment) -> Any:
        return self._react(comment.reactions, _fields(req))

    @route(
        "POST",
        "/repos/{org}/{repo}/pulls/comments/{review_comment_id:int}/reactions",
    )
    def _react_to_review_comment(
        self, req: Req, repo: Repo, comment: ReviewComment
    ) -> Any:
        return self._react(comment.reactions, _fields(req))

    def _react(self, reactions: list[Reaction], fields: dict[str, Any]) -> Reply:
        content = fields.get("content")
        if content not in REACTIONS:
            raise _validation_error("Reaction", "content", "invalid")
        for reaction in reactions:
            if (reaction.user, reaction.content) == (self.authenticated_user, content):
                return Reply(200, self._reaction_json(reaction))
        reaction = Reaction(next(self._ids), self.authenticated_user, content)
        reactions.append(reaction)
        return Reply(201, self._reaction_json(reaction))

    # ======================================================= handlers: comments

    @route("GET", "/repos/{org}/{repo}/issues/{number:int}/comments")
    def _list_comments(self, req: Req, repo: Repo, issue: Issue) -> Any:
        comments = self.comments(repo.org, repo.name, issue.number)
        return self._page(req, comments, partial(self._comment_json, repo))

    @route("POST", "/repos/{org}/{repo}/issues/{number:int}/comments")
    def _create_comment(self, req: Req, repo: Repo, issue: Issue) -> Any:
        body = _required_body(req)
        comment = self._new_comment(repo, issue.number, self.authenticated_user, body)
        return Reply(201, self._comment_json(repo, comment))

    @route("GET", "/repos/{org}/{repo}/issues/comments/{comment_id:int}")
    def _get_comment(self, req: Req, repo: Repo, comment: Comment) -> Any:
        return self._comment_json(repo, comment)

    @route("PATCH", "/repos/{org}/{repo}/issues/comments/{comment_id:int}")
    def _edit_comment(self, req: Req, repo: Repo, comment: Comment) -> Any:
        comment.body = _required_body(req)
        comment.updated_at = _now()
        return self._comment_json(repo, comment)

    @route("DELETE", "/repos/{org}/{repo}/issues/comments/{comment_id:int}")
    def _delete_comment(self, req: Req, repo: Repo, comment: Comment) -> Any:
        del repo.comments[comment.id]
        return Reply(204)

    # ========================================================== handlers: pulls

    @route("GET", "/repos/{org}/{repo}/pulls")
    def _list_pulls(self, req: Req, repo: Repo) -> Any:
        query = req.query
        pulls = [
            pull
            for pull in sorted(repo.issues.values(), key=lambda i: -i.number)
            if isinstance(pull, Pull)
            and query.get("state", "open") in ("all", pull.state)
            and query.get("base", pull.base_ref) == pull.base_ref
            and query.get("head", f"{repo.org}:{pull.head_ref}")
            == f"{repo.org}:{pull.head_ref}"
        ]
        return self._page(req, pulls, partial(self._pull_listed_json, repo))

    @route("GET", "/repos/{org}/{repo}/pulls/{pull:int}")
    def _get_pull(self, req: Req, repo: Repo, pull: Pull) -> Any:
        return self._pull_json(repo, pull)

    @route("GET", "/repos/{org}/{repo}/pulls/{pull:int}/files")
    def _list_pull_files(self, req: Req, repo: Repo, pull: Pull) -> Any:
        return self._page(req, pull.files, partial(self._file_json, repo, pull))

    @route("GET", "/repos/{org}/{repo}/pulls/{pull:int}/commits")
    def _list_pull_commits(self, req: Req, repo: Repo, pull: Pull) -> Any:
        return self._page(req, pull.commits, partial(self._commit_json, repo))

    @route("GET", "/repos/{org}/{repo}/pulls/{pull:int}/reviews")
    def _list_reviews(self, req: Req, repo: Repo, pull: Pull) -> Any:
        return self._page(req, pull.reviews, partial(self._review_json, repo, pull))

    @route("GET", "/repos/{org}/{repo}/pulls/{pull:int}/requested_reviewers")
    def _list_requested_reviewers(self, req: Req, repo: Repo, pull: Pull) -> Any:
        teams = [self._team(repo.org, slug) for slug in pull.requested_teams]
        return {
            "users": self._users_json(pull.requested_reviewers),
            "teams": [self._team_json(team) for team in teams],
        }

    @route("POST", "/repos/{org}/{repo}/pulls/{pull:int}/requested_reviewers")
    def _request_reviewers(self, req: Req, repo: Repo, pull: Pull) -> Any:
        fields = _fields(req)
        for login in fields.get("reviewers", []):
            if login == pull.author:
                message = "Review cannot be requested from pull request author."
                raise ApiError(422, message)
            if not self._is_assignable(repo, login):
                message = "Reviews may only be requested from collaborators."
                raise ApiError(422, message)
            if login not in pull.requested_reviewers:
                pull.requested_reviewers.append(login)
        for slug in fields.get("team_reviewers", []):
            if self._team(repo.org, slug) and slug not in pull.requested_teams:
                pull.requested_teams.append(slug)
        return Reply(201, self._pull_json(repo, pull))

    @route("DELETE", "/repos/{org}/{repo}/pulls/{pull:int}/requested_reviewers")
    def _unrequest_reviewers(self, req: Req, repo: Repo, pull: Pull) -> Any:
        fields = _fields(req)
        users = set(fields.get("reviewers", []))
        teams = set(fields.get("team_reviewers", []))
        pull.requested_reviewers = [
            u for u in pull.requested_reviewers if u not in users
        ]
        pull.requested_teams = [t for t in pull.requested_teams if t not in teams]
        return self._pull_json(repo, pull)

    @route("GET", "/repos/{org}/{repo}/pulls/{pull:int}/comments")
    def _list_review_comments(self, req: Req, repo: Repo, pull: Pull) -> Any:
        comments = self.review_comments(repo.org, repo.name, pull.number)
        return self._page(req, comments, partial(self._review_comment_json, repo))

    @route("GET", "/repos/{org}/{repo}/pulls/comments/{review_comment_id:int}")
    def _get_review_comment(self, req: Req, repo: Repo, comment: ReviewComment):
        return self._review_comment_json(repo, comment)

    @route("PUT", "/repos/{org}/{repo}/pulls/{pull:int}/merge")
    def _merge_pull(self, req: Req, repo: Repo, pull: Pull) -> Any:
        fields = _fields(req)
        method = fields.get("merge_method", "merge")
        if method not in MERGE_METHODS:
            raise _validation_error("PullRequest", "merge_method", "invalid")
        if pull.state != "open" or pull.draft or pull.mergeable is False:
            raise ApiError(405, "Pull Request is not mergeable")
        if fields.get("sha") and fields["sha"] != pull.head_sha:
            message = "Head branch was modified. Review and try the merge again."
            raise ApiError(409, message)
        sha = self._new_sha()
        title = fields.get("commit_title") or f"Merge pull request #{pull.number}"
        parts = (title, fields.get("commit_message"))
        repo.commit_messages[sha] = "\n\n".join(part for part in parts if part)
        # Merging moves the base branch, which is what a merge bot observes next.
        repo.branches[pull.base_ref] = sha
        pull.merged, pull.merge_method, pull.merge_commit_sha = True, method, sha
        pull.merged_by, pull.state = self.authenticated_user, "closed"
        pull.merged_at = pull.closed_at = pull.updated_at = _now()
        return {
            "sha": sha,
            "merged": True,
            "message": "Pull Request successfully merged",
        }

    # =========================================================== handlers: apps

    def _installation_json(self, installation: Installation) -> dict[str, Any]:
        account = self._users[installation.account]
        access_tokens_url = self._api(
            "app", "installations", str(installation.id), "access_tokens"
        )
        return {
            "id": installation.id,
            "app_id": self.app.id,
            "app_slug": self.app.slug,
            "target_id": account.id,
            "target_type": account.type,
            "account": self._user_json(installation.account),
            "access_tokens_url": access_tokens_url,
            "repositories_url": self._api("installation", "repositories"),
            "html_url": f"{WEB_URL}/settings/installations/{installation.id}",
            "repository_selection": "all",
            "permissions": {"issues": "write", "pull_requests": "write"},
            "events": [],
            "created_at": installation.created_at,
            "updated_at": installation.created_at,
        }

    def _installation_of(self, account: str) -> Installation:
        return _found(self._installations.get(account))

    @route("GET", "/app")
    def _get_app(self, req: Req) -> Any:
        self._ensure_user(self.app.owner)
        return {
            "id": self.app.id,
            "slug": self.app.slug,
            "node_id": _node_id("A", self.app.id),
            "name": self.app.name,
            "owner": self._user_json(self.app.owner),
            "description": "",
            "external_url": f"{WEB_URL}/apps/{self.app.slug}",
            "html_url": f"{WEB_URL}/apps/{self.app.slug}",
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2020-01-01T00:00:00Z",
            "permissions": {"issues": "write", "pull_requests": "write"},
            "events": [],
        }

    @route("GET", "/app/installations")
    def _list_installations(self, req: Req) -> Any:
        installations = list(self._installations.values())
        return self._page(req, installations, self._installation_json)

    @route("GET", "/app/installations/{installation_id:int}")
    def _get_installation(self, req: Req, installation_id: str) -> Any:
        account = self._installation_account(int(installation_id))
        return self._installation_json(self._installations[account])

    @route("GET", "/orgs/{org}/installation")
    def _get_org_installation(self, req: Req, org: Org) -> Any:
        return self._installation_json(self._installation_of(org.login))

    @route("GET", "/users/{login}/installation")
    def _get_user_installation(self, req: Req, login: str) -> Any:
        return self._installation_json(self._installation_of(login))

    @route("GET", "/repos/{org}/{repo}/installation")
    def _get_repo_installation(self, req: Req, repo: Repo) -> Any:
        return self._installation_json(self._installation_of(repo.org))

    @route("POST", "/app/installations/{installation_id:int}/access_tokens")
    def _create_installation_token(self, req: Req, installation_id: str) -> Any:
        installation_id = int(installation_id)
        self._installation_account(installation_id)
        serial = str(next(self._ids)).encode()
        token = (
            "ghs_" + hashlib.sha256(b"installation-token:" + serial).hexdigest()[:36]
        )
        expires_at = time.time() + self.installation_token_ttl
        issued = InstallationToken(
            token, installation_id, expires_at, dict(req.jwt_claims or {})
        )
        self._installation_tokens[token] = issued
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at))
        permissions = _fields(req).get("permissions") or {
            "issues": "write",
            "pull_requests": "write",
        }
        return Reply(
            201,
            {
                "token": token,
                "expires_at": expires,
                "permissions": permissions,
                "repository_selection": "all",
            },
        )

    # ============================================== handlers: OAuth web flow

    @route("GET", "/login/oauth/authorize")
    def _oauth_authorize(self, req: Req) -> Any:
        """The page a browser is sent to: the signed-in user approves (or
        cancels) and GitHub sends the browser back with a code."""
        app = _found(self._oauth_apps.get(req.query.get("client_id", "")))
        state = req.query.get("state")
        redirect_uri = req.query.get("redirect_uri") or app.callback_url
        if not redirect_uri:
            raise ApiError(400, "redirect_uri is required: the app has no callback URL")
        if not _under_callback(app.callback_url, redirect_uri):
            # GitHub reports a bad redirect_uri at the app's own callback URL.
            return _redirect(
                app.callback_url,
                error="redirect_uri_mismatch",
                error_description="The redirect_uri MUST match the registered "
                "callback URL for this application.",
                error_uri=OAUTH_DOCS_URL,
                state=state,
            )
        if self.oauth_login is None:
            raise ApiError(401, "Nobody is signed in to GitHub: call authorize_as()")
        if not self.oauth_approves:
            return _redirect(
                redirect_uri,
                error="access_denied",
                error_description="The user has denied your application access.",
                error_uri=OAUTH_DOCS_URL,
                state=state,
            )
        serial = str(next(self._ids)).encode()
        code = hashlib.sha256(b"oauth-code:" + serial).hexdigest()[:20]
        self._oauth_grants[code] = OAuthGrant(
            code=code,
            client_id=app.client_id,
            login=self.oauth_login,
            redirect_uri=redirect_uri,
            # Asked for space-separated; GitHub reports scopes comma-separated.
            scope=",".join(re.split(r"[\s,]+", req.query.get("scope", "").strip())),
            expires_at=time.time() + OAUTH_CODE_TTL,
        )
        return _redirect(redirect_uri, code=code, state=state)

    @route("POST", "/login/oauth/access_token")
    def _oauth_access_token(self, req: Req) -> Any:
        """Trade a code for a user token: the app's secret, and each code
        once. Like GitHub, refusals are 200s carrying an ``error``."""
        params = {**req.query, **{k: str(v) for k, v in _fields(req).items()}}
        app = self._oauth_apps.get(params.get("client_id", ""))
        if app is None or params.get("client_secret") != app.client_secret:
            return _oauth_answer(
                req,
                error="incorrect_client_credentials",
                error_description="The client_id and/or client_secret passed "
                "are incorrect.",
                error_uri=OAUTH_DOCS_URL,
            )
        grant = self._oauth_grants.get(params.get("code", ""))
        if (
            grant is None
            or grant.used
            or grant.client_id != app.client_id
            or grant.expires_at <= time.time()
        ):
            return _oauth_answer(
                req,
                error="bad_verification_code",
                error_description="The code passed is incorrect or expired.",
                error_uri=OAUTH_DOCS_URL,
            )
        if params.get("redirect_uri", grant.redirect_uri) != grant.redirect_uri:
            return _oauth_answer(
                req,
                error="redirect_uri_mismatch",
                error_description="The redirect_uri MUST match the registered "
                "callback URL for this application.",
                error_uri=OAUTH_DOCS_URL,
            )
        grant.used = True
        serial = str(next(self._ids)).encode()
        token = "gho_" + hashlib.sha256(b"oauth-token:" + serial).hexdigest()[:36]
        self._oauth_tokens[token] = OAuthToken(
            token, app.client_id, grant.login, grant.scope
        )
        return _oauth_answer(
            req, access_token=token, scope=grant.scope, token_type="bearer"
        )

    # ======================================================== handlers: GraphQL

    @route("POST", "/graphql")
    @route("POST", "/api/graphql")  # GitHub Enterprise serves GraphQL there
    def _graphql(self, req: Req) -> Any:
        return github_graphql.execute_request(self, req.body)

    # ========================================================= handlers: search

    @route("GET", "/search/issues")
    def _search_issues(self, req: Req) -> Any:
        terms = _parse_search(req.query.get("q", ""))
        if not terms:
            raise _validation_error("Search", "q", "missing")
        for _, key, _ in terms:
            if key not in _SEARCH_MATCHERS and key not in IGNORED_SEARCH_QUALIFIERS:
                raise ApiError(422, f"Unsupported search qualifier {key!r}")
        try:
            found = [
                (repo, issue)
                for repo in self._repos.values()
                for issue in repo.issues.values()
                if _search_matches(repo, issue, terms)
            ]
        except ValueError:  # a date qualifier that is no date
            raise _validation_error("Search", "q", "invalid")
        by_update = req.query.get("sort") == "updated"
        found.sort(
            key=lambda hit: (hit[1].updated_at if by_update else "", hit[1].id),
            reverse=req.query.get("order", "desc") == "desc",
        )
        return self._page(
            req,
            found,
            lambda hit: {**self._issue_json(*hit), "score": 1.0},
            wrap=lambda items: {
                "total_count": len(found),
                "incomplete_results": False,
                "items": items,
            },
        )


# ----------------------------------------------------------------- module helpers


def _found(value: Any) -> Any:
    if value is None:
        raise _not_found()
    return value


def _is_oauth_web(request: RecordedRequest) -> bool:
    return _OAUTH_WEB_PATH.fullmatch(request.path.rstrip("/")) is not None


def _redirect(url: str, **params: str | None) -> Reply:
    """A 302 to ``url`` with ``params`` (None ones left out) added to its query."""
    split = urlsplit(url)
    added = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{split.query}&{added}" if split.query else added
    return Reply(302, headers={"Location": urlunsplit(split._replace(query=query))})


def _under_callback(callback_url: str | None, redirect_uri: str) -> bool:
    """GitHub's rule: same scheme, host and port, and a path at or below the
    callback URL's."""
    if callback_url is None:
        return True
    registered, wanted = urlsplit(callback_url), urlsplit(redirect_uri)
    same_origin = registered[:2] == wanted[:2]
    base = registered.path.rstrip("/")
    below = wanted.path == registered.path or wanted.path.startswith(base + "/")
    return same_origin and below


def _oauth_answer(req: Req, **fields: str) -> Reply:
    """The token endpoint's answer: a form by default, JSON when asked."""
    if "application/json" in req.headers.get("accept", ""):
        return Reply(body=fields)
    payload = urlencode(fields).encode()
    content_type = "application/x-www-form-urlencoded; charset=utf-8"
    return Reply(headers={"Content-Type": content_type}, payload=payload)


def _presence(present: bool) -> Reply:
    """GitHub's answer to "is X in Y" checks: 204 when it is, 404 otherwise."""
    if not present:
        raise _not_found()
    return Reply(204)


def _fields(req: Req) -> dict[str, Any]:
    return req.body if isinstance(req.body, dict) else {}


def _required_body(req: Req) -> str:
    body = _fields(req).get("body")
    if not body:
        raise _validation_error("IssueComment", "body", "missing_field")
    return body


def _label_names(body: Any) -> list[str]:
    """Names from a list, or ``{"labels": [...]}``, of names or label objects."""
    items = (body.get("labels") or []) if isinstance(body, dict) else (body or [])
    return [item["name"] if isinstance(item, dict) else item for item in items]


def _set_state(issue: Issue, state: str) -> None:
    if state not in ("open", "closed"):
        raise _validation_error("Issue", "state", "invalid")
    if isinstance(issue, Pull) and issue.merged and state == "open":
        raise ApiError(422, "Cannot reopen a merged pull request")
    issue.closed_at = _now() if state == "closed" else None
    issue.state = state


def _set_state_reason(issue: Issue, reason: str | None) -> None:
    """GitHub's defaults: closing completes, reopening says so."""
    if isinstance(issue, Pull):
        return  # pull requests have no state_reason
    if reason is not None and reason not in ("completed", "not_planned", "reopened"):
        raise _validation_error("Issue", "state_reason", "invalid")
    if issue.state == "closed":
        issue.state_reason = reason or "completed"
    else:
        issue.state_reason = "reopened"


def _permissions(role: str) -> dict[str, bool]:
    rank = ROLE_RANK[role]
    levels = {"admin": 5, "maintain": 4, "push": 3, "triage": 2, "pull": 1}
    return {name: rank >= level for name, level in levels.items()}


def _mergeable_state(pull: Pull) -> str:
    if pull.draft:
        return "draft"
    if pull.mergeable is None:
        return "unknown"
    return "clean" if pull.mergeable else "dirty"


def _int_param(query: dict[str, str], name: str, default: int) -> int:
    value = query.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else default


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


def _path_matches(wanted: str | re.Pattern[str], path: str) -> bool:
    if isinstance(wanted, re.Pattern):
        return wanted.search(path) is not None
    return wanted == path


def _statuses_newest_first(repo: Repo, ref: str) -> list[Status]:
    sha = repo.branches.get(ref, ref)
    return [status for status in reversed(repo.statuses) if status.sha == sha]


def _combined_state(latest: list[Status]) -> str:
    states = {status.state for status in latest}
    if states & {"error", "failure"}:
        return "failure"
    if not latest or "pending" in states:
        return "pending"
    return "success"


# -------------------------------------------------------------------------- search

# A qualifier's value may join quoted parts with commas (label:"a","b").
_SEARCH_TERM = re.compile(r'(-?)(\w+):((?:"[^"]*"|[^\s"])+)|("[^"]*"|\S+)')


def _parse_search(query: str) -> list[tuple[bool, str, str]]:
    """Split a query into (negated, qualifier, value); free text has no qualifier."""
    return [
        (bool(negated), key.lower(), value.replace('"', "") if key else text.strip('"'))
        for negated, key, value, text in _SEARCH_TERM.findall(query)
    ]


def _search_matches(
    repo: Repo, issue: Issue, terms: list[tuple[bool, str, str]]
) -> bool:
    scopes = [term for term in terms if term[1] in SCOPE_QUALIFIERS and not term[0]]
    if scopes and not any(_search_term(repo, issue, term) for term in scopes):
        return False
    return all(
        _search_term(repo, issue, term) != term[0]
        for term in terms
        if term not in scopes and term[1] not in IGNORED_SEARCH_QUALIFIERS
    )


def _search_term(repo: Repo, issue: Issue, term: tuple[bool, str, str]) -> bool:
    _, key, value = term
    return _SEARCH_MATCHERS[key](repo, issue, value)


def _match_is(repo: Repo, issue: Issue, value: str) -> bool:
    is_pull = isinstance(issue, Pull)
    merged = is_pull and issue.merged
    checks = {
        "pr": is_pull,
        "issue": not is_pull,
        "open": issue.state == "open",
        "closed": issue.state == "closed",
        "merged": merged,
        "unmerged": is_pull and not merged,
        "draft": is_pull and issue.draft,
        "public": not repo.private,
        "private": repo.private,
    }
    return checks.get(value.lower(), False)


def _match_no(repo: Repo, issue: Issue, value: str) -> bool:
    checks = {
        "label": not issue.labels,
        "assignee": not issue.assignees,
        "milestone": issue.milestone is None,
    }
    return checks.get(value.lower(), False)


def _match_milestone(repo: Repo, issue: Issue, value: str) -> bool:
    milestone = repo.milestones.get(issue.milestone or 0)
    return milestone is not None and milestone.title == value


def _has_label(issue: Issue, value: str) -> bool:
    # A comma-separated value matches any of its labels, as on GitHub.
    present = {name.lower() for name in issue.labels}
    return any(name.strip().lower() in present for name in value.split(","))


def _timestamp(value: str) -> float:
    """Seconds since the epoch of a search date: a day, or a moment in ISO
    8601 (UTC when no offset is given)."""
    text = value.strip()
    if len(text) == 10:
        text += "T00:00:00"
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _match_date(stamp: str | None, value: str) -> bool:
    """GitHub's date qualifier forms: >=, >, <=, <, a..b (either side may
    be *) and a bare day or moment; a bare day means all of that day."""
    if not stamp:
        return False
    at = _timestamp(stamp)
    for operator, compare in (
        (">=", float.__ge__),
        ("<=", float.__le__),
        (">", float.__gt__),
        ("<", float.__lt__),
    ):
        if value.startswith(operator):
            return compare(at, _timestamp(value[len(operator) :]))
    low, dots, high = value.partition("..")
    if not dots:
        high = value
    after = low == "*" or at >= _timestamp(low)
    if high == "*":
        before = True
    elif len(high.strip()) == 10:  # a bare day runs to its end
        before = at < _timestamp(high) + 86400
    else:
        before = at <= _timestamp(high)
    return after and before


def _review_states(issue: Issue) -> set[str]:
    """The latest review state of each reviewer; comments decide nothing."""
    latest: dict[str, str] = {}
    for review in _pull_attr(issue, "reviews") or []:
        if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[review.author] = review.state
    return set(latest.values())


def review_decision(issue: Issue) -> str | None:
    """CHANGES_REQUESTED when a reviewer's latest review asks for changes,
    APPROVED when one approves and none asks, else None (the double
    requires no reviews)."""
    states = _review_states(issue)
    if "CHANGES_REQUESTED" in states:
        return "CHANGES_REQUESTED"
    return "APPROVED" if "APPROVED" in states else None


def _match_review(repo: Repo, issue: Issue, value: str) -> bool:
    if not isinstance(issue, Pull):
        return False
    decision = review_decision(issue)
    checks = {
        "approved": decision == "APPROVED",
        "changes_requested": decision == "CHANGES_REQUESTED",
        "none": not issue.reviews,
        "required": decision is None,
    }
    return checks.get(value.lower(), False)


def _pull_attr(issue: Issue, attr: str) -> Any:
    return getattr(issue, attr) if isinstance(issue, Pull) else None


_SEARCH_MATCHERS: dict[str, Callable[[Repo, Issue, str], bool]] = {
    "": lambda repo, issue, v: v.lower() in f"{issue.title}\n{issue.body}".lower(),
    "is": _match_is,
    "type": _match_is,
    "no": _match_no,
    "state": lambda repo, issue, v: issue.state == v.lower(),
    "repo": lambda repo, issue, v: repo.full_name.lower() == v.lower(),
    "org": lambda repo, issue, v: repo.org.lower() == v.lower(),
    "user": lambda repo, issue, v: repo.org.lower() == v.lower(),
    "label": lambda repo, issue, v: _has_label(issue, v),
    "author": lambda repo, issue, v: issue.author.lower() == v.lower(),
    "assignee": lambda repo, issue, v: v in issue.assignees,
    "milestone": _match_milestone,
    "base": lambda repo, issue, v: _pull_attr(issue, "base_ref") == v,
    "head": lambda repo, issue, v: _pull_attr(issue, "head_ref") == v,
    "draft": lambda repo, issue, v: _pull_attr(issue, "draft") == (v == "true"),
    "updated": lambda repo, issue, v: _match_date(issue.updated_at, v),
    "created": lambda repo, issue, v: _match_date(issue.created_at, v),
    "closed": lambda repo, issue, v: _match_date(issue.closed_at, v),
    "merged": lambda repo, issue, v: _match_date(_pull_attr(issue, "merged_at"), v),
    "review": _match_review,
}
