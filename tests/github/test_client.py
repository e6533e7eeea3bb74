"""GitHubClient's methods against the fake GitHub, over real HTTP."""

import logging
import os
import re
from datetime import datetime

import pytest

from prow.errors import OutsideError, TransientError
from prow.github.client import (
    GitHubError,
    GitHubTransientError,
    forget_clients,
    github_client,
)
from prow.github.types import (
    CombinedStatus,
    Comment,
    Issue,
    Milestone,
    PullRequest,
    Review,
    Status,
)
from tests.github.conftest import HEAD


def test_no_token_is_dry_mode_and_sends_no_writes(fake, settings, caplog, waits):
    settings.PROW_GITHUB_TOKEN_PATH = ""
    settings.PROW_GITHUB_BOT_LOGIN = "prow-bot"
    fake.require_auth = False
    fake.add_pull("org", "repo", 1, "alice", HEAD, labels=["lgtm"])
    gh = github_client("org")

    with caplog.at_level(logging.INFO, logger="prow.github.client"):
        gh.add_labels("org", "repo", 1, "approved")
        gh.remove_label("org", "repo", 1, "lgtm")
        gh.create_comment("org", "repo", 1, "hello")
        gh.create_status("org", "repo", HEAD, state="success", context="ci")

    assert gh.dry_run is True
    # Reads still work; only writes are held back.
    assert gh.labels("org", "repo", 1) == ["lgtm"]
    assert [r.method for r in fake.requests()] == ["GET"]
    assert fake.comments("org", "repo", 1) == []
    dry = [r.getMessage() for r in caplog.records if "dry run" in r.getMessage()]
    assert len(dry) == 4
    assert "comment on org/repo#1" in dry[2]
    # The bot still knows itself, from settings rather than GitHub.
    assert gh.bot_login == "prow-bot"
    assert fake.requests("GET", "/user") == []


def test_missing_token_file_is_dry_mode_until_it_appears(fake, settings, tmp_path):
    path = tmp_path / "later"
    settings.PROW_GITHUB_TOKEN_PATH = str(path)
    fake.add_pull("org", "repo", 1, "alice", HEAD)

    assert github_client("org").dry_run is True

    path.write_text("late-token")
    gh = github_client("org")
    gh.create_comment("org", "repo", 1, "hello")

    assert gh.dry_run is False
    post = fake.requests("POST")[0]
    assert post.headers["authorization"] == "token late-token"


def test_rotated_token_file_is_used_on_the_next_request(fake, gh, tmp_path):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    gh.create_comment("org", "repo", 1, "one")

    token = tmp_path / "token"
    token.write_text("second-token-after-rotation\n")
    gh.create_comment("org", "repo", 1, "two")

    posts = fake.requests("POST")
    assert [p.headers["authorization"] for p in posts] == [
        "token first-token",
        "token second-token-after-rotation",
    ]


def test_token_file_swapped_like_a_kubernetes_secret(fake, gh, tmp_path):
    # Same size, same second: only the inode tells the files apart.
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    gh.create_comment("org", "repo", 1, "one")
    token = tmp_path / "token"
    stat = token.stat()
    replacement = tmp_path / "token.new"
    replacement.write_text("other-token\n")
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, token)

    gh.create_comment("org", "repo", 1, "two")

    assert fake.requests("POST")[-1].headers["authorization"] == "token other-token"


def test_bot_login_is_asked_once(fake, gh):
    assert gh.bot_login == "prow-bot"
    assert gh.bot_login == "prow-bot"
    forget_clients()
    again = github_client("org")

    assert again is not gh
    assert again.bot_login == "prow-bot"
    assert again.is_bot("Prow-Bot") is True
    assert again.is_bot("alice") is False
    assert len(fake.requests("GET", "/user")) == 1


def test_pull_changes_walks_every_page(fake, gh):
    files = [{"filename": f"pkg/file{i:03}.go", "additions": i} for i in range(250)]
    fake.add_pull("org", "repo", 1, "alice", HEAD, files=files)

    changes = gh.pull_changes("org", "repo", 1)

    assert [c.filename for c in changes] == [f["filename"] for f in files]
    assert changes[7].additions == 7
    assert changes[0].status == "modified"
    pages = fake.requests("GET", "/repos/org/repo/pulls/1/files")
    assert [r.query.get("page", "1") for r in pages] == ["1", "2", "3"]


def test_branch_sha_reads_the_ref(fake, gh):
    fake.add_branch("org", "repo", "release-1.0", "c" * 40)

    assert gh.branch_sha("org", "repo", "release-1.0") == "c" * 40
    with pytest.raises(GitHubError) as raised:
        gh.branch_sha("org", "repo", "missing")
    assert raised.value.permanent is True


def test_file_content(fake, gh):
    fake.set_file("org", "repo", "OWNERS", "approvers:\n- alice\n")
    fake.set_file("org", "repo", "docs/OWNERS", "reviewers:\n- bob\n", ref=HEAD)

    assert gh.file_content("org", "repo", "OWNERS") == "approvers:\n- alice\n"
    assert gh.file_content("org", "repo", "docs/OWNERS", HEAD) == "reviewers:\n- bob\n"
    assert gh.file_content("org", "repo", "docs/OWNERS") is None
    assert gh.file_content("org", "repo", "missing/OWNERS") is None
    # A directory is not a file.
    assert gh.file_content("org", "repo", "docs", HEAD) is None


def test_org_membership_is_answered_and_cached(fake, gh):
    fake.add_org_member("org", "alice")
    fake.add_user("mallory")

    assert gh.is_org_member("org", "alice") is True
    assert gh.is_org_member("org", "mallory") is False
    asked = len(fake.requests())
    assert gh.is_org_member("org", "alice") is True
    assert gh.is_org_member("org", "mallory") is False

    assert len(fake.requests()) == asked
    assert len(fake.requests("GET", "/orgs/org/members/alice")) == 1


def test_collaborator_check_is_answered_and_cached(fake, gh):
    fake.add_collaborator("org", "repo", "bob")
    fake.add_user("mallory")

    assert gh.is_collaborator("org", "repo", "bob") is True
    assert gh.is_collaborator("org", "repo", "mallory") is False
    asked = len(fake.requests())
    assert gh.is_collaborator("org", "repo", "bob") is True
    assert gh.is_collaborator("org", "repo", "mallory") is False

    assert len(fake.requests()) == asked


def test_labels_added_and_removed(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD, labels=["do-not-merge/hold"])

    gh.add_labels("org", "repo", 1, "lgtm", "approved")
    gh.remove_label("org", "repo", 1, "do-not-merge/hold")

    assert fake.issue("org", "repo", 1).labels == ["lgtm", "approved"]
    assert gh.labels("org", "repo", 1) == ["lgtm", "approved"]
    # The slash is escaped, as GitHub needs.
    delete = fake.requests("DELETE")[0]
    assert delete.raw_path.endswith("/labels/do-not-merge%2Fhold")
    # Writes go straight to their endpoint, without reading the issue first.
    assert [r.path for r in fake.requests("GET")] == ["/repos/org/repo/issues/1/labels"]


def test_removing_an_absent_label_is_fine(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD, labels=["lgtm"])

    gh.remove_label("org", "repo", 1, "approved")

    assert [r.status for r in fake.requests("DELETE")] == [404]
    assert fake.issue("org", "repo", 1).labels == ["lgtm"]


def test_removing_a_label_of_a_missing_issue_is_fine(fake, gh):
    # Also a 404, and also nothing left to remove.
    gh.remove_label("org", "repo", 99, "lgtm")


def test_comments_created_edited_reacted_to_and_deleted(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD)

    created = gh.create_comment("org", "repo", 1, "first")
    gh.edit_comment("org", "repo", created.id, "edited")
    gh.react_to_comment("org", "repo", created.id, "+1")

    comment = fake.comments("org", "repo", 1)[0]
    assert (comment.author, comment.body) == ("prow-bot", "edited")
    assert [r.content for r in comment.reactions] == ["+1"]
    assert [c.body for c in gh.list_comments("org", "repo", 1)] == ["edited"]

    gh.delete_comment("org", "repo", created.id)
    assert fake.comments("org", "repo", 1) == []
    # Deleting it again finds nothing to delete, which is what was wanted.
    gh.delete_comment("org", "repo", created.id)
    assert [r.status for r in fake.requests("DELETE")] == [204, 404]


def test_status_description_is_cut_to_githubs_limit(fake, gh):
    gh.create_status(
        "org",
        "repo",
        HEAD,
        state="failure",
        context="pull-unit",
        description="x" * 200,
        target_url="https://prow.example.com/view/1",
    )
    gh.create_status(
        "org", "repo", HEAD, state="pending", context="short", description="ok"
    )

    long, short = fake.statuses("org", "repo", HEAD)
    assert len(long.description) == 140
    assert long.description.endswith("…")
    assert long.target_url == "https://prow.example.com/view/1"
    assert (short.context, short.description) == ("short", "ok")
    assert [r.method for r in fake.requests()] == ["POST", "POST"]
    assert gh.combined_status("org", "repo", HEAD).state == "failure"


def test_get_pull_and_issue_fail_inside_the_client(fake, gh):
    # Lazy PyGithub objects would fail later, outside the error handling.
    fake.add_issue("org", "repo", 2, title="Broken")

    assert gh.get_issue("org", "repo", 2).title == "Broken"
    with pytest.raises(GitHubError):
        gh.get_issue("org", "repo", 3)
    with pytest.raises(GitHubError):
        gh.get_pull("org", "repo", 2)


def test_assign_edit_and_merge(fake, gh):
    fake.add_collaborator("org", "repo", "bob")
    fake.add_pull("org", "repo", 1, "alice", HEAD)

    gh.assign("org", "repo", 1, "bob")
    gh.edit_issue("org", "repo", 1, title="Renamed")
    gh.merge("org", "repo", 1, sha=HEAD, method="squash")

    pull = fake.pull("org", "repo", 1)
    assert pull.assignees == ["bob"]
    assert pull.title == "Renamed"
    assert (pull.merged, pull.merge_method) == (True, "squash")
    gh.unassign("org", "repo", 1, "bob")
    assert fake.pull("org", "repo", 1).assignees == []


def test_merge_of_a_moved_head_is_a_permanent_error(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD)

    with pytest.raises(GitHubError) as raised:
        gh.merge("org", "repo", 1, sha="b" * 40, method="merge")

    assert (raised.value.status, raised.value.permanent) == (409, True)


def test_search_teams_and_repo_labels(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD, labels=["lgtm"])
    fake.add_pull("org", "repo", 2, "alice", "b" * 40)
    fake.add_team("org", "reviewers", members=["alice", "bob"])

    found = gh.search_issues("repo:org/repo is:pr is:open label:lgtm")

    assert [issue.number for issue in found] == [1]
    assert gh.team_members("org", "reviewers") == ["alice", "bob"]
    assert gh.repo_labels("org", "repo") == ["lgtm"]


# Reads return plain values ---------------------------------------------------


def test_get_pull_reads_every_field_in_one_request(fake, gh):
    fake.add_collaborator("org", "repo", "bob")
    fake.add_collaborator("org", "repo", "carol")
    fake.add_milestone("org", "repo", "v1.30")
    fake.add_pull(
        "org",
        "repo",
        1,
        "alice",
        HEAD,
        base_sha="b" * 40,
        title="Fix it",
        body="Fixes #3",
        labels=["lgtm"],
        draft=True,
        mergeable=False,
    )
    stored = fake.pull("org", "repo", 1)
    stored.assignees, stored.requested_reviewers = ["bob"], ["carol"]
    stored.milestone = 1

    pull = gh.get_pull("org", "repo", 1)

    assert isinstance(pull, PullRequest)
    assert (pull.org, pull.repo, pull.number, pull.author) == (
        "org",
        "repo",
        1,
        "alice",
    )
    assert (pull.head_sha, pull.base_sha, pull.base_ref) == (HEAD, "b" * 40, "main")
    assert (pull.title, pull.body, pull.labels) == ("Fix it", "Fixes #3", ["lgtm"])
    assert (pull.draft, pull.mergeable, pull.state, pull.merged) == (
        True,
        False,
        "open",
        False,
    )
    assert (pull.assignees, pull.requested_reviewers) == (["bob"], ["carol"])
    assert pull.milestone == "v1.30"
    assert pull.html_url == "https://github.com/org/repo/pull/1"
    assert [r.path for r in fake.requests()] == ["/repos/org/repo/pulls/1"]


def test_open_pulls_are_listed_from_every_page_without_a_request_each(fake, gh):
    for number in range(1, 106):
        fake.add_pull("org", "repo", number, "alice", HEAD, labels=["lgtm"])
    fake.add_pull("org", "repo", 106, "bob", HEAD, state="closed")

    pulls = gh.list_open_pulls("org", "repo")

    assert sorted(p.number for p in pulls) == list(range(1, 106))
    assert all(isinstance(p, PullRequest) for p in pulls)
    assert {p.mergeable for p in pulls} == {None}
    assert pulls[0].labels == ["lgtm"]
    # Two pages of a hundred, and no request per pull.
    assert [r.query.get("page", "1") for r in fake.requests()] == ["1", "2"]
    assert fake.requests(path=re.compile(r"/pulls/\d+$")) == []


def test_get_issue_tells_issues_from_pull_requests(fake, gh):
    fake.add_org_member("org", "bob")
    fake.add_milestone("org", "repo", "v2")
    fake.add_issue(
        "org",
        "repo",
        2,
        author="carol",
        title="Flaky",
        body="It flakes",
        labels=["kind/flake", "sig/node"],
        assignees=["bob"],
    )
    fake.issue("org", "repo", 2).milestone = 1
    fake.add_pull("org", "repo", 3, "alice", HEAD)

    issue = gh.get_issue("org", "repo", 2)
    pull = gh.get_issue("org", "repo", 3)

    assert issue == Issue(
        org="org",
        repo="repo",
        number=2,
        author="carol",
        title="Flaky",
        body="It flakes",
        state="open",
        labels=("kind/flake", "sig/node"),
        assignees=("bob",),
        milestone="v2",
        is_pr=False,
        html_url="https://github.com/org/repo/issues/2",
        created_at=issue.created_at,
        updated_at=issue.updated_at,
    )
    assert isinstance(issue.created_at, datetime)
    assert issue.created_at.tzinfo is not None
    assert (pull.is_pr, pull.author, pull.milestone) == (True, "alice", "")


def test_comments_are_plain_values_from_every_page(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    for i in range(130):
        fake.add_comment("org", "repo", 1, "bob" if i % 2 else "alice", f"c{i}")

    comments = gh.list_comments("org", "repo", 1)

    assert [c.body for c in comments] == [f"c{i}" for i in range(130)]
    first = comments[0]
    assert isinstance(first, Comment)
    assert (first.user, comments[1].user) == ("alice", "bob")
    assert first.html_url.endswith(f"/org/repo/issues/1#issuecomment-{first.id}")
    assert isinstance(first.updated_at, datetime)
    assert len(fake.requests("GET", "/repos/org/repo/issues/1/comments")) == 2


def test_created_comment_is_returned_as_a_comment(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD)

    created = gh.create_comment("org", "repo", 1, "hello")

    assert isinstance(created, Comment)
    assert (created.user, created.body) == ("prow-bot", "hello")
    assert created.id == fake.comments("org", "repo", 1)[0].id


def test_reviews_are_listed(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.add_review("org", "repo", 1, "bob", state="CHANGES_REQUESTED", body="No")
    fake.add_review("org", "repo", 1, "bob", state="APPROVED")
    fake.add_review("org", "repo", 1, "carol", state="COMMENTED", body="Hm")

    reviews = gh.list_reviews("org", "repo", 1)

    assert [(r.user, r.state, r.body) for r in reviews] == [
        ("bob", "CHANGES_REQUESTED", "No"),
        ("bob", "APPROVED", ""),
        ("carol", "COMMENTED", "Hm"),
    ]
    assert all(isinstance(r, Review) and r.commit_id == HEAD for r in reviews)
    assert isinstance(reviews[0].submitted_at, datetime)
    assert reviews[0].html_url.endswith(f"#pullrequestreview-{reviews[0].id}")


def test_combined_status_reads_every_context_past_the_first_page(fake, gh):
    for i in range(120):
        fake.set_status("org", "repo", HEAD, f"ctx-{i:03}", "success")
    fake.set_status("org", "repo", HEAD, "ctx-007", "pending", description="again")
    fake.set_status(
        "org", "repo", HEAD, "tide", "failure", target_url="https://tide.example"
    )

    combined = gh.combined_status("org", "repo", HEAD)

    assert isinstance(combined, CombinedStatus)
    assert (combined.sha, combined.state) == (HEAD, "failure")
    assert len(combined.statuses) == 121
    assert combined.get("ctx-007") == Status("ctx-007", "pending", "again", "")
    assert combined.get("tide").target_url == "https://tide.example"
    assert combined.get("missing") is None
    pages = fake.requests("GET", f"/repos/org/repo/commits/{HEAD}/status")
    assert [r.query.get("page", "1") for r in pages] == ["1", "2"]


def test_search_returns_issues_of_every_repo_and_page(fake, gh):
    fake.add_repo("org", "other")
    for number in range(1, 111):
        fake.add_pull("org", "repo", number, "alice", HEAD, labels=["lgtm"])
    fake.add_issue("org", "other", 1, labels=["lgtm"], title="Issue")

    found = gh.search_issues("org:org label:lgtm")

    assert len(found) == 111
    assert all(isinstance(issue, Issue) for issue in found)
    issue = next(i for i in found if i.repo == "other")
    assert (issue.org, issue.number, issue.is_pr, issue.labels) == (
        "org",
        1,
        False,
        ("lgtm",),
    )
    assert {i.is_pr for i in found if i.repo == "repo"} == {True}
    assert len(fake.requests("GET", "/search/issues")) == 2


def test_milestones_open_and_closed(fake, gh):
    fake.add_milestone("org", "repo", "v1.29", state="closed")
    fake.add_milestone("org", "repo", "v1.30")

    assert gh.list_milestones("org", "repo") == [
        Milestone(1, "v1.29", "closed"),
        Milestone(2, "v1.30", "open"),
    ]


# Membership and permissions --------------------------------------------------


def test_team_membership_counts_active_members_only_and_is_cached(fake, gh):
    fake.add_team("org", "approvers", members=["alice"], pending=["bob"])
    fake.add_user("mallory")

    assert gh.is_team_member("org", "approvers", "alice") is True
    # Invited but not accepted yet.
    assert gh.is_team_member("org", "approvers", "bob") is False
    assert gh.is_team_member("org", "approvers", "mallory") is False
    assert gh.is_team_member("org", "missing-team", "alice") is False
    asked = len(fake.requests())
    assert gh.is_team_member("org", "approvers", "alice") is True
    assert gh.is_team_member("org", "approvers", "bob") is False

    assert len(fake.requests()) == asked
    assert fake.requests()[0].path == "/orgs/org/teams/approvers/memberships/alice"


def test_team_membership_outage_is_an_error_not_a_no(fake, gh):
    fake.add_team("org", "approvers", members=["alice"])
    fake.fail_next("GET", "/memberships/alice", status=502, times=10)

    with pytest.raises(GitHubTransientError):
        gh.is_team_member("org", "approvers", "alice")

    # Not cached as "no": the next ask goes to GitHub again.
    fake.clear_faults()
    assert gh.is_team_member("org", "approvers", "alice") is True


def test_collaborator_permission(fake, gh):
    fake.add_collaborator("org", "repo", "admin", permission="admin")
    fake.add_collaborator("org", "repo", "maintainer", permission="maintain")
    fake.add_collaborator("org", "repo", "triager", permission="triage")
    fake.add_team("org", "devs", members=["dev"], repos=["repo"], permission="push")
    fake.add_user("reader")
    fake.add_repo("org", "private", private=True)

    assert gh.collaborator_permission("org", "repo", "admin") == "admin"
    assert gh.collaborator_permission("org", "repo", "maintainer") == "maintain"
    assert gh.collaborator_permission("org", "repo", "triager") == "triage"
    assert gh.collaborator_permission("org", "repo", "dev") == "write"
    # Anyone may read a public repo; nobody but collaborators a private one.
    assert gh.collaborator_permission("org", "repo", "reader") == "read"
    assert gh.collaborator_permission("org", "private", "reader") == "none"
    # GitHub does not know this login at all: a 404.
    assert gh.collaborator_permission("org", "repo", "nobody") == "none"
    assert fake.requests()[-1].status == 404


def test_custom_role_falls_back_to_its_base_permission(fake, gh):
    fake.add_user("carol")
    answer = {"permission": "write", "role_name": "release-manager"}
    fake.fail_next("GET", "/collaborators/carol/permission", status=200, body=answer)

    assert gh.collaborator_permission("org", "repo", "carol") == "write"


# Writes ------------------------------------------------------------------------


def test_reactions_to_issues_comments_and_review_comments(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    comment = fake.add_comment("org", "repo", 1, "alice", "/lgtm")
    review_comment = fake.add_review_comment("org", "repo", 1, "alice", "/hold")

    gh.react_to_issue("org", "repo", 1, "eyes")
    gh.react_to_comment("org", "repo", comment.id, "+1")
    gh.react_to_comment("org", "repo", review_comment.id, "-1", review_comment=True)

    assert [r.content for r in fake.issue("org", "repo", 1).reactions] == ["eyes"]
    assert [r.content for r in comment.reactions] == ["+1"]
    assert [r.content for r in review_comment.reactions] == ["-1"]
    assert [r.path for r in fake.requests("POST")] == [
        "/repos/org/repo/issues/1/reactions",
        f"/repos/org/repo/issues/comments/{comment.id}/reactions",
        f"/repos/org/repo/pulls/comments/{review_comment.id}/reactions",
    ]
    assert {r.user for r in review_comment.reactions} == {"prow-bot"}


def test_review_requested_and_unrequested(fake, gh):
    fake.add_collaborator("org", "repo", "bob")
    fake.add_collaborator("org", "repo", "carol")
    fake.add_pull("org", "repo", 1, "alice", HEAD)

    assert gh.request_review("org", "repo", 1, ["bob", "carol"]) == []
    assert fake.pull("org", "repo", 1).requested_reviewers == ["bob", "carol"]

    gh.unrequest_review("org", "repo", 1, ["bob"])
    assert fake.pull("org", "repo", 1).requested_reviewers == ["carol"]
    delete = fake.requests("DELETE")[0]
    assert delete.body == {"reviewers": ["bob"]}


def test_review_requests_github_refuses_are_returned(fake, gh):
    fake.add_collaborator("org", "repo", "bob")
    fake.add_user("stranger")
    fake.add_pull("org", "repo", 1, "alice", HEAD)

    # GitHub refuses the whole request for one stranger (or the author), so
    # the others are asked one by one and still get their request.
    refused = gh.request_review("org", "repo", 1, ["bob", "stranger", "alice"])

    assert refused == ["stranger", "alice"]
    assert fake.pull("org", "repo", 1).requested_reviewers == ["bob"]
    posts = fake.requests("POST")
    assert [(p.body["reviewers"], p.status) for p in posts] == [
        (["bob", "stranger", "alice"], 422),
        (["bob"], 201),
        (["stranger"], 422),
        (["alice"], 422),
    ]
    assert gh.request_review("org", "repo", 1, ["stranger"]) == ["stranger"]
    assert gh.request_review("org", "repo", 1, []) == []


def test_assign_returns_who_github_left_out(fake, gh):
    fake.add_collaborator("org", "repo", "bob")
    fake.add_user("stranger")
    fake.add_issue("org", "repo", 1)

    assert gh.assign("org", "repo", 1, "bob", "stranger") == ["stranger"]
    assert fake.issue("org", "repo", 1).assignees == ["bob"]


def test_milestone_set_and_cleared(fake, gh):
    fake.add_milestone("org", "repo", "v1.30")
    fake.add_issue("org", "repo", 1)

    gh.set_milestone("org", "repo", 1, 1)
    assert fake.issue("org", "repo", 1).milestone == 1
    assert gh.get_issue("org", "repo", 1).milestone == "v1.30"

    gh.set_milestone("org", "repo", 1, None)
    assert fake.issue("org", "repo", 1).milestone is None
    assert fake.requests("PATCH")[-1].body == {"milestone": None}
    with pytest.raises(GitHubError) as raised:
        gh.set_milestone("org", "repo", 1, 99)
    assert (raised.value.status, raised.value.permanent) == (422, True)


def test_close_reopen_and_retitle(fake, gh):
    fake.add_pull("org", "repo", 1, "alice", HEAD, title="WIP: fix")

    gh.close("org", "repo", 1)
    assert fake.pull("org", "repo", 1).state == "closed"
    assert gh.get_pull("org", "repo", 1).state == "closed"

    gh.reopen("org", "repo", 1)
    gh.edit_title("org", "repo", 1, "Fix")
    pull = fake.pull("org", "repo", 1)
    assert (pull.state, pull.title) == ("open", "Fix")
    assert [r.body for r in fake.requests("PATCH")] == [
        {"state": "closed"},
        {"state": "open"},
        {"title": "Fix"},
    ]


def test_branch_deleted_and_already_gone_is_fine(fake, gh):
    fake.add_branch("org", "repo", "feature/x#1", "c" * 40)

    gh.delete_branch("org", "repo", "feature/x#1")
    assert "feature/x#1" not in fake.repo("org", "repo").branches
    # Deleting it again: GitHub says the reference does not exist, as wanted.
    gh.delete_branch("org", "repo", "feature/x#1")

    deletes = fake.requests("DELETE")
    assert [d.status for d in deletes] == [204, 422]
    # Slashes kept, everything else escaped.
    assert deletes[0].raw_path == "/repos/org/repo/git/refs/heads/feature/x%231"


def test_refusing_to_delete_a_protected_branch_is_an_error(fake, gh):
    fake.add_branch("org", "repo", "release-1.0", "c" * 40, protected=True)

    with pytest.raises(GitHubError) as raised:
        gh.delete_branch("org", "repo", "release-1.0")

    assert (raised.value.status, raised.value.permanent) == (422, True)
    assert "release-1.0" in fake.repo("org", "repo").branches


def test_new_writes_are_held_back_in_dry_mode(fake, settings, caplog, waits):
    settings.PROW_GITHUB_TOKEN_PATH = ""
    fake.require_auth = False
    fake.add_collaborator("org", "repo", "bob")
    fake.add_milestone("org", "repo", "v1")
    fake.add_branch("org", "repo", "old", "c" * 40)
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    gh = github_client("org")

    with caplog.at_level(logging.INFO, logger="prow.github.client"):
        gh.react_to_issue("org", "repo", 1, "+1")
        gh.react_to_comment("org", "repo", 5, "+1", review_comment=True)
        assert gh.request_review("org", "repo", 1, ["bob"]) == []
        gh.unrequest_review("org", "repo", 1, ["bob"])
        gh.set_milestone("org", "repo", 1, 1)
        gh.close("org", "repo", 1)
        gh.reopen("org", "repo", 1)
        gh.edit_title("org", "repo", 1, "New")
        gh.delete_branch("org", "repo", "old")
        assert gh.assign("org", "repo", 1, "bob") == []
        assert gh.create_comment("org", "repo", 1, "hi") is None

    assert fake.requests() == []
    dry = [r.getMessage() for r in caplog.records if "dry run" in r.getMessage()]
    assert len(dry) == 11
    assert "delete branch 'old' of org/repo" in dry[8]
    assert "old" in fake.repo("org", "repo").branches


# Errors --------------------------------------------------------------------------


def test_server_errors_are_transient_and_client_errors_permanent(fake, gh, waits):
    fake.add_pull("org", "repo", 1, "alice", HEAD)
    fake.fail_next("POST", "/reactions$", status=503)

    with pytest.raises(GitHubTransientError) as raised:
        gh.react_to_issue("org", "repo", 1, "+1")
    assert (raised.value.status, raised.value.permanent) == (503, False)
    assert isinstance(raised.value, TransientError)

    with pytest.raises(GitHubError) as raised:
        gh.react_to_issue("org", "repo", 1, "thumbs")
    assert type(raised.value) is GitHubError
    assert (raised.value.status, raised.value.permanent) == (422, True)
    assert isinstance(raised.value, OutsideError)
