"""GitHubClient's methods against the fake GitHub, over real HTTP."""

import logging
import os

import pytest

from prow.github.client import GitHubError, forget_clients, github_client
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
