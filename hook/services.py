"""Webhook deliveries: recording them, handing them to plugins, sweeping.

1. delivery_record stores the webhook (GUID unique) and, after commit,
   enqueues handle_delivery; a broker that is down only delays the work.
2. delivery_dispatch runs every enabled plugin's handlers for the event,
   each in its own transaction, and records per plugin what finished, so a
   retry or a redelivery never runs a finished plugin twice.
3. deliveries_sweep re-enqueues what was stored but never handled, and what
   a dead worker left half done.
"""

import hashlib
import hmac
import json
import logging
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from hook import hmac_secrets
from hook.dispatch import dispatcher, publish
from hook.events import Event, generic_comment
from hook.models import WebhookDelivery
from hook.plugins import get_plugin
from hook.plugins.base import GENERIC_COMMENT, PluginContext, PluginError
from prow.config.active import ActiveConfig, active_config
from prow.errors import TransientError
from prow.github.client import GitHubError, github_client

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
# Events whose author is the bot are not handed to comment handlers: the
# bot must never answer itself.
COMMENT_EVENTS = {"issue_comment", "pull_request_review", "pull_request_review_comment"}


def _enqueue(delivery_id: int) -> None:
    from hook.tasks import handle_delivery

    publish(handle_delivery, delivery_id, [delivery_id])


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
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT,
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
            ],
        )
        row = cursor.fetchone()
    if row is not None:
        if not handled_here:
            transaction.on_commit(lambda: dispatcher.submit(row[0]), robust=True)
        return row[0]
    return _redelivered(guid)


def _as_text(body: bytes, payload: dict) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:  # JSON may come in UTF-16 or 32 too
        return json.dumps(payload)


_INSERT = """
    INSERT INTO hook_webhookdelivery (guid, event, action, org, repo, sender,
        payload, status, received_at, finished_at, attempts, last_error,
        plugin_results, redeliveries)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, '', '{}', 0)
    ON CONFLICT (guid) DO NOTHING
    RETURNING id
"""


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
    from hook.tasks import handle_delivery

    budget_ends = time.monotonic() + settings.PROW_HOOK_TASK_TIME_LIMIT / 2
    for position, delivery_id in enumerate(delivery_ids):
        if time.monotonic() > budget_ends:
            for later in delivery_ids[position:]:
                _enqueue(later)
            return
        try:
            delivery_dispatch(delivery_id)
        except RetryLater as exc:
            handle_delivery.apply_async((delivery_id,), countdown=exc.retry_after or 30)
        except Exception:
            # Left claimed: the sweeper takes it over once it looks stale.
            logger.exception("delivery %s could not be handled", delivery_id)


def delivery_dispatch(delivery_id: int) -> None:
    """Handle one delivery if this worker can claim it; idempotent."""
    if not WebhookDelivery.claim(delivery_id, stale_before()):
        logger.info("delivery %s is done or being handled elsewhere", delivery_id)
        return
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    log = logging.LoggerAdapter(logger, {"guid": delivery.guid})
    active = active_config()
    work = _work(delivery, active)
    if work:
        # One context for every plugin: the same config version and client.
        ctx = PluginContext(
            org=delivery.org,
            repo=delivery.repo,
            guid=delivery.guid,
            config=active.config,
            plugins=active.plugins,
            github=github_client(delivery.org),
            logger=log,
        )
    results = dict(delivery.plugin_results)
    errors: list[str] = []
    retry_countdowns: list[float] = []
    for name, handler, payload in work:
        if results.get(name) == "ok":
            continue
        outcome = _run_plugin(delivery, name, handler, payload, results, ctx)
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


def _work(delivery: WebhookDelivery, active: ActiveConfig):
    """(result key, handler, event object) for every enabled plugin handler
    that applies to this delivery, in the config's plugin order."""
    event = Event(delivery.event, delivery.guid, delivery.payload)
    if not delivery.org:
        return []
    comment = generic_comment(event)
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
        handler = plugin.handlers.get(delivery.event)
        if handler is not None and not (from_bot and delivery.event in COMMENT_EVENTS):
            work.append((f"{name}:{delivery.event}", handler, event))
        handler = plugin.handlers.get(GENERIC_COMMENT)
        if handler is not None and comment is not None and not from_bot:
            work.append((f"{name}:{GENERIC_COMMENT}", handler, comment))
    for external in active.plugins.external_plugins_for(delivery.org, delivery.repo):
        if not external.events or delivery.event in external.events:
            work.append((f"external:{external.name}", forward_to(external), event))
    return work


def forward_to(external):
    """A handler that passes the webhook on to an external plugin, as GitHub
    sent it, signed again with this repository's secret."""

    def forward(ctx, event) -> None:
        body = json.dumps(event.payload).encode()
        try:
            secrets = hmac_secrets.secrets_from(settings.PROW_HMAC_SECRET_FILE)
            tokens = secrets.candidates(event.org, event.repo)
        except hmac_secrets.SecretsUnavailable as exc:
            raise PluginError(f"cannot sign for {external.name}: {exc}")
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event.kind,
            "X-GitHub-Delivery": event.guid,
            "User-Agent": "Prow-Hook",
        }
        if tokens:
            digest = hmac.new(tokens[0], body, hashlib.sha256).hexdigest()
            headers["X-Hub-Signature-256"] = f"sha256={digest}"
            legacy = hmac.new(tokens[0], body, hashlib.sha1).hexdigest()
            headers["X-Hub-Signature"] = f"sha1={legacy}"
        try:
            response = requests.post(
                external.effective_endpoint, data=body, headers=headers, timeout=10
            )
        except requests.RequestException as exc:
            raise PluginError(f"{external.name} unreachable: {exc}", permanent=False)
        if response.status_code >= 500:
            raise PluginError(
                f"{external.name} answered {response.status_code}", permanent=False
            )
        if response.status_code >= 400:
            raise PluginError(f"{external.name} answered {response.status_code}")

    return forward


def _bot_login(org: str) -> str:
    try:
        return github_client(org).bot_login
    except GitHubError as exc:
        logger.warning("cannot learn the bot's login: %s", exc)
        return ""


def _run_plugin(delivery, name, handler, payload, results, ctx) -> _Outcome:
    log = ctx.logger
    try:
        # The plugin's database writes and the note that it finished commit
        # together: a worker killed in between leaves neither, so the retry
        # does the work exactly once.
        with transaction.atomic():
            handler(ctx, payload)
            results[name] = "ok"
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                plugin_results=results
            )
    except (GitHubError, PluginError) as exc:
        log.warning("plugin %s failed on delivery %s: %s", name, delivery.guid, exc)
        return _Outcome(
            False,
            transient=not exc.permanent,
            # A rate limit says how long to wait; honour it.
            countdown=getattr(exc, "retry_after", None),
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
