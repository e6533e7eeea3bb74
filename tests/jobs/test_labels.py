"""Labels and annotations of ProwJobs and their pods (spec §2.4)."""

import pytest

from jobs.labels import (
    PLANK_VERSION,
    is_valid_label_value,
    label_value_for_name,
    pod_annotations,
    pod_labels,
    prowjob_labels_and_annotations,
)
from jobs.models import ProwJob

REFS = {
    "org": "kubernetes",
    "repo": "test-infra",
    "base_ref": "main",
    "base_sha": "abc",
    "pulls": [{"number": 42, "author": "alice", "sha": "def"}],
}


def make(**overrides):
    kwargs = {
        "job_type": "presubmit",
        "job_name": "pull-unit",
        "context": "pull-unit",
        "refs": REFS,
        "extra_refs": [],
        "config_labels": {},
        "config_annotations": {},
        "extra_labels": {},
    }
    kwargs.update(overrides)
    return prowjob_labels_and_annotations(**kwargs)


def test_presubmit_gets_every_automatic_label():
    labels, annotations = make()
    assert labels == {
        "created-by-prow": "true",
        "prow.k8s.io/type": "presubmit",
        "prow.k8s.io/job": "pull-unit",
        "prow.k8s.io/context": "pull-unit",
        "prow.k8s.io/refs.org": "kubernetes",
        "prow.k8s.io/refs.repo": "test-infra",
        "prow.k8s.io/refs.base_ref": "main",
        "prow.k8s.io/refs.pull": "42",
    }
    assert annotations == {
        "prow.k8s.io/job": "pull-unit",
        "prow.k8s.io/context": "pull-unit",
    }


def test_long_job_name_is_truncated_in_the_label_but_whole_in_the_annotation():
    name = "pull-kubernetes-e2e-" + "x" * 50
    assert len(name) == 70
    labels, annotations = make(job_name=name, context="")
    assert labels["prow.k8s.io/job"] == name[:63]
    assert len(labels["prow.k8s.io/job"]) == 63
    assert annotations["prow.k8s.io/job"] == name
    assert "prow.k8s.io/context" not in labels
    assert "prow.k8s.io/context" not in annotations


def test_truncation_trims_trailing_dots_dashes_and_underscores():
    name = "a" * 59 + "-._-" + "b" * 10
    labels, annotations = make(job_name=name, context=name)
    assert labels["prow.k8s.io/job"] == "a" * 59
    assert labels["prow.k8s.io/context"] == "a" * 59
    assert annotations["prow.k8s.io/job"] == name
    assert annotations["prow.k8s.io/context"] == name


def test_short_name_ending_in_a_dash_keeps_a_label():
    assert label_value_for_name("build-") == "build"
    labels, _ = make(job_name="build-")
    assert labels["prow.k8s.io/job"] == "build"


def test_base_ref_with_a_slash_is_labelled_by_its_basename():
    labels, _ = make(refs={**REFS, "base_ref": "release/1.0"})
    assert labels["prow.k8s.io/refs.base_ref"] == "1.0"


def test_value_with_no_valid_basename_is_dropped():
    labels, _ = make(refs={**REFS, "base_ref": "feature/with space"})
    assert "prow.k8s.io/refs.base_ref" not in labels
    assert labels["prow.k8s.io/refs.org"] == "kubernetes"


def test_context_with_slashes_is_labelled_by_basename_and_annotated_whole():
    labels, annotations = make(context="ci/prow/unit")
    assert labels["prow.k8s.io/context"] == "unit"
    assert annotations["prow.k8s.io/context"] == "ci/prow/unit"


def test_config_labels_override_automatic_ones_except_reserved_keys():
    labels, annotations = make(
        config_labels={
            "prow.k8s.io/refs.org": "overridden",
            "team": "sig-testing",
            "prow.k8s.io/type": "periodic",
            "created-by-prow": "false",
            "prow.k8s.io/id": "not-an-id",
        },
        config_annotations={
            "testgrid-dashboards": "sig-testing",
            "prow.k8s.io/context": "custom",
        },
    )
    assert labels["prow.k8s.io/refs.org"] == "overridden"
    assert labels["team"] == "sig-testing"
    assert labels["prow.k8s.io/type"] == "presubmit"
    assert labels["created-by-prow"] == "true"
    assert "prow.k8s.io/id" not in labels
    assert annotations["testgrid-dashboards"] == "sig-testing"
    assert annotations["prow.k8s.io/context"] == "custom"


def test_invalid_config_label_value_is_dropped():
    labels, _ = make(config_labels={"note": "has spaces in it"})
    assert "note" not in labels


def test_extra_labels_are_added_and_win_over_config_labels():
    labels, _ = make(
        config_labels={"prow.k8s.io/is-optional": "true"},
        extra_labels={
            "event-GUID": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            "prow.k8s.io/is-optional": False,
            "prow.k8s.io/retest": "true",
        },
    )
    assert labels["event-GUID"] == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert labels["prow.k8s.io/is-optional"] == "false"
    assert labels["prow.k8s.io/retest"] == "true"


def test_periodic_is_labelled_by_its_first_extra_ref():
    labels, _ = make(
        job_type="periodic",
        job_name="ci-nightly",
        context="",
        refs=None,
        extra_refs=[
            {"org": "kubernetes", "repo": "kubernetes", "base_ref": "master"},
            {"org": "kubernetes", "repo": "test-infra", "base_ref": "main"},
        ],
    )
    assert labels["prow.k8s.io/type"] == "periodic"
    assert labels["prow.k8s.io/refs.repo"] == "kubernetes"
    assert labels["prow.k8s.io/refs.base_ref"] == "master"
    assert "prow.k8s.io/refs.pull" not in labels


def test_periodic_without_refs_has_no_refs_labels():
    labels, _ = make(job_type="periodic", refs=None, extra_refs=[], context="")
    assert not [key for key in labels if key.startswith("prow.k8s.io/refs.")]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("", True),
        ("a", True),
        ("1.0", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("-a", False),
        ("a-", False),
        ("a/b", False),
        ("a b", False),
    ],
)
def test_label_value_rule(value, valid):
    assert is_valid_label_value(value) is valid


def test_pod_labels_add_id_build_id_and_plank_version_to_the_jobs_labels():
    labels, annotations = make(extra_labels={"event-GUID": "guid-1"})
    job = ProwJob(
        type="presubmit",
        job="pull-unit",
        context="pull-unit",
        refs=REFS,
        labels=labels,
        annotations={**annotations, "owner": "sig-testing"},
        build_id="1247344427123347459",
    )
    result = pod_labels(job)
    assert result == {
        **labels,
        "prow.k8s.io/id": str(job.name),
        "prow.k8s.io/build-id": "1247344427123347459",
        "prow.k8s.io/plank-version": PLANK_VERSION,
    }
    assert pod_labels(job, build_id="7")["prow.k8s.io/build-id"] == "7"
    assert pod_annotations(job) == {**annotations, "owner": "sig-testing"}


def test_pod_labels_of_a_job_stored_without_labels_still_select_it():
    job = ProwJob(type="postsubmit", job="post-build", refs=REFS, build_id="3")
    result = pod_labels(job)
    assert result["created-by-prow"] == "true"
    assert result["prow.k8s.io/type"] == "postsubmit"
    assert result["prow.k8s.io/job"] == "post-build"
    assert result["prow.k8s.io/id"] == str(job.name)
    assert pod_annotations(job) == {"prow.k8s.io/job": "post-build"}
