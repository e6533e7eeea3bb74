"""The navigation bar, with only the pages this installation serves."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from prow.github.pause import paused_credentials

_NAV = (
    ("deck:configured", "Configured"),
    ("deck:command-help", "Plugins"),
    ("deck:tide", "Tide"),
    ("api-docs", "API"),
)


def deck_nav(request):
    items = []
    for name, label in _NAV:
        try:
            items.append({"url": reverse(name), "label": label})
        except NoReverseMatch:
            continue  # that page is not part of this build yet
    if getattr(request, "user", None) is not None and request.user.is_staff:
        items.append({"url": reverse("admin:index"), "label": "Admin"})
    return {
        "deck_nav": items,
        "deck_poll_seconds": settings.PROW_DECK_POLL_SECONDS,
        # A rate-limited token delays reports and plugin answers for everyone;
        # say so where people look, not only on the health endpoint.
        "github_paused": paused_credentials(),
    }
