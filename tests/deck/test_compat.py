"""Deck's JSON in the original's shapes (/prowjobs.js, /tide.js,
/tide-history.js) and the /badge.svg README badge."""

import copy
import datetime as dt
import gzip
import json
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deck.queries import forget_job_names
from jobs.models import ProwJobState, ProwJobType
from prow.config.active import forget_cached_config
from tests.factories import DETAILED_POD_SPEC, ProwJobFactory
from tests.jobs.test_serialization import errors_of

pytestmark = pytest.mark.django_db

DECK_OMIT = "annotations,labels,decoration_config,pod_spec"


def save(job_type=ProwJobType.PRESUBMIT, state=ProwJobState.SUCCESS, **overrides):
    """A stored job with every field set: a presubmit is
    kubernetes/test-infra#42 by alice, a periodic has kubernetes/release as
    its first extra ref."""
    overrides.setdefault("hidden", False)
    return ProwJobFactory(detailed=True, type=job_type, state=state, **overrides)


def items(client, query=""):
    response = client.get("/prowjobs.js" + query)
    assert response.status_code == 200, response.content
    return response.json()["items"]


def every_type_and_state():
    return [save(t, s) for t in ProwJobType for s in ProwJobState]


@pytest.mark.parametrize(
    "omit",
    [
        "",
        DECK_OMIT,
        ",".join(
            sorted(
                [
                    "refs",
                    "extra_refs",
                    "prev_report_states",
                    "reporter_config",
                    "rerun_auth_config",
                ]
            )
        ),
    ],
)
def test_every_item_validates_against_the_crd_for_every_type_and_state(client, omit):
    jobs = every_type_and_state()
    found = items(client, f"?omit={omit}")
    assert [i["metadata"]["name"] for i in found] == [
        str(j.name) for j in reversed(jobs)
    ]
    pairs = {(i["spec"]["type"], i["status"]["state"]) for i in found}
    assert pairs == {(t.value, s.value) for t in ProwJobType for s in ProwJobState}
    for item in found:
        assert errors_of(item) == [], (item["spec"]["type"], item["status"]["state"])


def test_the_response_is_the_originals_shape_and_never_cached(client):
    job = save()
    response = client.get("/prowjobs.js")
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    data = response.json()
    assert list(data) == ["items"]
    (item,) = data["items"]
    assert item["apiVersion"] == "prow.k8s.io/v1"
    assert item["kind"] == "ProwJob"
    assert item["metadata"]["labels"] == job.labels
    assert (
        item["spec"]["pod_spec"]["containers"][0]["image"]
        == "lawrence2018/maven:3.6-jdk-8"
    )
    assert item["spec"]["decoration_config"]["timeout"] == "2h0m0s"
    assert item["status"]["build_id"] == job.build_id


def test_omit_drops_fields_and_keeps_one_empty_container_per_container(client):
    two = copy.deepcopy(DETAILED_POD_SPEC)
    two["containers"].append({"name": "sidecar", "image": "b"})
    save(ProwJobType.PERIODIC, ProwJobState.PENDING, pod_spec=two)
    save(ProwJobType.POSTSUBMIT, ProwJobState.SUCCESS, pod_spec=None)

    no_pod, two_containers = items(client, f"?omit={DECK_OMIT}")
    for item in (no_pod, two_containers):
        assert "labels" not in item["metadata"]
        assert "annotations" not in item["metadata"]
        assert "decoration_config" not in item["spec"]
        # What was not asked to be left out is still there.
        assert item["spec"]["rerun_auth_config"]["github_users"] == ["alice"]
    assert two_containers["spec"]["pod_spec"] == {
        "containers": [{"name": "", "resources": {}}, {"name": "", "resources": {}}]
    }
    assert "pod_spec" not in no_pod["spec"]


def test_omitted_columns_are_not_read_from_the_database(client):
    save()
    with CaptureQueriesContext(connection) as queries:
        items(client, f"?omit={DECK_OMIT}")
    (select,) = [q["sql"] for q in queries if '"jobs_prowjob"' in q["sql"]]
    for column in ("decoration_config", "labels", "annotations", "org", "author"):
        assert f'"jobs_prowjob"."{column}"' not in select, column
    # The pod spec's containers are counted in SQL, not sent over.
    assert "jsonb_array_length" in select
    assert '"jobs_prowjob"."refs"' in select


def test_the_list_is_compressed_for_clients_that_accept_it(client):
    for _ in range(3):
        save()
    response = client.get("/prowjobs.js", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    data = json.loads(gzip.decompress(response.content))
    assert len(data["items"]) == 3


def test_unknown_omit_names_are_ignored_as_by_the_original(client):
    save()
    (item,) = items(client, "?omit=spec,state,nonsense")
    assert item["status"]["state"] == "success"
    assert errors_of(item) == []


def test_hidden_jobs_and_hidden_repos_are_left_out(client, activate_config):
    activate_config(config_yaml="deck:\n  hidden_repos: [secret, kubernetes/private]\n")
    shown = save()
    save(hidden=True)
    save(org="secret", repo="anything")
    save(repo="private")
    save(org="kubernetes", repo="public-but-other")
    names = [i["metadata"]["name"] for i in items(client)]
    assert str(shown.name) in names
    assert len(names) == 2


def test_limit_keeps_the_newest(client):
    jobs = [save() for _ in range(5)]
    found = items(client, "?limit=2")
    assert [i["metadata"]["name"] for i in found] == [
        str(jobs[4].name),
        str(jobs[3].name),
    ]


@pytest.mark.parametrize(
    "query, reason",
    [
        ("?limit=0", "limit: must be a number from 1 to 5000"),
        ("?limit=5001", "limit: must be a number from 1 to 5000"),
        ("?limit=ten", "limit: must be a number from 1 to 5000"),
        ("?state=passed", "state: must be one of"),
        ("?type=nightly", "type: must be one of"),
        ("?pull=abc", "pull: must be a pull request number"),
        ("?org=a%20b", "org: must be a GitHub name"),
        ("?repo=a;b", "repo: must be a repository name or org/repo"),
        ("?var=x%3Balert(1)", "var: must be a JavaScript identifier"),
    ],
)
def test_bad_parameters_are_refused_with_a_reason(client, query, reason):
    response = client.get("/prowjobs.js" + query)
    assert response.status_code == 400
    text = response.content.decode()
    assert text.startswith(reason)
    assert text.count("\n") == 1


def test_filters_by_org_repo_owner_and_the_job_list_filters(client):
    ours = save()  # kubernetes/test-infra #42 by alice
    theirs = save(org="other", repo="test-infra", author="bob")
    periodic = save(ProwJobType.PERIODIC, ProwJobState.FAILURE)  # org from extra_refs

    def names(query):
        return {i["metadata"]["name"] for i in items(client, query)}

    assert names("?org=kubernetes") == {str(ours.name), str(periodic.name)}
    # As the original: repo alone is the repository name, in any org.
    assert names("?repo=test-infra") == {str(ours.name), str(theirs.name)}
    assert names("?repo=kubernetes/test-infra") == {str(ours.name)}
    assert names("?org=kubernetes&repo=release") == {str(periodic.name)}
    assert names("?owner=bob") == {str(theirs.name)}
    assert names("?author=alice") == {str(ours.name)}
    assert names("?type=periodic") == {str(periodic.name)}
    assert names("?state=failure") == {str(periodic.name)}
    assert names("?job=presubmit-unit&pull=42") == {str(ours.name), str(theirs.name)}
    assert names("?owner=nobody") == set()


def test_var_wraps_the_json_in_a_script(client):
    save()
    response = client.get(f"/prowjobs.js?var=allBuilds&omit={DECK_OMIT}")
    assert response["Content-Type"] == "application/javascript"
    body = response.content.decode()
    assert body.startswith("var allBuilds = {")
    assert body.endswith("};")
    data = json.loads(body.removeprefix("var allBuilds = ").removesuffix(";"))
    assert len(data["items"]) == 1


def test_one_query_however_many_jobs(client):
    def count_queries():
        forget_cached_config()  # each count includes the config check
        with CaptureQueriesContext(connection) as queries:
            items(client, f"?omit={DECK_OMIT}")
        return len(queries)

    save()
    few = count_queries()
    for _ in range(30):
        save(ProwJobType.PERIODIC, ProwJobState.PENDING)
    assert count_queries() == few
    # The job rows are one query; the rest is the config version check.
    assert few <= 2


def test_tide_endpoints_serve_the_originals_empty_shapes(client):
    tide = client.get("/tide.js")
    assert tide.status_code == 200
    assert tide.json() == {"Queries": [], "TideQueries": [], "Pools": []}
    history = client.get("/tide-history.js")
    assert history.json() == {"History": {}}
    wrapped = client.get("/tide.js?var=tideData").content.decode()
    assert wrapped == 'var tideData = {"Queries":[],"TideQueries":[],"Pools":[]};'
    assert client.get("/tide-history.js?var=1x").status_code == 400
    assert client.post("/tide.js").status_code == 405


# Badges


def run(name, state, minutes_ago=0, **overrides):
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago + 10)
    return save(ProwJobType.PERIODIC, state, job=name, start_time=start, **overrides)


def badge(client, jobs):
    response = client.get("/badge.svg", {"jobs": jobs})
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    ET.fromstring(svg)  # well-formed, so browsers draw it
    return svg


def test_badge_passing_when_every_latest_result_succeeded(client):
    run("ci-unit", ProwJobState.FAILURE, minutes_ago=30)
    run("ci-unit", ProwJobState.SUCCESS, minutes_ago=10)
    run("ci-lint", ProwJobState.SUCCESS)
    svg = badge(client, "ci-unit,ci-lint")
    assert ">passing<" in svg
    assert "#4c1" in svg


def test_badge_failing_names_the_failing_jobs(client):
    run("ci-unit", ProwJobState.SUCCESS, minutes_ago=30)
    run("ci-unit", ProwJobState.FAILURE, minutes_ago=10)
    run("ci-lint", ProwJobState.SUCCESS)
    run("ci-e2e", ProwJobState.ERROR)
    svg = badge(client, "ci-*")
    assert ">failing ci-e2e, ci-unit<" in svg
    assert "#e05d44" in svg


def test_badge_shortens_a_long_list_of_failures(client):
    for name in ("ci-d", "ci-b", "ci-a", "ci-c", "ci-e"):
        run(name, ProwJobState.FAILURE)
    assert ">failing ci-a, ci-b, ci-c, ...<" in badge(client, "ci-*")


def test_a_running_or_aborted_run_does_not_hide_the_last_result(client):
    run("ci-unit", ProwJobState.FAILURE, minutes_ago=30)
    run("ci-unit", ProwJobState.PENDING, minutes_ago=5)
    run("ci-unit", ProwJobState.ABORTED, minutes_ago=1)
    assert ">failing ci-unit<" in badge(client, "ci-unit")


def test_badge_no_results_when_nothing_matches(client):
    run("ci-unit", ProwJobState.SUCCESS)
    run("ci-hidden", ProwJobState.FAILURE, hidden=True)
    run("ci-waiting", ProwJobState.TRIGGERED)
    for jobs in ("pull-*", "ci-hidden", "ci-waiting", "nothing-like-it"):
        svg = badge(client, jobs)
        assert ">no results<" in svg, jobs
        assert "#9f9f9f" in svg


def test_badge_wildcards_match_whole_names(client):
    run("ci-unit", ProwJobState.SUCCESS)
    run("pull-ci-unit", ProwJobState.FAILURE)
    assert ">passing<" in badge(client, "ci-*")
    assert ">failing pull-ci-unit<" in badge(client, "*-unit")
    assert ">passing<" in badge(client, "ci-u?it")


def test_badge_is_cached_briefly_and_needs_jobs(client):
    run("ci-unit", ProwJobState.SUCCESS)
    response = client.get("/badge.svg?jobs=ci-unit")
    assert "max-age=60" in response["Cache-Control"]
    missing = client.get("/badge.svg")
    assert missing.status_code == 400
    assert missing.content == b"missing jobs query parameter\n"
    assert client.get("/badge.svg?jobs=,").status_code == 400


def test_badge_escapes_job_names(client):
    run("ci-<b>", ProwJobState.FAILURE)
    svg = badge(client, "ci-<b>")
    assert "ci-&lt;b&gt;" in svg
    assert "<b>" not in svg


def test_badge_query_count_does_not_grow_with_jobs_or_runs(client):
    def count_queries(jobs):
        forget_cached_config()
        forget_job_names()
        with CaptureQueriesContext(connection) as queries:
            badge(client, jobs)
        return len(queries)

    run("ci-0", ProwJobState.SUCCESS)
    few = count_queries("ci-*")
    for i in range(1, 25):
        run(f"ci-{i}", ProwJobState.SUCCESS)
        run(f"ci-{i}", ProwJobState.FAILURE)
    assert count_queries("ci-*") == few
    assert few <= 3  # config version, job names, latest results


def test_badge_refuses_more_jobs_than_it_can_name(client):
    too_many = ",".join(f"ci-{i}" for i in range(201))
    response = client.get("/badge.svg", {"jobs": too_many})
    assert response.status_code == 400
    assert response.content == b"jobs: matches 201 jobs, more than 200\n"
