"""Webhook deliveries: recording them, handing them to plugins, sweeping.

1. delivery_record stores the webhook (GUID unique) and, after commit,
   enqueues handle_delivery; a broker that is down only delays the work.
2. delivery_dispatch runs every enabled plugin's handlers for the event,
   each in its own transaction, and records per plugin what finished, so a
   retry or a redelivery never runs a finished plugin twice.
3. deliveries_sweep re-enqueues what was stored but never handled, and what
   a dead worker left half done.
"""

import codecs
import json
import logging
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from hook.dispatch import dispatcher, publish
from hook.events import (
    GENERIC_COMMENT,
    Event,
    GenericComment,
    PullRequestEvent,
    ReviewCommentEvent,
    ReviewEvent,
    generic_comment,
    typed_event,
)
from hook.external import forward_to
from hook.models import WebhookDelivery, delivery_insert
from hook.plugins.base import PluginContext
from hook.plugins.registry import get_plugin
from prow import metrics
from prow.config.active import ActiveConfig, active_config
from prow.config.startup import config_missing
from prow.errors import OutsideError, TransientError
from prow.github.client import GitHubError, github_client
from prow.tasks import task_named
from prow.wakeups import wake_tide_for_event

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
# Events whose author is the bot are not handed to comment handlers: the
# bot must never answer itself.
COMMENT_EVENTS = {"issue_comment", "pull_request_review", "pull_request_review_comment"}


def _enqueue(delivery_id: int) -> None:
    publish(task_named("hook.tasks.handle_delivery"), delivery_id, [delivery_id])


def delivery_record(*, guid: str, event: str, payload: dict, body: bytes) -> int:
    """Store a webhook and schedule its handling once the row is committed;
    returns the delivery's id.

    A GUID seen before is GitHub's "Redeliver": done stays done; anything
    else (failed, or never finished) is handled again.
    """
    ev = Event(event, guid, payload)
    handled_here = event == "ping"
    now = timezone.now()
    # One statement for the common case (a new GUID): this is the hot path
    # of every webhook, and the raw body GitHub sent is already the JSON.
    delivery_id = delivery_insert(
        [
            guid,
            event,
            ev.action[:64],
            ev.org[:100],
            ev.repo[:100],
            ev.sender[:100],
            _as_text(body, payload),
            Status.DONE if handled_here else Status.PENDING,
            now,
            now if handled_here else None,
        ]
    )
    if delivery_id is not None:
        if not handled_here:
            transaction.on_commit(lambda: dispatcher.submit(delivery_id), robust=True)
        return delivery_id
    return _redelivered(guid)


def _as_text(body: bytes, payload: dict) -> str:
    if body.startswith(codecs.BOM_UTF8):
        # json reads the body past a BOM, but not the text kept from it.
        body = body[len(codecs.BOM_UTF8) :]
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:  # JSON may come in UTF-16 or 32 too
        return json.dumps(payload)


def _redelivered(guid: str) -> int:
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(guid=guid)
        if delivery.status == Status.DONE:
            logger.info("delivery %s redelivered but already handled", guid)
            return delivery.pk
        fields = {"redeliveries": F("redeliveries") + 1}
        if delivery.status != Status.PROCESSING:
            fields["status"] = Status.PENDING
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
        # A duplicate message is harmless: only one worker wins the claim.
        transaction.on_commit(lambda: _enqueue(delivery.pk), robust=True)
        return delivery.pk


class RetryLater(TransientError):
    """Some plugin hit a transient error; handle the delivery again later
    (after retry_after seconds, when one of them was told how long)."""


@dataclass
class _Outcome:
    ok: bool
    transient: bool = False
    countdown: float | None = None
    error: str = ""


def stale_before():
    return timezone.now() - timedelta(seconds=settings.PROW_HOOK_STALE_SECONDS)


def deliveries_dispatch(delivery_ids: list[int]) -> None:
    """Handle a batch of deliveries one after another, each on its own (one
    failing does not stop the rest). Past half the task's time limit, the
    rest go out as tasks of their own, so the batch never runs into the
    limit with a delivery half done."""
    budget_ends = time.monotonic() + settings.PROW_HOOK_TASK_TIME_LIMIT / 2
    for position, delivery_id in enumerate(delivery_ids):
        if time.monotonic() > budget_ends:
            for later in delivery_ids[position:]:
                _enqueue(later)
            return
        try:
            delivery_dispatch(delivery_id)
        except RetryLater as exc:
            task_named("hook.tasks.handle_delivery").apply_async(
                (delivery_id,), countdown=exc.retry_after or 30
            )
        except Exception:
            # Left claimed: the sweeper takes it over once it looks stale.
            logger.exception("delivery %s could not be handled", delivery_id)


class WaitingForConfig(RetryLater):
    """No config is active yet: handled now, the delivery would run no plugin
    and be done for good (a redelivery skips a done GUID), so it stays
    pending until one is."""


def delivery_dispatch(delivery_id: int) -> None:
    """Handle one delivery if this worker can claim it; idempotent."""
    missing = config_missing()
    if missing:
        logger.warning("delivery %s waits for a config: %s", delivery_id, missing)
        # Not claimed, so still pending: retried soon, and swept if the
        # retries run out before a config arrives.
        raise WaitingForConfig(missing, retry_after=settings.PROW_CONFIG_WATCH_SECONDS)
    if not WebhookDelivery.claim(delivery_id, stale_before()):
        logger.info("delivery %s is done or being handled elsewhere", delivery_id)
        return
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    log = logging.LoggerAdapter(logger, {"guid": delivery.guid})
    active = active_config()
    event = typed_event(delivery.event, delivery.guid, delivery.payload)
    wake_tide_for_event(active.config, delivery.event, delivery.payload)
    comment = generic_comment(event)
    work = _work(delivery, event, comment, active)
    if work:
        # One context for every plugin: the same config version and client,
        # and one view of the issue's labels as plugins change them.
        ctx = PluginContext(
            org=delivery.org,
            repo=delivery.repo,
            guid=delivery.guid,
            config=active.config,
            plugins=active.plugins,
            github=github_client(delivery.org),
            logger=log,
        )
        _tell_context(ctx, event, comment)
    results = dict(delivery.plugin_results)
    errors: list[str] = []
    retry_countdowns: list[float] = []
    for name, handler, payload in work:
        if results.get(name) == "ok":
            continue
        started = time.monotonic()
        outcome = _run_plugin(delivery, name, handler, payload, results, ctx)
        metrics.plugin_handled(name, outcome.ok, time.monotonic() - started)
        if not outcome.ok:
            results[name] = outcome.error
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                plugin_results=results
            )
            errors.append(f"{name}: {outcome.error}")
            if outcome.transient:
                retry_countdowns.append(outcome.countdown or 0)
    finished = timezone.now()
    if errors:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.FAILED,
            last_error="\n".join(errors)[:10000],
            finished_at=finished,
        )
        if retry_countdowns:
            raise RetryLater(
                "; ".join(errors), retry_after=max(retry_countdowns) or None
            )
        return
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.DONE, last_error="", finished_at=finished
    )


def _tell_context(
    ctx: PluginContext, event: Event, comment: GenericComment | None
) -> None:
    """What the event says of its issue or pull request, so that plugins'
    label and assignee changes are diffed against it, not asked for."""
    if isinstance(event, PullRequestEvent | ReviewEvent | ReviewCommentEvent):
        pull = event.pull
        number, said = (
            pull.number,
            {
                "requested_reviewers": pull.requested_reviewers,
                "milestone": pull.milestone,
            },
        )
        labels, assignees, state, title = (
            pull.labels,
            pull.assignees,
            pull.state,
            pull.title,
        )
    elif comment is not None:
        number, said = comment.number, {}
        labels, assignees, state, title = (
            comment.labels,
            comment.assignees,
            comment.issue_state,
            comment.issue_title,
        )
    else:
        return
    if number:
        ctx.know(
            number, labels=labels, assignees=assignees, state=state, title=title, **said
        )


def _work(
    delivery: WebhookDelivery,
    event: Event,
    comment: GenericComment | None,
    active: ActiveConfig,
):
    """(result key, handler, event object) for every enabled plugin handler
    that applies to this delivery, in the config's plugin order."""
    if not delivery.org:
        return []
    names = active.plugins.plugins_for(delivery.org, delivery.repo)
    bot = _bot_login(delivery.org)
    from_bot = bool(bot) and (
        (comment is not None and comment.user.lower() == bot.lower())
        or (delivery.event in COMMENT_EVENTS and delivery.sender.lower() == bot.lower())
    )
    work = []
    for name in names:
        plugin = get_plugin(name)
        if plugin is None:
            continue  # known to the config, not implemented here
        handler = plugin.handler_for(delivery.event)
        if handler is not None and not (from_bot and delivery.event in COMMENT_EVENTS):
            work.append((f"{name}:{delivery.event}", handler, event))
        handler = plugin.handler_for(GENERIC_COMMENT)
        if handler is not None and comment is not None and not from_bot:
            work.append((f"{name}:{GENERIC_COMMENT}", handler, comment))
    for external in active.plugins.external_plugins_for(delivery.org, delivery.repo):
        if not external.events or delivery.event in external.events:
            work.append((f"external:{external.name}", forward_to(external), event))
    return work


def _bot_login(org: str) -> str:
    try:
        return github_client(org).bot_login
    except GitHubError as exc:
        logger.warning("cannot learn the bot's login: %s", exc)
        return ""


def _run_plugin(delivery, name, handler, payload, results, ctx) -> _Outcome:
    """Run one handler. No transaction is held across it: a plugin talks to
    GitHub and other services, and each of its writes commits on its own.
    What it starts is keyed by the delivery's GUID (jobs) or diffed against
    GitHub's state (labels), so a retry after a crash does it once."""
    log = ctx.logger
    try:
        handler(ctx, payload)
    except OutsideError as exc:
        log.warning("plugin %s failed on delivery %s: %s", name, delivery.guid, exc)
        return _Outcome(
            False,
            transient=isinstance(exc, TransientError),
            # A rate limit says how long to wait; honour it.
            countdown=exc.retry_after,
            error=str(exc),
        )
    except Exception as exc:
        # A bug in one plugin must not stop the others.
        log.error(
            "plugin %s crashed on delivery %s:\n%s",
            name,
            delivery.guid,
            traceback.format_exc(),
        )
        return _Outcome(False, error=f"{type(exc).__name__}: {exc}")
    results[name] = "ok"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(plugin_results=results)
    return _Outcome(True)


def deliveries_sweep(*, limit: int = 500) -> int:
    """Re-enqueue deliveries stored but not handled in time: the broker was
    down when they arrived, or the worker holding them died."""
    now = timezone.now()
    pending_before = now - timedelta(seconds=settings.PROW_HOOK_SWEEP_AFTER_SECONDS)
    ids = list(
        WebhookDelivery.objects.filter(
            status=Status.PENDING, received_at__lt=pending_before
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    ) + list(
        WebhookDelivery.objects.filter(
            status=Status.PROCESSING, started_at__lt=stale_before()
        )
        .order_by("started_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        _enqueue(pk)
    if ids:
        logger.info("sweeper re-enqueued %d deliveries", len(ids))
    return len(ids)


def delivery_replay(delivery: WebhookDelivery, *, rerun_all: bool = False) -> None:
    """Handle a delivery again (admin action, management command). With
    rerun_all, plugins that already finished run again too."""
    fields = {"status": Status.PENDING}
    if rerun_all:
        fields["plugin_results"] = {}
    # One being handled right now is left to its worker.
    WebhookDelivery.objects.filter(pk=delivery.pk).exclude(
        status=Status.PROCESSING, started_at__gte=stale_before()
    ).update(**fields)
    transaction.on_commit(lambda: _enqueue(delivery.pk), robust=True)
