"""Reporting ProwJobs to GitHub: statuses and the test-report comment
(spec §7.3, acceptance 45-53), checked through the GitHub double."""

import re
import threading

import pytest
from django.db import connection, connections

from jobs.labels import IS_OPTIONAL_LABEL
from jobs.models import ProwJob, ProwJobState
from jobs.reporter import (
    base_sha_from_description,
    report_job,
    status_description,
)
from jobs.services import prowjob_abort, prowjob_transition
from prow.config.schema import GitHubReporter, Plank, ProwConfig
from prow.github.bot import ABOUT_BOT
from prow.github.client import GitHubError, github_client
from tests.factories import ProwJobFactory, PullFactory, RefsFactory

pytestmark = pytest.mark.django_db

HEAD = "a" * 40
BASE = "b" * 40
STATUSES = re.compile(r"^/repos/acme/app/statuses/")
PAD = "\u2001"


@pytest.fixture
def fake(fake_github):  # noqa: F811
    fake_github.add_repo("acme", "app", sha=BASE)
    fake_github.add_pull("acme", "app", 7, "alice", head_sha=HEAD)
    return fake_github


def presubmit(name="unit", *, optional: bool | None = False, **fields) -> ProwJob:
    """A triggered presubmit on pull request 7 by alice, at HEAD over BASE."""
    labels = {} if optional is None else {IS_OPTIONAL_LABEL: str(optional).lower()}
    fields.setdefault("refs", RefsFactory(base_sha=BASE, pulls=[PullFactory(sha=HEAD)]))
    return ProwJobFactory(job=name, extra_labels=labels, **fields)


def url(job: ProwJob) -> str:
    return f"https://prow.example.com/view/{job.name}"


def start(job: ProwJob) -> ProwJob:
    assert prowjob_transition(
        job, ProwJobState.PENDING, description="Job triggered.", url=url(job)
    )
    return job


def finish(job: ProwJob, state: str, description: str = "") -> ProwJob:
    assert prowjob_transition(job, state, description=description)
    return job


def fail(job: ProwJob) -> ProwJob:
    return finish(start(job), ProwJobState.FAILURE, "Job failed.")


def status_posts(fake) -> list:
    return fake.requests("POST", STATUSES)


def report_comments(fake) -> list:
    return [
        c for c in fake.comments("acme", "app", 7) if "<!-- test report -->" in c.body
    ]


def row(job: ProwJob, required: str = "true") -> str:
    return f"{job.context} | {HEAD} | [link]({url(job)}) | {required} | `{job.rerun_command}`"


def table_rows(body: str) -> list[str]:
    lines = body.split("\n")
    start_at = lines.index("--- | --- | --- | --- | ---") + 1
    end_at = lines.index("", start_at)
    return lines[start_at:end_at]


# Statuses ---------------------------------------------------------------------


def test_a_passing_run_reports_pending_then_one_success(fake):
    job = presubmit()
    assert report_job(job) is True
    start(job)
    assert report_job(job) is True
    finish(job, ProwJobState.SUCCESS, "Job succeeded.")
    assert report_job(job) is True

    statuses = fake.statuses("acme", "app", HEAD)
    assert [s.state for s in statuses] == ["pending", "pending", "success"]
    last = statuses[-1]
    assert last.context == "unit"
    assert last.target_url == url(job)
    assert last.description.startswith("Job succeeded.")
    assert last.description.endswith(f" BaseSHA:{BASE}")
    assert len(last.description) <= 140
    # Statuses go on the head commit, never on the base.
    assert fake.statuses("acme", "app", BASE) == []
    job.refresh_from_db()
    assert job.prev_report_states == {"github-reporter": "success"}


def test_the_same_state_is_reported_once(fake):
    job = start(presubmit())
    assert report_job(job) is True
    assert report_job(job) is False
    assert len(status_posts(fake)) == 1


def test_a_stale_copy_of_the_job_does_not_report_again(fake):
    job = start(presubmit())
    # A duplicate message loaded the row before the first report recorded it.
    duplicate = ProwJob.objects.get(pk=job.pk)
    assert report_job(job) is True
    assert report_job(duplicate) is False
    assert len(status_posts(fake)) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_post_one_status(fake):
    job = start(presubmit())
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            copy = ProwJob.objects.get(pk=job.pk)
            barrier.wait()
            results.append(report_job(copy))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(results) == [False, True]
    assert len(status_posts(fake)) == 1


@pytest.mark.parametrize(
    ("state", "github_state"),
    [(ProwJobState.ABORTED, "failure"), (ProwJobState.ERROR, "error")],
)
def test_aborted_is_reported_as_failure_and_error_as_error(fake, state, github_state):
    job = finish(start(presubmit()), state, "Stopped.")
    assert report_job(job) is True
    assert [s.state for s in fake.statuses("acme", "app", HEAD)] == [github_state]


def test_a_superseded_abort_is_not_reported(fake):
    job = start(presubmit())
    assert prowjob_abort(job, "Aborted as a newer run started.", report=False)
    assert report_job(job) is False
    assert fake.requests("POST") == []


def test_skip_report_sends_neither_status_nor_comment(fake):
    # What a job configured with skip_report: true is stored with.
    job = fail(presubmit(report=False))
    assert report_job(job) is False
    assert fake.requests("POST") == [] and fake.comments("acme", "app", 7) == []


def test_periodics_are_never_reported(fake):
    job = ProwJobFactory(
        periodic=True,
        job="nightly",
        extra_refs=[{"org": "acme", "repo": "app", "base_ref": "main"}],
    )
    assert job.report is True
    job = finish(start(job), ProwJobState.FAILURE, "Job failed.")
    # Even a config asking for periodics does not send them to GitHub.
    config = ProwConfig(
        github_reporter=GitHubReporter(job_types_to_report=["periodic", "presubmit"])
    )
    assert report_job(job, config=config) is False
    assert fake.requests("POST") == []


def test_batches_are_never_reported(fake):
    batch = fail(ProwJobFactory(batch=True, job="unit", report=True))
    # A presubmit-typed job over two pulls is a batch too.
    two_pulls = fail(presubmit(refs=batch.refs))
    assert report_job(batch) is False
    assert report_job(two_pulls) is False
    assert fake.requests("POST") == []


def test_postsubmits_get_a_status_on_the_base_sha_and_no_comment(fake):
    job = ProwJobFactory(postsubmit=True, job="deploy", refs=RefsFactory(base_sha=BASE))
    job = finish(start(job), ProwJobState.FAILURE, "Job failed.")
    assert report_job(job) is True
    [status] = fake.statuses("acme", "app", BASE)
    assert (status.context, status.state) == ("deploy", "failure")
    assert fake.requests(path=re.compile("comments")) == []


def test_a_transient_error_raises_and_records_nothing_so_a_retry_reports(fake):
    job = start(presubmit())
    fake.fail_next("POST", STATUSES.pattern, status=502)
    with pytest.raises(GitHubError) as caught:
        report_job(job)
    assert caught.value.permanent is False
    job.refresh_from_db()
    assert job.prev_report_states == {}
    assert report_job(job) is True
    assert [s.state for s in fake.statuses("acme", "app", HEAD)] == ["pending"]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (422, f"No commit found for SHA: {HEAD}"),
        (422, "This SHA and context has reached the maximum number of statuses."),
        (404, "Not Found"),
    ],
)
def test_unfixable_status_errors_are_swallowed_and_not_retried(fake, status, message):
    job = fail(presubmit())
    body = {"message": message, "documentation_url": "https://docs.github.com"}
    fake.fail_next("POST", STATUSES.pattern, status=status, body=body)
    assert report_job(job) is False
    job.refresh_from_db()
    # Recorded, so the job is not reported over and over.
    assert job.prev_report_states == {"github-reporter": "failure"}
    assert fake.requests(path=re.compile("comments")) == []


def test_other_permanent_status_errors_raise_as_permanent(fake):
    job = start(presubmit())
    body = {"message": "Validation Failed", "documentation_url": "x"}
    fake.fail_next("POST", STATUSES.pattern, status=422, body=body)
    with pytest.raises(GitHubError) as caught:
        report_job(job)
    assert caught.value.permanent is True
    job.refresh_from_db()
    assert job.prev_report_states == {}


def test_a_job_that_moved_on_during_the_report_is_reported_again(fake):
    job = start(presubmit())

    class MovesOnWhilePosting:
        """A client during whose status call plank finishes the job."""

        def __init__(self, client):
            self.client = client

        def __getattr__(self, name):
            return getattr(self.client, name)

        def create_status(self, *args, **kwargs):
            self.client.create_status(*args, **kwargs)
            other = ProwJob.objects.get(pk=job.pk)
            finish(other, ProwJobState.SUCCESS, "Job succeeded.")

    assert report_job(job, github=MovesOnWhilePosting(github_client("acme")))
    # "pending" was not recorded for a job that is no longer pending...
    assert ProwJob.objects.get(pk=job.pk).prev_report_states == {}
    # ...so its success is reported.
    assert report_job(job) is True
    assert [s.state for s in fake.statuses("acme", "app", HEAD)] == [
        "pending",
        "success",
    ]


def test_long_descriptions_are_elided_in_the_middle(fake):
    text = "x" * 100 + "MIDDLE" + "y" * 100
    job = finish(start(presubmit()), ProwJobState.ERROR, text)
    assert report_job(job) is True
    [status] = fake.statuses("acme", "app", HEAD)
    assert len(status.description) == 140
    assert status.description.startswith("x" * 43 + " ... " + "y" * 43)
    assert "MIDDLE" not in status.description
    assert status.description.endswith(f" BaseSHA:{BASE}")


def test_short_descriptions_are_padded_to_140_with_em_quads():
    described = status_description("Job succeeded.", BASE)
    assert len(described) == 140
    padding = described[len("Job succeeded.") : -len(f" BaseSHA:{BASE}")]
    assert padding == PAD * len(padding) and len(padding) == 77
    assert base_sha_from_description(described) == BASE
    assert base_sha_from_description("Job succeeded.") == ""
    # Without a base SHA there is nothing to append, only the limit.
    assert status_description("z" * 200, "") == "z" * 67 + " ... " + "z" * 67


# The test-report comment --------------------------------------------------------


def test_a_failure_posts_the_report_comment(fake):
    job = fail(presubmit())
    assert report_job(job) is True
    [comment] = fake.comments("acme", "app", 7)
    assert comment.author == "prow-bot"
    assert comment.body == "\n".join(
        [
            "@alice: The following test **failed**, say `/retest` to rerun all "
            "failed tests or `/retest-required` to rerun all mandatory failed tests:",
            "",
            "Test name | Commit | Details | Required | Rerun command",
            "--- | --- | --- | --- | ---",
            f"unit | {HEAD} | [link]({url(job)}) | true | `/test unit`",
            "",
            "<details>",
            "",
            f"{ABOUT_BOT} I understand the commands that are listed "
            "[here](https://go.k8s.io/bot-commands).",
            "</details>",
            "<!-- test report -->",
        ]
    )


@pytest.mark.parametrize(("optional", "required"), [(True, "false"), (None, "unknown")])
def test_the_required_column_follows_the_is_optional_label(fake, optional, required):
    job = fail(presubmit(optional=optional))
    report_job(job)
    [comment] = report_comments(fake)
    assert table_rows(comment.body) == [row(job, required)]


def test_a_second_failure_replaces_the_comment_with_both_rows(fake):
    unit = fail(presubmit("unit"))
    report_job(unit)
    [first] = report_comments(fake)
    lint = fail(presubmit("lint"))
    report_job(lint)

    [second] = report_comments(fake)
    assert second.id != first.id
    assert fake.requests("DELETE", f"/repos/acme/app/issues/comments/{first.id}")
    assert "The following tests **failed**" in second.body
    assert table_rows(second.body) == [row(unit), row(lint)]


def test_passing_reruns_remove_rows_then_the_comment(fake):
    report_job(fail(presubmit("unit")))
    lint = fail(presubmit("lint"))
    report_job(lint)
    [comment] = report_comments(fake)

    # Another run of unit passes: its row goes, the comment is edited in place
    # (no new failure, so no new notification).
    rerun = finish(start(presubmit("unit")), ProwJobState.SUCCESS, "Job succeeded.")
    report_job(rerun)
    [edited] = report_comments(fake)
    assert edited.id == comment.id
    assert table_rows(edited.body) == [row(lint)]
    assert "The following test **failed**" in edited.body

    # lint passes too: nothing failed any more, so the report is deleted.
    report_job(finish(start(presubmit("lint")), ProwJobState.SUCCESS, "Done."))
    assert report_comments(fake) == []
    assert fake.comments("acme", "app", 7) == []


def test_an_errored_rerun_drops_the_row_without_adding_one(fake):
    report_job(fail(presubmit("unit")))
    report_job(finish(start(presubmit("unit")), ProwJobState.ERROR, "Pod gone."))
    assert report_comments(fake) == []


def test_only_the_bots_report_comments_count(fake):
    fake.add_comment(
        "acme", "app", 7, "mallory", "x\n--- | ---\nfake | row\n\n<!-- test report -->"
    )
    job = fail(presubmit())
    report_job(job)
    comments = fake.comments("acme", "app", 7)
    # The human's comment is neither deleted nor read for rows.
    assert [c.author for c in comments] == ["mallory", "prow-bot"]
    assert table_rows(comments[1].body) == [row(job)]


def test_no_comment_repos_get_statuses_but_no_comment(fake):
    config = ProwConfig(github_reporter=GitHubReporter(no_comment_repos=["acme/app"]))
    job = fail(presubmit())
    assert report_job(job, config=config) is True
    assert [s.state for s in fake.statuses("acme", "app", HEAD)] == ["failure"]
    assert fake.requests(path=re.compile("comments")) == []


def test_summary_repos_comment_once_every_job_of_the_pull_is_done(fake):
    config = ProwConfig(github_reporter=GitHubReporter(summary_comment_repos=["acme"]))
    unit = fail(presubmit("unit"))
    lint = start(presubmit("lint"))
    assert report_job(unit, config=config) is True
    # lint still runs: the failure is not commented on yet.
    assert fake.comments("acme", "app", 7) == []

    finish(lint, ProwJobState.SUCCESS, "Job succeeded.")
    report_job(lint, config=config)
    [comment] = report_comments(fake)
    assert table_rows(comment.body) == [row(unit)]


def test_summary_repos_say_all_passed_when_nothing_failed(fake):
    config = ProwConfig(
        github_reporter=GitHubReporter(summary_comment_repos=["acme/app"])
    )
    report_job(fail(presubmit("unit")), config=config)
    # The latest run of unit passes; the older failed run no longer counts.
    rerun = finish(start(presubmit("unit")), ProwJobState.SUCCESS, "Job succeeded.")
    report_job(rerun, config=config)
    [comment] = report_comments(fake)
    # The original leaves two blank lines here (an empty table between them).
    assert comment.body.startswith("@alice: all tests **passed!**\n\n\n<details>")
    assert "Test name" not in comment.body


def test_a_static_report_template_is_appended(fake):
    plank = Plank(report_templates={"acme/app": "See the [flake list](https://x)."})
    report_job(fail(presubmit()), config=ProwConfig(plank=plank))
    [comment] = report_comments(fake)
    assert "\n\nSee the [flake list](https://x).\n\n<details>" in comment.body


def test_the_pull_request_lock_is_held_while_the_comment_is_updated(fake):
    held = {}

    def advisory_locks() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                " AND pid = pg_backend_pid() AND granted"
            )
            return cursor.fetchone()[0]

    class Watching:
        def __init__(self, client):
            self.client = client

        def __getattr__(self, name):
            return getattr(self.client, name)

        def create_status(self, *args, **kwargs):
            held["status"] = advisory_locks()
            return self.client.create_status(*args, **kwargs)

        def list_comments(self, *args):
            held["comments"] = advisory_locks()
            return self.client.list_comments(*args)

    report_job(fail(presubmit()), github=Watching(github_client("acme")))
    # The job's own lock while posting the status, and the pull request's on
    # top of it while its comment is read and rewritten.
    assert held == {"status": 1, "comments": 2}
