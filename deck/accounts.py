"""Account rules: accounts come from an admin or from GitHub login, never
from a local sign-up form (anyone could then claim a GitHub user's name)."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter


class NoLocalSignupAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return False


class GitHubSignupAdapter(DefaultSocialAccountAdapter):
    """A GitHub login makes its account on first use (allauth would ask the
    account adapter above, which closes sign-up to everyone)."""

    def is_open_for_signup(self, request, sociallogin):
        return True
