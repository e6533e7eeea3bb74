"""ProwJob JSON in the original's shape, validated against its CRD.

tests/fixtures/prowjob-crd.yaml is a verbatim copy of the original's ProwJob
CustomResourceDefinition (shared/reference/prowjob-crd.yaml), vendored so the
tests run from a bare clone.
"""

import copy
import datetime as dt
import functools
import json
import re
import uuid

import pytest
import yaml
from jsonschema import Draft4Validator, FormatChecker

from jobs.models import COMPLETE_STATES, ProwJob, ProwJobState, ProwJobType
from jobs.serialization import prowjob_to_dict, refs_to_dict, rfc3339
from tests.conftest import ROOT
from tests.factories import ProwJobFactory

CRD = ROOT / "tests" / "fixtures" / "prowjob-crd.yaml"

START = dt.datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=dt.UTC)
BUILD_ID = "1247344427123347459"


def _date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value
    ):
        return False
    dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def _closed(schema):
    """The schema with unknown members rejected wherever it lists members.

    The API server silently prunes fields its CRD does not know, so an
    unknown (say misspelled) field would vanish on the original's side; this
    makes such a field fail here instead. Branches of anyOf/not are left
    alone: closing them would change what they match.
    """
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {}
    for key, value in schema.items():
        if key in ("anyOf", "allOf", "oneOf", "not"):
            result[key] = value
        elif key == "properties":
            result[key] = {name: _closed(sub) for name, sub in value.items()}
        else:
            result[key] = _closed(value)
    if (
        "properties" in result
        and "additionalProperties" not in result
        and not result.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    return result


@functools.cache
def _schema() -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    crd = yaml.load(CRD.read_text(encoding="utf-8"), Loader=loader)
    assert crd["spec"]["names"]["kind"] == "ProwJob"
    version = crd["spec"]["versions"][0]
    assert version["name"] == "v1"
    return version["schema"]["openAPIV3Schema"]


@functools.cache
def _validator() -> Draft4Validator:
    # The CRD's int-or-string fields are spelled as anyOf [integer, string]
    # (with a pattern that applies to strings only), so plain JSON Schema
    # handles them; `x-kubernetes-*` keys are unknown keywords and ignored.
    checker = FormatChecker(formats=())
    checker.checks("date-time")(_date_time)
    schema = _closed(_schema())
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=checker)


def errors_of(document: dict) -> list[str]:
    # Round-trip through JSON first: what is emitted must be plain JSON.
    document = json.loads(json.dumps(document))
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator().iter_errors(document)
    ]


def build(job_type: str, state: str, **overrides) -> ProwJob:
    """A job as it looks in `state`, with every field its creator would set,
    started at START and taking 12 minutes."""
    fields = {"start_time": START}
    if state != ProwJobState.TRIGGERED:
        fields["build_id"] = BUILD_ID
    fields.update(overrides)
    return ProwJobFactory.build(detailed=True, type=job_type, state=state, **fields)


def test_vendored_crd_matches_the_shared_reference_when_present():
    shared = ROOT.parent / "shared" / "reference" / "prowjob-crd.yaml"
    if not shared.exists():
        pytest.skip("no shared/ beside this clone")
    assert CRD.read_bytes() == shared.read_bytes()


@pytest.mark.parametrize("state", list(ProwJobState))
@pytest.mark.parametrize("job_type", list(ProwJobType))
def test_every_type_in_every_state_validates_against_the_crd(job_type, state):
    document = prowjob_to_dict(build(job_type, state))
    assert errors_of(document) == []
    assert document["spec"]["type"] == job_type
    assert document["status"]["state"] == state
    assert ("completionTime" in document["status"]) == (state in COMPLETE_STATES)


@pytest.mark.parametrize("job_type", list(ProwJobType))
def test_minimal_job_validates_and_omits_empty_fields(job_type):
    job = ProwJob(type=job_type, job="bare", start_time=START)
    document = prowjob_to_dict(job)
    assert errors_of(document) == []
    assert document["spec"] == {
        "type": job_type,
        "agent": "kubernetes",
        "cluster": "default",
        "job": "bare",
    }
    assert document["status"] == {
        "startTime": "2026-11-27T10:00:00Z",
        "state": "triggered",
    }
    assert "labels" not in document["metadata"]


def test_document_shape():
    job = build(ProwJobType.PRESUBMIT, ProwJobState.SUCCESS)
    document = prowjob_to_dict(job, prowjob_namespace="prow")
    assert document["apiVersion"] == "prow.k8s.io/v1"
    assert document["kind"] == "ProwJob"
    assert document["metadata"] == {
        "name": str(job.name),
        "namespace": "prow",
        "creationTimestamp": "2026-11-27T10:00:00Z",
        "labels": job.labels,
        "annotations": job.annotations,
    }
    uuid.UUID(document["metadata"]["name"])
    spec = document["spec"]
    assert spec["refs"]["pulls"][0]["number"] == 42
    assert spec["report"] is True
    assert spec["rerun_command"] == "/test presubmit-unit"
    assert spec["max_concurrency"] == 2
    assert "hidden" not in spec
    assert "error_on_eviction" not in spec
    assert "job_queue_name" not in spec
    container = spec["pod_spec"]["containers"][0]
    # The empty YAML key is gone rather than emitted as null.
    assert "volumeMounts" not in container
    # Unnamed, as the seed's single container is; Go writes the empty name.
    assert container["name"] == ""
    assert "name" not in job.pod_spec["containers"][0]
    assert spec["rerun_auth_config"] == {
        "github_users": ["alice"],
        "github_team_ids": [42],
        "github_team_slugs": [{"slug": "test-infra-admins", "org": "kubernetes"}],
    }
    assert spec["extra_refs"][0]["blobless_fetch"] is False
    assert document["status"] == {
        "startTime": "2026-11-27T10:00:00Z",
        "pendingTime": "2026-11-27T10:00:30Z",
        "completionTime": "2026-11-27T10:12:00Z",
        "state": "success",
        "description": "Job success.",
        "url": job.url,
        "pod_name": str(job.name),
        "build_id": "1247344427123347459",
        "prev_report_states": {"github-reporter": "success"},
        "pod_revival_count": 1,
    }


def test_times_are_utc_rfc3339_whole_seconds():
    tokyo = dt.timezone(dt.timedelta(hours=9))
    assert rfc3339(dt.datetime(2026, 11, 27, 19, 0, 0, 999, tzinfo=tokyo)) == (
        "2026-11-27T10:00:00Z"
    )
    assert rfc3339(None) is None


def test_complete_state_without_completion_time_fails_validation():
    for state in (ProwJobState.SUCCESS, ProwJobState.FAILURE, ProwJobState.ERROR):
        job = build(ProwJobType.PRESUBMIT, state, completion_time=None)
        assert errors_of(prowjob_to_dict(job)), state
    # The CRD lets an abort be recorded before plank finalises it.
    job = build(ProwJobType.PRESUBMIT, ProwJobState.ABORTED, completion_time=None)
    assert errors_of(prowjob_to_dict(job)) == []


def test_validator_rejects_wrong_types_unknown_fields_and_bad_times():
    good = prowjob_to_dict(build(ProwJobType.PRESUBMIT, ProwJobState.PENDING))
    assert errors_of(good) == []

    bad = copy.deepcopy(good)
    bad["spec"]["type"] = "nightly"
    assert errors_of(bad)

    bad = copy.deepcopy(good)
    bad["status"]["pendingtime"] = bad["status"]["pendingTime"]
    assert errors_of(bad)

    bad = copy.deepcopy(good)
    bad["status"]["pendingTime"] = "27 Nov 2026"
    assert errors_of(bad)

    bad = copy.deepcopy(good)
    del bad["spec"]["refs"]["pulls"][0]["sha"]
    assert errors_of(bad)


def test_omit_pod_spec_removes_it_and_still_validates():
    job = build(ProwJobType.PRESUBMIT, ProwJobState.PENDING)
    full = prowjob_to_dict(job)
    assert "pod_spec" in full["spec"]
    document = prowjob_to_dict(job, omit={"pod_spec"})
    assert "pod_spec" not in document["spec"]
    assert document["spec"]["decoration_config"] == full["spec"]["decoration_config"]
    assert errors_of(document) == []


def test_omit_several_fields_but_never_required_ones():
    job = build(ProwJobType.PERIODIC, ProwJobState.FAILURE)
    document = prowjob_to_dict(
        job,
        omit={"pod_spec", "decoration_config", "labels", "annotations", "job", "state"},
    )
    assert "decoration_config" not in document["spec"]
    assert "labels" not in document["metadata"]
    assert "annotations" not in document["metadata"]
    assert document["spec"]["job"] == "periodic-unit"
    assert document["status"]["state"] == "failure"
    assert errors_of(document) == []


def test_refs_keep_required_fields_and_drop_empty_ones():
    assert refs_to_dict(
        {
            "org": "o",
            "repo": "r",
            "base_ref": "",
            "workdir": False,
            "clone_depth": 0,
            "pulls": [{"number": 1, "sha": "s", "title": ""}],
        }
    ) == {"org": "o", "repo": "r", "pulls": [{"number": 1, "author": "", "sha": "s"}]}


def test_serialization_reads_only_the_instance():
    # No django_db mark here: any query would raise instead of passing.
    job = build(ProwJobType.BATCH, ProwJobState.ERROR)
    assert prowjob_to_dict(job)["spec"]["type"] == "batch"
