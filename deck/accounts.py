"""Account rules: accounts come from an admin or from GitHub login, never
from a local sign-up form (anyone could then claim a GitHub user's name)."""

from allauth.account.adapter import DefaultAccountAdapter


class NoLocalSignupAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        return False
