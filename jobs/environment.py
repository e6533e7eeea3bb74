"""Environment given to a job's containers (spec §2.5), the contract between
Prow and job scripts: names and values follow the original's downward API so
existing scripts run unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jobs.serialization import refs_to_dict
from prow.config.validation import (
    RESERVED_ENV_ALL,
    RESERVED_ENV_PULL,
    RESERVED_ENV_REFS,
)

if TYPE_CHECKING:
    from jobs.models import ProwJob

ARTIFACTS_PATH = "/logs/artifacts"
CODE_MOUNT_PATH = "/home/prow/go"
DEFAULT_GITHUB_HOST = "github.com"

# The variables every job gets, and those of jobs with refs and with pulls:
# the same names config validation refuses to let a job define.
ENV_ALL = frozenset(RESERVED_ENV_ALL)
ENV_REFS = frozenset(RESERVED_ENV_REFS)
ENV_PULL = frozenset(RESERVED_ENV_PULL)
ENV_DECORATED = frozenset({"ARTIFACTS", "GOPATH"})


def reserved_env_names(job_type: str, *, decorated: bool = False) -> set[str]:
    """Env names a job of this type may not define itself.

    ARTIFACTS and GOPATH are only included on request: the original does not
    reserve them (a job may override GOPATH), but a caller that wants to warn
    about shadowing them can ask.
    """
    names = set(ENV_ALL)
    if job_type != "periodic":
        names |= ENV_REFS
    if job_type == "presubmit":
        names |= ENV_PULL
    if decorated:
        names |= ENV_DECORATED
    return names


def refs_string(refs: Mapping[str, Any] | None) -> str:
    """The refs in PULL_REFS form: `base_ref[:base_sha]` then
    `,number:sha[:ref]` per pull, e.g. `main:abc123,42:def456`."""
    if not refs:
        return ""
    base_ref = refs.get("base_ref") or ""
    base_sha = refs.get("base_sha") or ""
    parts = [f"{base_ref}:{base_sha}" if base_sha else base_ref]
    for pull in refs.get("pulls") or []:
        part = f"{pull.get('number', 0)}:{pull.get('sha') or ''}"
        if pull.get("ref"):
            part += f":{pull['ref']}"
        parts.append(part)
    return ",".join(parts)


def src_host(link: str) -> str:
    """The host in SRC_HOST: from the configured `github.link_url` or a bare
    host."""
    if "://" in link:
        return urlsplit(link).netloc or DEFAULT_GITHUB_HOST
    return link.strip("/") or DEFAULT_GITHUB_HOST


def job_spec(job: ProwJob, *, build_id: str | None = None) -> dict[str, Any]:
    """The JOB_SPEC document: the original's downwardapi.JobSpec, whose
    fields are all omitempty (decoration_config is a pointer, so `{}` stays:
    it still means "decorated")."""
    buildid = job.build_id if build_id is None else build_id
    spec: dict[str, Any] = {}
    for key, value in (
        ("type", str(job.type)),
        ("job", job.job),
        ("buildid", buildid),
        ("prowjobid", str(job.name) if job.name else ""),
    ):
        if value:
            spec[key] = value
    if job.refs:
        spec["refs"] = refs_to_dict(job.refs)
    if job.extra_refs:
        spec["extra_refs"] = [refs_to_dict(r) for r in job.extra_refs]
    if job.decoration_config is not None:
        spec["decoration_config"] = job.decoration_config
    return spec


def job_environment(
    job: ProwJob,
    *,
    github_host: str = DEFAULT_GITHUB_HOST,
    build_id: str | None = None,
) -> dict[str, str]:
    """Variables for the job's containers.

    `github_host` is the host (or the whole `github.link_url`) the code comes
    from; `build_id` overrides the job's, for a pod being (re)created with a
    freshly allocated one.
    """
    buildid = job.build_id if build_id is None else build_id
    env = {
        "CI": "true",
        "JOB_NAME": job.job,
        "JOB_TYPE": str(job.type),
        "JOB_SPEC": json.dumps(job_spec(job, build_id=buildid), separators=(",", ":")),
        "BUILD_ID": buildid,
        "PROW_JOB_ID": str(job.name),
    }
    # Kept for scripts written against the original, where BUILD_NUMBER is
    # set for the kubernetes agent only.
    if job.agent == "kubernetes":
        env["BUILD_NUMBER"] = buildid
    if job.decoration_config is not None:
        env["ARTIFACTS"] = ARTIFACTS_PATH
        env["GOPATH"] = CODE_MOUNT_PATH

    # Periodics get no refs variables even when they have extra_refs, as in
    # the original: which of several extra repos is "the" repo is ambiguous,
    # and decorated periodics find them all in JOB_SPEC. A job without refs
    # (malformed) gets none either, rather than empty strings.
    refs = job.refs
    if str(job.type) == "periodic" or not refs:
        return env
    org, repo = refs.get("org", ""), refs.get("repo", "")
    env.update(
        REPO_OWNER=org,
        REPO_NAME=repo,
        PULL_BASE_REF=refs.get("base_ref") or "",
        PULL_BASE_SHA=refs.get("base_sha") or "",
        PULL_REFS=refs_string(refs),
        SRC_HOST=src_host(github_host),
        SRC_BASE=f"{org}/{repo}",
    )

    # Batches test several pulls at once, so no single pull's values apply.
    pulls = refs.get("pulls") or []
    if str(job.type) != "presubmit" or not pulls:
        return env
    first = pulls[0]
    env.update(
        PULL_NUMBER=str(first.get("number", "")),
        PULL_PULL_SHA=first.get("sha") or "",
        PULL_HEAD_REF=first.get("head_ref") or "",
        PULL_TITLE=first.get("title") or "",
    )
    return env


def as_env_vars(env: Mapping[str, str]) -> list[dict[str, str]]:
    """`env` as a container's env list, sorted by name like the original's,
    so pods built twice from the same job are identical."""
    return [{"name": name, "value": env[name]} for name in sorted(env)]
