"""Tide's reads of GitHub: tide.search.fetch through the real client, over
HTTP, against the GitHub double, which runs each document against GitHub's
own schema."""

import re
from datetime import UTC, datetime

import pytest

from prow.github.client import GitHubError, GitHubTransientError, github_client
from tests.fakes.github import FakeGitHub
from tide import search
from tide.types import FAILURE, PENDING, SUCCESS, Blocker, BranchTip, Context

OLD = "2024-01-01T00:00:00Z"
SINCE = datetime(2024, 6, 1, tzinfo=UTC)
SCOPES = ['org:"acme"']
SIZES = {"widgets": 100, "gadgets": 90, "tools": 60}


def sha(repo: str, number: int) -> str:
    return f"{sum(map(ord, repo)):04x}{number:036x}"


@pytest.fixture
def gh(fake_github, private_cache):
    return github_client("acme")


@pytest.fixture
def seeded(fake_github):
    """250 open pull requests over three repositories of acme, some closed
    ones, and others outside acme; all last updated long ago."""
    fake = fake_github
    for name in SIZES:
        fake.add_repo("acme", name, sha=sha(name, 0))
    fake.add_repo("outsider", "things")
    fake.add_branch("acme", "widgets", "release-1.0", sha("release", 0))
    fake.protect_branch("acme", "widgets", "main", contexts=["ci/unit", "build"])
    fake.add_milestone("acme", "widgets", "v1.0")
    for name, count in SIZES.items():
        for number in range(1, count + 1):
            fake.add_pull("acme", name, number, f"dev{number % 7}", sha(name, number))
        fake.add_pull("acme", name, count + 1, "dev", sha(name, 999), state="closed")
    fake.add_pull("outsider", "things", 1, "dev", sha("things", 1))
    for repo in fake._repos.values():
        for issue in repo.issues.values():
            issue.updated_at = OLD
    return fake


def detailed(fake: FakeGitHub) -> None:
    """acme/widgets#1 with everything Tide looks at."""
    head = sha("widgets", 1)
    pull = fake.pull("acme", "widgets", 1)
    pull.title, pull.body = "Add a widget", "It is shiny."
    pull.head_ref = "feature/shiny"
    pull.milestone = 1
    fake.add_label("acme", "widgets", "lgtm")
    fake.add_label("acme", "widgets", "approved")
    pull.labels = ["lgtm", "approved"]
    fake.add_review("acme", "widgets", 1, "reviewer", "APPROVED")
    fake.set_status("acme", "widgets", head, "ci/unit", "failure", "first try")
    fake.set_status("acme", "widgets", head, "ci/unit", "success", "passed")
    fake.set_status("acme", "widgets", head, "ci/lint", "pending", "running")
    fake.set_status("acme", "widgets", head, "ci/e2e", "error", "broke")
    fake.add_check_run("acme", "widgets", head, "build")
    fake.add_check_run("acme", "widgets", head, "e2e", status="in_progress")
    fake.add_check_run("acme", "widgets", head, "docs", conclusion="neutral")
    fake.add_check_run("acme", "widgets", head, "skipped", conclusion="skipped")
    fake.add_check_run("acme", "widgets", head, "flaky", conclusion="timed_out")
    # A rerun of the same name replaces the earlier run of its suite...
    fake.add_check_run("acme", "widgets", head, "flaky", conclusion="failure")
    # ...and another app's run of the same name counts when it is better.
    fake.add_check_run("acme", "widgets", head, "build", "queued", app="other")
    # Statuses of another commit are not this pull request's.
    fake.set_status("acme", "widgets", sha("widgets", 2), "ci/unit", "failure")


def test_a_full_read_returns_every_open_pull_in_scope_in_three_requests(seeded, gh):
    result = search.fetch(gh, scopes=SCOPES)

    keys = {pull.key for pull in result.pulls}
    expected = {
        f"acme/{name}#{number}"
        for name, count in SIZES.items()
        for number in range(1, count + 1)
    }
    assert keys == expected
    assert len(result.pulls) == 250
    # 100 a page: the first request and two more pages of the one search.
    assert result.requests == 3
    assert seeded.graphql_requests == 3
    assert result.cost == seeded.graphql_cost
    assert all(pull.state == "OPEN" for pull in result.pulls)


def test_pull_fields_are_read_as_github_reports_them(seeded, gh):
    detailed(seeded)
    fake = seeded
    fake.pull("acme", "widgets", 2).mergeable = False
    fake.pull("acme", "widgets", 3).mergeable = None
    fake.pull("acme", "widgets", 4).draft = True
    fake.pull("acme", "widgets", 5).blocked = True
    fake.add_review("acme", "widgets", 6, "a", "APPROVED")
    fake.add_review("acme", "widgets", 6, "b", "CHANGES_REQUESTED")
    fake.add_review("acme", "widgets", 7, "a", "CHANGES_REQUESTED")
    fake.add_review("acme", "widgets", 7, "a", "APPROVED")

    pulls = {pull.key: pull for pull in search.fetch(gh, scopes=SCOPES).pulls}

    pull = pulls["acme/widgets#1"]
    assert (pull.org, pull.repo, pull.number) == ("acme", "widgets", 1)
    assert pull.author == "dev1"
    assert (pull.title, pull.body) == ("Add a widget", "It is shiny.")
    assert (pull.head_ref, pull.head_sha) == ("feature/shiny", sha("widgets", 1))
    assert (pull.base_ref, pull.base_sha) == ("main", sha("widgets", 0))
    assert (pull.mergeable, pull.merge_state_status) == ("MERGEABLE", "CLEAN")
    assert pull.can_be_rebased is True
    assert pull.labels == ("lgtm", "approved")
    assert pull.milestone == "v1.0"
    assert pull.review_decision == "APPROVED"
    assert (pull.state, pull.draft) == ("OPEN", False)
    assert pull.updated_at == OLD
    assert sorted(pull.contexts, key=lambda c: c.name) == [
        Context("build", SUCCESS),
        Context("ci/e2e", "error", "broke"),
        Context("ci/lint", PENDING, "running"),
        Context("ci/unit", SUCCESS, "passed"),
        Context("docs", SUCCESS),
        Context("e2e", PENDING),
        Context("flaky", FAILURE),
        Context("skipped", SUCCESS),
    ]

    assert pulls["acme/widgets#2"].contexts == (Context("ci/unit", FAILURE),)
    assert (
        pulls["acme/widgets#2"].mergeable,
        pulls["acme/widgets#2"].merge_state_status,
    ) == (
        "CONFLICTING",
        "DIRTY",
    )
    assert pulls["acme/widgets#3"].mergeable == "UNKNOWN"
    assert pulls["acme/widgets#3"].merge_state_status == "UNKNOWN"
    assert pulls["acme/widgets#4"].draft is True
    assert pulls["acme/widgets#5"].merge_state_status == "BLOCKED"
    assert pulls["acme/widgets#6"].review_decision == "CHANGES_REQUESTED"
    # Only a reviewer's latest review counts.
    assert pulls["acme/widgets#7"].review_decision == "APPROVED"
    assert pulls["acme/widgets#8"].review_decision == ""
    assert (pulls["acme/widgets#8"].labels, pulls["acme/widgets#8"].milestone) == (
        (),
        "",
    )


def test_branch_tips_and_their_protection_come_with_the_first_request(seeded, gh):
    branches = [
        ("acme", "widgets", "main"),
        ("acme", "widgets", "release-1.0"),
        ("acme", "widgets", "gone"),
        ("acme", "gadgets", "main"),
    ]

    result = search.fetch(gh, scopes=['repo:"acme/tools"'], branches=branches)

    assert result.requests == 1
    assert result.tips == {
        ("acme", "widgets", "main"): BranchTip(
            "acme", "widgets", "main", sha("widgets", 0), ("ci/unit", "build")
        ),
        ("acme", "widgets", "release-1.0"): BranchTip(
            "acme", "widgets", "release-1.0", sha("release", 0), None
        ),
        ("acme", "gadgets", "main"): BranchTip(
            "acme", "gadgets", "main", sha("gadgets", 0), None
        ),
    }
    assert len(result.pulls) == 60


def test_a_protected_branch_requiring_nothing_has_no_contexts(seeded, gh):
    seeded.add_branch("acme", "tools", "stable", sha("stable", 0), protected=True)

    result = search.fetch(gh, scopes=[], branches=[("acme", "tools", "stable")])

    assert result.tips[("acme", "tools", "stable")].protected_contexts == ()
    assert (result.requests, result.pulls) == (1, [])


def test_blockers_name_their_branches(seeded, gh):
    seeded.add_issue(
        "acme",
        "widgets",
        500,
        title="Freeze branch:release-1.0 and Branch: main",
        labels=["merge-blocker"],
    )
    seeded.add_issue(
        "acme", "gadgets", 500, title="Everything is on fire", labels=["merge-blocker"]
    )
    seeded.add_issue("acme", "tools", 500, title="branch:main", labels=["bug"])
    seeded.add_issue("acme", "tools", 501, labels=["merge-blocker"], state="closed")
    seeded.add_issue("outsider", "things", 500, labels=["merge-blocker"])

    result = search.fetch(gh, scopes=SCOPES, blocker_label="merge-blocker")

    assert sorted(result.blockers, key=lambda b: b.repo) == [
        Blocker(
            "acme",
            "gadgets",
            500,
            "Everything is on fire",
            "https://github.com/acme/gadgets/issues/500",
            (),
        ),
        Blocker(
            "acme",
            "widgets",
            500,
            "Freeze branch:release-1.0 and Branch: main",
            "https://github.com/acme/widgets/issues/500",
            ("release-1.0", "main"),
        ),
    ]
    # The blocker search rides along with the first page of pulls.
    assert result.requests == 3
    assert len(result.pulls) == 250


def test_an_incremental_read_with_nothing_new_is_one_request(seeded, gh):
    seeded.clear_requests()

    result = search.fetch(
        gh,
        scopes=SCOPES,
        since=SINCE,
        branches=[("acme", "widgets", "main")],
        blocker_label="merge-blocker",
    )

    assert result.pulls == []
    assert result.requests == 1
    assert len(seeded.requests("POST", "/graphql")) == 1
    assert list(result.tips) == [("acme", "widgets", "main")]
    (request,) = seeded.requests("POST", "/graphql")
    assert "updated:>=2024-06-01T00:00:00Z" in request.body["variables"]["pulls0Query"]


def test_an_incremental_read_sees_pulls_closed_or_merged_since(seeded, gh):
    gh.close("acme", "widgets", 10)
    gh.merge("acme", "gadgets", 20, sha=sha("gadgets", 20), method="squash")
    seeded.add_label("acme", "tools", "lgtm")
    gh.add_labels("acme", "tools", 30, "lgtm")

    result = search.fetch(gh, scopes=SCOPES, since=SINCE)

    states = {pull.key: pull.state for pull in result.pulls}
    assert states == {
        "acme/widgets#10": "CLOSED",
        "acme/gadgets#20": "MERGED",
        "acme/tools#30": "OPEN",
    }
    assert result.requests == 1
    # A full read no longer holds the closed and merged ones.
    full = {pull.key for pull in search.fetch(gh, scopes=SCOPES).pulls}
    assert "acme/widgets#10" not in full and "acme/gadgets#20" not in full
    assert "acme/tools#30" in full


def test_untrusted_strings_travel_as_variables(seeded, gh):
    branch = 'x"){a}}#\\ b'
    seeded.add_branch("acme", "widgets", branch, sha("odd", 0))
    label = 'block "me" {now}'
    seeded.add_issue("acme", "widgets", 600, title="t", labels=["block me {now}"])
    seeded.clear_requests()

    result = search.fetch(
        gh,
        scopes=['repo:"acme/widgets"'],
        since=SINCE,
        branches=[("acme", "widgets", branch)],
        blocker_label=label,
    )

    tip = result.tips[("acme", "widgets", branch)]
    assert tip.sha == sha("odd", 0)
    # The quotes a search cannot escape are dropped, the rest kept.
    assert [blocker.number for blocker in result.blockers] == [600]
    (request,) = seeded.requests("POST", "/graphql")
    document = request.body["query"]
    for text in (branch, "acme", "widgets", "{now}", "updated:", "is:pr"):
        assert text not in document
    assert f"refs/heads/{branch}" in request.body["variables"].values()


def test_many_scopes_are_chunked_into_searches_of_one_document(fake_github, gh):
    names = [f"repository-with-a-long-name-{n:02d}" for n in range(40)]
    for name in names:
        fake_github.add_repo("acme", name)
        fake_github.add_pull("acme", name, 1, "dev", sha(name, 1))
        fake_github.add_pull("acme", name, 2, "dev", sha(name, 2), state="closed")
    scopes = [f'repo:"acme/{name}"' for name in names]
    fake_github.clear_requests()

    result = search.fetch(gh, scopes=scopes, blocker_label="merge-blocker")

    assert {pull.key for pull in result.pulls} == {f"acme/{n}#1" for n in names}
    assert result.requests == 1
    (request,) = fake_github.requests("POST", "/graphql")
    queries = [
        value
        for key, value in request.body["variables"].items()
        if key.endswith("Query")
    ]
    pulls = [q for q in queries if q.startswith("is:pr")]
    blockers = [q for q in queries if q.startswith("is:issue")]
    assert len(pulls) > 1 and len(blockers) > 1
    assert all(len(query) <= search.MAX_QUERY_LENGTH for query in queries)
    # Every scope is in exactly one search of each kind.
    for kind in (pulls, blockers):
        found = [term for query in kind for term in re.findall(r'repo:"[^"]+"', query)]
        assert sorted(found) == sorted(scopes)


def test_a_search_past_githubs_length_limit_is_refused(fake_github, gh):
    fake_github.add_repo("acme", "widgets")
    scope = 'repo:"acme/' + "w" * 300 + '"'

    with pytest.raises(GitHubError, match="longer than 256 characters"):
        search.fetch(gh, scopes=[scope])


def test_only_searches_with_more_pages_are_asked_again(fake_github, gh):
    fake_github.add_repo("acme", "big")
    fake_github.add_repo("acme", "small")
    for number in range(1, 151):
        fake_github.add_pull("acme", "big", number, "dev", sha("big", number))
    fake_github.add_pull("acme", "small", 1, "dev", sha("small", 1))
    long_names = ['repo:"acme/big"'] + [f'repo:"acme/{"x" * 60}{n}"' for n in range(4)]
    fake_github.clear_requests()

    result = search.fetch(
        gh,
        scopes=[*long_names, 'repo:"acme/small"'],
        branches=[("acme", "big", "main")],
    )

    assert len(result.pulls) == 151
    first, second = fake_github.requests("POST", "/graphql")
    assert first.body["query"].count("search(") == 2
    assert second.body["query"].count("search(") == 1
    assert "repository(" not in second.body["query"]
    assert "rateLimit" in second.body["query"]


def test_the_cost_is_what_github_would_charge(seeded, gh):
    result = search.fetch(gh, scopes=['repo:"acme/widgets"'])

    # Per page: the search, then labels, commits and rollup contexts of up
    # to 100 pull requests each: (1 + 3 * 100) / 100, rounded.
    assert (result.requests, result.cost) == (1, 3)
    assert seeded.graphql_remaining == 5000 - 3


def test_github_errors_propagate(seeded, gh):
    limited = [{"type": "RATE_LIMITED", "message": "slow down"}]
    seeded.fail_graphql("search", status=200, errors=limited)

    with pytest.raises(GitHubTransientError, match="slow down"):
        search.fetch(gh, scopes=SCOPES)

    seeded.fail_graphql("search", status=502)
    with pytest.raises(GitHubError):
        search.fetch(gh, scopes=SCOPES)


def test_nothing_to_read_asks_nothing(fake_github, gh):
    result = search.fetch(gh, scopes=[])

    assert (result.requests, result.pulls, result.tips) == (0, [], {})
    assert fake_github.requests("POST", "/graphql") == []
