"""Which configured jobs apply to a change (table-driven)."""

import pytest

from jobs import matching
from prow.config.schema import Postsubmit, Presubmit

SPEC = {"containers": [{"image": "a"}]}


def pre(**fields) -> Presubmit:
    return Presubmit(name=fields.pop("name", "job"), spec=SPEC, **fields)


def post(**fields) -> Postsubmit:
    return Postsubmit(name=fields.pop("name", "job"), spec=SPEC, **fields)


@pytest.mark.parametrize(
    ("fields", "branch", "expected"),
    [
        ({}, "main", True),
        ({"branches": ["main"]}, "main", True),
        ({"branches": ["main"]}, "feature", False),
        # Unanchored search, as Go's MatchString: "main" matches "maintenance".
        ({"branches": ["main"]}, "maintenance", True),
        ({"branches": ["^main$"]}, "maintenance", False),
        ({"branches": ["^release-", "^main$"]}, "release-1.2", True),
        ({"skip_branches": ["^release-"]}, "release-1.2", False),
        ({"skip_branches": ["^release-"]}, "main", True),
        # skip_branches wins over branches.
        (
            {"branches": ["release"], "skip_branches": ["release-0"]},
            "release-0.9",
            False,
        ),
    ],
)
def test_branch_filters(fields, branch, expected):
    assert matching.branch_matches(pre(**fields), branch) is expected


@pytest.mark.parametrize(
    ("fields", "changed", "expected"),
    [
        ({"run_if_changed": r"\.go$"}, ["a/b.go"], True),
        ({"run_if_changed": r"\.go$"}, ["README.md"], False),
        ({"run_if_changed": r"^docs/"}, ["src/x", "docs/y"], True),
        ({"skip_if_only_changed": r"^docs/"}, ["docs/a.md"], False),
        ({"skip_if_only_changed": r"^docs/"}, ["docs/a.md", "main.go"], True),
        ({"skip_if_only_changed": r"^docs/"}, [], False),
    ],
)
def test_change_filters(fields, changed, expected):
    job = pre(**fields)
    assert matching.presubmit_should_run(job, "main", lambda: changed) is expected


def test_always_run_and_forced_ignore_file_filters_but_not_branches():
    lazy_calls = []

    def changes():
        lazy_calls.append(1)
        return []

    assert matching.presubmit_should_run(pre(always_run=True), "main", changes)
    assert matching.presubmit_should_run(
        pre(run_if_changed="nothing-matches"), "main", changes, forced=True
    )
    assert not matching.presubmit_should_run(
        pre(branches=["^release"]), "main", changes, forced=True
    )
    assert lazy_calls == [], "files are fetched only when a filter needs them"


def test_manual_jobs_need_an_explicit_trigger():
    assert matching.needs_explicit_trigger(pre())
    assert not matching.needs_explicit_trigger(pre(always_run=True))
    assert not matching.needs_explicit_trigger(pre(run_if_changed="x"))
    jobs = [pre(name="manual"), pre(name="auto", always_run=True)]
    selected = matching.test_all_presubmits(jobs, "main", lambda: [])
    assert [j.name for j in selected] == ["auto"]


@pytest.mark.parametrize(
    ("fields", "branch", "changed", "expected"),
    [
        ({}, "main", [], True),
        ({"always_run": False}, "main", [], False),
        ({"branches": ["^main$"]}, "dev", [], False),
        ({"run_if_changed": "^docs/"}, "main", ["docs/a"], True),
        ({"run_if_changed": "^docs/"}, "main", ["src/a"], False),
        # A change filter decides even when always_run says otherwise.
        ({"always_run": False, "run_if_changed": "^docs/"}, "main", ["docs/a"], True),
    ],
)
def test_postsubmit_rules(fields, branch, changed, expected):
    assert (
        matching.postsubmit_should_run(post(**fields), branch, lambda: changed)
        is expected
    )
