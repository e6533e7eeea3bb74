"""What the health page shows: whether each part of the system is there and
working, gathered from what the processes already record.

The probes' own checks (prow.health) answer for the database, the broker
and the active config; the rest comes from the shared cache (beat's last
tick, refused webhooks, GitHub pauses), the metrics files (GitHub's rate
limit), the database (the last webhook) and one short ping of the workers.
Nothing here asks GitHub.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache

from deck.metrics import _queue_lengths
from hook import refusals
from hook.models import WebhookDelivery
from prow import health, metrics
from prow.celery import app
from prow.config.active import active_config
from prow.config.models import ConfigVersion
from prow.config.services import read_config_files
from prow.config.text import normalize_newlines
from prow.config.validation import validate
from prow.github.pause import paused_credentials

logger = logging.getLogger(__name__)

# A ping waits this long for every worker's answer, and the answer is kept
# a little while, so reloading the page does not cost a second each time.
PING_SECONDS = 1.0
PING_CACHE_SECONDS = 10
PING_KEY = "deck:health:workers"
# Errors of rejected config files shown; the rest are in the log.
SHOWN_ERRORS = 5


@dataclass
class Health:
    problems: list[str] = field(default_factory=list)
    workers: list[str] | None = None
    workers_error: str = ""
    queues: dict[str, int] | None = None
    queues_note: str = ""
    beat_tick: datetime | None = None
    last_webhook: WebhookDelivery | None = None
    config_version: ConfigVersion | None = None
    config_problem: str = ""
    config_files: str = ""
    config_errors: list[str] = field(default_factory=list)
    github_mode: str = ""
    github_paused: list[dict] = field(default_factory=list)
    rate_remaining: dict[str, int] = field(default_factory=dict)
    # (reason, what it means, how many) for every reason
    refused: list[tuple[str, str, int]] = field(default_factory=list)


def workers_seen() -> list[str]:
    """The workers that answered a ping, by host name."""
    found = cache.get(PING_KEY)
    if found is None:
        replies = app.control.ping(timeout=PING_SECONDS) or []
        found = sorted(name for reply in replies for name in reply)
        cache.set(PING_KEY, found, PING_CACHE_SECONDS)
    return found


def queue_lengths() -> tuple[dict[str, int] | None, str]:
    """Tasks waiting per queue, or None and why they cannot be counted."""
    if settings.CELERY_BROKER_URL.startswith("memory://"):
        return None, "not measurable with the in-memory broker"
    try:
        return _queue_lengths(), ""
    except Exception as exc:
        logger.warning("queue lengths unreadable: %s: %s", type(exc).__name__, exc)
        return None, f"not measurable: {type(exc).__name__}"


def last_beat_tick() -> datetime | None:
    stamp = cache.get(health.BEAT_TICK_KEY)
    return datetime.fromtimestamp(stamp, UTC) if stamp else None


def rate_limit_remaining() -> dict[str, int]:
    """What GitHub last said is left, by resource (core, graphql, search),
    as the GitHub transport recorded it in any process."""
    remaining = {}
    for family in metrics.registry().collect():
        if family.name != "prow_github_rate_limit_remaining":
            continue
        for sample in family.samples:
            remaining[sample.labels.get("resource", "core")] = int(sample.value)
    return dict(sorted(remaining.items()))


def github_mode() -> str:
    if settings.PROW_GITHUB_APP_ID:
        return f"GitHub App {settings.PROW_GITHUB_APP_ID}"
    if settings.PROW_GITHUB_TOKEN_PATH:
        return "a token"
    return "dry mode: no token or App, GitHub writes are logged, not sent"


def config_files_state() -> tuple[str, list[str]]:
    """Whether the config files are what was last loaded from them, and
    the errors that keep them out if they were rejected."""
    paths = (settings.PROW_CONFIG_PATH, settings.PROW_PLUGIN_CONFIG_PATH)
    try:
        texts = [normalize_newlines(t) for t in read_config_files(*paths)]
    except OSError as exc:
        logger.warning("config files unreadable: %s", exc)
        return f"unreadable: {type(exc).__name__}", []
    loaded = (
        ConfigVersion.objects.filter(source=ConfigVersion.Source.FILE)
        .order_by("-pk")
        .values_list("content_hash", flat=True)
        .first()
    )
    if ConfigVersion.hash_texts(*texts) == loaded:
        return "loaded", []
    result = validate(*texts)
    if result.ok:
        return "changed, loaded at the next check", []
    errors = [str(e) for e in result.errors]
    return f"rejected ({len(errors)} errors): the last good version stays", errors


def health_report() -> Health:
    """Everything the page shows. Each part fails on its own, so one part
    being down never hides what the others know."""
    report = Health()
    database, broker = health.check_database(), health.check_broker()
    report.problems = [p for p in (database, broker) if p]
    if database is None:
        report.config_problem = health.check_config() or ""
        active = active_config().version_id
        if active is not None:
            report.config_version = ConfigVersion.objects.filter(pk=active).first()
        report.config_files, report.config_errors = config_files_state()
        report.last_webhook = (
            WebhookDelivery.objects.only("guid", "event", "status", "received_at")
            .order_by("-received_at")
            .first()
        )
    if not report.problems:
        try:
            report.workers = workers_seen()
        except Exception as exc:
            logger.warning("workers not pinged: %s: %s", type(exc).__name__, exc)
            report.workers_error = f"could not ask: {type(exc).__name__}"
    report.queues, report.queues_note = queue_lengths()
    try:
        report.beat_tick = last_beat_tick()
        report.refused = [
            (reason, refusals.REASONS[reason], count)
            for reason, count in refusals.counts().items()
        ]
    except Exception as exc:
        logger.warning("cache unreadable: %s: %s", type(exc).__name__, exc)
        report.problems.append(f"cache unreadable: {type(exc).__name__}")
    report.github_mode = github_mode()
    report.github_paused = paused_credentials()
    report.rate_remaining = rate_limit_remaining()
    return report
