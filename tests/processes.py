"""Starting the project's real processes (web, worker, beat) from tests."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import redis

from tests.conftest import ROOT

VENV_BIN = os.path.dirname(sys.executable)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_until(predicate, timeout: float, interval: float = 0.2, what: str = ""):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except OSError as exc:  # connection refused while starting
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}: {last!r}")


def project_env(**overrides) -> dict[str, str]:
    """The environment for a child process: this one's, minus what the test
    says to drop (value None), plus overrides."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


@contextmanager
def running(args: list[str], env: dict[str, str], log_path):
    """Run a command in its own process group; on exit stop the whole group
    and, if the test failed, leave its output in log_path."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def read_log(log_path) -> str:
    try:
        return log_path.read_text(errors="replace")[-4000:]
    except OSError:
        return ""


@contextmanager
def own_redis(data_dir=None):
    """A redis-server of the test's own on a free port, which the test may
    stop and start again: yields (url, start, stop). With data_dir, it keeps
    an append-only file there, so what was queued survives a restart."""
    if not shutil.which("redis-server"):
        raise AssertionError("redis-server is needed for this test")
    port = free_port()
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    if data_dir is None:
        args += ["--appendonly", "no"]
    else:
        args += ["--appendonly", "yes", "--dir", str(data_dir)]
    state = {"process": None}

    def start():
        state["process"] = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until(
            lambda: redis.Redis(port=port).ping(), timeout=10, what="redis to start"
        )

    def stop():
        state["process"].terminate()
        state["process"].wait(timeout=10)

    start()
    try:
        yield f"redis://127.0.0.1:{port}/0", start, stop
    finally:
        if state["process"].poll() is None:
            stop()
