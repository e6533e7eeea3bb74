"""Pages and JSON beyond the job list: history, PR, plugin help, badges,
and the original's /prowjobs.js, /tide.js, /tide-history.js."""

from django.urls import path

from deck import badges, compat, history, plugin_help, pulls

urlpatterns = [
    path("prowjobs.js", compat.prowjobs_js, name="prowjobs-js"),
    path("tide.js", compat.tide_js, name="tide-js"),
    path("tide-history.js", compat.tide_history_js, name="tide-history-js"),
    path("badge.svg", badges.badge_svg, name="badge"),
    path("job-history/<str:name>", history.job_history, name="job-history"),
    path("pr/<str:org>/<str:repo>/<int:number>", pulls.pull, name="pull"),
    path("command-help", plugin_help.command_help, name="command-help"),
    path("plugins", plugin_help.plugin_list, name="plugins"),
]
