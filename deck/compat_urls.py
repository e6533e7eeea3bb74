"""Pages and JSON beyond the job list: history, PR, plugin help, badges,
and the original's /prowjobs.js, /tide.js, /tide-history.js."""

from django.urls import path

from deck import badges, compat

urlpatterns = [
    path("prowjobs.js", compat.prowjobs_js, name="prowjobs-js"),
    path("tide.js", compat.tide_js, name="tide-js"),
    path("tide-history.js", compat.tide_history_js, name="tide-history-js"),
    path("badge.svg", badges.badge_svg, name="badge"),
]
