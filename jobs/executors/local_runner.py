"""Runs one local "pod": its containers' commands, one after another.

Started by the local executor as `python -m jobs.executors.local_runner DIR`
in a session of its own, so it outlives the Celery task that started it.
It reads DIR/pod.json, runs the init containers then the containers (their
`command` + `args`; the image is not used), writes each one's output to
DIR/logs/<container>.log, and keeps DIR/status.json up to date.
"""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from jobs.labels import ID_LABEL

# Variables of the host worth keeping; anything else (tokens, database URLs)
# stays out of the job's environment.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")


def now() -> str:
    # Milliseconds: a job's duration is read from these, and most local
    # commands take less than a second.
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_status(root: Path, status: dict) -> None:
    tmp = root / "status.json.tmp"
    tmp.write_text(json.dumps(status))
    tmp.replace(root / "status.json")


def mount_map(root: Path, spec: dict) -> dict[str, str]:
    """Each volume mount path -> a folder of this pod, so paths a pod spec
    names (/home/prow/go, /logs) exist on this machine."""
    mapping = {}
    for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        for mount in container.get("volumeMounts") or []:
            path = root / "volumes" / mount["name"]
            path.mkdir(parents=True, exist_ok=True)
            mapping[mount["mountPath"]] = str(path)
    return mapping


def remap(value: str, mapping: dict[str, str]) -> str:
    for mount, local in sorted(mapping.items(), key=lambda kv: -len(kv[0])):
        value = value.replace(mount, local)
    return value


def run_container(
    root: Path, container: dict, mapping: dict[str, str], entry: dict
) -> int:
    """Run one container; its end (reason, message) is noted in entry, as
    Kubernetes notes a terminated container's."""
    command = [*(container.get("command") or []), *(container.get("args") or [])]
    log = root / "logs" / f"{container['name']}.log"
    if not container.get("command"):
        message = (
            "The local executor runs a container's command and args; this "
            "container has no command (its image's entrypoint cannot be used)."
        )
        log.write_text(message + "\n")
        entry.update(reason="StartError", message=message)
        return 127
    env = {k: os.environ[k] for k in INHERITED if k in os.environ}
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = remap(str(item["value"]), mapping)
    workdir = root / "work"
    if container.get("workingDir"):
        mapped = Path(remap(container["workingDir"], mapping))
        mapped.mkdir(parents=True, exist_ok=True)
        workdir = mapped
    with log.open("ab") as out:
        try:
            done = subprocess.run(
                [remap(part, mapping) for part in command],
                cwd=workdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        except OSError as exc:
            message = f"cannot run {command[0]}: {exc}"
            out.write(f"{message}\n".encode())
            entry.update(reason="StartError", message=message)
            return 127
    if done.returncode < 0:
        entry.update(reason="Signaled", message=f"killed by signal {-done.returncode}")
        return 128 - done.returncode
    entry["reason"] = "Completed" if done.returncode == 0 else "Error"
    return done.returncode


def main(root: Path) -> int:
    pod = json.loads((root / "pod.json").read_text())
    spec = pod["spec"]
    (root / "logs").mkdir(exist_ok=True)
    (root / "work").mkdir(exist_ok=True)
    mapping = mount_map(root, spec)
    status = {"phase": "Running", "startTime": now(), "containers": []}
    write_status(root, status)
    init, main_containers = (
        spec.get("initContainers") or [],
        spec.get("containers") or [],
    )
    for container in [*init, *main_containers]:
        entry = {"name": container["name"], "state": "running", "startedAt": now()}
        status["containers"].append(entry)
        write_status(root, status)
        code = run_container(root, container, mapping, entry)
        entry.update(state="terminated", exitCode=code, finishedAt=now())
        if code != 0:
            break
    codes = [c.get("exitCode") for c in status["containers"]]
    finished = len(codes) == len(init) + len(main_containers)
    status["phase"] = "Succeeded" if finished and not any(codes) else "Failed"
    status["finishedTime"] = now()
    write_status(root, status)
    announce(pod)
    return 0


def announce(pod: dict) -> None:
    """Have plank look at the job now: otherwise a finished job stays
    "running" until its next resync, up to PROW_PLANK_RESYNC_SECONDS."""
    job_name = (pod["metadata"].get("labels") or {}).get(ID_LABEL)
    if not job_name or not os.environ.get("DJANGO_SETTINGS_MODULE"):
        return
    try:
        # Only now: the runner needs Django (settings, the broker) for this
        # one message, and a run must not depend on it loading.
        import django

        django.setup()
        from jobs.services import prowjob_sync_soon

        prowjob_sync_soon(job_name)
    except Exception as exc:
        print(f"plank not told the pod ended ({exc}); its resync will see it")


def detach(root: Path) -> None:
    """Leave the process that started us: it (a Celery worker) never waits for
    us, and we must not become its zombie or die with it."""
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    (root / "runner.pid").write_text(str(os.getpid()))


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    detach(folder)
    sys.exit(main(folder))
