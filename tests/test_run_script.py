"""`make run` (scripts/run.sh): when one of its three processes dies, it
says which one and how before stopping the others."""

import os
import re
import signal
import socket
import subprocess

from tests.conftest import ROOT
from tests.processes import (
    free_port,
    http_get,
    project_env,
    read_log,
    running,
    wait_until,
)


def run_script(tmp_path, port):
    env = project_env(
        DATABASE_URL=None,
        CELERY_BROKER_URL=None,
        PROW_DATA_DIR=tmp_path / "data",
        PORT=port,
    )
    return running(
        ["bash", str(ROOT / "scripts" / "run.sh")], env, tmp_path / "run.log"
    )


def pids(log) -> dict[str, int]:
    found = re.search(r"web pid (\d+), worker pid (\d+), beat pid (\d+)", read_log(log))
    if not found:
        return {}
    return dict(zip(("web", "worker", "beat"), map(int, found.groups()), strict=True))


def ended(process, timeout=60) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("run.sh did not stop after one of its processes died")


def test_a_killed_worker_is_named_and_the_rest_stopped(tmp_path):
    port = free_port()
    log = tmp_path / "run.log"
    with run_script(tmp_path, port) as process:
        try:
            started = wait_until(lambda: pids(log), timeout=120, what="the pids")
            wait_until(
                lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200,
                timeout=60,
                what="the web server",
            )
        except AssertionError:
            raise AssertionError(read_log(log))
        os.kill(started["worker"], signal.SIGKILL)
        code = ended(process)
    text = log.read_text(errors="replace")
    said = f"the Celery worker (pid {started['worker']}) was killed by signal KILL"
    assert said in text, text[-3000:]
    # Said before the others are stopped, so it is not lost among their
    # shutdown lines.
    assert text.index(said) < text.index("==> stopping")
    assert code == 128 + signal.SIGKILL
    try:
        http_get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        still_serving = True
    except OSError:
        still_serving = False
    assert not still_serving, "the web server outlived the worker"


def test_a_process_that_fails_to_start_is_named_with_its_exit_code(tmp_path):
    # Something else already listens on the port: gunicorn gives up.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with run_script(tmp_path, taken.getsockname()[1]) as process:
            code = ended(process, timeout=120)
    text = (tmp_path / "run.log").read_text(errors="replace")
    found = re.search(
        r"==> the web server \(gunicorn\) \(pid \d+\) exited with code (\d+)", text
    )
    assert found, text[-3000:]
    assert int(found.group(1)) == code != 0
