"""ProwJobs as the original's JSON (`apiVersion: prow.k8s.io/v1`).

Deck's /prowjobs.js, prowjob.json artifacts and JOB_SPEC all speak this
shape, and tools written for the original read it, so it follows the Go
types' JSON tags: fields tagged omitempty are left out when empty, pointers
when unset. Every document produced here validates against the original's
CRD (see tests/jobs/test_serialization.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.models import ProwJob

API_VERSION = "prow.k8s.io/v1"
KIND = "ProwJob"

# Go field order of prowapi.Refs and prowapi.Pull; the keys in the *_REQUIRED
# sets have no omitempty and are always written.
_REFS_KEYS = (
    "org",
    "repo",
    "repo_link",
    "base_ref",
    "base_sha",
    "base_link",
    "pulls",
    "path_alias",
    "workdir",
    "clone_uri",
    "skip_submodules",
    "clone_depth",
    "skip_fetch_head",
    "blobless_fetch",
    "sparse_checkout_files",
    "auxiliary",
)
_REFS_REQUIRED = {"org": "", "repo": ""}
_PULL_KEYS = (
    "number",
    "author",
    "sha",
    "title",
    "ref",
    "head_ref",
    "link",
    "commit_link",
    "author_link",
)
_PULL_REQUIRED = {"number": 0, "author": "", "sha": ""}
# Pointers in Go (*bool): false is a value, only unset is left out.
_POINTER_KEYS = {"blobless_fetch"}

# Deck's ?omit= accepts these (the original's four, plus the other optional
# spec and status fields); the fields the CRD requires cannot be omitted.
OMITTABLE = frozenset(
    {
        "labels",
        "annotations",
        "pod_spec",
        "decoration_config",
        "reporter_config",
        "rerun_auth_config",
        "refs",
        "extra_refs",
        "prev_report_states",
    }
)


def _is_empty(value: Any) -> bool:
    # Go's omitempty: false, 0, "", nil and empty slices/maps.
    return value is None or value is False or value == 0 or value in ("", [], {})


_SCALARS = frozenset({str, int, float, bool, type(None)})


def without_nulls(value: Any) -> Any:
    """value without its null members, in mappings and lists alike.

    They come from YAML's empty values (`env:` with nothing under it, a
    list item `- ` left empty). Kubernetes' schema and the ProwJob CRD
    reject null wherever a typed value goes, list items included; Go would
    decode such a null into the zero value, which its encoder then omits
    in a struct, and the API server treats a missing field as unset.
    """
    # Exact type checks first: JSON columns only hold dicts, lists and
    # scalars, and isinstance against an ABC is the costliest step of
    # serialising a thousand jobs.
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict or (kind is not list and isinstance(value, Mapping)):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value if v is not None]
    return value


def _ordered(
    data: Mapping[str, Any], keys: tuple[str, ...], required: Mapping[str, Any]
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key in keys:
        if key in required:
            value = data.get(key)
            result[key] = required[key] if value is None else value
        elif key in _POINTER_KEYS:
            if data.get(key) is not None:
                result[key] = data[key]
        elif not _is_empty(data.get(key)):
            result[key] = data[key]
    # Fields newer than this code are kept rather than silently lost.
    for key, value in data.items():
        if key not in result and key not in keys and not _is_empty(value):
            result[key] = value
    return without_nulls(result)


def pull_to_dict(pull: Mapping[str, Any]) -> dict[str, Any]:
    return _ordered(pull, _PULL_KEYS, _PULL_REQUIRED)


def refs_to_dict(refs: Mapping[str, Any]) -> dict[str, Any]:
    """Refs as the original writes them (org and repo always present)."""
    result = _ordered(refs, _REFS_KEYS, _REFS_REQUIRED)
    if "pulls" in result:
        result["pulls"] = [pull_to_dict(p) for p in result["pulls"]]
    return result


def pod_spec_to_dict(pod_spec: Mapping[str, Any]) -> dict[str, Any]:
    """The pod spec as Go writes a PodSpec. A container's `name` has no
    omitempty there, so a single-container job configured without one (the
    usual case; the pod's copy is renamed `test`) is written with `""`, which
    the CRD's `required: [name]` accepts."""
    result = without_nulls(pod_spec)
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for container in result.get(key) or []:
            if isinstance(container, dict):
                container.setdefault("name", "")
    return result


def rfc3339(value: dt.datetime | None) -> str | None:
    """A timestamp as Kubernetes writes one: UTC, whole seconds, `Z`."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _spec(job: ProwJob) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": str(job.type)}
    for key, value in (
        ("agent", job.agent),
        ("cluster", job.cluster),
        ("namespace", job.namespace),
    ):
        if value:
            spec[key] = value
    spec["job"] = job.job
    if job.refs:
        spec["refs"] = refs_to_dict(job.refs)
    if job.extra_refs:
        spec["extra_refs"] = [refs_to_dict(r) for r in job.extra_refs]
    for key, value in (
        ("report", job.report),
        ("context", job.context),
        ("rerun_command", job.rerun_command),
        ("max_concurrency", job.max_concurrency),
        ("error_on_eviction", job.error_on_eviction),
    ):
        if not _is_empty(value):
            spec[key] = value
    # Pointers in Go: present whenever set, even if `{}` (an empty
    # decoration_config still means the job is decorated).
    if job.pod_spec is not None:
        spec["pod_spec"] = pod_spec_to_dict(job.pod_spec)
    for key, value in (
        ("decoration_config", job.decoration_config),
        ("reporter_config", job.reporter_config),
    ):
        if value is not None:
            spec[key] = without_nulls(value)
    if job.rerun_auth_config is not None:
        # Every RerunAuthConfig field is omitempty in Go.
        spec["rerun_auth_config"] = {
            k: v for k, v in job.rerun_auth_config.items() if not _is_empty(v)
        }
    if job.hidden:
        spec["hidden"] = True
    if job.job_queue_name:
        spec["job_queue_name"] = job.job_queue_name
    return spec


def _status(job: ProwJob) -> dict[str, Any]:
    status: dict[str, Any] = {"startTime": rfc3339(job.start_time)}
    if job.pending_time is not None:
        status["pendingTime"] = rfc3339(job.pending_time)
    if job.completion_time is not None:
        status["completionTime"] = rfc3339(job.completion_time)
    status["state"] = str(job.state)
    for key, value in (
        ("description", job.description),
        ("url", job.url),
        ("pod_name", job.pod_name),
        ("build_id", job.build_id),
        ("prev_report_states", job.prev_report_states),
        ("pod_revival_count", job.pod_revival_count),
    ):
        if not _is_empty(value):
            status[key] = value
    if status["startTime"] is None:
        del status["startTime"]
    return status


def prowjob_to_dict(
    job: ProwJob,
    *,
    prowjob_namespace: str = "default",
    omit: Collection[str] = (),
) -> dict[str, Any]:
    """`job` as the original's ProwJob object.

    `omit` names fields to leave out (Deck's `/prowjobs.js?omit=`), from
    OMITTABLE; other names are ignored, as Deck ignores them. Reads only the
    instance's own fields: no queries.
    """
    dropped = OMITTABLE.intersection(omit)
    metadata: dict[str, Any] = {
        "name": str(job.name),
        "namespace": prowjob_namespace,
    }
    if job.start_time is not None:
        metadata["creationTimestamp"] = rfc3339(job.start_time)
    for key, value in (("labels", job.labels), ("annotations", job.annotations)):
        if value and key not in dropped:
            metadata[key] = dict(value)
    spec = {k: v for k, v in _spec(job).items() if k not in dropped}
    status = {k: v for k, v in _status(job).items() if k not in dropped}
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": metadata,
        "spec": spec,
        "status": status,
    }
