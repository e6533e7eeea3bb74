"""Horologium: which periodics get a run, when, and never twice."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
import yaml
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from jobs import horologium
from jobs.horologium import tick, trigger_periodic
from jobs.models import ProwJob, ProwJobState
from jobs.services import prowjob_transition
from prow.locks import transaction_lock

pytestmark = pytest.mark.django_db

# A Monday, on the hour: every cron below fires at T0 or a round offset.
T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
SPEC = {"containers": [{"image": "alpine", "command": ["/bin/date"]}]}
UNFINISHED = (ProwJobState.TRIGGERED, ProwJobState.PENDING)


@pytest.fixture
def use_periodics(activate_config):
    """Activate a config with these periodics, each running SPEC."""

    def use(*periodics: dict) -> None:
        activate_config(
            config_yaml=yaml.safe_dump(
                {"periodics": [{"spec": SPEC, **p} for p in periodics]}
            )
        )

    return use


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def start(job: ProwJob) -> None:
    assert prowjob_transition(job, ProwJobState.PENDING)


def finish(job: ProwJob, state: str = ProwJobState.SUCCESS) -> None:
    if job.state == ProwJobState.TRIGGERED:
        start(job)
    assert prowjob_transition(job, state)


def runs(name: str) -> list[ProwJob]:
    return list(ProwJob.objects.filter(type="periodic", job=name).order_by("id"))


def beat(clock, first: int, last: int, *, jobs_take: timedelta) -> list[datetime]:
    """Tick once a minute from T0+first to T0+last minutes, finishing each
    run `jobs_take` after it started; the start times of the runs made."""
    made = []
    for minute in range(first, last + 1):
        clock.move_to(minutes(minute))
        for job in ProwJob.objects.filter(state__in=UNFINISHED):
            if minutes(minute) - job.start_time >= jobs_take:
                finish(job)
        made += [job.start_time for job in tick()]
    return made


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_interval_waits_for_the_previous_run_to_complete(clock, use_periodics):
    use_periodics({"name": "hourly", "interval": "1h"})
    [first] = tick()
    assert (first.job, first.type, first.start_time) == ("hourly", "periodic", T0)

    clock.move_to(minutes(30))
    assert tick() == []
    start(first)
    clock.move_to(minutes(61))
    # Due by the clock, but the first run is still going.
    assert tick() == []

    finish(first)
    [second] = tick()
    assert second.start_time == minutes(61)
    assert tick() == []
    assert len(runs("hourly")) == 2


def test_interval_counts_from_the_previous_start(clock, use_periodics):
    use_periodics({"name": "hourly", "interval": "1h"})
    [first] = tick()
    clock.move_to(minutes(50))
    finish(first)
    clock.move_to(minutes(59))
    assert tick() == []
    clock.move_to(minutes(60))
    assert len(tick()) == 1


def test_a_late_tick_does_not_push_the_next_run_back_a_minute(clock, use_periodics):
    use_periodics({"name": "often", "interval": "10m"})
    # The tick that made the first run ran late in its minute; the one ten
    # minutes on runs early in its own.
    clock.move_to(T0 + timedelta(seconds=0.8))
    [first] = tick()
    clock.move_to(minutes(3))
    finish(first)
    clock.move_to(T0 + timedelta(minutes=10, seconds=0.05))
    assert len(tick()) == 1


@pytest.mark.parametrize(
    "schedule",
    [
        {"interval": "10m"},
        {"minimum_interval": "10m"},
        {"cron": "*/10 * * * *"},
        {"cron": "@every 10m"},
    ],
)
def test_missed_ticks_make_one_run_not_a_burst(clock, schedule, use_periodics):
    use_periodics({"name": "often", **schedule})
    [first] = tick()
    clock.move_to(minutes(2))
    finish(first)
    # Beat was down for ten hours: sixty runs' worth of schedule missed.
    clock.move_to(minutes(10 * 60 + 3))
    assert len(tick()) == 1
    assert tick() == []
    clock.move_to(minutes(10 * 60 + 4))
    assert tick() == []
    assert len(runs("often")) == 2


def test_minimum_interval_counts_from_completion(clock, use_periodics):
    use_periodics({"name": "settle", "minimum_interval": "30m"})
    [first] = tick()
    clock.move_to(minutes(50))
    finish(first)
    clock.move_to(minutes(60))
    # An hour after it started, but only ten minutes after it finished.
    assert tick() == []
    clock.move_to(minutes(79))
    assert tick() == []
    clock.move_to(minutes(80))
    [second] = tick()
    assert second.start_time == minutes(80)


def test_cron_runs_on_its_fires_only(clock, use_periodics):
    use_periodics({"name": "quarterly", "cron": "*/15 * * * *"})
    # From 12:05: the 12:00 fire came before horologium saw the periodic.
    made = beat(clock, 5, 50, jobs_take=timedelta(minutes=3))
    assert made == [minutes(15), minutes(30), minutes(45)]


def test_cron_fire_while_the_previous_run_is_active_is_dropped(clock, use_periodics):
    use_periodics({"name": "quarterly", "cron": "*/15 * * * *"})
    # The 12:15 run lasts until 12:40, past the 12:30 fire; its end is no
    # fire, so nothing runs until 12:45.
    made = beat(clock, 10, 55, jobs_take=timedelta(minutes=25))
    assert made == [minutes(15), minutes(45)]


def test_every_fires_on_first_sight_then_from_the_previous_start(clock, use_periodics):
    use_periodics({"name": "half-hourly", "cron": "@every 30m"})
    made = beat(clock, 7, 100, jobs_take=timedelta(minutes=5))
    assert made == [minutes(7), minutes(37), minutes(67), minutes(97)]


def test_every_drops_a_fire_that_finds_the_run_going(clock, use_periodics):
    use_periodics({"name": "half-hourly", "cron": "@every 30m"})
    made = beat(clock, 7, 100, jobs_take=timedelta(minutes=40))
    assert made == [minutes(7), minutes(67)]


def test_cron_with_a_leading_seconds_field(clock, use_periodics):
    # Second 30 of every fifth minute: read as trailing seconds it would be
    # minute 30 of every fifth hour, and nothing would run here.
    use_periodics({"name": "precise", "cron": "30 */5 * * * *"})
    assert tick() == []
    clock.move_to(T0 + timedelta(seconds=29))
    assert tick() == []
    clock.move_to(T0 + timedelta(seconds=30))
    [first] = tick()
    clock.move_to(minutes(1))
    finish(first)
    clock.move_to(minutes(5))
    assert tick() == []
    clock.move_to(minutes(5.5))
    [second] = tick()
    assert second.start_time == T0 + timedelta(minutes=5, seconds=30)


@pytest.mark.parametrize(
    ("cron", "quiet_at", "fires_at"),
    [
        ("@hourly", minutes(30), minutes(60)),
        ("@daily", minutes(30), datetime(2024, 5, 7, 0, 0, tzinfo=UTC)),
        ("0 9 * * 1-5", minutes(30), datetime(2024, 5, 7, 9, 0, tzinfo=UTC)),
    ],
)
def test_cron_descriptors_and_fields_are_utc(
    clock, cron, quiet_at, fires_at, use_periodics
):
    use_periodics({"name": "scheduled", "cron": cron})
    clock.move_to(quiet_at)
    assert tick() == []
    clock.move_to(fires_at - timedelta(minutes=1))
    assert tick() == []
    clock.move_to(fires_at)
    [job] = tick()
    assert job.start_time == fires_at


def test_seed_echo_test_runs_every_ten_minutes(clock, example_texts, activate_config):
    config_yaml, _ = example_texts
    activate_config(config_yaml=config_yaml)
    [first] = tick()
    assert (first.job, first.namespace, first.report) == (
        "echo-test",
        "test-pods",
        True,
    )
    clock.move_to(minutes(1))
    finish(first)
    clock.move_to(minutes(5))
    assert tick() == []
    clock.move_to(minutes(10))
    [second] = tick()
    assert second.job == "echo-test"
    clock.move_to(minutes(15))
    assert tick() == []
    assert len(runs("echo-test")) == 2


def test_failed_runs_are_retried_until_attempts_run_out(clock, use_periodics):
    use_periodics(
        {
            "name": "flaky",
            "interval": "24h",
            "retry": {"attempts": 2, "interval": "10m"},
        }
    )
    [first] = tick()
    clock.move_to(minutes(5))
    finish(first, ProwJobState.FAILURE)
    clock.move_to(minutes(9))
    assert tick() == []
    clock.move_to(minutes(10))
    [retry1] = tick()
    assert retry1.labels["prow.k8s.io/re-run"] == "1"
    clock.move_to(minutes(12))
    finish(retry1, ProwJobState.ERROR)
    clock.move_to(minutes(20))
    [retry2] = tick()
    assert retry2.labels["prow.k8s.io/re-run"] == "2"
    clock.move_to(minutes(22))
    finish(retry2, ProwJobState.FAILURE)
    for later in (30, 60, 24 * 60):
        clock.move_to(minutes(later))
        assert tick() == []
    # The schedule goes on from the last retry, and counting starts over.
    clock.move_to(minutes(24 * 60 + 20))
    [scheduled] = tick()
    assert "prow.k8s.io/re-run" not in scheduled.labels
    assert len(runs("flaky")) == 4


def test_a_success_is_not_retried_without_run_all(clock, use_periodics):
    use_periodics(
        {
            "name": "solid",
            "interval": "24h",
            "retry": {"attempts": 2, "interval": "10m"},
        }
    )
    [first] = tick()
    clock.move_to(minutes(5))
    finish(first)
    for later in (10, 20, 60):
        clock.move_to(minutes(later))
        assert tick() == []


def test_run_all_retries_successes_and_running_runs(clock, use_periodics):
    use_periodics(
        {
            "name": "soak",
            "interval": "24h",
            "retry": {"attempts": 2, "interval": "10m", "run_all": True},
        }
    )
    [first] = tick()
    start(first)
    clock.move_to(minutes(10))
    # The first run is still going; run_all retries it anyway.
    [retry1] = tick()
    assert retry1.labels["prow.k8s.io/re-run"] == "1"
    finish(first)
    finish(retry1)
    clock.move_to(minutes(20))
    [retry2] = tick()
    assert retry2.labels["prow.k8s.io/re-run"] == "2"
    finish(retry2)
    clock.move_to(minutes(30))
    assert tick() == []


def test_retry_attempts_are_capped_at_ten(clock, use_periodics):
    use_periodics({"name": "hopeless", "interval": "24h", "retry": {"attempts": 50}})
    tick()
    for minute in range(1, 20):
        clock.move_to(minutes(minute))
        for job in ProwJob.objects.filter(state__in=UNFINISHED):
            finish(job, ProwJobState.FAILURE)
        tick()
    labels = [job.labels.get("prow.k8s.io/re-run") for job in runs("hopeless")]
    assert labels == [None] + [str(n) for n in range(1, 11)]


def test_periodic_with_extra_refs(clock, use_periodics):
    use_periodics(
        {
            "name": "infra-check",
            "interval": "1h",
            "extra_refs": [{"org": "acme", "repo": "infra", "base_ref": "main"}],
        }
    )
    [job] = tick()
    assert job.extra_refs == [{"org": "acme", "repo": "infra", "base_ref": "main"}]
    assert (job.org, job.repo, job.base_ref) == ("acme", "infra", "main")
    assert job.labels["prow.k8s.io/refs.repo"] == "infra"


def test_periodics_removed_from_config_stop(clock, use_periodics):
    use_periodics(
        {"name": "kept", "interval": "1h"}, {"name": "gone", "interval": "1h"}
    )
    assert sorted(job.job for job in tick()) == ["gone", "kept"]
    for job in ProwJob.objects.all():
        finish(job)
    use_periodics({"name": "kept", "interval": "1h"})
    clock.move_to(minutes(120))
    assert [job.job for job in tick()] == ["kept"]


def test_trigger_periodic_runs_now_whatever_the_schedule(
    clock, django_user_model, use_periodics
):
    use_periodics({"name": "nightly", "interval": "24h"})
    [scheduled] = tick()
    clock.move_to(minutes(60))
    alice = django_user_model.objects.create_user("alice")
    # Like mkpj, a run by hand does not wait for the one in progress.
    manual = trigger_periodic("nightly", user=alice)
    assert manual.start_time == minutes(60)
    assert manual.annotations["prow.k8s.io/triggered-by"] == "alice"
    assert len(runs("nightly")) == 2
    finish(scheduled)
    finish(manual)
    # The schedule now counts from the run made by hand.
    clock.move_to(minutes(24 * 60))
    assert tick() == []
    clock.move_to(minutes(25 * 60))
    assert len(tick()) == 1


def test_no_tick_run_beside_an_older_run_still_going(clock, use_periodics):
    use_periodics({"name": "hourly", "interval": "1h"})
    [scheduled] = tick()
    start(scheduled)
    clock.move_to(minutes(5))
    manual = trigger_periodic("hourly")
    clock.move_to(minutes(10))
    finish(manual)
    # The latest run is complete and an hour old, but the scheduled one
    # has not finished: a third run would make two at once.
    clock.move_to(minutes(70))
    assert tick() == []
    finish(scheduled)
    assert len(tick()) == 1


def test_no_retry_beside_an_older_run_still_going(clock, use_periodics):
    use_periodics(
        {
            "name": "flaky",
            "interval": "24h",
            "retry": {"attempts": 2, "interval": "10m"},
        }
    )
    [scheduled] = tick()
    start(scheduled)
    clock.move_to(minutes(5))
    manual = trigger_periodic("flaky")
    finish(manual, ProwJobState.FAILURE)
    clock.move_to(minutes(30))
    assert tick() == []
    finish(scheduled, ProwJobState.FAILURE)
    [retry] = tick()
    assert retry.labels["prow.k8s.io/re-run"] == "1"


def test_tick_decides_and_stamps_with_the_time_it_is_given(clock, use_periodics):
    use_periodics({"name": "hourly", "interval": "1h"})
    [first] = tick(now=minutes(0))
    finish(first)
    [second] = tick(now=minutes(60))
    assert second.start_time == minutes(60)
    finish(second)
    assert tick(now=minutes(90)) == []


def test_trigger_periodic_rejects_unknown_names(clock, use_periodics):
    use_periodics({"name": "nightly", "interval": "24h"})
    with pytest.raises(LookupError):
        trigger_periodic("nightly-typo")
    assert not ProwJob.objects.exists()


def _in_thread(target) -> None:
    def run():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.mark.django_db(transaction=True)
def test_a_tick_skips_while_another_holds_the_lock(clock, use_periodics):
    use_periodics({"name": "hourly", "interval": "1h"})
    results = []
    with transaction.atomic():
        transaction_lock(horologium.LOCK_NAME)
        _in_thread(lambda: results.append(tick()))
    assert results == [[]]
    assert not ProwJob.objects.exists()
    # Once the other tick is done, the next one does the work.
    _in_thread(lambda: results.append(tick()))
    assert len(results[1]) == 1


@pytest.mark.django_db(transaction=True)
def test_overlapping_ticks_create_one_run_per_periodic(clock, use_periodics):
    use_periodics({"name": "a", "interval": "1h"}, {"name": "b", "cron": "0 * * * *"})
    barrier = threading.Barrier(2)
    results = []

    def tick_together():
        try:
            barrier.wait(timeout=10)
            results.append(tick())
        finally:
            connection.close()

    threads = [threading.Thread(target=tick_together) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 2
    assert sorted(job.job for made in results for job in made) == ["a", "b"]
    assert sorted(ProwJob.objects.values_list("job", flat=True)) == ["a", "b"]


def test_a_tick_reads_the_runs_of_all_periodics_at_once(clock, use_periodics):
    def queries_of_a_quiet_tick(count: int) -> int:
        ProwJob.objects.all().delete()
        use_periodics(*({"name": f"p{i}", "interval": "1h"} for i in range(count)))
        assert len(tick()) == count
        clock.move_to(minutes(1))
        with CaptureQueriesContext(connection) as queries:
            assert tick() == []  # every periodic has a run going
        # Each periodic gets a savepoint of its own; count the rest.
        return sum(
            not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT")) for q in queries
        )

    # Each periodic has a run to read; reading them costs the same for many.
    assert queries_of_a_quiet_tick(5) == queries_of_a_quiet_tick(1)
