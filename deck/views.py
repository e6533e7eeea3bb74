from django.shortcuts import render
from django.views.decorators.http import require_GET

from prow.config.active import active_config


@require_GET
def index(request):
    active = active_config()
    config = active.config
    context = {
        "version_id": active.version_id,
        "presubmits": sorted(
            (repo, job.name) for repo, jobs in config.presubmits.items() for job in jobs
        ),
        "postsubmits": sorted(
            (repo, job.name)
            for repo, jobs in config.postsubmits.items()
            for job in jobs
        ),
        "periodics": config.periodics,
        "plugin_repos": sorted(active.plugins.plugins),
    }
    return render(request, "deck/index.html", context)
