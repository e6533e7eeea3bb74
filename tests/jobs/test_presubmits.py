"""Starting presubmits for one pull request or for a batch, through the one
service trigger, the status reconciler and Tide share."""

import pytest

from jobs.models import ProwJob, ProwJobType
from jobs.presubmits import presubmits_start
from prow.config.schema import Presubmit, ProwConfig
from prow.github.client import github_client
from prow.github.types import PullRequest

pytestmark = pytest.mark.django_db

ORG, REPO = "acme", "app"
BASE = "b" * 40


def pr(number: int, sha: str, **overrides) -> PullRequest:
    fields = {
        "org": ORG,
        "repo": REPO,
        "number": number,
        "author": f"dev{number}",
        "head_sha": sha,
        "head_ref": f"topic-{number}",
        "base_ref": "main",
        "title": f"Change {number}",
        "labels": [],
        "draft": False,
        "state": "open",
        "mergeable": True,
    }
    return PullRequest(**{**fields, **overrides})


JOBS = [
    Presubmit(name="unit", spec={"containers": [{"image": "a"}]}),
    Presubmit(name="lint", optional=True, spec={"containers": [{"image": "a"}]}),
]
CONFIG = ProwConfig(pod_namespace="test-pods")


@pytest.fixture
def github(fake_github):
    fake_github.add_repo(ORG, REPO)
    fake_github.add_branch(ORG, REPO, "main", BASE)
    return github_client(ORG)


def start(github, pulls, guid="event-1", **options):
    return presubmits_start(
        config=CONFIG, github=github, guid=guid, pulls=pulls, jobs=JOBS, **options
    )


def test_one_pull_request_gets_presubmits_on_the_base_branchs_tip(github):
    jobs = start(github, [pr(7, "a" * 40)])
    assert {j.job for j in jobs} == {"unit", "lint"}
    for job in jobs:
        assert job.type == ProwJobType.PRESUBMIT
        assert job.refs["base_sha"] == BASE
        assert [p["number"] for p in job.refs["pulls"]] == [7]
    optional = {j.job: j.labels["prow.k8s.io/is-optional"] for j in jobs}
    assert optional == {"unit": "false", "lint": "true"}


def test_several_pull_requests_run_batch_jobs_on_one_base(github):
    jobs = start(github, [pr(7, "a" * 40), pr(9, "c" * 40)], base_sha="d" * 40)
    assert {j.type for j in jobs} == {ProwJobType.BATCH}
    for job in jobs:
        assert job.refs["base_sha"] == "d" * 40
        pulls = job.refs["pulls"]
        assert [(p["number"], p["sha"]) for p in pulls] == [
            (7, "a" * 40),
            (9, "c" * 40),
        ]
        assert job.pull_number == 7


def test_the_same_event_starts_nothing_twice(github):
    pulls = [pr(7, "a" * 40)]
    assert len(start(github, pulls)) == 2
    assert start(github, pulls) == []
    assert len(start(github, pulls, guid="event-2")) == 2
    assert ProwJob.objects.count() == 4


def test_an_unmergeable_pull_request_runs_nothing(github):
    assert start(github, [pr(7, "a" * 40, mergeable=False)]) == []
    assert ProwJob.objects.count() == 0
