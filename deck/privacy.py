"""A private Deck: with PROW_DECK_PUBLIC off, reading needs a login too.

Only what must stay reachable is left open: the webhook (GitHub signs it),
health checks, the login pages themselves, the admin (it has its own
login) and static files. The API also takes its tokens here, since token
authentication otherwise happens later, inside the view.
"""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

OPEN_PREFIXES = ("/hook", "/healthz", "/accounts/", "/admin/", "/static/")
# Machine-read addresses answer 401 rather than send a browser to log in.
MACHINE_PREFIXES = ("/api/", "/prowjobs.js", "/tide", "/badge.svg", "/plugin-help")


class PrivateDeckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.PROW_DECK_PUBLIC or self._allowed(request):
            return self.get_response(request)
        if request.path.startswith(MACHINE_PREFIXES):
            response = HttpResponse(
                "401 Unauthorized: this Prow is private; log in or send a token\n",
                status=401,
                content_type="text/plain",
            )
            response["WWW-Authenticate"] = "Token"
            return response
        return redirect_to_login(request.get_full_path())

    @staticmethod
    def _allowed(request) -> bool:
        if request.path.startswith(OPEN_PREFIXES) or request.user.is_authenticated:
            return True
        if request.path.startswith("/api/"):
            try:
                return TokenAuthentication().authenticate(request) is not None
            except AuthenticationFailed:
                return False
        return False
