"""Labels and annotations of ProwJobs and their pods (spec §2.4).

Labels are what controllers select on (sinker and plank list pods by
`created-by-prow`, Deck filters by `prow.k8s.io/job`), so every value must be
a valid Kubernetes label value; anything longer or freer-form (the full job
name, the status context) is kept whole in an annotation as well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.models import ProwJob

# Reported as the pod's controller version; kept equal to pyproject's version.
PLANK_VERSION = "0.1.0"

CREATED_BY_PROW = "created-by-prow"
TYPE_LABEL = "prow.k8s.io/type"
JOB_LABEL = "prow.k8s.io/job"
JOB_ANNOTATION = JOB_LABEL
CONTEXT_LABEL = "prow.k8s.io/context"
CONTEXT_ANNOTATION = CONTEXT_LABEL
ORG_LABEL = "prow.k8s.io/refs.org"
REPO_LABEL = "prow.k8s.io/refs.repo"
BASE_REF_LABEL = "prow.k8s.io/refs.base_ref"
PULL_LABEL = "prow.k8s.io/refs.pull"
ID_LABEL = "prow.k8s.io/id"
BUILD_ID_LABEL = "prow.k8s.io/build-id"
PLANK_VERSION_LABEL = "prow.k8s.io/plank-version"
IS_OPTIONAL_LABEL = "prow.k8s.io/is-optional"
RETEST_LABEL = "prow.k8s.io/retest"
EVENT_GUID_LABEL = "event-GUID"
CREATED_BY_TIDE = "created-by-tide"
RERUN_LABEL = "prow.k8s.io/re-run"
# Jobs carrying this label are voted on in Gerrit, not reported to GitHub.
GERRIT_REPORT_LABEL = "prow.k8s.io/gerrit-report-label"
# Who asked for a run by hand (Deck's rerun, "Run now").
TRIGGERED_BY_ANNOTATION = "prow.k8s.io/triggered-by"
# Set on jobs a repository defined for itself: their code and pod spec come
# from whoever can push there, which the local executor will not run.
IN_REPO_ANNOTATION = "prow.k8s.io/in-repo-config"

# Labels that belong to one run and are not carried over to a rerun.
PER_RUN_LABELS = (ID_LABEL, BUILD_ID_LABEL, EVENT_GUID_LABEL)

# The key of the GitHub reporter in a job's prev_report_states, the
# original's name for it: the state recorded there was reported already.
REPORTER_NAME = "github-reporter"

# Keys a job's configured labels may not set: controllers rely on them.
RESERVED_LABEL_KEYS = frozenset({TYPE_LABEL, CREATED_BY_PROW, ID_LABEL})

LABEL_VALUE_MAX_LENGTH = 63
_LABEL_VALUE_RE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


def is_valid_label_value(value: str) -> bool:
    """Kubernetes' rule for label values (the empty string is valid)."""
    return (
        len(value) <= LABEL_VALUE_MAX_LENGTH
        and _LABEL_VALUE_RE.fullmatch(value) is not None
    )


def label_value_for_name(name: str) -> str:
    """The label form of a job name or context: at most 63 characters and
    never ending in `.`, `_` or `-`.

    The trim applies to short names too: a name like `build-` would otherwise
    be an invalid value and lose its label altogether. Selecting by job name
    must use this same function to build the selector value.
    """
    return name[:LABEL_VALUE_MAX_LENGTH].rstrip("._-")


def _go_base(path: str) -> str:
    # Go's filepath.Base, which the original uses: trailing slashes do not
    # count, so `release/1.0/` gives `1.0` (posixpath.basename would give "").
    stripped = path.rstrip("/")
    if not stripped:
        return "/" if path else "."
    return stripped.rsplit("/", 1)[-1]


def _as_label_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sanitize_label_values(labels: Mapping[str, Any]) -> dict[str, str]:
    """Replace each invalid value by its path basename when that is valid,
    else drop the label, as the original does before creating anything."""
    result: dict[str, str] = {}
    for key, raw in labels.items():
        value = _as_label_str(raw)
        if is_valid_label_value(value):
            result[key] = value
            continue
        base = _go_base(value)
        if is_valid_label_value(base):
            result[key] = base
    return result


def prowjob_labels_and_annotations(
    *,
    job_type: str,
    job_name: str,
    context: str = "",
    refs: Mapping[str, Any] | None = None,
    extra_refs: list[Mapping[str, Any]] | None = None,
    config_labels: Mapping[str, str] | None = None,
    config_annotations: Mapping[str, str] | None = None,
    extra_labels: Mapping[str, Any] | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """The labels and annotations of a new ProwJob.

    Precedence, lowest first: values derived from the job; the job's
    configured labels/annotations (minus the reserved keys); `extra_labels`
    from the code creating the job (event-GUID, is-optional, retest...),
    which are trusted and may set any key.
    """
    labels: dict[str, Any] = {
        CREATED_BY_PROW: "true",
        TYPE_LABEL: job_type,
        JOB_LABEL: label_value_for_name(job_name),
    }
    # Periodics have no refs of their own; the original labels them by their
    # first extra ref so Deck's org/repo filters still find them.
    where = refs if refs else (extra_refs[0] if extra_refs else None)
    if where:
        labels[ORG_LABEL] = where.get("org", "")
        labels[REPO_LABEL] = where.get("repo", "")
        labels[BASE_REF_LABEL] = where.get("base_ref", "")
    pulls = (refs or {}).get("pulls") or []
    if pulls:
        labels[PULL_LABEL] = pulls[0].get("number", "")
    if context:
        labels[CONTEXT_LABEL] = label_value_for_name(context)

    for key, value in (config_labels or {}).items():
        if key not in RESERVED_LABEL_KEYS:
            labels[key] = value
    labels.update(extra_labels or {})

    annotations: dict[str, str] = {JOB_ANNOTATION: job_name}
    if context:
        annotations[CONTEXT_ANNOTATION] = context
    for key, value in (config_annotations or {}).items():
        if key not in RESERVED_LABEL_KEYS:
            annotations[key] = str(value)

    return sanitize_label_values(labels), annotations


def _job_labels_and_annotations(job: ProwJob) -> tuple[dict[str, str], dict[str, str]]:
    # Recomputed from the job's spec, with the stored labels on top, so a pod
    # always carries the labels controllers select on even if the stored ones
    # were edited or never set.
    labels, annotations = prowjob_labels_and_annotations(
        job_type=job.type,
        job_name=job.job,
        context=job.context,
        refs=job.refs,
        extra_refs=job.extra_refs,
        extra_labels=job.labels,
    )
    annotations.update(job.annotations or {})
    return labels, annotations


def pod_labels(job: ProwJob, *, build_id: str | None = None) -> dict[str, str]:
    """Labels of the pod running `job`; `build_id` defaults to the job's own
    (pass the fresh one when the pod is recreated with a new build id)."""
    labels, _ = _job_labels_and_annotations(job)
    labels[ID_LABEL] = str(job.name)
    labels[BUILD_ID_LABEL] = job.build_id if build_id is None else build_id
    labels[PLANK_VERSION_LABEL] = PLANK_VERSION
    return sanitize_label_values(labels)


def pod_annotations(job: ProwJob) -> dict[str, str]:
    """Annotations of the pod running `job`: the ProwJob's, with the full job
    name and context."""
    _, annotations = _job_labels_and_annotations(job)
    return annotations
