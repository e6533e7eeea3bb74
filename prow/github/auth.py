"""Credentials for the bot: a token file, or a GitHub App.

Tokens are read from files only and never logged; PyGithub masks them in its
own logs.
"""

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from github import Auth

# An installation token is replaced this long before it expires, so one that
# is still good when a request starts is still good after a rate limit wait.
INSTALLATION_TOKEN_MARGIN = timedelta(minutes=5)


class TokenFileMissing(Exception):
    pass


def _now() -> datetime:
    """The clock token expiry is judged by (tests move it)."""
    return datetime.now(UTC)


class FileToken(Auth.Token):
    """A token read from a file and read again whenever the file changes,
    so rotating a mounted Secret needs no restart."""

    def __init__(self, path: str):
        self._path = path
        self._stamp: tuple | None = None
        self._lock = threading.Lock()
        self._token = ""
        self._reload()

    def _reload(self) -> None:
        try:
            stat = os.stat(self._path)
        except OSError as exc:
            raise TokenFileMissing(f"cannot read the GitHub token file: {exc.strerror}")
        # A Kubernetes Secret update swaps a symlink, which changes the inode;
        # an in-place rewrite changes the mtime.
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp != self._stamp:
            try:
                token = Path(self._path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise TokenFileMissing(
                    f"cannot read the GitHub token file: {exc.strerror}"
                )
            if not token:
                raise TokenFileMissing("the GitHub token file is empty")
            self._token, self._stamp = token, stamp

    @property
    def token(self) -> str:
        with self._lock:
            try:
                self._reload()
            except TokenFileMissing:
                # Keep the last good token: a Secret swap can leave the path
                # briefly missing or empty.
                if not self._token:
                    raise
            return self._token


class InstallationAuth(Auth.AppInstallationAuth):
    """A GitHub App installation's token, fetched on first use and replaced
    INSTALLATION_TOKEN_MARGIN before it expires.

    PyGithub's own check refreshes only 20 seconds ahead, less than one rate
    limit wait, and is not guarded against two threads refreshing at once.
    """

    def __init__(self, app_auth: Auth.AppAuth, installation_id: int):
        self._token_lock = threading.Lock()
        self._current = None
        super().__init__(app_auth, installation_id)

    @property
    def token(self) -> str:
        with self._token_lock:
            current = self._current
            now = _now()
            if current is None or current.expires_at - INSTALLATION_TOKEN_MARGIN < now:
                current = self._current = self._get_installation_authorization()
            return current.token


def read_private_key(path: str) -> str:
    try:
        key = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise TokenFileMissing(
            f"cannot read the GitHub App private key: {exc.strerror}"
        )
    if not key.strip():
        raise TokenFileMissing("the GitHub App private key file is empty")
    return key


def app_auth(app_id: str, private_key_path: str) -> Auth.AppAuth:
    """The App's own identity (a JWT per request): used to find installations
    and to mint their tokens.

    The key is read once here, so a missing file fails now, and again at each
    signing (rare: once per installation token), so a rotated key needs no
    restart.
    """
    read_private_key(private_key_path)
    return Auth.AppAuth(app_id, lambda: read_private_key(private_key_path))


def app_installation_auth(
    app_id: str, private_key_path: str, installation_id: int
) -> InstallationAuth:
    """Installation tokens for a GitHub App, refreshed before they expire."""
    return InstallationAuth(app_auth(app_id, private_key_path), installation_id)
