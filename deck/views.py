"""Deck's own pages: the job list, the job page and its actions, the list of
configured jobs. Pages read one keyset page of rows (deck.queries); the live
parts are the same templates' partials, polled by htmx while a job runs."""

import logging
import mimetypes

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from kubernetes.config import ConfigException

from deck.health_page import health_report
from deck.permissions import can_act_on_job, can_start_periodic, github_login
from deck.podinfo import pod_info, ran_locally
from deck.queries import (
    FilterError,
    JobFilters,
    Page,
    configured_jobs,
    filtered_jobs,
    job_page,
    parse_cursor,
    public_jobs,
)
from deck.templatetags.deck_tags import run_duration
from jobs.executors import executor_for
from jobs.executors.base import ExecutorError
from jobs.horologium import trigger_periodic
from jobs.labels import TRIGGERED_BY_ANNOTATION
from jobs.logs import artifact_text
from jobs.models import (
    COMPLETE_STATES,
    REFS_COLUMNS,
    JobArtifact,
    ProwJob,
    ProwJobState,
)
from jobs.models import ProwJobType as Types
from jobs.plank import container_names
from jobs.services import prowjob_abort, prowjob_rerun
from prow.config.active import active_config

logger = logging.getLogger(__name__)

# How much of a log the page shows inline; the whole file is one click away.
LOG_TAIL_BYTES = 256 * 1024
# A running job's log is read from its pod at most this often, however many
# people watch it.
LIVE_LOG_SECONDS = 2
# What a row of the list shows: the big JSON columns stay in the database.
LIST_COLUMNS = (
    "id",
    "name",
    "type",
    "job",
    "state",
    "build_id",
    "refs",
    *REFS_COLUMNS,
    "start_time",
    "completion_time",
)


def _link_base() -> str:
    return active_config().config.github.link_url.rstrip("/")


@require_GET
def index(request):
    """The job list: newest first, filtered, cut by keyset cursors."""
    error = None
    try:
        filters = JobFilters.from_query(request.GET)
        before = parse_cursor(request.GET.get("before"))
        after = parse_cursor(request.GET.get("after"))
    except FilterError as exc:
        error = exc
        filters, before, after = JobFilters.as_typed(request.GET), None, None
    if error:
        # Rows under an error would read as the answer to the query.
        page = Page([])
    else:
        page = job_page(
            filters,
            before=before,
            after=after,
            queryset=filtered_jobs(filters).only(*LIST_COLUMNS),
        )
    running = any(job.state not in COMPLETE_STATES for job in page.rows)
    context = {
        "page": page,
        "problems": error.problems if error else [],
        "filters": filters,
        "query": filters.as_query(),
        "error": error,
        "types": Types.values,
        "states": ProwJobState.values,
        "link": _link_base(),
        # The newest page also grows while people watch it.
        "poll": not error and (running or (before is None and after is None)),
        "poll_seconds": settings.PROW_DECK_POLL_SECONDS,
    }
    template = "deck/index.html"
    if request.htmx:
        template += "#job-rows"
    return render(request, template, context, status=400 if error else 200)


def _job_log(job: ProwJob, log: JobArtifact | None) -> tuple[str, bool, bool]:
    """(the tail of the main log, whether it was cut, whether it is live):
    read from the pod while the job runs, else from `log`, the stored
    build-log.txt."""
    if job.state == ProwJobState.PENDING and job.pod_name:
        text = _live_log(job)
        if text is not None:
            return _tail(text) + (True,)
    if log is None:
        return "", False, False
    try:
        text = artifact_text(log)
    except OSError as exc:
        logger.warning("log of %s unreadable: %s", job.name, exc)
        return f"[The stored log could not be read: {exc}]", False, False
    return _tail(text) + (False,)


def _tail(text: str) -> tuple[str, bool]:
    data = text.encode("utf-8", "replace")
    if len(data) <= LOG_TAIL_BYTES:
        return text, False
    return data[-LOG_TAIL_BYTES:].decode("utf-8", "ignore"), True


def _live_log(job: ProwJob) -> str | None:
    """The running pod's log, cached briefly so watchers cost the cluster
    one read every LIVE_LOG_SECONDS. None when the pod can't be read (the
    stored copy is shown instead)."""
    key = f"deck:live-log:{job.name}:{job.build_id}"
    text = cache.get(key)
    if text is not None:
        return text
    main, _ = container_names(job)
    try:
        executor = executor_for(job.cluster)
        text = executor.logs(
            job.namespace, job.pod_name, main, settings.PROW_LOG_MAX_BYTES
        )
    # ConfigException: in a cluster without a token (web has no rights of
    # its own), the worker's stored copy is what there is.
    except (ExecutorError, LookupError, OSError, ConfigException) as exc:
        logger.info("live log of %s not read: %s", job.name, exc)
        return None
    cache.set(key, text, LIVE_LOG_SECONDS)
    return text


@require_GET
def job_detail(request, name):
    """One job: what ran, where, when, its log (live while it runs) and its
    artifacts; rerun and abort for those allowed."""
    job = get_object_or_404(public_jobs(), name=name)
    artifacts = list(job.artifacts.order_by("name"))
    log = next((a for a in artifacts if a.name == "build-log.txt"), None)
    log_text, log_cut, log_live = _job_log(job, log)
    running = job.state not in COMPLETE_STATES
    ended = pod_info(artifacts)
    context = {
        "job": job,
        "pod_info": ended,
        "ran_locally": ran_locally(job, ended),
        "pull": job.pulls[0] if job.pulls else None,
        "artifacts": artifacts,
        "log": log,
        "log_text": log_text,
        "log_cut": log_cut,
        "log_live": log_live,
        "duration": run_duration(job),
        "running": running,
        "link": _link_base(),
        "can_act": can_act_on_job(request.user, job),
        "poll_seconds": settings.PROW_DECK_POLL_SECONDS,
        "triggered_by": job.annotations.get(TRIGGERED_BY_ANNOTATION, ""),
    }
    template = "deck/job_detail.html"
    if request.htmx:
        template += "#live"
    return render(request, template, context)


@require_GET
def artifact(request, name, path):
    """A file a job left behind. Served as an attachment, or as plain text
    for logs, never as HTML: a job's output must not run in Deck's origin."""
    job = get_object_or_404(public_jobs(), name=name)
    item = get_object_or_404(JobArtifact, job=job, name=path)
    try:
        handle = default_storage.open(item.file.name, "rb")
    except OSError:
        raise Http404("The file is no longer stored.")
    is_text = path.endswith((".txt", ".log")) or path == "build-log.txt"
    if is_text:
        response = FileResponse(handle, content_type="text/plain; charset=utf-8")
    else:
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=path.rsplit("/", 1)[-1],
            content_type=content_type,
        )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _login_first(request, job_url: str):
    messages.info(request, "Log in to rerun or abort jobs.")
    return redirect_to_login(job_url)


def _job_action(request, name, verb: str):
    """The job named, or the response that stops the action: a login
    first for anonymous users, 403 for those the rules don't allow."""
    job = get_object_or_404(public_jobs(), name=name)
    if not request.user.is_authenticated:
        return job, _login_first(request, job_detail_url(job))
    if not can_act_on_job(request.user, job):
        return job, HttpResponseForbidden(
            f"You may not {verb} this job (deck.rerun_auth_configs)."
        )
    return job, None


@require_POST
def rerun(request, name):
    job, refused = _job_action(request, name, "rerun")
    if refused:
        return refused
    new = prowjob_rerun(job, user=github_login(request.user))
    messages.success(request, f"Started a new run of {job.job}.")
    return redirect(job_detail_url(new))


@require_POST
def abort(request, name):
    job, refused = _job_action(request, name, "abort")
    if refused:
        return refused
    who = github_login(request.user)
    if prowjob_abort(job, f"Aborted by {who} from Deck."):
        messages.success(request, f"Aborted {job.job}.")
    else:
        messages.info(request, "The job had already finished.")
    return redirect(job_detail_url(job))


def job_detail_url(job: ProwJob) -> str:
    return reverse("deck:job-detail", args=[job.name])


@require_GET
def configured(request):
    """The jobs the active config defines, with "Run now" for periodics."""
    active = active_config()
    config = active.config
    periodics = [
        {"job": job, "can_run": can_start_periodic(request.user, job.name)}
        for job in config.periodics
    ]
    triggered = {Types.PRESUBMIT: [], Types.POSTSUBMIT: []}
    for job_type, repo, job in configured_jobs(config):
        if job_type in triggered:
            triggered[job_type].append((repo, job.name))
    context = {
        "version_id": active.version_id,
        "triggered": [
            ("Presubmit jobs", sorted(triggered[Types.PRESUBMIT])),
            ("Postsubmit jobs", sorted(triggered[Types.POSTSUBMIT])),
        ],
        "periodics": periodics,
        "plugin_repos": sorted(active.plugins.plugins),
    }
    return render(request, "deck/configured.html", context)


@require_POST
def run_periodic(request, name):
    """Start a periodic now, outside its schedule (the original's mkpj)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not can_start_periodic(request.user, name):
        return HttpResponseForbidden(
            "You may not start this job (deck.rerun_auth_configs)."
        )
    try:
        job = trigger_periodic(name, user=github_login(request.user))
    except LookupError:
        raise Http404(f"No periodic job named {name}")
    messages.success(request, f"Started {name}.")
    return redirect("deck:job-detail", name=job.name)


@require_GET
def health(request):
    """What a person checks first when nothing seems to happen: workers,
    queues, beat, webhooks (refused ones too), the config and GitHub."""
    return render(request, "deck/health.html", {"health": health_report()})
