"""Task names are part of the contract with messages already queued: a rename
strands them, so every change to this list is deliberate."""

from prow.celery import Queue, app


def test_registered_task_names():
    app.loader.import_default_modules()
    ours = sorted(
        name
        for name in app.tasks
        if name.split(".")[0] in {"prow", "hook", "jobs", "tide", "deck"}
    )
    assert ours == [
        "hook.tasks.handle_deliveries",
        "hook.tasks.handle_delivery",
        "hook.tasks.prune_deliveries",
        "hook.tasks.sweep_deliveries",
        "jobs.tasks.horologium_tick",
        "jobs.tasks.plank_resync",
        "jobs.tasks.reconcile_config",
        "jobs.tasks.reconcile_missed_configs",
        "jobs.tasks.report_prowjob",
        "jobs.tasks.sinker_sweep",
        "jobs.tasks.sync_prowjob",
        "jobs.tasks.sync_prowjobs",
        "prow.config.tasks.active_version",
        "prow.config.tasks.sync_config_files",
        "tide.tasks.sync_repo",
        "tide.tasks.tick",
    ]


def test_tasks_default_to_late_acknowledgement():
    app.loader.import_default_modules()
    task = app.tasks["prow.config.tasks.sync_config_files"]
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_every_queue_is_consumed_by_a_default_worker():
    assert {q.name for q in app.conf.task_queues} == {q.value for q in Queue}
    assert app.conf.task_routes["hook.tasks.*"] == {"queue": Queue.HOOK}


def test_every_beat_tick_runs_on_the_periodic_queue():
    app.loader.import_default_modules()
    ticks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "jobs.tasks.horologium_tick" in ticks
    for task in ticks:
        route = app.amqp.router.route({}, task)
        assert route["queue"].name == Queue.PERIODIC, task


def test_work_other_than_ticks_keeps_its_queue():
    for task, queue in (
        ("hook.tasks.handle_delivery", Queue.HOOK),
        ("jobs.tasks.sync_prowjob", Queue.JOBS),
        ("jobs.tasks.reconcile_config", Queue.JOBS),
    ):
        assert app.amqp.router.route({}, task)["queue"].name == queue
