"""Drive FakeGitHub through the real PyGithub client over HTTP."""

import re
import time

import pytest
import requests
from github import Auth, Github, GithubException, GithubIntegration, GithubRetry
from github.GithubException import RateLimitExceededException, UnknownObjectException

from tests.fakes.github import SECONDARY_RATE_LIMIT_MESSAGE, FakeGitHub

HEAD = "a" * 40
OTHER = "b" * 40


@pytest.fixture
def fake():
    with FakeGitHub() as server:
        server.add_repo("org", "repo")
        yield server


def make_client(fake: FakeGitHub, **options) -> Github:
    # No client-side throttling: the fake answers instantly.
    options.setdefault("retry", None)
    return Github(
        base_url=fake.url,
        auth=Auth.Token("t0k3n"),
        seconds_between_requests=None,
        seconds_between_writes=None,
        **options,
    )


@pytest.fixture
def gh(fake):
    client = make_client(fake)
    yield client
    client.close()


def api(fake: FakeGitHub, path: str, method: str = "GET", **kwargs):
    headers = {"Authorization": "token t0k3n", **kwargs.pop("headers", {})}
    return requests.request(method, fake.url + path, headers=headers, **kwargs)


def test_repo_and_authenticated_user(fake, gh):
    fake.add_repo("org", "secret", default_branch="trunk", private=True)
    fake.set_authenticated_user("k8s-ci-robot")

    repo = gh.get_repo("org/secret")

    assert (repo.full_name, repo.default_branch, repo.private) == (
        "org/secret",
        "trunk",
        True,
    )
    assert repo.owner.login == "org"
    assert gh.get_user().login == "k8s-ci-robot"
    with pytest.raises(UnknownObjectException):
        gh.get_repo("org/missing")


def test_branches_and_refs(fake, gh):
    fake.add_branch("org", "repo", "release-1.0", OTHER, protected=True)
    repo = gh.get_repo("org/repo")

    branch = repo.get_branch("release-1.0")

    assert (branch.commit.sha, branch.protected) == (OTHER, True)
    assert repo.get_git_ref("heads/release-1.0").object.sha == OTHER
    assert {b.name for b in repo.get_branches()} == {"main", "release-1.0"}


def test_pull_request_fields(fake, gh):
    fake.add_pull(
        "org", "repo", 7, "alice", HEAD, title="Fix it", labels=["lgtm"], draft=True
    )

    pull = gh.get_repo("org/repo").get_pull(7)

    assert (pull.number, pull.title, pull.user.login) == (7, "Fix it", "alice")
    assert (pull.head.sha, pull.base.ref) == (HEAD, "main")
    assert pull.base.sha == fake.repo("org", "repo").branches["main"]
    assert [label.name for label in pull.labels] == ["lgtm"]
    assert pull.draft is True
    assert pull.mergeable_state == "draft"


def test_pull_files_are_walked_across_pages(fake):
    files = [{"filename": f"pkg/file{i}.go"} for i in range(250)]
    fake.add_pull("org", "repo", 1, "alice", HEAD, files=files)
    client = make_client(fake, per_page=100)

    names = [f.filename for f in client.get_repo("org/repo").get_pull(1).get_files()]

    assert names == [item["filename"] for item in files]
    pages = fake.requests("GET", "/repos/org/repo/pulls/1/files")
    assert [request.query.get("page", "1") for request in pages] == ["1", "2", "3"]


def test_paginated_list_total_count_uses_last_link(fake, gh):
    files = [{"filename": f"f{i}", "status": "added"} for i in range(45)]
    fake.add_pull("org", "repo", 1, "alice", HEAD, files=files)

    listed = gh.get_repo("org/repo").get_pull(1).get_files()

    assert listed.totalCount == 45
    assert listed[44].status == "added"


def test_link_header_is_well_formed(fake):
    fake.add_pull("org", "repo", 1, "alice", HEAD, files=[{"filename": "x"}] * 5)

    response = api(fake, "/repos/org/repo/pulls/1/files?per_page=2&page=2")

    assert len(response.json()) == 2
    assert response.links["next"]["url"].endswith("per_page=2&page=3")
    assert response.links["prev"]["url"].endswith("per_page=2&page=1")
    assert response.links["last"]["url"].endswith("page=3")


def test_list_pulls_filters_by_state_and_base(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.add_pull("org", "repo", 2, "bob", OTHER, base_ref="release")
    fake.add_pull("org", "repo", 3, "carol", OTHER, state="closed")
    repo = gh.get_repo("org/repo")

    assert [p.number for p in repo.get_pulls()] == [2, 1]
    assert [p.number for p in repo.get_pulls(base="release")] == [2]
    assert [p.number for p in repo.get_pulls(state="all")] == [3, 2, 1]


def test_labels_add_and_remove_including_slash(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD, labels=["lgtm"])
    pull = gh.get_repo("org/repo").get_pull(1)

    pull.add_to_labels("approved", "do-not-merge/hold")
    assert fake.issue("org", "repo", 1).labels == [
        "lgtm",
        "approved",
        "do-not-merge/hold",
    ]

    pull.remove_from_labels("do-not-merge/hold")
    assert fake.issue("org", "repo", 1).labels == ["lgtm", "approved"]
    assert "do-not-merge/hold" in {label.name for label in pull.base.repo.get_labels()}

    with pytest.raises(GithubException) as raised:
        pull.remove_from_labels("do-not-merge/hold")
    assert (raised.value.status, raised.value.message) == (404, "Label does not exist")


def test_label_removal_accepts_percent_encoded_name(fake):
    fake.add_issue("org", "repo", 4, labels=["do-not-merge/hold", "lgtm"])

    response = api(
        fake, "/repos/org/repo/issues/4/labels/do-not-merge%2Fhold", "DELETE"
    )

    assert response.status_code == 200
    assert [label["name"] for label in response.json()] == ["lgtm"]
    assert fake.issue("org", "repo", 4).labels == ["lgtm"]


def test_add_labels_accepts_object_body_and_set_labels_replaces(fake, gh):
    fake.add_issue("org", "repo", 2, labels=["old"])

    response = api(
        fake, "/repos/org/repo/issues/2/labels", "POST", json={"labels": ["kind/bug"]}
    )
    assert [label["name"] for label in response.json()] == ["old", "kind/bug"]

    gh.get_repo("org/repo").get_issue(2).set_labels("size/S")
    assert fake.issue("org", "repo", 2).labels == ["size/S"]


def test_create_label_conflict_is_validation_error(fake, gh):
    repo = gh.get_repo("org/repo")
    repo.create_label("lgtm", "15dd18")

    with pytest.raises(GithubException) as raised:
        repo.create_label("LGTM", "000000")

    assert raised.value.status == 422
    assert repo.get_label("lgtm").color == "15dd18"


def test_comments_create_edit_delete(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.add_comment("org", "repo", 1, "alice", "/lgtm")
    pull = gh.get_repo("org/repo").get_pull(1)

    created = pull.create_issue_comment("Thanks!")
    assert (created.user.login, created.body) == ("bot", "Thanks!")

    created.edit("Thanks, merging.")
    stored = [c.body for c in fake.comments("org", "repo", 1)]
    assert stored == ["/lgtm", "Thanks, merging."]
    fetched = pull.get_issue_comment(created.id)
    assert fetched.body == "Thanks, merging."

    created.delete()
    assert [c.body for c in pull.get_issue_comments()] == ["/lgtm"]
    with pytest.raises(UnknownObjectException):
        pull.get_issue_comment(created.id)


def test_comment_author_association(fake, gh):
    fake.add_org_member("org", "member")
    fake.add_collaborator("org", "repo", "helper")
    fake.add_issue("org", "repo", 1)
    for author in ("member", "helper", "stranger"):
        fake.add_comment("org", "repo", 1, author, "hi")

    comments = gh.get_repo("org/repo").get_issue(1).get_comments()

    associations = [c.raw_data["author_association"] for c in comments]
    assert associations == ["MEMBER", "COLLABORATOR", "NONE"]


def test_reactions_on_comment_and_issue(fake, gh):
    fake.add_issue("org", "repo", 1)
    comment = fake.add_comment("org", "repo", 1, "alice", "/retest")
    issue = gh.get_repo("org/repo").get_issue(1)

    issue.get_comment(comment.id).create_reaction("eyes")
    issue.create_reaction("+1")

    assert [r.content for r in comment.reactions] == ["eyes"]
    assert [r.content for r in fake.issue("org", "repo", 1).reactions] == ["+1"]
    with pytest.raises(GithubException) as raised:
        issue.create_reaction("thumbs")
    assert raised.value.status == 422


def test_statuses_and_combined_status(fake, gh):
    commit = gh.get_repo("org/repo").get_commit(HEAD)

    commit.create_status("pending", context="ci/unit", description="running")
    commit.create_status("success", context="ci/lint")
    assert commit.get_combined_status().state == "pending"

    commit.create_status("success", context="ci/unit", target_url="https://ci/1")
    combined = commit.get_combined_status()
    assert combined.state == "success"
    latest = {s.context: (s.state, s.target_url) for s in combined.statuses}
    assert latest == {
        "ci/unit": ("success", "https://ci/1"),
        "ci/lint": ("success", None),
    }

    fake.set_status("org", "repo", HEAD, "tide", "failure", creator="tide-bot")
    assert commit.get_combined_status().state == "failure"
    assert commit.get_statuses().totalCount == 4
    assert [s.context for s in commit.get_statuses()][0] == "tide"


def test_combined_status_by_branch_name(fake, gh):
    sha = fake.repo("org", "repo").branches["main"]
    fake.set_status("org", "repo", sha, "ci", "success")

    combined = gh.get_repo("org/repo").get_commit("main").get_combined_status()

    assert (combined.sha, combined.state, combined.total_count) == (sha, "success", 1)


def test_invalid_status_state_is_rejected(fake, gh):
    commit = gh.get_repo("org/repo").get_commit(HEAD)

    with pytest.raises(GithubException) as raised:
        commit.create_status("green", context="ci")

    assert raised.value.status == 422
    assert fake.statuses("org", "repo", HEAD) == []


def test_membership_checks(fake, gh):
    fake.add_org_member("org", "alice")
    fake.add_user("mallory")
    fake.add_collaborator("org", "repo", "bob", permission="triage")
    fake.add_team("org", "approvers", members=["carol"], repos=["repo"])
    org = gh.get_organization("org")
    repo = gh.get_repo("org/repo")

    assert org.has_in_members(gh.get_user("alice")) is True
    assert org.has_in_members(gh.get_user("mallory")) is False
    assert repo.has_in_collaborators("bob") is True
    assert repo.has_in_collaborators("carol") is True
    assert repo.has_in_collaborators("mallory") is False
    assert repo.get_collaborator_permission("bob") == "read"
    assert repo.get_collaborator_permission("carol") == "write"
    # Anyone may read a public repo, and the permission endpoint says so.
    assert repo.get_collaborator_permission("mallory") == "read"
    fake.add_repo("org", "private", private=True)
    private = gh.get_repo("org/private")
    assert private.get_collaborator_permission("mallory") == "none"


def test_teams_by_slug_and_id(fake, gh):
    fake.add_team("org", "reviewers", id=42, members=["alice", "bob"])
    org = gh.get_organization("org")

    team = org.get_team_by_slug("reviewers")

    assert team.id == 42
    assert [m.login for m in team.get_members()] == ["alice", "bob"]
    assert team.has_in_members(gh.get_user("bob")) is True
    assert [m.login for m in org.get_team(42).get_members()] == ["alice", "bob"]
    assert [t.slug for t in org.get_teams()] == ["reviewers"]
    membership = api(fake, "/orgs/org/teams/reviewers/memberships/alice")
    assert membership.json()["state"] == "active"
    assert api(fake, "/orgs/org/teams/reviewers/memberships/eve").status_code == 404


def test_owners_file_contents(fake, gh):
    owners = "approvers:\n- alice\nreviewers:\n- bob\n"
    fake.set_file("org", "repo", "OWNERS", owners)
    fake.set_file("org", "repo", "pkg/api/OWNERS", "approvers:\n- carol\n")
    fake.set_file("org", "repo", "OWNERS", "approvers: [dave]\n", ref="feature")
    repo = gh.get_repo("org/repo")

    assert repo.get_contents("OWNERS").decoded_content.decode() == owners
    sha = fake.repo("org", "repo").branches["main"]
    assert repo.get_contents("OWNERS", ref=sha).decoded_content.decode() == owners
    feature = repo.get_contents("OWNERS", ref="feature").decoded_content
    assert feature == b"approvers: [dave]\n"
    listing = repo.get_contents("pkg")
    assert [(entry.path, entry.type) for entry in listing] == [("pkg/api", "dir")]
    with pytest.raises(UnknownObjectException):
        repo.get_contents("docs/OWNERS")


def test_merge_succeeds_and_moves_base_branch(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    pull = gh.get_repo("org/repo").get_pull(1)

    status = pull.merge(merge_method="squash", sha=HEAD, commit_title="Fix (#1)")

    assert status.merged is True
    stored = fake.pull("org", "repo", 1)
    assert (stored.merged, stored.state, stored.merge_method) == (
        True,
        "closed",
        "squash",
    )
    assert fake.repo("org", "repo").branches["main"] == status.sha
    refreshed = gh.get_repo("org/repo").get_pull(1)
    assert refreshed.merged and refreshed.merged_by.login == "bot"


def test_merge_with_stale_sha_is_conflict(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    pull = gh.get_repo("org/repo").get_pull(1)

    with pytest.raises(GithubException) as raised:
        pull.merge(merge_method="merge", sha=OTHER)

    assert raised.value.status == 409
    assert "Head branch was modified" in raised.value.data["message"]
    assert fake.pull("org", "repo", 1).merged is False


def test_merge_of_unmergeable_pull_is_refused(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD, mergeable=False)

    with pytest.raises(GithubException) as raised:
        gh.get_repo("org/repo").get_pull(1).merge()

    assert raised.value.status == 405
    assert fake.pull("org", "repo", 1).state == "open"


def test_search_for_merge_candidates(fake, gh):
    fake.add_repo("org", "other")
    fake.add_repo("elsewhere", "repo")
    fake.add_pull("org", "repo", 1, "alice", HEAD, labels=["lgtm", "approved"])
    fake.add_pull("org", "repo", 2, "bob", HEAD, labels=["lgtm", "do-not-merge/hold"])
    fake.add_pull("org", "repo", 3, "carol", HEAD, labels=["lgtm"], state="closed")
    fake.add_pull("org", "repo", 4, "dave", HEAD, labels=["lgtm"], base_ref="dev")
    fake.add_issue("org", "repo", 5, labels=["lgtm"])
    fake.add_pull("org", "other", 1, "erin", HEAD, labels=["lgtm"])
    fake.add_pull("elsewhere", "repo", 1, "frank", HEAD, labels=["lgtm"])

    query = (
        'is:pr state:open archived:false repo:"org/repo" repo:"org/other" '
        'label:"lgtm" -label:"do-not-merge/hold"'
    )
    hits = {(i.repository.full_name, i.number) for i in gh.search_issues(query)}
    assert hits == {("org/repo", 1), ("org/repo", 4), ("org/other", 1)}

    by_base = gh.search_issues("is:pr org:org base:dev")
    assert [i.number for i in by_base] == [4]
    by_author = gh.search_issues("author:frank")
    assert [i.user.login for i in by_author] == ["frank"]


def test_search_paginates_and_reports_total(fake, gh):
    for number in range(1, 36):
        fake.add_issue("org", "repo", number, labels=["triage"])

    results = gh.search_issues("is:issue label:triage")

    assert results.totalCount == 35
    assert sorted(issue.number for issue in results) == list(range(1, 36))
    pages = [r.query.get("page") for r in fake.requests("GET", "/search/issues")]
    assert "2" in pages and "3" not in pages


def test_unsupported_search_qualifier_is_rejected(fake, gh):
    with pytest.raises(GithubException) as raised:
        list(gh.search_issues("is:pr reactions:>5"))
    assert raised.value.status == 422


def test_issue_create_edit_and_milestone(fake, gh):
    fake.add_collaborator("org", "repo", "alice")
    milestone = fake.add_milestone("org", "repo", "v1.30")
    repo = gh.get_repo("org/repo")

    issue = repo.create_issue("Flaky test", body="It flakes", labels=["kind/flake"])
    issue.edit(
        state="closed", milestone=repo.get_milestone(milestone.number), assignees=[]
    )

    stored = fake.issue("org", "repo", issue.number)
    assert (stored.author, stored.state, stored.labels) == (
        "bot",
        "closed",
        ["kind/flake"],
    )
    assert stored.milestone == milestone.number
    assert [i.number for i in repo.get_issues(state="closed")] == [issue.number]
    assert [m.title for m in repo.get_milestones()] == ["v1.30"]


def test_assignees_drop_users_without_access(fake, gh):
    fake.add_org_member("org", "alice")
    fake.add_user("stranger")
    fake.add_issue("org", "repo", 1)
    issue = gh.get_repo("org/repo").get_issue(1)

    issue.add_to_assignees("alice", "stranger")
    assert fake.issue("org", "repo", 1).assignees == ["alice"]

    issue.remove_from_assignees("alice")
    assert fake.issue("org", "repo", 1).assignees == []


def test_requested_reviewers_and_reviews(fake, gh):
    fake.add_collaborator("org", "repo", "bob")
    fake.add_team("org", "sig-node")
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.add_review("org", "repo", 1, "bob", state="APPROVED")
    pull = gh.get_repo("org/repo").get_pull(1)

    pull.create_review_request(reviewers=["bob"], team_reviewers=["sig-node"])
    users, teams = pull.get_review_requests()
    assert ([u.login for u in users], [t.slug for t in teams]) == (
        ["bob"],
        ["sig-node"],
    )

    pull.delete_review_request(reviewers=["bob"])
    assert fake.pull("org", "repo", 1).requested_reviewers == []
    with pytest.raises(GithubException) as raised:
        pull.create_review_request(reviewers=["alice"])
    assert raised.value.status == 422
    reviews = [(r.user.login, r.state, r.commit_id) for r in pull.get_reviews()]
    assert reviews == [("bob", "APPROVED", HEAD)]


def test_pull_commits(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD, commits=[OTHER, HEAD])

    commits = gh.get_repo("org/repo").get_pull(1).get_commits()

    assert [c.sha for c in commits] == [OTHER, HEAD]


def test_etag_304_does_not_spend_rate_limit(fake):
    first = api(fake, "/repos/org/repo")
    etag = first.headers["ETag"]
    remaining = int(first.headers["X-RateLimit-Remaining"])

    cached = api(fake, "/repos/org/repo", headers={"If-None-Match": etag})

    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["ETag"] == etag
    assert int(cached.headers["X-RateLimit-Remaining"]) == remaining
    fresh = api(fake, "/repos/org/repo")
    assert int(fresh.headers["X-RateLimit-Remaining"]) == remaining - 1
    assert fake.rate_limit_remaining == remaining - 1


def test_etag_changes_when_resource_changes(fake):
    fake.add_issue("org", "repo", 1)
    etag = api(fake, "/repos/org/repo/issues/1").headers["ETag"]
    weak = api(fake, "/repos/org/repo/issues/1", headers={"If-None-Match": f"W/{etag}"})
    assert weak.status_code == 304

    fake.add_comment("org", "repo", 1, "alice", "changed")
    response = api(fake, "/repos/org/repo/issues/1", headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert response.headers["ETag"] != etag
    assert response.json()["comments"] == 1


def test_rate_limit_headers_and_endpoint(fake, gh):
    response = api(fake, "/repos/org/repo")
    assert response.headers["X-RateLimit-Limit"] == "5000"
    assert int(response.headers["X-RateLimit-Reset"]) > 0

    overview = gh.get_rate_limit()

    assert overview.resources.core.limit == 5000
    assert overview.resources.core.remaining == fake.rate_limit_remaining


def test_injected_500_then_success_without_retries(fake, gh):
    fake.fail_next("GET", r"^/repos/org/repo$", status=500)

    with pytest.raises(GithubException) as raised:
        gh.get_repo("org/repo")
    assert raised.value.status == 500

    assert gh.get_repo("org/repo").name == "repo"
    statuses = [r.status for r in fake.requests("GET", "/repos/org/repo")]
    assert statuses == [500, 200]


def test_injected_502_is_retried_by_pygithub(fake):
    fake.fail_next("GET", r"/repos/org/repo$", status=502, times=2)
    client = make_client(fake, retry=GithubRetry(total=3))

    assert client.get_repo("org/repo").name == "repo"

    statuses = [r.status for r in fake.requests("GET", "/repos/org/repo")]
    assert statuses == [502, 502, 200]


def test_injected_fault_with_custom_body_and_headers(fake, gh):
    fake.add_issue("org", "repo", 1)
    fake.fail_next(
        "POST",
        r"/comments$",
        status=404,
        headers={"X-Custom": "yes"},
        body={"message": "Not Found", "documentation_url": "x"},
    )
    issue = gh.get_repo("org/repo").get_issue(1)

    with pytest.raises(UnknownObjectException) as raised:
        issue.create_comment("hello")

    assert raised.value.headers["x-custom"] == "yes"
    assert fake.comments("org", "repo", 1) == []
    issue.create_comment("hello")
    assert [c.body for c in fake.comments("org", "repo", 1)] == ["hello"]


def test_secondary_rate_limit(fake, gh):
    fake.rate_limit_next(retry_after=7, secondary=True)

    with pytest.raises(RateLimitExceededException) as raised:
        gh.get_repo("org/repo")

    assert raised.value.status == 403
    assert raised.value.headers["retry-after"] == "7"
    assert raised.value.data["message"] == SECONDARY_RATE_LIMIT_MESSAGE
    assert gh.get_repo("org/repo").name == "repo"


def test_secondary_rate_limit_is_retried_after_waiting(fake):
    fake.rate_limit_next(retry_after=0, secondary=True)
    client = make_client(fake, retry=GithubRetry(total=2, secondary_rate_wait=0))

    assert client.get_repo("org/repo").name == "repo"

    assert [r.status for r in fake.requests()] == [403, 200]


def test_primary_rate_limit(fake, gh):
    fake.rate_limit_next(retry_after=60, secondary=False)

    with pytest.raises(RateLimitExceededException) as raised:
        gh.get_repo("org/repo")

    headers = raised.value.headers
    assert headers["x-ratelimit-remaining"] == "0"
    assert int(headers["x-ratelimit-reset"]) >= time.time() + 58
    assert raised.value.data["message"].startswith("API rate limit exceeded")


def test_429_rate_limit(fake):
    fake.rate_limit_next(status=429, retry_after=3)

    response = api(fake, "/repos/org/repo")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert api(fake, "/repos/org/repo").status_code == 200


def test_missing_authorization_is_rejected(fake):
    response = requests.get(f"{fake.url}/repos/org/repo")

    assert response.status_code == 401
    assert response.json()["message"] == "Requires authentication"
    assert api(fake, "/repos/org/repo", headers={"Authorization": "Bearer x"}).ok


def test_auth_can_be_optional():
    with FakeGitHub(require_auth=False) as fake:
        fake.add_repo("org", "repo")

        response = requests.get(f"{fake.url}/repos/org/repo")

    assert response.status_code == 200
    assert "authorization" not in fake.requests()[0].headers


def test_unknown_route_is_github_shaped_404(fake):
    response = api(fake, "/repos/org/repo/nonsense/1")

    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"
    assert response.json()["documentation_url"].startswith("https://docs.github.com")
    assert fake.requests(path="/repos/org/repo/nonsense/1")[0].status == 404


def test_malformed_json_is_bad_request(fake):
    fake.add_issue("org", "repo", 1)

    response = api(fake, "/repos/org/repo/issues/1", "PATCH", data=b"{not json")

    assert response.status_code == 400
    assert response.json()["message"] == "Problems parsing JSON"


def test_request_recording(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    pull = gh.get_repo("org/repo").get_pull(1)
    fake.clear_requests()

    pull.create_issue_comment("/meow")
    list(pull.get_files())

    posts = fake.requests("post")
    assert len(posts) == 1
    assert posts[0].path == "/repos/org/repo/issues/1/comments"
    assert posts[0].body == {"body": "/meow"}
    assert posts[0].headers["authorization"] == "token t0k3n"
    assert posts[0].status == 201
    gets = fake.requests("GET", re.compile(r"/pulls/1/files$"))
    assert [g.method for g in gets] == ["GET"]
    assert len(fake.requests()) == 2

    fake.clear_requests()
    assert fake.requests() == []


def test_request_query_is_recorded(fake):
    api(fake, "/repos/org/repo/pulls?state=closed&base=main")

    (request,) = fake.requests(path="/repos/org/repo/pulls")

    assert request.query == {"state": "closed", "base": "main"}
    assert request.raw_path == "/repos/org/repo/pulls"


def test_server_stops_listening():
    fake = FakeGitHub().start()
    url = fake.url
    fake.stop()

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/rate_limit", timeout=1)


# ------------------------------------------------------------ GitHub App auth


def integration(fake, private_key, app_id=77):
    return GithubIntegration(
        auth=Auth.AppAuth(app_id, private_key),
        base_url=fake.url,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def test_app_finds_installation_and_mints_tokens(fake, rsa_key_pair):
    private, public = rsa_key_pair
    fake.set_app(77, slug="prow-app", public_key=public)
    installation = fake.add_installation("org")
    app = integration(fake, private)

    assert app.get_app().slug == "prow-app"
    assert app.get_org_installation("org").id == installation.id
    assert app.get_repo_installation("org", "repo").id == installation.id
    first = app.get_access_token(installation.id)
    second = app.get_access_token(installation.id)

    assert first.token.startswith("ghs_")
    assert first.token != second.token
    assert 3500 < first.expires_at.timestamp() - time.time() <= 3600
    issued = fake.installation_tokens(installation.id)
    assert [t.token for t in issued] == [first.token, second.token]
    assert issued[0].jwt_claims["iss"] == "77"
    mint = fake.requests("POST", f"/app/installations/{installation.id}/access_tokens")
    assert mint[0].headers["authorization"].startswith("Bearer ey")


def test_installation_token_acts_as_the_app_bot_in_its_org(fake, rsa_key_pair):
    private, public = rsa_key_pair
    fake.set_app(77, slug="prow-app", public_key=public)
    installation = fake.add_installation("org")
    fake.add_repo("elsewhere", "repo")
    fake.add_issue("org", "repo", 1)
    token = integration(fake, private).get_access_token(installation.id).token
    gh = Github(
        base_url=fake.url,
        auth=Auth.Token(token),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )

    gh.get_repo("org/repo").get_issue(1).create_comment("hi")

    assert fake.comments("org", "repo", 1)[0].author == "prow-app[bot]"
    post = fake.requests("POST")[-1]
    assert (post.installation, post.headers["authorization"]) == (
        installation.id,
        f"token {token}",
    )
    # Who the fake's token acts as is untouched for other callers.
    assert fake.authenticated_user == "bot"
    with pytest.raises(GithubException) as raised:
        _ = gh.get_user().login
    assert raised.value.status == 403
    with pytest.raises(UnknownObjectException):
        gh.get_repo("elsewhere/repo")


def test_expired_or_unknown_installation_token_is_rejected(fake, rsa_key_pair):
    private, public = rsa_key_pair
    fake.set_app(77, public_key=public)
    installation = fake.add_installation("org")
    token = integration(fake, private).get_access_token(installation.id).token

    assert api(fake, "/repos/org/repo", headers={"Authorization": f"token {token}"}).ok
    fake.expire_installation_tokens()

    for candidate in (token, "ghs_unknown"):
        headers = {"Authorization": f"token {candidate}"}
        response = api(fake, "/repos/org/repo", headers=headers)
        assert response.status_code == 401
        assert response.json()["message"] == "Bad credentials"


def test_short_lived_installation_tokens(fake, rsa_key_pair):
    private, _ = rsa_key_pair
    fake.set_app(77)
    fake.installation_token_ttl = 30
    installation = fake.add_installation("org")

    issued = integration(fake, private).get_access_token(installation.id)

    assert issued.expires_at.timestamp() - time.time() <= 30


def test_app_endpoints_need_a_valid_jwt(fake, rsa_key_pair):
    private, public = rsa_key_pair
    fake.set_app(77, public_key=public)
    fake.add_installation("org")
    other_key = make_other_key()

    with pytest.raises(GithubException) as wrong_app:
        integration(fake, private, app_id=78).get_org_installation("org")
    with pytest.raises(GithubException) as wrong_key:
        integration(fake, other_key).get_org_installation("org")
    plain_token = api(fake, "/orgs/org/installation")
    with pytest.raises(UnknownObjectException):
        integration(fake, private).get_org_installation("not-installed")

    assert wrong_app.value.status == 401
    assert "issuer 78" in wrong_app.value.data["message"]
    assert wrong_key.value.status == 401
    assert plain_token.status_code == 401
    # A JWT opens only the App's own endpoints.
    jwt_token = Auth.AppAuth(77, private).token
    response = api(
        fake, "/repos/org/repo", headers={"Authorization": f"Bearer {jwt_token}"}
    )
    assert response.status_code == 403


def make_other_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_review_comments_listed_read_and_reacted_to(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    seeded = fake.add_review_comment(
        "org", "repo", 1, "bob", "/lgtm cancel", path="main.go", line=7
    )
    pull = gh.get_repo("org/repo").get_pull(1)

    [listed] = pull.get_review_comments()
    comment = pull.get_review_comment(seeded.id)
    comment.create_reaction("eyes")

    assert (listed.id, listed.user.login, listed.body) == (
        seeded.id,
        "bob",
        "/lgtm cancel",
    )
    assert (comment.path, comment.line, comment.commit_id) == ("main.go", 7, HEAD)
    assert [r.content for r in seeded.reactions] == ["eyes"]
    assert fake.review_comments("org", "repo", 1) == [seeded]
    # Review comments are not issue comments: their ids are not found there.
    response = api(
        fake,
        f"/repos/org/repo/issues/comments/{seeded.id}/reactions",
        method="POST",
        json={"content": "+1"},
    )
    assert response.status_code == 404


def test_branch_deletion(fake, gh):
    fake.add_branch("org", "repo", "feature/x", OTHER)
    fake.add_branch("org", "repo", "release-1.0", OTHER, protected=True)
    repo = gh.get_repo("org/repo")

    repo.get_git_ref("heads/feature/x").delete()

    assert "feature/x" not in fake.repo("org", "repo").branches
    for branch, message in [
        ("feature/x", "Reference does not exist"),
        ("release-1.0", "Cannot delete this protected branch"),
        ("main", "Cannot delete the default branch"),
    ]:
        response = api(fake, f"/repos/org/repo/git/refs/heads/{branch}", "DELETE")
        assert (response.status_code, response.json()["message"]) == (422, message)
    assert set(fake.repo("org", "repo").branches) == {"main", "release-1.0"}


def test_combined_status_pages_its_statuses(fake):
    for i in range(35):
        fake.set_status("org", "repo", HEAD, f"ctx-{i:02}", "success")
    fake.set_status("org", "repo", HEAD, "ctx-34", "failure")
    path = f"/repos/org/repo/commits/{HEAD}/status"

    first = api(fake, path)
    second = api(fake, path + "?page=2")
    big = api(fake, path + "?per_page=100")

    # The summary covers every context; the list holds 30 a page by default.
    assert (first.json()["total_count"], first.json()["state"]) == (35, "failure")
    assert len(first.json()["statuses"]) == 30
    assert 'rel="next"' in first.headers["Link"]
    assert [s["context"] for s in second.json()["statuses"]][-1] == "ctx-34"
    assert len(second.json()["statuses"]) == 5
    assert len(big.json()["statuses"]) == 35
    assert "Link" not in big.headers


def test_pending_team_membership(fake, gh):
    fake.add_team("org", "approvers", members=["alice"], pending=["bob"])

    membership = api(fake, "/orgs/org/teams/approvers/memberships/bob")

    assert (membership.status_code, membership.json()["state"]) == (200, "pending")
    # Invited is not a member yet.
    team = gh.get_organization("org").get_team_by_slug("approvers")
    assert [m.login for m in team.get_members()] == ["alice"]
    assert api(fake, "/orgs/org/teams/approvers/members/bob").status_code == 404


def test_pull_listing_leaves_out_what_github_computes_per_pull(fake):
    fake.add_pull("org", "repo", 1, "alice", HEAD, mergeable=False)

    [listed] = api(fake, "/repos/org/repo/pulls").json()
    single = api(fake, "/repos/org/repo/pulls/1").json()

    assert "mergeable" not in listed
    assert "merged" not in listed
    assert (listed["head"]["sha"], listed["draft"]) == (HEAD, False)
    assert (single["mergeable"], single["mergeable_state"]) == (False, "dirty")


def test_milestones_listed_by_state(fake, gh):
    fake.add_milestone("org", "repo", "v1.29", state="closed")
    fake.add_milestone("org", "repo", "v1.30")
    repo = gh.get_repo("org/repo")

    assert [m.title for m in repo.get_milestones()] == ["v1.30"]
    assert [m.title for m in repo.get_milestones(state="closed")] == ["v1.29"]
    assert [m.title for m in repo.get_milestones(state="all")] == ["v1.29", "v1.30"]
