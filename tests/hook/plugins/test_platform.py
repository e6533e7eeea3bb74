"""What the platform gives a plugin: declarations checked at import, help
built from the commands, and context helpers that ask GitHub nothing when
nothing would change. The helpers run against the GitHub double over HTTP."""

import logging
import re

import pytest

from hook.events import GENERIC_COMMENT, GenericComment
from hook.plugins.base import Command, Plugin, PluginContext
from hook.plugins.registry import PLUGINS, all_plugins
from prow.config import plugin_sections
from prow.config.plugins_schema import PluginsConfig
from prow.config.schema import ProwConfig
from prow.github.client import github_client

pytestmark = pytest.mark.django_db

ORG, REPO = "octo", "app"


def noop(ctx, event):
    pass


def test_a_handler_for_an_unknown_event_kind_fails_at_declaration():
    with pytest.raises(ValueError, match="no such event kind"):
        Plugin(name="typo", description="", handlers={"pull_requests": noop})


def test_a_command_with_a_handler_makes_the_plugin_handle_generic_comments():
    command = Command(
        pattern=re.compile(r"(?m)^/ping\s*$"),
        usage="/ping",
        description="Pong.",
        handler=lambda ctx, comment, match: None,
    )
    plugin = Plugin(name="ping", description="", commands=(command,))
    assert plugin.events == [GENERIC_COMMENT]
    assert plugin.handler_for(GENERIC_COMMENT) is not None
    assert plugin.handler_for("pull_request") is None


def test_every_registered_plugin_is_named_once_and_known_to_validation():
    assert set(PLUGINS) <= plugin_sections.known_plugins()
    assert set(PLUGINS) <= set(all_plugins())
    # trigger declares its section; validation knows it through the registry.
    assert "triggers" in plugin_sections.sections()


def test_a_command_handler_runs_once_per_matching_line_on_new_comments_only():
    seen = []
    command = Command(
        pattern=re.compile(r"(?m)^/echo (\w+)\s*$"),
        usage="/echo <word>",
        description="",
        handler=lambda ctx, comment, match: seen.append(match.group(1)),
    )
    handle = Plugin(name="echo", description="", commands=(command,)).handler_for(
        GENERIC_COMMENT
    )
    text = "/echo one\n```\n/echo hidden\n```\n/echo two\n"
    handle(None, _comment(text))
    handle(None, _comment("/echo three", action="edited"))
    assert seen == ["one", "two"]


def _comment(body, *, action="created", number=1, labels=()):
    return GenericComment(
        action=action,
        body=body,
        user="alice",
        is_pr=False,
        number=number,
        org=ORG,
        repo=REPO,
        html_url="",
        guid="g",
        labels=tuple(labels),
        comment_id=7,
    )


@pytest.fixture
def ctx(fake_github):
    fake_github.add_repo(ORG, REPO)
    fake_github.add_label(ORG, REPO, "lgtm")
    fake_github.add_label(ORG, REPO, "hold")
    return PluginContext(
        org=ORG,
        repo=REPO,
        guid="g",
        config=ProwConfig(),
        plugins=PluginsConfig(),
        github=github_client(ORG),
        logger=logging.LoggerAdapter(logging.getLogger("test"), {}),
    )


def writes(fake):
    return [r for r in fake.requests() if r.method != "GET"]


def test_labels_are_diffed_against_what_the_event_carried(ctx, fake_github):
    fake_github.add_issue(ORG, REPO, number=1, labels=["lgtm"])
    ctx.know(1, labels=["LGTM"])
    fake_github.clear_requests()
    assert ctx.add_labels(1, "lgtm") == []  # case-insensitive, as GitHub
    assert ctx.remove_labels(1, "hold") == []
    assert fake_github.requests() == []
    assert ctx.add_labels(1, "hold", "lgtm") == ["hold"]
    assert ctx.remove_labels(1, "lgtm") == ["LGTM"]
    assert sorted(fake_github.issue(ORG, REPO, 1).labels) == ["hold"]
    # The view stays current for the next plugin of the same delivery.
    fake_github.clear_requests()
    assert ctx.add_labels(1, "hold") == []
    assert ctx.labels(1) == ["hold"]
    assert fake_github.requests() == []


def test_an_issue_the_event_said_nothing_of_is_read_once(ctx, fake_github):
    fake_github.add_issue(ORG, REPO, number=2, labels=["hold"], assignees=["bob"])
    fake_github.clear_requests()
    assert ctx.has_label(2, "hold")
    assert ctx.assign(2, "bob") == []
    assert ctx.close(2) is True
    assert ctx.close(2) is False
    gets = fake_github.requests("GET")
    assert len(gets) == 1
    assert fake_github.issue(ORG, REPO, 2).state == "closed"
    assert ctx.reopen(2) is True
    assert fake_github.issue(ORG, REPO, 2).state == "open"


def test_assignees_reviewers_title_and_milestone_change_only_when_needed(
    ctx, fake_github
):
    fake_github.add_pull(ORG, REPO, 3, "author", "a" * 40, title="Old")
    fake_github.add_milestone(ORG, REPO, "v1.0")
    # GitHub ignores assignees who cannot be assigned.
    fake_github.add_collaborator(ORG, REPO, "alice")
    fake_github.add_collaborator(ORG, REPO, "carol")
    ctx.know(
        3,
        labels=[],
        assignees=[],
        requested_reviewers=[],
        milestone="",
        state="open",
        title="Old",
    )
    fake_github.clear_requests()
    assert ctx.assign(3, "alice") == ["alice"]
    assert ctx.assign(3, "Alice") == []
    assert ctx.request_review(3, "carol") == ["carol"]
    assert ctx.request_review(3, "carol") == []
    assert ctx.unrequest_review(3, "carol") == ["carol"]
    assert ctx.unassign(3, "dave") == []
    assert ctx.assign(3, "mallory") == []  # not assignable: left out
    assert ctx.edit_title(3, "Old") is False
    assert ctx.edit_title(3, "New") is True
    assert ctx.set_milestone(3, "v1.0") is True
    assert ctx.set_milestone(3, "v1.0") is True
    assert ctx.set_milestone(3, "no such") is False
    ctx.clear_milestone(3)
    ctx.clear_milestone(3)
    pull = fake_github.pull(ORG, REPO, 3)
    assert pull.assignees == ["alice"]
    assert pull.title == "New"
    assert pull.milestone is None
    # One write per change asked for: two assigns (one GitHub left out),
    # request, unrequest, title, milestone set, milestone cleared.
    assert len(writes(fake_github)) == 7


def test_react_reaches_the_comment_or_the_issue(ctx, fake_github):
    fake_github.add_issue(ORG, REPO, number=4)
    comment = fake_github.add_comment(ORG, REPO, 4, "alice", "/meow")
    body = _comment("/meow", number=4)
    ctx.react(GenericComment(**{**body.__dict__, "comment_id": comment.id}), "heart")
    ctx.react(GenericComment(**{**body.__dict__, "comment_id": None}), "+1")
    paths = [r.path for r in writes(fake_github)]
    assert f"/repos/{ORG}/{REPO}/issues/comments/{comment.id}/reactions" in paths
    assert f"/repos/{ORG}/{REPO}/issues/4/reactions" in paths


def test_reads_for_plugins(ctx, fake_github):
    fake_github.add_branch(ORG, REPO, "main", "b" * 40)
    fake_github.set_file(ORG, REPO, "OWNERS", "approvers: [alice]\n", ref="main")
    fake_github.add_team(ORG, "reviewers", members=["alice"])
    fake_github.add_collaborator(ORG, REPO, "alice", permission="write")
    assert "alice" in ctx.file_at("OWNERS", "main")
    assert ctx.file_at("MISSING", "main") is None
    assert ctx.is_team_member("reviewers", "alice") is True
    assert ctx.is_team_member("reviewers", "mallory") is False
    assert ctx.permission("alice") == "write"
    assert ctx.permission("mallory") == "none"
