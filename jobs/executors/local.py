"""Pods as local processes: the executor when no cluster is configured.

Each "pod" is a folder under the data folder holding its manifest, its
status and its logs, and a runner process (jobs.executors.local_runner)
that runs the containers' commands in turn. The image is not used, and
nothing is isolated: this executor therefore refuses pull request code
(presubmits and batches) unless PROW_LOCAL_EXECUTOR_ALLOW_PULL_REQUESTS is
set, since that code comes from people outside the project, and jobs a
repository defines for itself unless PROW_LOCAL_EXECUTOR_ALLOW_IN_REPO_JOBS
is, since their commands come from whoever can push there.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from jobs.executors.base import (
    MISSING,
    Collected,
    ContainerState,
    ExecutorError,
    PodExists,
    PodStatus,
    PodSummary,
)
from jobs.labels import BUILD_ID_LABEL, IN_REPO_ANNOTATION, TYPE_LABEL

PULL_REQUEST_TYPES = {"presubmit", "batch"}


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A finished child that nobody waited for is a zombie: not running.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        return state != "Z"
    except (OSError, IndexError):
        return True


class LocalExecutor:
    kind = "local"

    def __init__(
        self,
        root: Path,
        *,
        allow_pull_requests: bool,
        allow_in_repo_jobs: bool = False,
    ):
        self.root = Path(root)
        self.allow_pull_requests = allow_pull_requests
        self.allow_in_repo_jobs = allow_in_repo_jobs

    def _dir(self, namespace: str, name: str) -> Path:
        return self.root / namespace / name

    def create(self, pod: dict) -> None:
        labels = pod["metadata"].get("labels") or {}
        if (
            labels.get(TYPE_LABEL) in PULL_REQUEST_TYPES
            and not self.allow_pull_requests
        ):
            raise ExecutorError(
                "the local executor runs no pull request code (it has no "
                "isolation); set PROW_LOCAL_EXECUTOR_ALLOW_PULL_REQUESTS=true to "
                "allow it on a machine you do not mind exposing"
            )
        annotations = pod["metadata"].get("annotations") or {}
        if annotations.get(IN_REPO_ANNOTATION) and not self.allow_in_repo_jobs:
            raise ExecutorError(
                "the local executor runs no job defined in a repository's own "
                "config (it has no isolation); set "
                "PROW_LOCAL_EXECUTOR_ALLOW_IN_REPO_JOBS=true to allow it on a "
                "machine you do not mind exposing"
            )
        folder = self._dir(pod["metadata"]["namespace"], pod["metadata"]["name"])
        folder.parent.mkdir(parents=True, exist_ok=True)
        try:
            folder.mkdir()
        except FileExistsError:
            raise PodExists(pod["metadata"]["name"])
        (folder / "pod.json").write_text(json.dumps(pod))
        with open(folder / "runner.log", "wb") as log:
            # The runner detaches itself and writes its own pid; this waits
            # only for the detaching step.
            subprocess.run(
                [sys.executable, "-m", "jobs.executors.local_runner", str(folder)],
                cwd=Path(__file__).resolve().parent.parent.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=30,
                check=True,
            )

    def status(self, namespace: str, name: str) -> PodStatus:
        folder = self._dir(namespace, name)
        try:
            pod = json.loads((folder / "pod.json").read_text())
        except (OSError, ValueError):
            return MISSING
        build_id = (pod["metadata"].get("labels") or {}).get(BUILD_ID_LABEL, "")
        try:
            status = json.loads((folder / "status.json").read_text())
        except (OSError, ValueError):
            status = {"phase": "Pending", "containers": []}
        phase = status["phase"]
        reason = ""
        if phase in ("Pending", "Running") and not self._runner_alive(folder):
            # The runner died without saying how it ended (machine restart).
            phase, reason = "Failed", "RunnerLost"
        containers = tuple(
            ContainerState(
                c["name"],
                c["state"],
                c.get("exitCode"),
                c.get("reason", ""),
                c.get("message", ""),
            )
            for c in status.get("containers", [])
        )
        return PodStatus(
            exists=True,
            phase=phase,
            start_time=_time(status.get("startTime")),
            reason=reason,
            containers=containers,
            build_id=build_id,
            finish_time=_time(status.get("finishedTime")),
        )

    def _runner_alive(self, folder: Path) -> bool:
        try:
            return _alive(int((folder / "runner.pid").read_text()))
        except (OSError, ValueError):
            # Created a moment ago, pid not written yet.
            return True

    def delete(self, namespace: str, name: str) -> None:
        folder = self._dir(namespace, name)
        try:
            pid = int((folder / "runner.pid").read_text())
        except (OSError, ValueError):
            pid = None
        if pid and _alive(pid):
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(pid, sig)
                except ProcessLookupError:
                    break
                for _ in range(20):
                    if not _alive(pid):
                        break
                    time.sleep(0.1)
                else:
                    continue
                break
        shutil.rmtree(folder, ignore_errors=True)

    def logs(self, namespace: str, name: str, container: str, limit_bytes: int) -> str:
        path = self._dir(namespace, name) / "logs" / f"{container}.log"
        try:
            with path.open("rb") as handle:
                return handle.read(limit_bytes).decode("utf-8", "replace")
        except OSError:
            return ""

    def list_pods(self, namespace: str, selector: str) -> list[PodSummary]:
        wanted = dict(part.split("=", 1) for part in selector.split(",") if "=" in part)
        pods = []
        for folder in sorted((self.root / namespace).glob("*")):
            try:
                pod = json.loads((folder / "pod.json").read_text())
            except (OSError, ValueError):
                continue
            labels = pod["metadata"].get("labels") or {}
            if any(labels.get(k) != v for k, v in wanted.items()):
                continue
            status = self.status(namespace, folder.name)
            created = datetime.fromtimestamp(
                (folder / "pod.json").stat().st_mtime
            ).astimezone()
            finished = None
            if status.phase in ("Succeeded", "Failed"):
                try:
                    raw = json.loads((folder / "status.json").read_text())
                    finished = _time(raw.get("finishedTime"))
                except (OSError, ValueError):
                    pass
            pods.append(
                PodSummary(
                    folder.name, namespace, labels, status.phase, created, finished
                )
            )
        return pods

    def artifacts(
        self, namespace: str, name: str, limit: int, max_files: int | None = None
    ) -> Collected:
        """Files the job wrote under $ARTIFACTS, up to limit bytes and
        max_files files in all."""
        folder = self._dir(namespace, name) / "volumes" / "logs" / "artifacts"
        found, total = Collected(), 0
        for entries, path in enumerate(_files_under(folder), start=1):
            if max_files is not None and entries > max_files:
                found.left_out.append(f"more than {max_files} files")
                break
            size = path.stat().st_size
            if total + size > limit:
                found.left_out.append(f"more than {limit} bytes in all")
                break
            found.append((str(path.relative_to(folder)), path.read_bytes()))
            total += size
        return found


def _files_under(folder: Path):
    """Regular files below folder in a stable order, without following
    links (a link out of the folder would hand over host files)."""
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                yield path
