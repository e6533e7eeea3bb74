"""Load benchmark for POST /hook under gunicorn, beside its two references.

Run from the repository root with the project's virtualenv:

    .venv/bin/python -m bench.hook [--rate 200] [--seconds 20] [--workers 4] ...

It starts gunicorn on a free loopback port against PostgreSQL and Redis,
posts signed issue_comment webhooks to /hook and the same requests to
/bench/bare (a view that only reads the body) and /bench/floor (HMAC check,
then one autocommit INSERT of the raw body: the least a durable
acknowledgement costs), and prints requests/s and latency for each: at a
fixed rate (open loop) and at the most the server takes (closed loop), all
in the same server and the same run. See bench/README.md.
"""

import argparse
import hashlib
import hmac
import itertools
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "webhooks" / "issue_comment.created.json"
EVENT = "issue_comment"
HOOK, BARE, FLOOR = "/hook", "/bench/bare", "/bench/floor"
TARGETS = (BARE, FLOOR, HOOK)
TARGET_P99_MS = 50.0
# /hook's throughput against the floor's, measured in the same run.
TARGET_RATIO = 0.8
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# A phase stops sending on time and its sockets time out (Phase.timeout);
# past this much longer, something is wrong and the run is abandoned.
PHASE_GRACE = 60.0


# --- The load generator: runs in a process of its own (see _measure). ---


class Connection:
    """A minimal HTTP/1.1 keep-alive client on a raw socket.

    http.client spends about three times the CPU per request (some 0.16 ms
    against 0.05 ms here), and the generator shares two cores with the
    server it measures; this one only writes prepared bytes and reads the
    status line and the headers that frame the body.
    """

    def __init__(self, port: int, timeout: float):
        self.port = port
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buffer = b""
        self.connects = 0

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def request(self, data: bytes) -> int:
        """Send one request and return the response's status code."""
        reused = self.sock is not None
        if not reused:
            self._connect()
        try:
            self.sock.sendall(data)
            return self._response()
        except (ConnectionError, EOFError):
            self.close()
            if not reused:
                raise
            # The server dropped an idle keep-alive connection just as the
            # request went out: nothing was answered, so send it once more on
            # a new connection (a repeated GUID would be a no-op redelivery).
            self._connect()
            self.sock.sendall(data)
            return self._response()

    def _connect(self) -> None:
        self.sock = socket.create_connection(
            ("127.0.0.1", self.port), timeout=self.timeout
        )
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connects += 1

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by the server")
        return chunk

    def _response(self) -> int:
        buffer = self.buffer
        while b"\r\n\r\n" not in buffer:
            buffer += self._recv()
        head, _, rest = buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, close, chunked = 0, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value == b"close"
            elif name == b"transfer-encoding":
                chunked = value == b"chunked"
        if chunked:
            # Django's error pages (a refused Host, say) carry no length.
            rest = self._skip_chunks(rest)
        else:
            while len(rest) < length:
                rest += self._recv()
            rest = rest[length:]
        self.buffer = rest
        if close:
            self.close()
        return status

    def _skip_chunks(self, rest: bytes) -> bytes:
        """Read past a chunked body (no trailers); return what follows it."""
        while True:
            while b"\r\n" not in rest:
                rest += self._recv()
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += self._recv()
            rest = rest[size + 2 :]
            if size == 0:
                return rest


@dataclass
class Phase:
    """What one generator run does; sent to the generator process."""

    port: int
    path: str
    guid_prefix: str
    body: bytes
    signature: str
    seconds: float
    connections: int
    rate: float = 0.0  # requests/s; 0 means closed loop, as fast as answered
    timeout: float = 10.0


@dataclass
class Result:
    path: str
    mode: str
    seconds: float  # from the first request to the last answer
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # seconds, answered only
    unsent: int = 0  # fixed rate: scheduled but not sent before the deadline
    send_lag_p99: float = 0.0  # fixed rate: how late requests left the client
    cpu_seconds: float = 0.0  # the generator's own CPU time
    connects: int = 0

    @property
    def fixed(self) -> bool:
        return self.mode.startswith("fixed")

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    def count(self, status: int) -> int:
        return self.statuses.get(status, 0)

    @property
    def errors(self) -> int:
        return self.sent - self.count(200) + self.unsent


def _request_bytes(phase: Phase) -> tuple[bytes, bytes]:
    """The request split around its X-GitHub-Delivery value: only that
    changes from one request to the next, and the signature covers the body
    alone, so everything else is built once."""
    before = (
        f"POST {phase.path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{phase.port}\r\n"
        "User-Agent: GitHub-Hookshot/bench\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(phase.body)}\r\n"
        f"X-GitHub-Event: {EVENT}\r\n"
        f"X-Hub-Signature-256: {phase.signature}\r\n"
        "X-GitHub-Delivery: "
    ).encode()
    return before, b"\r\n\r\n" + phase.body


def _cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_phase(phase: Phase) -> Result:
    """Drive the server for phase.seconds and return what was observed.

    Fixed rate (open loop): request i is due at start + i/rate whatever the
    earlier ones did, and its latency counts from when it was due, so a slow
    server (or a late client) shows in the figures instead of silently
    lowering the rate. Closed loop: each connection sends its next request
    as soon as the previous one is answered.
    """
    before, after = _request_bytes(phase)
    fixed = phase.rate > 0
    total = int(phase.rate * phase.seconds) if fixed else 0
    next_index = itertools.count()  # next() on a count is atomic under the GIL
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    lags: list[float] = []
    connects = [0]
    cpu_start = _cpu_now()
    start = time.perf_counter() + 0.05  # every thread is running by then
    # Nothing is sent after this, and sockets time out: the phase ends by
    # itself even if the server hangs.
    stop = start + phase.seconds + (phase.timeout if fixed else 0)
    last_answer = [start]

    def client() -> None:
        conn = Connection(phase.port, phase.timeout)
        mine_status: dict[int, int] = {}
        mine_latency: list[float] = []
        mine_lag: list[float] = []
        while True:
            i = next(next_index)
            if fixed:
                if i >= total:
                    break
                due = start + i / phase.rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                sent = time.perf_counter()
                if sent > stop:
                    break
                mine_lag.append(sent - due)
            else:
                due = sent = time.perf_counter()
                if sent >= stop:
                    break
            guid = f"{phase.guid_prefix}-{i}".encode()
            try:
                status = conn.request(before + guid + after)
            except (OSError, EOFError, ValueError):
                conn.close()
                status = 0  # no HTTP answer: refused, reset or timed out
            done = time.perf_counter()
            mine_status[status] = mine_status.get(status, 0) + 1
            if status:
                mine_latency.append(done - due)
        conn.close()
        with lock:
            for status, n in mine_status.items():
                statuses[status] = statuses.get(status, 0) + n
            latencies.extend(mine_latency)
            lags.extend(mine_lag)
            connects[0] += conn.connects
            last_answer[0] = max(last_answer[0], time.perf_counter())

    threads = [
        threading.Thread(target=client, daemon=True) for _ in range(phase.connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = Result(
        path=phase.path,
        mode=f"fixed {phase.rate:g}/s" if fixed else f"max c={phase.connections}",
        seconds=last_answer[0] - start,
        statuses=statuses,
        latencies=latencies,
        cpu_seconds=_cpu_now() - cpu_start,
        connects=connects[0],
    )
    if fixed:
        result.unsent = total - result.sent
        result.send_lag_p99 = _percentile(sorted(lags), 99)
    return result


# --- The benchmark: server, database, broker, phases, report. ---


def _percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))
    return ordered[rank]


def _machine_seconds() -> float:
    """CPU seconds the whole machine has been busy (not idle, not iowait)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    values = [int(value) for value in fields[:8]]
    return (sum(values) - values[3] - values[4]) / CLOCK_TICKS


def _machine_busy(seconds: float) -> float:
    """Percent of one core the machine is busy over the next seconds."""
    busy, wall = _machine_seconds(), time.monotonic()
    time.sleep(seconds)
    return 100 * (_machine_seconds() - busy) / (time.monotonic() - wall)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin_url = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _create_floor_table(url: str) -> None:
    import psycopg

    from bench import floor

    with psycopg.connect(url, autocommit=True) as conn:
        floor.create(conn)


def _count_rows(url: str, table: str, prefix: str, *, delete: bool = False) -> int:
    """Rows of table whose GUID the run sent (prefix-...)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        pattern = prefix + "-%"
        name = sql.Identifier(table)
        (count,) = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE guid LIKE %s").format(name),
            (pattern,),
        ).fetchone()
        if delete:
            # Keep the tables the same size from one run to the next, so runs
            # stay comparable.
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE guid LIKE %s").format(name), (pattern,)
            )
    return count


def _queued(broker) -> int:
    """Deliveries waiting in the hook queue (no worker runs, so all of
    them). The web processes send new deliveries several to a message
    (hook.dispatch), so each message is opened and its ids counted."""
    import base64
    import json

    from prow.celery import Queue

    # Give the dispatcher threads their linger to send the last batches.
    time.sleep(0.5)
    count = 0
    for raw in broker.lrange(Queue.HOOK.value, 0, -1):
        message = json.loads(raw)
        args = json.loads(base64.b64decode(message["body"]))[0]
        task = message["headers"]["task"]
        count += len(args[0]) if task == "hook.tasks.handle_deliveries" else 1
    return count


def _redis(url: str):
    import redis

    return redis.Redis.from_url(url)


@contextmanager
def _private_redis():
    """A Redis of the benchmark's own on a free loopback port: a shared one
    may be flushed or drained by someone else's tests and workers mid-run,
    which would spoil the count of queued deliveries."""
    port = _free_port()
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port)]
        + ["--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                _redis(url).ping()
                break
            except Exception:  # any connection error while it starts
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("the private redis-server did not start")
                time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class CpuMeter:
    """CPU time of the server's processes, PostgreSQL, Redis and the whole
    machine, read from /proc: it shows which of them the two cores went to."""

    def __init__(self, gunicorn_pid: int, database: str, redis_pid: int | None):
        self.gunicorn_pid = gunicorn_pid
        self.database = database
        self.redis_pid = redis_pid

    def _ours(self, pid: str) -> bool:
        """A PostgreSQL process working for the benchmark: a backend of its
        database, or a shared one (postmaster, WAL writer, checkpointer).
        Backends of other databases are someone else's load."""
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False
        # Backends are titled "postgres: 15/main: user database host(port) ..."
        words = title.replace(b"\0", b" ").decode(errors="replace").split(": ")[-1]
        words = words.split()
        if len(words) >= 3 and "(" in words[2]:
            return words[1] == self.database
        return True

    @staticmethod
    def _stat(pid: str) -> tuple[str, int, int] | None:
        try:
            data = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        comm = data[data.index("(") + 1 : data.rindex(")")]
        rest = data[data.rindex(")") + 2 :].split()
        return comm, int(rest[1]), int(rest[11]) + int(rest[12])

    def snapshot(self) -> dict:
        """CPU seconds per (group, pid), and the machine's busy seconds."""
        used: dict[tuple[str, str], float] = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            stat = self._stat(pid)
            if stat is None:
                continue
            comm, ppid, ticks = stat
            if int(pid) == self.gunicorn_pid or ppid == self.gunicorn_pid:
                group = "gunicorn"
            elif comm == "postgres" and self._ours(pid):
                group = "postgres"
            elif (
                int(pid) == self.redis_pid
                if self.redis_pid
                else comm.startswith("redis-server")
            ):
                group = "redis"
            else:
                continue
            used[group, pid] = ticks / CLOCK_TICKS
        return {"pids": used, "machine": _machine_seconds(), "wall": time.monotonic()}

    @contextmanager
    def measuring(self, interval: float = 0.5):
        """Yield a dict that, on exit, holds the percent of one core each
        group used meanwhile (200% = 2 cores).

        /proc is read every interval: a process that exits (a database
        connection closed at its CONN_MAX_AGE, say) takes its counters with
        it, so only what it used since the last reading is lost.
        """
        first = last = self.snapshot()
        seconds = {"gunicorn": 0.0, "postgres": 0.0, "redis": 0.0}
        stop = threading.Event()

        def add(snap: dict) -> None:
            for key, used in snap["pids"].items():
                seconds[key[0]] += used - last["pids"].get(key, 0.0)

        def sample() -> None:
            nonlocal last
            while not stop.wait(interval):
                snap = self.snapshot()
                add(snap)
                last = snap

        share: dict[str, float] = {}
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            yield share
        finally:
            stop.set()
            sampler.join()
            end = self.snapshot()
            add(end)
            wall = end["wall"] - first["wall"]
            seconds["machine"] = end["machine"] - first["machine"]
            share.update({name: 100 * used / wall for name, used in seconds.items()})


class Server:
    """gunicorn serving the project with bench.settings, in its own process
    group so stopping it stops its workers too."""

    def __init__(self, args, env: dict[str, str], log_path: Path):
        self.port = _free_port()
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "prow.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            args.worker_class,
            "--threads",
            str(args.threads),
            "--keep-alive",
            str(args.keep_alive),
            "--log-level",
            "warning",
        ]
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self.log = open(self.log_path, "wb")  # noqa: SIM115 closed in __exit__
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60.0) -> None:
        # /healthz/ready answers 200 only once the database and the broker
        # are reachable from the server.
        deadline = time.monotonic() + timeout
        request = (
            f"GET /healthz/ready HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("gunicorn exited:\n" + self._log_tail())
            conn = Connection(self.port, 5.0)
            try:
                if conn.request(request) == 200:
                    return
            except (OSError, EOFError):
                pass
            finally:
                conn.close()
            time.sleep(0.2)
        raise SystemExit(f"gunicorn not ready after {timeout:g}s:\n" + self._log_tail())

    def _log_tail(self) -> str:
        # The log lives in the run's temporary folder, gone once it ends.
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()


def _server_ms(result: Result, share: dict[str, float]) -> float:
    """CPU milliseconds gunicorn, PostgreSQL and Redis spent per 200."""
    answered = result.count(200)
    if not answered:
        return float("nan")
    cores = sum(share[name] for name in ("gunicorn", "postgres", "redis")) / 100
    return 1000 * cores * result.seconds / answered


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _row(result: Result) -> list[str]:
    ordered = sorted(result.latencies)
    rate = result.count(200) / result.seconds if result.seconds > 0 else 0.0
    return [
        result.path,
        result.mode,
        str(result.sent + result.unsent),
        str(result.errors),
        f"{rate:.1f}",
        _ms(_percentile(ordered, 50)),
        _ms(_percentile(ordered, 90)),
        _ms(_percentile(ordered, 99)),
        _ms(ordered[-1]) if ordered else "nan",
    ]


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.hook",
        description="Benchmark POST /hook under gunicorn beside a bare Django "
        "view and a durable-acknowledgement floor.",
    )
    parser.add_argument("--rate", type=float, default=200, help="fixed rate, req/s")
    parser.add_argument(
        "--seconds", type=float, default=20, help="length of each measured phase"
    )
    parser.add_argument(
        "--warmup", type=float, default=3, help="unmeasured seconds before each target"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    parser.add_argument("--worker-class", default="gthread", help="gunicorn -k")
    parser.add_argument(
        "--keep-alive", type=int, default=5, help="gunicorn --keep-alive seconds"
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=32,
        help="client connections for the fixed rate (enough that none waits)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=16,
        help="client connections for the maximum-throughput phases",
    )
    parser.add_argument(
        "--max-rate",
        action="store_true",
        help="only the maximum-throughput phases, no fixed rate",
    )
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/prow_bench",
        help="PostgreSQL database, created and migrated if missing",
    )
    parser.add_argument(
        "--broker-url",
        default="",
        help="Redis to use, emptied before and after (default: a private "
        "redis-server on a free port, else redis://127.0.0.1:6379/13)",
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = _parse_args(argv)
    _ensure_database(args.database_url)
    with ExitStack() as stack:
        redis_pid = None
        if not args.broker_url:
            if shutil.which("redis-server"):
                args.broker_url, redis_pid = stack.enter_context(_private_redis())
            else:
                args.broker_url = "redis://127.0.0.1:6379/13"
        outcome = _measure(args, redis_pid)
    return _report(args, redis_pid, *outcome)


def _measure(args, redis_pid):
    body = FIXTURE.read_bytes()
    secret = uuid.uuid4().hex
    run_id = "bench-" + uuid.uuid4().hex[:12]
    broker = _redis(args.broker_url)
    broker.flushdb()
    busy_before = _machine_busy(2.0)

    with tempfile.TemporaryDirectory(prefix="prow-bench-") as tmp:
        secret_path = Path(tmp) / "hmac"
        secret_path.write_text(secret + "\n")
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="bench.settings",
            DATABASE_URL=args.database_url,
            CELERY_BROKER_URL=args.broker_url,
            PROW_HMAC_SECRET_FILE=str(secret_path),
            PROW_DATA_DIR=str(Path(tmp) / "data"),
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            PYTHONUNBUFFERED="1",
        )
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        _create_floor_table(args.database_url)
        log_path = Path(tmp) / "gunicorn.log"
        try:
            with (
                Server(args, env, log_path) as server,
                ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool,
            ):
                meter = CpuMeter(
                    server.process.pid,
                    urlparse(args.database_url).path.lstrip("/"),
                    redis_pid,
                )
                results, cpu = _run_phases(
                    args, server, pool, meter, body, secret, run_id
                )
                log_tail = log_path.read_text(errors="replace")[-2000:]
        finally:
            broker_messages = _queued(broker)
            broker.flushdb()
        stored = {
            HOOK: _count_rows(
                args.database_url, "hook_webhookdelivery", run_id, delete=True
            ),
            FLOOR: _count_rows(args.database_url, "bench_floor", run_id, delete=True),
        }
    return results, cpu, stored, broker_messages, log_tail, busy_before


def _run_phases(args, server, pool, meter, body, secret, run_id):
    signature = _signature(secret, body)
    results: list[Result] = []
    cpu: list[dict[str, float]] = []
    plan = []
    if not args.max_rate:
        plan += [(path, args.rate, args.connections) for path in TARGETS]
    plan += [(path, 0.0, args.concurrency) for path in TARGETS]
    warmed = set()
    for n, (path, rate, connections) in enumerate(plan):

        def phase(seconds, rate=rate, connections=connections, tag=n, path=path):
            return Phase(
                port=server.port,
                path=path,
                guid_prefix=f"{run_id}-{tag}",
                body=body,
                signature=signature,
                seconds=seconds,
                connections=connections,
                rate=rate,
            )

        if path not in warmed and args.warmup > 0:
            # Every worker imports the view, opens its database and broker
            # connections and fills its caches before anything is measured.
            warm = pool.submit(run_phase, phase(args.warmup, 0.0, tag=f"w{n}"))
            results.append(warm.result(timeout=args.warmup + PHASE_GRACE))
            cpu.append({})
            warmed.add(path)
        with meter.measuring() as share:
            measured = pool.submit(run_phase, phase(args.seconds))
            result = measured.result(timeout=args.seconds + PHASE_GRACE)
        share["generator"] = 100 * result.cpu_seconds / result.seconds
        # Whatever else ran on the machine meanwhile: other people's work
        # competes for the same two cores and shows up here.
        share["other"] = max(
            0.0,
            share["machine"]
            - sum(share[name] for name in ("gunicorn", "postgres", "redis"))
            - share["generator"],
        )
        results.append(result)
        cpu.append(share)
        time.sleep(1)  # let PostgreSQL and the workers settle between phases
    return results, cpu


def _report(
    args, redis_pid, results, cpu, stored, broker_messages, log_tail, busy_before
) -> int:
    measured = [(r, c) for r, c in zip(results, cpu, strict=True) if c]
    answered = {
        path: sum(r.count(200) for r in results if r.path == path)
        for path in (HOOK, FLOOR)
    }
    print(
        f"POST {HOOK} ({FIXTURE.name}, {len(FIXTURE.read_bytes())} bytes, signed) "
        f"vs POST {FLOOR} and POST {BARE}"
    )
    print(
        f"gunicorn prow.wsgi -k {args.worker_class} --workers {args.workers} "
        f"--threads {args.threads} --keep-alive {args.keep_alive}; "
        f"PostgreSQL {urlparse(args.database_url).netloc}, "
        f"Redis {urlparse(args.broker_url).netloc}"
        + (" (private)" if redis_pid else "")
    )
    print(
        f"{os.cpu_count()} CPU cores shared by the load generator, gunicorn, "
        "PostgreSQL and Redis; latency is measured at the client, from when "
        "each request was due"
    )
    print(f"machine busy before the run (nothing of it started): {busy_before:.0f}%")
    print()
    header = ["target", "mode", "requests", "errors", "req/s"]
    header += ["p50 ms", "p90 ms", "p99 ms", "max ms"]
    print(_table(header, [_row(r) for r, _ in measured]))
    print()
    cpu_header = ["target", "mode", "gunicorn", "postgres", "redis", "generator"]
    cpu_header += ["other", "machine", "server ms/req", "send lag p99 ms"]
    cpu_header += ["connects"]
    cpu_rows = [
        [
            r.path,
            r.mode,
            *(f"{c[name]:.0f}%" for name in cpu_header[2:8]),
            f"{_server_ms(r, c):.2f}",
            _ms(r.send_lag_p99) if r.fixed else "-",
            str(r.connects),
        ]
        for r, c in measured
    ]
    print("CPU use during each phase (100% = one core, 200% = the whole machine)")
    print(_table(cpu_header, cpu_rows))
    disturbed = max(c["other"] for _, c in measured)
    if disturbed > 20:
        print(
            f"WARNING: other processes used up to {disturbed:.0f}% CPU during a "
            "phase; these figures are worse than the machine can do alone"
        )
    print()

    verdicts = []
    fixed_hook = [r for r, _ in measured if r.path == HOOK and r.fixed]
    if fixed_hook:
        r = fixed_hook[0]
        p99 = _percentile(sorted(r.latencies), 99) * 1000
        rate = r.count(200) / r.seconds
        ok = p99 < TARGET_P99_MS and r.errors == 0 and rate >= 0.98 * args.rate
        verdicts.append(
            (
                ok,
                f"/hook p99 {p99:.1f} ms at {rate:.0f} req/s "
                f"(target < {TARGET_P99_MS:g} ms at {args.rate:g}/s, no errors)",
            )
        )
    rates = {
        r.path: r.count(200) / r.seconds
        for r, _ in measured
        if not r.fixed and r.seconds > 0
    }
    if all(path in rates for path in TARGETS):
        print(
            "max req/s: "
            + ", ".join(f"{path} {rates[path]:.0f}" for path in TARGETS)
            + f"; /hook / floor = {_ratio(rates[HOOK], rates[FLOOR]):.2f}"
            + f", /hook / bare = {_ratio(rates[HOOK], rates[BARE]):.2f}"
        )
        # What each answer cost the server (gunicorn, PostgreSQL, Redis) in
        # CPU: other load on the machine lowers every rate, but changes this
        # far less, so its ratio is the steadier of the two.
        spent = {r.path: _server_ms(r, c) for r, c in measured if not r.fixed}
        print(
            "server CPU ms per answer: "
            + ", ".join(f"{path} {spent[path]:.2f}" for path in TARGETS)
            + f"; floor / /hook = {_ratio(spent[FLOOR], spent[HOOK]):.2f}"
        )
        print()
        ratio = _ratio(rates[HOOK], rates[FLOOR])
        verdicts.append(
            (
                ratio >= TARGET_RATIO,
                f"/hook throughput {rates[HOOK]:.0f} req/s = {ratio:.2f} x floor "
                f"{rates[FLOOR]:.0f} req/s (target >= {TARGET_RATIO:g}); "
                f"{_ratio(rates[HOOK], rates[BARE]):.2f} x bare "
                f"{rates[BARE]:.0f} req/s",
            )
        )
    verdicts.append(
        (
            stored[FLOOR] == answered[FLOOR],
            f"{FLOOR} answered 200 {answered[FLOOR]} times (warm-up included); "
            f"{stored[FLOOR]} rows stored",
        )
    )
    verdicts.append(
        (
            stored[HOOK] == answered[HOOK] == broker_messages,
            f"{HOOK} answered 200 {answered[HOOK]} times (warm-up included); "
            f"{stored[HOOK]} deliveries stored, {broker_messages} queued in Redis",
        )
    )
    for ok, text in verdicts:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    statuses = {}
    for r in results:
        for status, n in r.statuses.items():
            if status != 200:
                statuses[f"{r.path} {status or 'no answer'}"] = n
    if statuses:
        print("non-200 answers:", statuses)
        print("gunicorn log tail:\n" + log_tail)
    return 0 if all(ok for ok, _ in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
