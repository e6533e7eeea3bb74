"""Deck's pages beyond the job list: job history, pull request, command
help and plugins."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from hook.plugins.registry import all_plugins
from jobs.models import ProwJobState
from prow.config.active import forget_cached_config
from tests.factories import ProwJobFactory, PullFactory, RefsFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
ROW = re.compile(r'<tr id="job-([0-9a-f-]{36})"')


def finished(name, state, minutes, *, ago=0, **overrides):
    """A periodic run of `name` that took `minutes`, started `ago` hours
    before the others."""
    return ProwJobFactory(
        periodic=True,
        job=name,
        state=state,
        start_time=NOW - dt.timedelta(hours=ago + 1),
        duration=dt.timedelta(minutes=minutes),
        **overrides,
    )


def page_of(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def link(html, rel):
    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def count_queries(client, url):
    forget_cached_config()  # every count includes the config check
    with CaptureQueriesContext(connection) as queries:
        page_of(client, url)
    return len(queries)


# Job history


def test_history_pages_walk_every_run_once_in_both_directions(client):
    runs = [finished("ci-unit", ProwJobState.SUCCESS, 5) for _ in range(45)]
    finished("ci-other", ProwJobState.FAILURE, 5)
    finished("ci-unit", ProwJobState.SUCCESS, 5, hidden=True)

    pages, url = [], "/job-history/ci-unit"
    while url:
        html = page_of(client, url)
        pages.append(ROW.findall(html))
        url = link(html, "next")
    assert [len(p) for p in pages] == [20, 20, 5]
    walked = [name for page in pages for name in page]
    assert walked == [str(r.name) for r in reversed(runs)]

    # Back from the last page, the same pages come up again.
    html = page_of(client, "/job-history/ci-unit?before=" + str(runs[5].id))
    back = []
    while (url := link(html, "prev")) is not None:
        html = page_of(client, url)
        back.append(ROW.findall(html))
    assert back == [pages[1], pages[0]]
    assert link(html, "prev") is None


def test_history_summary_and_chart_describe_the_runs_shown(client):
    finished("ci-unit", ProwJobState.SUCCESS, 10, ago=5)
    finished("ci-unit", ProwJobState.FAILURE, 40, ago=4)
    finished("ci-unit", ProwJobState.SUCCESS, 30, ago=3)
    finished("ci-unit", ProwJobState.SUCCESS, 20, ago=2)
    ProwJobFactory(periodic=True, pending=True, job="ci-unit", start_time=NOW)
    html = page_of(client, "/job-history/ci-unit")

    stats = dict(re.findall(r"<dt>([^<]+)</dt><dd[^>]*>([^<]+)</dd>", html))
    assert stats["pass rate"] == "75%"  # 3 of 4 finished runs
    assert stats["median duration"] == "25m00s"  # of 10, 20, 30 and 40 minutes
    assert stats["running"] == "1"

    bars = re.findall(
        r'<rect class="bar bar-(\w+)" x="(\d+)" y="(\d+)" width="\d+" height="(\d+)"',
        html,
    )
    # Oldest on the left; the 40-minute failure is the tallest bar.
    assert [b[0] for b in bars] == [
        "success",
        "failure",
        "success",
        "success",
        "pending",
    ]
    heights = [int(b[3]) for b in bars]
    assert heights[1] == max(heights) == 72
    assert heights[0] == 18  # a quarter of the longest run
    assert [int(b[1]) for b in bars] == sorted(int(b[1]) for b in bars)


def test_history_rows_link_to_the_job_and_its_pull_request(client):
    # kubernetes/test-infra#42
    job = ProwJobFactory(detailed=True, state=ProwJobState.FAILURE)
    html = page_of(client, f"/job-history/{job.job}")
    assert f'href="/view/{job.name}"' in html
    assert 'href="https://github.com/kubernetes/test-infra/pull/42"' in html
    assert 'href="/pr/kubernetes/test-infra/42"' in html
    assert f'<tr id="job-{job.name}" data-state="failure">' in html


def test_history_of_an_unknown_job_is_404_and_of_an_idle_one_is_empty(
    client, activate_config
):
    assert client.get("/job-history/no-such-job").status_code == 404
    activate_config(
        config_yaml="periodics:\n- name: nightly\n  interval: 24h\n  spec: {containers: [{image: a}]}\n"
    )
    html = page_of(client, "/job-history/nightly")
    assert "No runs yet." in html
    assert '<rect class="bar' not in html


def test_history_rejects_a_bad_cursor(client):
    finished("ci-unit", ProwJobState.SUCCESS, 1)
    response = client.get("/job-history/ci-unit?before=abc")
    assert response.status_code == 400
    assert response.content == b"cursor: must be a job id\n"


def test_history_htmx_request_gets_only_the_runs(client):
    finished("ci-unit", ProwJobState.SUCCESS, 1)
    response = client.get("/job-history/ci-unit", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="history">')
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_history_query_count_does_not_grow_with_runs(client):
    finished("ci-unit", ProwJobState.SUCCESS, 1)
    few = count_queries(client, "/job-history/ci-unit")
    for _ in range(40):
        finished("ci-unit", ProwJobState.FAILURE, 2)
    assert count_queries(client, "/job-history/ci-unit") == few


# Pull request page

OLD_SHA = "1" * 40
HEAD_SHA = "2" * 40


def pr_run(job, state, sha, number=42, **overrides):
    """A run of presubmit `job` on kubernetes/test-infra#`number` at `sha`."""
    refs = RefsFactory(
        org="kubernetes",
        repo="test-infra",
        pulls=[PullFactory(number=number, sha=sha)],
    )
    return ProwJobFactory(job=job, state=state, refs=refs, **overrides)


def test_pr_page_shows_the_latest_run_per_context_and_runs_by_commit(client):
    old_unit = pr_run("unit", ProwJobState.FAILURE, OLD_SHA)
    old_lint = pr_run("lint", ProwJobState.SUCCESS, OLD_SHA)
    retried = pr_run("unit", ProwJobState.FAILURE, OLD_SHA)
    head_unit = pr_run("unit", ProwJobState.PENDING, HEAD_SHA)
    other_pr = pr_run("unit", ProwJobState.ERROR, HEAD_SHA, number=43)

    html = page_of(client, "/pr/kubernetes/test-infra/42")
    status = html.split('<section id="status">')[1].split("</section>")[0]
    rows = re.findall(
        r'<tr id="context-\d+" data-state="(\w+)">.*?href="/view/([0-9a-f-]+)"',
        status,
        re.S,
    )
    # Sorted by context; each is the newest run of that context.
    assert rows == [("success", str(old_lint.name)), ("pending", str(head_unit.name))]
    assert status.count("older commit") == 1  # lint has not run on the head yet

    commits = html.split('<section id="commits">')[1]
    assert commits.index(f'id="commit-{HEAD_SHA}"') < commits.index(
        f'id="commit-{OLD_SHA}"'
    )
    old_section = commits.split(f'id="commit-{OLD_SHA}"')[1]
    assert ROW.findall(old_section) == [
        str(retried.name),
        str(old_lint.name),
        str(old_unit.name),
    ]
    assert str(other_pr.name) not in html
    assert "Fix the flake" in html


def test_pr_page_links_to_github_and_says_what_tide_knows(client, activate_config):
    activate_config(config_yaml="github:\n  link_url: https://ghe.example.com\n")
    pr_run("unit", ProwJobState.SUCCESS, HEAD_SHA)
    html = page_of(client, "/pr/kubernetes/test-infra/42")
    assert 'href="https://ghe.example.com/kubernetes/test-infra/pull/42"' in html
    assert (
        f'href="https://ghe.example.com/kubernetes/test-infra/pull/42/commits/{HEAD_SHA}"'
        in html
    )
    assert 'href="/job-history/unit"' in html
    tide = html.split('<section id="tide">')[1].split("</section>")[0]
    assert "Not in any Tide merge pool." in tide


def test_pr_page_without_jobs_says_so(client):
    html = page_of(client, "/pr/kubernetes/test-infra/7")
    assert "No jobs have run for this pull request." in html
    assert 'href="https://github.com/kubernetes/test-infra/pull/7"' in html


def test_pr_page_query_count_does_not_grow_with_runs(client):
    pr_run("unit", ProwJobState.SUCCESS, OLD_SHA)
    few = count_queries(client, "/pr/kubernetes/test-infra/42")
    for i in range(30):
        pr_run(f"job-{i % 6}", ProwJobState.FAILURE, f"{i:040d}")
    assert count_queries(client, "/pr/kubernetes/test-infra/42") == few
    # The config and the runs, then Tide's pools, status and history of it.
    assert few <= 5


# Command help and plugins


def test_command_help_lists_every_command_of_the_registry(client, plugins_enabled):
    plugins_enabled({"octo/app": ["trigger"], "octo/other": ["shrug"]})
    html = page_of(client, "/command-help")
    for plugin in all_plugins().values():
        for command in plugin.commands:
            assert escape(command.usage) in html, command.usage
            assert escape(command.description) in html
    # Anchors as the original names them.
    assert '<tr id="test">' in html
    assert '<tr id="retest_required">' in html
    test_row = html.split('<tr id="test">')[1].split("</tr>")[0]
    assert 'href="/command-help?repo=octo/app"' in test_row
    assert "trigger" in test_row
    # Featured commands come first.
    anchors = re.findall(r'<tr id="(\w+)">', html)
    featured = [
        c for plugin in all_plugins().values() for c in plugin.commands if c.featured
    ]
    assert len(featured) >= 1
    # Two commands named alike (/lgtm, /lgtm cancel) get lgtm and lgtm_2.
    assert {re.sub(r"_\d+$", "", a) for a in anchors[: len(featured)]} == {
        c.examples[0].split()[0].lstrip("/").replace("-", "_") for c in featured
    }
    assert len(anchors) == len(set(anchors))


def test_command_help_for_a_repo_shows_only_what_is_enabled_there(
    client, plugins_enabled
):
    plugins_enabled({"octo/app": ["trigger", "dco"], "octo/other": ["shrug"]})
    other = page_of(client, "/command-help?repo=octo/other")
    assert '<tr id="shrug">' in other
    assert '<tr id="test">' not in other
    assert "<option selected>octo/other</option>" in other
    app = page_of(client, "/command-help?repo=octo/app")
    assert '<tr id="test">' in app
    assert '<tr id="shrug">' not in app
    assert "<code>dco</code>" in app  # enabled, but no such plugin here


def test_command_help_honours_an_orgs_excluded_repos(client, plugins_enabled):
    plugins_enabled({"octo": {"plugins": ["trigger"], "excluded_repos": ["docs"]}})
    assert '<tr id="test">' in page_of(client, "/command-help?repo=octo/app")
    assert '<tr id="test">' not in page_of(client, "/command-help?repo=octo/docs")


def test_command_help_refuses_a_malformed_repo(client):
    response = client.get("/command-help?repo=not-a-repo")
    assert response.status_code == 400
    assert response.content == b"repo: must look like org/repo\n"


def test_command_help_htmx_request_gets_only_the_table(client, plugins_enabled):
    plugins_enabled({"octo/app": ["trigger"]})
    response = client.get("/command-help?repo=octo/app", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="commands">')
    assert '<tr id="test">' in html
    assert "HX-Request" in response["Vary"]


def test_plugins_page_shows_each_plugins_help_and_where_it_is_enabled(
    client, plugins_enabled
):
    plugins_enabled({"octo/app": ["trigger", "dco"], "octo": ["shrug"]})
    html = page_of(client, "/plugins")
    for name, plugin in all_plugins().items():
        assert f'<section class="plugin" id="{name}">' in html
        assert escape(plugin.description) in html
    trigger = html.split('id="trigger">')[1].split("</section>")[0]
    assert '<span class="badge">octo/app</span>' in trigger
    assert 'href="/command-help#test"' in trigger
    missing = html.split("Configured but not available")[1]
    assert "<code>dco</code>" in missing


def test_the_navigation_links_to_command_help(client):
    html = page_of(client, "/plugins")
    assert '<a href="/command-help">Plugins</a>' in html


# Configured jobs

CONFIGURED = """\
presubmits:
  octo/app:
  - {name: unit, spec: {containers: [{image: a}]}}
  - {name: lint, spec: {containers: [{image: a}]}}
postsubmits:
  octo/app:
  - {name: publish, spec: {containers: [{image: a}]}}
periodics:
- {name: nightly, interval: 24h, spec: {containers: [{image: a}]}}
"""


def test_configured_page_lists_each_kind_of_job_under_its_heading(
    client, activate_config
):
    activate_config(config_yaml=CONFIGURED)
    html = page_of(client, "/jobs")
    sections = re.split(r"<h2>", html)[1:]
    tables = {
        section.split("</h2>")[0]: re.findall(r"\?job=([\w-]+)", section)
        for section in sections
    }
    assert tables["Periodic jobs"] == ["nightly"]
    assert tables["Presubmit jobs"] == ["lint", "unit"]
    assert tables["Postsubmit jobs"] == ["publish"]
    assert "<td>octo/app</td>" in sections[1]


def test_history_of_a_configured_job_names_its_kind_and_repo(client, activate_config):
    activate_config(config_yaml=CONFIGURED)
    html = page_of(client, "/job-history/publish")
    assert '<span class="badge">postsubmit</span>' in html
    assert 'href="https://github.com/octo/app">octo/app</a>' in html
    assert "not in the current config" not in html


def periodics_config(count):
    periodics = "".join(
        f"- {{name: p{n}, interval: 24h, spec: {{containers: [{{image: a}}]}}}}\n"
        for n in range(count)
    )
    rules = 'deck:\n  rerun_auth_configs:\n    "*": {github_users: [alice]}\n'
    return rules + "periodics:\n" + periodics


def test_configured_page_query_count_does_not_grow_with_periodics(
    client, activate_config
):
    # Each periodic's "Run now" asks who the user is on GitHub; that is one
    # lookup per request, not one per periodic.
    client.force_login(get_user_model().objects.create_user("alice"))
    activate_config(config_yaml=periodics_config(1))
    page_of(client, "/jobs")  # the config is read once per new version
    few = count_queries(client, "/jobs")
    activate_config(config_yaml=periodics_config(8))
    html = page_of(client, "/jobs")
    assert html.count("Run now</button>") == 8
    assert count_queries(client, "/jobs") == few
