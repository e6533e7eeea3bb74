"""Account rules: accounts come from an admin or from GitHub login, never
from a local sign-up form (anyone could then claim a GitHub user's name)."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.http import HttpResponseForbidden

from deck.github_access import login_allowed, mark_checked


class NoLocalSignupAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return False


class GitHubSignupAdapter(DefaultSocialAccountAdapter):
    """A GitHub login makes its account on first use (allauth would ask the
    account adapter above, which closes sign-up to everyone)."""

    def is_open_for_signup(self, request, sociallogin):
        return True

    def pre_social_login(self, request, sociallogin):
        """Only the GitHub users the settings allow get in, new or
        returning (PROW_GITHUB_LOGIN_*)."""
        user = sociallogin.user
        staff = sociallogin.is_existing and (user.is_staff or user.is_superuser)
        login = str((sociallogin.account.extra_data or {}).get("login") or "")
        if not staff and not login_allowed(login):
            raise ImmediateHttpResponse(
                HttpResponseForbidden(
                    f"403 Forbidden: the GitHub account {login or '?'} may not "
                    "log in here. Ask this Prow's administrators to allow it.\n",
                    content_type="text/plain",
                )
            )
        mark_checked(request)
