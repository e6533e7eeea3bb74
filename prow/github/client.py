"""The GitHub client every component uses (PyGithub underneath).

Plugins and controllers call these methods rather than PyGithub directly, so
dry mode, error classification, caching and the bot's identity live in one
place, and the test double in tests/fakes/github.py plugs in by URL alone.
"""

import base64
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.cache import cache
from github import Auth, Github, GithubException, GithubIntegration
from github.GithubException import RateLimitExceededException

from prow.github import transport
from prow.github.auth import (
    FileToken,
    InstallationAuth,
    TokenFileMissing,
    app_auth,
)

logger = logging.getLogger(__name__)

BOT_LOGIN_SECONDS = 3600
MEMBERSHIP_SECONDS = 60
TIMEOUT_SECONDS = 15
# GitHub refuses longer status descriptions.
STATUS_DESCRIPTION_LIMIT = 140
# What can go wrong talking to GitHub; anything else is a bug and propagates.
_FAILURES = (
    GithubException,
    transport.RateLimited,
    requests.RequestException,
    TokenFileMissing,
)


class GitHubError(Exception):
    """A GitHub call failed. permanent=False means trying again later may
    work (5xx, rate limit, network), True that it will not (404, 422).
    retry_after, when set, is how long GitHub asked us to wait."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        permanent: bool,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.permanent = permanent
        self.retry_after = retry_after


def _translate(exc: Exception, what: str) -> GitHubError:
    if isinstance(exc, transport.RateLimited):
        return GitHubError(
            f"{what}: {exc}",
            status=exc.status,
            permanent=False,
            retry_after=exc.retry_after,
        )
    if isinstance(exc, GithubException):
        message = ""
        if isinstance(exc.data, dict):
            message = exc.data.get("message", "")
        status = exc.status
        permanent = (
            status is not None
            and 400 <= status < 500
            and status != 429
            and not isinstance(exc, RateLimitExceededException)
        )
        return GitHubError(
            f"{what}: HTTP {status} {message}".strip(),
            status=status,
            permanent=permanent,
        )
    if isinstance(exc, TokenFileMissing):
        # The credential may be mounted again; the call itself was fine.
        return GitHubError(f"{what}: {exc}", permanent=False)
    return GitHubError(f"{what}: {type(exc).__name__}: {exc}", permanent=False)


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


@dataclass(frozen=True)
class ChangedFile:
    filename: str
    status: str
    additions: int
    deletions: int
    changes: int
    previous_filename: str = ""


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

    def _path(self, org: str, repo: str, *parts: str) -> str:
        segments = [quote(str(part), safe="") for part in (org, repo, *parts)]
        return "/repos/" + "/".join(segments)

    def get_pull(self, org: str, repo: str, number: int):
        with _calling(f"GET pull {org}/{repo}#{number}"):
            pull = self._repo(org, repo).get_pull(number)
            pull.complete()
            return pull

    def get_issue(self, org: str, repo: str, number: int):
        with _calling(f"GET issue {org}/{repo}#{number}"):
            issue = self._repo(org, repo).get_issue(number)
            issue.complete()
            return issue

    def pull_changes(self, org: str, repo: str, number: int) -> list[ChangedFile]:
        """Every file a pull request changes (all pages). Cached per head SHA
        by callers, since the list only changes with a new push."""
        with _calling(f"GET files of {org}/{repo}#{number}"):
            return [
                ChangedFile(
                    f.filename,
                    f.status,
                    f.additions,
                    f.deletions,
                    f.changes,
                    f.previous_filename or "",
                )
                for f in self._repo(org, repo).get_pull(number).get_files()
            ]

    def branch_sha(self, org: str, repo: str, branch: str) -> str:
        """The current tip of a branch (a fresh read, not the stale SHA a
        pull request event carries)."""
        with _calling(f"GET ref heads/{branch} of {org}/{repo}"):
            return self._repo(org, repo).get_git_ref(f"heads/{branch}").object.sha

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

    def list_comments(self, org: str, repo: str, number: int):
        with _calling(f"GET comments of {org}/{repo}#{number}"):
            return list(self._repo(org, repo).get_issue(number).get_comments())

    def labels(self, org: str, repo: str, number: int) -> list[str]:
        with _calling(f"GET labels of {org}/{repo}#{number}"):
            issue = self._repo(org, repo).get_issue(number)
            return [label.name for label in issue.get_labels()]

    def repo_labels(self, org: str, repo: str) -> list[str]:
        with _calling(f"GET labels of {org}/{repo}"):
            return [label.name for label in self._repo(org, repo).get_labels()]

    def combined_status(self, org: str, repo: str, ref: str):
        with _calling(f"GET status of {org}/{repo}@{ref}"):
            return self._repo(org, repo).get_commit(ref).get_combined_status()

    def is_org_member(self, org: str, login: str) -> bool:
        return self._cached_check(
            f"member:{org}:{login}",
            lambda: self._presence(f"/orgs/{quote(org)}/members/{quote(login)}"),
            f"GET membership of {login} in {org}",
        )

    def is_collaborator(self, org: str, repo: str, login: str) -> bool:
        return self._cached_check(
            f"collaborator:{org}/{repo}:{login}",
            lambda: self._presence(
                f"/repos/{quote(org)}/{quote(repo)}/collaborators/{quote(login)}"
            ),
            f"GET collaborator {login} of {org}/{repo}",
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
            team = self.gh.get_organization(org).get_team_by_slug(slug)
            return [member.login for member in team.get_members()]

    def _cached_check(self, key: str, check, what: str) -> bool:
        # Trust answers are asked for on every command; a short cache keeps a
        # burst of comments from costing a call each.
        full_key = f"github:{self.base_url}:{key.lower()}"
        value = cache.get(full_key)
        if value is None:
            with _calling(what):
                try:
                    value = bool(check())
                except GithubException as exc:
                    if not _is_404(exc):
                        raise
                    value = False
            cache.set(full_key, value, MEMBERSHIP_SECONDS)
        return value

    def search_issues(self, query: str):
        with _calling(f"search {query!r}"):
            return list(self.gh.search_issues(query))

    def list_open_pulls(self, org: str, repo: str):
        """A repo's open pull requests (all pages), with head, base, labels
        and draft; not `mergeable`, which GitHub computes per pull only, so
        reading it would cost a request per pull."""
        with _calling(f"GET open pulls of {org}/{repo}"):
            return list(self._repo(org, repo).get_pulls(state="open"))

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
        self._write(
            f"add labels {list(labels)} to {org}/{repo}#{number}",
            lambda: self._repo(org, repo).get_issue(number).add_to_labels(*labels),
        )

    def remove_label(self, org: str, repo: str, number: int, label: str) -> None:
        def remove():
            # PyGithub leaves a "/" in the name unescaped, which GitHub reads
            # as a longer path; escape everything.
            path = self._path(org, repo, "issues", number, "labels", label)
            try:
                self._request("DELETE", path)
            except GithubException as exc:
                if not _is_404(exc):
                    raise  # a 404 means it is already gone, as wanted

        self._write(f"remove label {label!r} from {org}/{repo}#{number}", remove)

    def create_comment(self, org: str, repo: str, number: int, body: str):
        return self._write(
            f"comment on {org}/{repo}#{number}",
            lambda: self._repo(org, repo).get_issue(number).create_comment(body),
        )

    # Comments by id: PyGithub reaches them only through their issue, which
    # a caller holding a comment id may not know.

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

    def react_to_comment(self, org: str, repo: str, comment_id: int, reaction: str):
        path = self._path(org, repo, "issues", "comments", comment_id, "reactions")
        self._write(
            f"react {reaction} to comment {comment_id} in {org}/{repo}",
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

    def assign(self, org: str, repo: str, number: int, *logins: str) -> None:
        self._write(
            f"assign {list(logins)} to {org}/{repo}#{number}",
            lambda: self._repo(org, repo).get_issue(number).add_to_assignees(*logins),
        )

    def unassign(self, org: str, repo: str, number: int, *logins: str) -> None:
        self._write(
            f"unassign {list(logins)} from {org}/{repo}#{number}",
            lambda: (
                self._repo(org, repo).get_issue(number).remove_from_assignees(*logins)
            ),
        )

    def edit_issue(self, org: str, repo: str, number: int, **fields) -> None:
        self._write(
            f"edit {org}/{repo}#{number} {sorted(fields)}",
            lambda: self._repo(org, repo).get_issue(number).edit(**fields),
        )

    def merge(
        self, org: str, repo: str, number: int, *, sha: str, method: str, **extra
    ) -> None:
        self._write(
            f"merge {org}/{repo}#{number} by {method}",
            lambda: (
                self._repo(org, repo)
                .get_pull(number)
                .merge(sha=sha, merge_method=method, **extra)
            ),
        )


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
        raise GitHubError(
            "a GitHub App acts through an installation: name the org",
            permanent=True,
        )
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
