"""Horologium: turn periodics that are due into ProwJobs (spec §7.5).

Every decision is made from the database, from the latest ProwJob of each
periodic (by start time), never from memory kept between ticks. A beat
restart, a lost tick or ten hours of downtime therefore cost nothing and
cannot cause a burst: each tick asks "is one run due now?", and the run it
creates becomes the latest, so the next tick sees it.

Schedules:

* `interval`: due when the latest run is complete and at least `interval`
  has passed since it started, less 30 seconds of slack for beat latency:
  without it the tick ten minutes later may find 9m59.99s and leave a 10m
  periodic waiting until 11m (what the original, comparing strictly and
  stamping the start after the tick began, does).
* `minimum_interval`: due when the latest run is complete and at least
  `minimum_interval` has passed since it completed. No slack: it is a floor.
* `cron` (UTC; 5 fields, 6 with leading seconds, descriptors such as
  `@daily`): the original sets a flag when the cron fires and creates a run
  at the next tick if the previous run is complete, dropping the fire
  otherwise. Without that flag, the same rule reads: due when the most
  recent fire is later than the latest run's start and that run had
  already completed when it fired. A fire that found the run going is thus
  dropped, and only the latest fire counts, so missed fires make one run.
  With no run yet, the original creates one at the first fire after the
  periodic appears; here a periodic with no run is due when the most
  recent fire is less than two ticks old (one late or lost tick allowed).
  Appearing mid-schedule it waits for the next fire.
* `cron: "@every <d>"`: fires at once on first sight, as the original's
  does, then every `d` counted from the latest run's start, with the same
  dropped-fire rule and the same slack as `interval`.

Retries (`retry{attempts, interval, run_all}`) follow the spec for every
kind of schedule (the original only reaches its retry check for a cron
periodic in the tick its cron fires): when the latest run completed without
success, or with `run_all` whatever its result and even while it runs, and
at least `retry.interval` has passed since it started, another run is
created labelled `prow.k8s.io/re-run=<n>`, n counting from 1, until n
exceeds `attempts` (capped at 10). A scheduled run carries no label, so the
count starts over with it.

Apart from `run_all` retries, a tick adds no run to a periodic that has one
unfinished, whoever created it; `trigger_periodic`, like mkpj, always does.
"""

import logging
from datetime import UTC, datetime, timedelta

from croniter import croniter
from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from jobs.labels import RERUN_LABEL, TRIGGERED_BY_ANNOTATION
from jobs.models import UNFINISHED_STATES, ProwJob, ProwJobState, ProwJobType
from jobs.services import periodic_fields, prowjob_create
from prow.config.active import active_config
from prow.config.durations import parse_duration
from prow.config.schema import Periodic, ProwConfig
from prow.locks import transaction_lock

logger = logging.getLogger(__name__)

DEFAULT_TICK = timedelta(minutes=1)
MAX_RETRIES = 10

# The lock that lets one tick at a time decide.
LOCK_NAME = "horologium:tick"

# How much sooner than `interval` after the previous start a run may be
# created: more than the latency of one tick differs from another's, less
# than the minute between ticks, so a 10m periodic runs every ten minutes.
# Waiting for the full interval would turn them into eleven whenever this
# tick ran a few milliseconds earlier in its minute than the previous one.
_SLACK = timedelta(seconds=30)


def tick(now: datetime | None = None) -> list[ProwJob]:
    """Create a run of every periodic that is due at `now`; return them.

    Safe to run twice at once (overlapping ticks, a second beat): on
    PostgreSQL the whole decision holds an advisory transaction lock, and a
    tick that cannot take it returns [] at once since the holder is doing
    the same work. SQLite starts every transaction as the single writer,
    which serialises ticks by itself; the second then sees the first's runs.
    """
    now = now or timezone.now()
    config = active_config().config
    if not config.periodics:
        return []
    # A cron periodic with no run yet counts a fire this recent as new.
    first_fire_window = 2 * _tick_interval(config)
    created: list[ProwJob] = []
    with transaction.atomic():
        if not transaction_lock(LOCK_NAME, wait=False):
            logger.info("another tick is running; skipping this one")
            return []
        runs = ProwJob.objects.filter(
            type=ProwJobType.PERIODIC, job__in=[p.name for p in config.periodics]
        )
        unfinished = set(
            runs.filter(state__in=UNFINISHED_STATES).values_list("job", flat=True)
        )
        latest = _latest_runs(runs)
        for periodic in config.periodics:
            try:
                # A savepoint each, so one periodic's failure leaves the
                # transaction usable and the others still get their runs.
                with transaction.atomic():
                    job = _sync_periodic(
                        periodic,
                        latest.get(periodic.name),
                        config,
                        now,
                        first_fire_window,
                        periodic.name in unfinished,
                    )
            except Exception:
                logger.exception("could not sync periodic %s", periodic.name)
                continue
            if job is not None:
                created.append(job)
    return created


def trigger_periodic(name: str, *, user=None) -> ProwJob:
    """Create a run of the periodic `name` now, whatever its schedule: the
    original's mkpj, for Deck and the API (callers check authorisation).

    As with mkpj, a run already in progress does not prevent it: someone
    asking for a run by hand wants one. The new run becomes the latest, so
    the schedule counts from it. Raises LookupError for an unknown name.
    """
    config = active_config().config
    periodic = config.periodic(name)
    if periodic is None:
        raise LookupError(f"no periodic named {name!r} in the active config")
    fields = periodic_fields(periodic, config)
    username = getattr(user, "username", user)
    if username:
        fields["config_annotations"] = {
            **fields["config_annotations"],
            TRIGGERED_BY_ANNOTATION: str(username),
        }
    with transaction.atomic():
        # Waits for a running tick, so that tick's runs and this one are
        # decided in turn, never from the same stale view.
        transaction_lock(LOCK_NAME)
        job = prowjob_create(fields=fields)
    logger.info("%s triggered by %s", name, username or "(unknown)")
    return job


def _tick_interval(config: ProwConfig) -> timedelta:
    try:
        interval = parse_duration(config.horologium.tick_interval)
    except ValueError:
        return DEFAULT_TICK
    # Shorter ticks still get a minute's window: a narrower one gains
    # nothing, and one late tick could then lose a fire.
    return max(interval, DEFAULT_TICK)


def _latest_runs(runs) -> dict[str, ProwJob]:
    """The latest of `runs` for each periodic, in one query."""
    newest_first = Window(
        RowNumber(),
        partition_by=[F("job")],
        order_by=[F("start_time").desc(), F("id").desc()],
    )
    return {run.job: run for run in runs.annotate(place=newest_first).filter(place=1)}


def _sync_periodic(
    periodic: Periodic,
    latest: ProwJob | None,
    config: ProwConfig,
    now: datetime,
    first_fire_window: timedelta,
    has_unfinished: bool,
) -> ProwJob | None:
    extra_labels = {}
    if not has_unfinished and _schedule_due(periodic, latest, now, first_fire_window):
        reason = "schedule"
    else:
        attempt = _retry_attempt(periodic, latest, now)
        if attempt is None:
            return None
        if has_unfinished and not periodic.retry.run_all:
            return None
        reason = f"retry {attempt}"
        extra_labels[RERUN_LABEL] = str(attempt)
    fields = periodic_fields(periodic, config)
    # The tick's own clock, so the next decision measures from the instant
    # this one was made (and a tick given `now` stays consistent).
    fields["start_time"] = now
    job = prowjob_create(fields=fields, extra_labels=extra_labels)
    logger.info("created %s for %s (%s)", job.name, periodic.name, reason)
    return job


def _schedule_due(
    periodic: Periodic,
    latest: ProwJob | None,
    now: datetime,
    first_fire_window: timedelta,
) -> bool:
    cron = periodic.cron.strip()
    if cron.startswith("@every"):
        if latest is None:
            return True
        every = parse_duration(cron[len("@every") :].strip())
        elapsed = now - latest.start_time + _SLACK
        if elapsed < every:
            return False
        fired = latest.start_time + every * (elapsed // every)
        return _fire_counts(fired, latest)
    if cron:
        fired = last_cron_fire(cron, now)
        if latest is None:
            return now - fired < first_fire_window
        return _fire_counts(fired, latest)
    if latest is None:
        return True
    if not latest.is_complete():
        return False
    if periodic.minimum_interval:
        minimum = parse_duration(periodic.minimum_interval)
        return now - latest.completion_time >= minimum
    return now - latest.start_time + _SLACK >= parse_duration(periodic.interval)


def _fire_counts(fired: datetime, latest: ProwJob) -> bool:
    # A fire that found the previous run unfinished is dropped, as the
    # original drops it; one before that run started was already used.
    return (
        fired > latest.start_time
        and latest.completion_time is not None
        and latest.completion_time <= fired
    )


def last_cron_fire(expression: str, now: datetime) -> datetime:
    """The latest time at or before `now` when the cron `expression` fires
    (UTC; 5 fields, 6 with leading seconds, or a descriptor; not @every)."""
    text = expression.strip()
    with_seconds = len(text.split()) == 6
    # croniter's get_prev is strictly before its start; starting one second
    # past `now` (cron has whole seconds) lets a fire at `now` count.
    start = now.astimezone(UTC).replace(microsecond=0)
    start += timedelta(seconds=1)
    return croniter(text, start, second_at_beginning=with_seconds).get_prev(datetime)


def _retry_attempt(
    periodic: Periodic, latest: ProwJob | None, now: datetime
) -> int | None:
    """The re-run number the next run would carry, or None when no retry
    is due."""
    retry = periodic.retry
    if retry is None or latest is None:
        return None
    # run_all retries every run, finished or not, failed or not.
    finished_badly = latest.is_complete() and latest.state != ProwJobState.SUCCESS
    if not retry.run_all and not finished_badly:
        return None
    previous = latest.labels.get(RERUN_LABEL)
    try:
        attempt = int(previous) + 1 if previous else 1
    except ValueError:
        logger.warning("%s has re-run label %r; not retrying", latest.name, previous)
        return None
    if attempt > min(retry.attempts, MAX_RETRIES):
        return None
    interval = parse_duration(retry.interval) if retry.interval else timedelta(0)
    if now - latest.start_time < interval:
        return None
    return attempt
