"""The pod that runs a ProwJob (spec §2.4-2.7), as a core/v1 Pod manifest.

The manifest is a plain dict in Kubernetes' JSON form (camelCase keys), so the
executor can send it as is and tests can check it against the real Kubernetes
schema.

Decorated jobs get their code checked out by an init container running a
short shell script, instead of the original's clonerefs/initupload/entrypoint/
sidecar binaries: the refs under test are cloned into a volume shared with
the test containers, which start in the clone, so a job's script no longer
needs its own `git fetch` preamble. The job's timeout is enforced by the pod's
`activeDeadlineSeconds`, which is what the original's entrypoint did by hand.
"""

from __future__ import annotations

import copy
import math
import shlex
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from jobs.environment import (
    ARTIFACTS_PATH,
    CODE_MOUNT_PATH,
    as_env_vars,
    job_environment,
    src_host,
)
from jobs.labels import pod_annotations, pod_labels
from jobs.serialization import without_nulls
from prow.config.durations import parse_duration

if TYPE_CHECKING:
    from jobs.models import ProwJob

DEFAULT_GITHUB_LINK = "https://github.com"
# Small, public, and pinned so a pod built today clones with the
# same git tomorrow; `decoration_config.utility_images.clonerefs` or the
# executor's setting replaces it (e.g. for an internal mirror).
DEFAULT_CLONE_IMAGE = "alpine/git:2.47.2"

TEST_CONTAINER_NAME = "test"
CLONE_CONTAINER_NAME = "clonerefs"
ARTIFACTS_CONTAINER_NAME = "artifacts"
CODE_VOLUME = "code"
LOGS_VOLUME = "logs"
LOGS_MOUNT_PATH = "/logs"

# The identity of the merge commits. Fixed (with the dates derived from the
# base commit) so the same refs always produce the same merge SHAs, whichever
# pod or machine runs the clone; these are the original's values.
MERGE_AUTHOR_NAME = "ci-robot"
MERGE_AUTHOR_EMAIL = "ci-robot@k8s.io"

# A transient network error should not fail a job, a missing ref should not
# make it hang: a few quick attempts.
FETCH_ATTEMPTS = 3

# Set on the merge command itself: an image's or a user's git settings must
# not change the merge commits.
_MERGE_ENV = " ".join(
    [
        f"GIT_AUTHOR_NAME={MERGE_AUTHOR_NAME}",
        f"GIT_AUTHOR_EMAIL={MERGE_AUTHOR_EMAIL}",
        f"GIT_COMMITTER_NAME={MERGE_AUTHOR_NAME}",
        f"GIT_COMMITTER_EMAIL={MERGE_AUTHOR_EMAIL}",
        'GIT_AUTHOR_DATE="$stamp +0000"',
        'GIT_COMMITTER_DATE="$stamp +0000"',
    ]
)

_SCRIPT_PRELUDE = f"""\
set -eu
# Never wait for credentials on a terminal nobody is watching.
export GIT_TERMINAL_PROMPT=0
fetch() {{
  attempt=1
  until git fetch "$@"; do
    if [ "$attempt" -ge {FETCH_ATTEMPTS} ]; then
      echo "clonerefs: git fetch $* failed {FETCH_ATTEMPTS} times" >&2
      return 1
    fi
    sleep "$attempt"
    attempt=$((attempt + 1))
  done
}}"""


def workdir_for(
    refs: Mapping[str, Any],
    github_link: str = DEFAULT_GITHUB_LINK,
    *,
    root: str = CODE_MOUNT_PATH,
) -> str:
    """Where `refs` is cloned: `<root>/src/<path_alias>`, else
    `<root>/src/<host>/<org>/<repo>` (Go's GOPATH layout, as the original)."""
    alias = (refs.get("path_alias") or "").strip("/")
    if alias:
        relative = alias
    else:
        # The same host as SRC_HOST, so scripts may also find their code at
        # $GOPATH/src/$SRC_HOST/$SRC_BASE.
        host = src_host(github_link)
        relative = f"{host}/{refs.get('org', '')}/{refs.get('repo', '')}"
    return f"{root.rstrip('/')}/src/{relative}"


def clone_uri_for(
    refs: Mapping[str, Any], github_link: str = DEFAULT_GITHUB_LINK
) -> str:
    """The URL `refs` is fetched from: its `clone_uri`, else the repository on
    `github_link`."""
    if refs.get("clone_uri"):
        return refs["clone_uri"]
    return f"{github_link.rstrip('/')}/{refs.get('org', '')}/{refs.get('repo', '')}.git"


def _command(*words: Any) -> str:
    return " ".join(shlex.quote(str(word)) for word in words)


def _refs_commands(refs: Mapping[str, Any], github_link: str, root: str) -> list[str]:
    org_repo = f"{refs.get('org', '')}/{refs.get('repo', '')}"
    directory = workdir_for(refs, github_link, root=root)
    uri = clone_uri_for(refs, github_link)
    base_ref = refs.get("base_ref") or ""
    base_sha = refs.get("base_sha") or ""

    fetch_options: list[Any] = []
    if refs.get("clone_depth"):
        fetch_options += ["--depth", int(refs["clone_depth"])]
    if refs.get("blobless_fetch"):
        fetch_options.append("--filter=blob:none")

    lines = [
        "",
        _command("echo", f"clonerefs: cloning {org_repo} into {directory}"),
        _command("mkdir", "-p", directory),
        _command("cd", directory),
        # A fixed initial branch name keeps git's advice about it out of logs.
        _command("git", "-c", "init.defaultBranch=main", "init", "--quiet"),
        # Jobs that commit (code generators, release tooling) need an identity.
        _command("git", "config", "user.name", MERGE_AUTHOR_NAME),
        _command("git", "config", "user.email", MERGE_AUTHOR_EMAIL),
    ]
    if not refs.get("skip_fetch_head"):
        # Tags too, so `git describe` works in the job as in a plain clone.
        lines.append(_command("fetch", *fetch_options, "--tags", "--prune", "--", uri))
    lines.append(_command("fetch", *fetch_options, "--", uri, base_ref or "HEAD"))
    lines.append(_command("git", "checkout", "--quiet", base_sha or "FETCH_HEAD", "--"))
    if base_ref:
        # On a branch named like the base, as a developer's clone would be.
        lines.append(_command("git", "checkout", "--quiet", "-B", base_ref))
    lines.append(
        _command("echo", f"clonerefs: {org_repo} base {base_ref or 'HEAD'} at")
        + ' "$(git rev-parse HEAD)"'
    )

    pulls = refs.get("pulls") or []
    if pulls:
        # Merge dates count up from the base commit's: with the fixed
        # identity, this makes the merge commits reproducible.
        lines.append("stamp=$(git log -1 --format=%ct HEAD)")
    for pull in pulls:
        number = pull.get("number", "")
        sha = pull.get("sha") or ""
        lines.append(
            _command(
                "fetch",
                *fetch_options,
                "--",
                uri,
                pull.get("ref") or f"pull/{number}/head",
            )
        )
        lines.append("stamp=$((stamp + 1))")
        merge = _command(
            "git",
            "merge",
            "--no-ff",
            "--quiet",
            "-m",
            f"Merge pull request #{number}" + (f" ({sha})" if sha else ""),
            "--",
            sha or "FETCH_HEAD",
        )
        lines.append(f"{_MERGE_ENV} {merge}")
        lines.append(_command("echo", f"clonerefs: merged #{number} {sha}".rstrip()))

    if not refs.get("skip_submodules"):
        lines.append(_command("git", "submodule", "update", "--init", "--recursive"))
    lines.append(
        _command("echo", f"clonerefs: {org_repo} ready at") + ' "$(git rev-parse HEAD)"'
    )
    return lines


def clone_script(
    refs_list: Iterable[Mapping[str, Any]],
    github_link: str = DEFAULT_GITHUB_LINK,
    *,
    root: str = CODE_MOUNT_PATH,
    artifacts_dir: str | None = None,
) -> str:
    """A POSIX sh script that checks out each refs under `root`.

    For each refs: fetch the base branch, check out `base_sha` (or the
    branch's head when there is none), then fetch and merge each pull in
    order with `git merge --no-ff`. Any failing git command fails the script.
    Every value from the refs is shell-quoted, and comes after `--` so git
    cannot take it for an option: branch names and clone URIs come from
    outside. `artifacts_dir`, if given, is created first, world-writable, so
    a test running as any user can write there.
    """
    lines = [_SCRIPT_PRELUDE]
    if artifacts_dir:
        lines.append(_command("mkdir", "-p", "-m", "0777", artifacts_dir))
    for refs in refs_list:
        lines += _refs_commands(refs, github_link, root)
    return "\n".join(lines) + "\n"


def done_marker(container: str, *, logs_root: str = LOGS_MOUNT_PATH) -> str:
    """The file a wrapped test container leaves once its command returned."""
    return f"{logs_root.rstrip('/')}/done-{container}"


def wrapper_script(container: str, *, logs_root: str = LOGS_MOUNT_PATH) -> str:
    """The `sh -c` script a decorated test container runs its argv under.

    The argv comes as positional parameters, so nothing of it is re-parsed by
    the shell. The command's exit code is the container's, so the pod's phase
    is what it was without the wrapper; the marker tells the artifacts sidecar
    the container is done. The command runs in the background only so that a
    SIGTERM (deadline, abort) reaches it: a shell as PID 1 would swallow it.
    """
    marker = shlex.quote(done_marker(container, logs_root=logs_root))
    return (
        '"$@" &\n'
        "child=$!\n"
        "trap 'kill -TERM \"$child\" 2>/dev/null' TERM INT\n"
        'wait "$child"\n'
        "code=$?\n"
        "# A trapped signal interrupts `wait`: wait again for the real status.\n"
        'if kill -0 "$child" 2>/dev/null; then wait "$child"; code=$?; fi\n'
        f"touch {marker}\n"
        'exit "$code"\n'
    )


def artifacts_script(
    containers: Iterable[str],
    *,
    logs_root: str = LOGS_MOUNT_PATH,
    deadline: int | None = None,
) -> str:
    """The sidecar's script: once every container in `containers` left its
    marker (or `deadline` seconds passed), print the artifacts folder as a
    base64-encoded gzipped tar on stdout.

    Its stdout and stderr are its whole log, which plank decodes: nothing else
    may be printed. It always exits 0, so the pod's phase is the tests'.
    """
    root = logs_root.rstrip("/")
    markers = " ".join(
        shlex.quote(done_marker(c, logs_root=logs_root)) for c in containers
    )
    lines = ["exec 2>/dev/null"]
    if markers:
        lines += [
            "waited=0",
            "while :; do",
            "  missing=0",
            f"  for marker in {markers}; do",
            '    [ -e "$marker" ] || missing=1',
            "  done",
            '  [ "$missing" = 0 ] && break',
        ]
        if deadline:
            # Past it the pod is killed anyway; this only bounds the wait.
            lines.append(f'  [ "$waited" -ge {int(deadline)} ] && break')
        lines += ["  sleep 1", "  waited=$((waited + 1))", "done"]
    lines += [
        f"cd {shlex.quote(root + '/artifacts')} || exit 0",
        "tar -czf - . | base64",
        "exit 0",
    ]
    return "\n".join(lines) + "\n"


def _set_env(container: dict[str, Any], env: list[dict[str, str]]) -> None:
    # Prow's values win: a job's own value for a reserved name would make its
    # scripts see something other than what the controller reports.
    names = {var["name"] for var in env}
    kept = [var for var in container.get("env") or [] if var.get("name") not in names]
    container["env"] = kept + env


def _seconds(duration: str) -> int:
    return math.ceil(parse_duration(duration).total_seconds())


def _all_refs(job: ProwJob) -> list[Mapping[str, Any]]:
    return ([job.refs] if job.refs else []) + list(job.extra_refs or [])


def _workdir_refs(refs_list: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    # An extra refs may ask to be the working directory (`workdir: true`),
    # as in the original; otherwise the job's own refs, else the first one.
    for refs in refs_list:
        if refs.get("workdir"):
            return refs
    return refs_list[0] if refs_list else None


def _decorate(
    job: ProwJob, spec: dict[str, Any], github_link: str, clone_image: str | None
) -> None:
    config = job.decoration_config or {}
    refs_list = _all_refs(job)
    skip_cloning = bool(config.get("skip_cloning"))

    image = (
        clone_image
        or (config.get("utility_images") or {}).get("clonerefs")
        or DEFAULT_CLONE_IMAGE
    )
    script = clone_script(
        [] if skip_cloning else refs_list,
        github_link,
        artifacts_dir=ARTIFACTS_PATH,
    )
    code_mount = {"name": CODE_VOLUME, "mountPath": CODE_MOUNT_PATH}
    logs_mount = {"name": LOGS_VOLUME, "mountPath": LOGS_MOUNT_PATH}
    clonerefs: dict[str, Any] = {
        "name": CLONE_CONTAINER_NAME,
        "image": image,
        # An explicit shell: images such as alpine/git have `git` as their
        # entrypoint.
        "command": ["/bin/sh", "-c", script],
        "volumeMounts": [code_mount, logs_mount],
    }
    resources = (config.get("resources") or {}).get(CLONE_CONTAINER_NAME)
    if resources:
        clonerefs["resources"] = copy.deepcopy(resources)
    # First, so any sidecar-style init container of the job starts with the
    # code already in place.
    spec["initContainers"] = [clonerefs, *(spec.get("initContainers") or [])]
    spec["volumes"] = [
        *(spec.get("volumes") or []),
        {"name": CODE_VOLUME, "emptyDir": {}},
        {"name": LOGS_VOLUME, "emptyDir": {}},
    ]

    workdir_refs = None if skip_cloning else _workdir_refs(refs_list)
    for container in spec["containers"]:
        container["volumeMounts"] = [
            *(container.get("volumeMounts") or []),
            dict(code_mount),
            dict(logs_mount),
        ]
        if workdir_refs is not None and not container.get("workingDir"):
            container["workingDir"] = workdir_for(workdir_refs, github_link)

    if config.get("timeout"):
        deadline = _seconds(config["timeout"])
        if deadline > 0:
            # Both are limits on the run: the stricter one applies.
            existing = spec.get("activeDeadlineSeconds")
            spec["activeDeadlineSeconds"] = (
                min(deadline, existing) if existing else deadline
            )
    if config.get("grace_period"):
        spec["terminationGracePeriodSeconds"] = max(_seconds(config["grace_period"]), 0)

    _add_artifacts_sidecar(spec, image, logs_mount)


def _add_artifacts_sidecar(
    spec: dict[str, Any], image: str, logs_mount: dict[str, str]
) -> None:
    """Keep $ARTIFACTS past the pod: a container that prints it once the
    tests are done, for plank to read through the log API (no bucket, no
    credentials in the pod).

    Only a container that sets `command` can be wrapped to say when it is
    done; one that only sets `args` runs the image's entrypoint, unknown
    here, so it is left alone and the sidecar does not wait for it (its
    files are kept only if it finished before the others). The wrapper needs
    /bin/sh in the test image.
    """
    containers = spec["containers"]
    if any(c.get("name") == ARTIFACTS_CONTAINER_NAME for c in containers):
        # The job's own container has the name: its log is not a tar.
        return
    waited = []
    for container in containers:
        if not container.get("command"):
            continue
        argv = [*container["command"], *(container.get("args") or [])]
        # "--" is the script's $0; the argv follows as "$@".
        container["command"] = [
            "/bin/sh",
            "-c",
            wrapper_script(container["name"]),
            "--",
            *argv,
        ]
        container.pop("args", None)
        waited.append(container["name"])
    script = artifacts_script(waited, deadline=spec.get("activeDeadlineSeconds"))
    containers.append(
        {
            "name": ARTIFACTS_CONTAINER_NAME,
            "image": image,
            "command": ["/bin/sh", "-c", script],
            "volumeMounts": [dict(logs_mount)],
        }
    )


def build_pod(
    job: ProwJob,
    *,
    build_id: str,
    namespace: str | None = None,
    github_link: str = DEFAULT_GITHUB_LINK,
    clone_image: str | None = None,
) -> dict[str, Any]:
    """The core/v1 Pod manifest that runs `job` as build `build_id`.

    The pod is named after the ProwJob, so creating it twice (a controller
    restarted between creating the pod and recording it) is refused by the
    API server with 409 AlreadyExists instead of running the job twice.
    `github_link` is where code lives (the config's `github.link_url`);
    `clone_image` overrides the image of the clone init container. Raises
    ValueError for a job without containers or with an unparsable timeout.
    """
    spec = without_nulls(copy.deepcopy(job.pod_spec or {}))
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        raise ValueError(f"job {job.job!r} has no containers to run")

    spec["restartPolicy"] = "Never"
    # Kubernetes mounts the namespace's default service account token unless
    # told otherwise; a test of an untrusted pull request must not get API
    # credentials it was not explicitly given.
    if not (spec.get("serviceAccountName") or spec.get("serviceAccount")):
        spec.setdefault("automountServiceAccountToken", False)

    env = as_env_vars(job_environment(job, github_host=github_link, build_id=build_id))
    for container in containers:
        _set_env(container, env)
    if len(containers) == 1:
        containers[0]["name"] = TEST_CONTAINER_NAME

    if job.decoration_config is not None:
        _decorate(job, spec, github_link, clone_image)

    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": str(job.name),
            "namespace": namespace or job.namespace or "default",
            "labels": pod_labels(job, build_id=build_id),
            "annotations": pod_annotations(job),
        },
        "spec": spec,
    }
