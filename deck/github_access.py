"""Who may log in with GitHub.

GitHub login would otherwise admit every GitHub account, which makes a
private Deck (PROW_DECK_PUBLIC=false) readable by anyone who can sign up to
GitHub. The settings name the users, orgs and teams that may log in; with
none named, nobody may (PROW_GITHUB_LOGIN_ANYONE opts in to everyone).
Membership is asked at login and again once a session has gone
PROW_GITHUB_LOGIN_RECHECK_SECONDS without being checked, so someone who
leaves the org loses access without waiting for the session to expire.
Whenever GitHub cannot answer, the answer is no.
"""

from __future__ import annotations

import logging
import time

from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout

from prow.errors import OutsideError
from prow.github.client import github_client

logger = logging.getLogger(__name__)

# When this session's GitHub login was last found allowed (Unix seconds).
CHECKED_AT = "prow_github_login_checked_at"


def login_allowed(login: str) -> bool:
    """May the GitHub user `login` log in here?"""
    if not login:
        return False
    if settings.PROW_GITHUB_LOGIN_ANYONE:
        return True
    if login.lower() in {u.lower() for u in settings.PROW_GITHUB_LOGIN_USERS}:
        return True
    try:
        for org in settings.PROW_GITHUB_LOGIN_ORGS:
            if github_client(org).is_org_member(org, login):
                return True
        for team in settings.PROW_GITHUB_LOGIN_TEAMS:
            org, _, slug = team.partition("/")
            if org and slug and github_client(org).is_team_member(org, slug, login):
                return True
    except OutsideError as exc:  # transient ones too: refuse, never guess
        logger.warning("could not check whether %s may log in: %s", login, exc)
    return False


def mark_checked(request) -> None:
    request.session[CHECKED_AT] = time.time()


def _github_login_of(user) -> str | None:
    """The GitHub login the user logs in as; None for accounts without one
    (made by an admin, with a password)."""
    for extra in SocialAccount.objects.filter(user=user, provider="github").values_list(
        "extra_data", flat=True
    ):
        return str((extra or {}).get("login") or "")
    return None


class GitHubLoginRecheckMiddleware:
    """Logs out a GitHub login that is no longer allowed, once its last
    check is older than the bound. Goes after authentication and before the
    private-Deck check, which then treats the request as anonymous."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and self._due(request):
            if self._still_allowed(user):
                mark_checked(request)
            else:
                logger.info("logged out %s: no longer allowed to log in", user)
                logout(request)
                messages.warning(
                    request, "Your GitHub account may no longer log in here."
                )
        return self.get_response(request)

    @staticmethod
    def _due(request) -> bool:
        checked = request.session.get(CHECKED_AT)
        bound = settings.PROW_GITHUB_LOGIN_RECHECK_SECONDS
        return not isinstance(checked, (int, float)) or time.time() - checked > bound

    @staticmethod
    def _still_allowed(user) -> bool:
        if user.is_staff or user.is_superuser:
            return True
        login = _github_login_of(user)
        return login is None or login_allowed(login)
