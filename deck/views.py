from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from jobs.logs import artifact_text
from jobs.models import ProwJob
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
        "recent_jobs": ProwJob.objects.order_by("-id")[:50],
    }
    return render(request, "deck/index.html", context)


@require_GET
def job_detail(request, name):
    """One job: what ran, where, when, and its log (kept after the pod)."""
    job = get_object_or_404(ProwJob, name=name)
    artifacts = list(job.artifacts.order_by("name"))
    log = next((a for a in artifacts if a.name == "build-log.txt"), None)
    context = {
        "job": job,
        "pull": job.pulls[0] if job.pulls else None,
        "artifacts": artifacts,
        "log": log,
        "log_text": artifact_text(log) if log else "",
        "link": active_config().config.github.link_url.rstrip("/"),
    }
    return render(request, "deck/job_detail.html", context)
