from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

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


@require_POST
@staff_member_required
def run_periodic(request, name):
    """Start a periodic now, outside its schedule (the original's mkpj)."""
    from jobs.horologium import trigger_periodic

    try:
        job = trigger_periodic(name, user=request.user)
    except LookupError:
        raise Http404(f"No periodic job named {name}")
    messages.success(request, f"Started {name}.")
    return redirect("deck:job-detail", name=job.name)
