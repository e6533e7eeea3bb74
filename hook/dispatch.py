"""Handing stored deliveries to the workers, off the request path.

Publishing a Celery message costs more CPU than everything else /hook does
(kombu builds a Redis client per publish), and it made a webhook's answer
wait on the broker. Instead, the request leaves the new delivery's id with
this process's dispatcher and answers at once; one thread per process sends
the ids that have gathered, up to BATCH at a time, as one message. Under
load the cost of a publish is shared by the batch (each id waits at most
the linger for others); when idle a delivery is sent at once.

Nothing is lost if the process dies with ids in hand or the broker is down:
the rows are committed before their ids get here, and the sweeper
re-enqueues any delivery not handled in time.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time

from django.conf import settings

from prow.tasks import task_named

logger = logging.getLogger(__name__)


BUSY_SECONDS = 0.2


def publish(task, argument, ids) -> bool:
    """Send task(argument), retrying the broker once. False (and a warning)
    if the broker would not take it: the rows are committed, so the sweeper
    picks the deliveries up."""
    try:
        task.apply_async(
            (argument,),
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        )
    except Exception as exc:  # any broker error
        logger.warning(
            "could not enqueue deliveries %s (%s); the sweeper will pick them up",
            ids,
            exc,
        )
        return False
    return True


class DeliveryDispatcher:
    def __init__(self, *, linger: float | None = None, batch: int | None = None):
        # Unset: read from settings when used, not when this module is imported.
        self._linger = linger
        self._batch = batch
        self._queue: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._pending = 0
        self._settled = threading.Condition()
        # Ids the broker would not take (left to the sweeper), for health
        # checks and tests.
        self.unsent = 0

    @property
    def linger(self) -> float:
        if self._linger is None:
            return settings.PROW_HOOK_DISPATCH_LINGER_MS / 1000
        return self._linger

    @property
    def batch(self) -> int:
        return self._batch or settings.PROW_HOOK_DISPATCH_BATCH

    def submit(self, delivery_id: int) -> None:
        self._ensure_thread()
        with self._settled:
            self._pending += 1
        self._queue.put(delivery_id)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every submitted id has been handed to the broker (or
        given up on); True if that happened within timeout."""
        with self._settled:
            return self._settled.wait_for(lambda: self._pending == 0, timeout)

    def _done(self, count: int) -> None:
        with self._settled:
            self._pending -= count
            self._settled.notify_all()

    def _ensure_thread(self) -> None:
        # A forked child (gunicorn worker) inherits the object but not the
        # thread: start one per process.
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is not None and self._pid == os.getpid():
                return
            self._queue = queue.SimpleQueue()
            self._pending = 0
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, name="hook-dispatcher", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        last_send = 0.0
        while True:
            ids = [self._queue.get()]
            # Wait for company only when busy: an id arriving soon after the
            # last send is part of a stream; a lone one goes out at once.
            # One sleep rather than a wake-up per id: under load that woke
            # this thread for every request, and each time it took the GIL
            # from the threads answering them.
            if time.monotonic() - last_send < BUSY_SECONDS:
                time.sleep(self.linger)
            ids.extend(self._waiting())
            try:
                self._send_all(ids)
            finally:
                last_send = time.monotonic()

    def _waiting(self) -> list[int]:
        ids = []
        while True:
            try:
                ids.append(self._queue.get_nowait())
            except queue.Empty:
                return ids

    def _send_all(self, ids: list[int]) -> None:
        for start in range(0, len(ids), self.batch):
            chunk = ids[start : start + self.batch]
            try:
                self._send(chunk)
            finally:
                self._done(len(chunk))

    def _send(self, ids: list[int]) -> None:
        if not publish(task_named("hook.tasks.handle_deliveries"), ids, ids):
            self.unsent += len(ids)

    def drain(self) -> None:
        """Send what is waiting now (at exit, so a clean shutdown leaves the
        sweeper nothing to do)."""
        self._send_all(self._waiting())


dispatcher = DeliveryDispatcher()
atexit.register(dispatcher.drain)
