"""The shape every plugin has, and what the platform gives it.

A plugin module defines one `plugin = Plugin(...)` holding all of it: its
description, its commands as data (the pattern, the handler, and the help
entry built from the same declaration), handlers per event kind, and its
plugins.yaml section (a typed model with the original's defaults and its
own checks). Handlers are plain functions `handler(ctx, event)`; a command's
handler is `handler(ctx, comment, match)`, called once per match.

PluginContext is what a handler acts through: the config, the GitHub client,
and helpers that are idempotent and ask GitHub nothing when nothing would
change (labels are diffed against what the event carried, and kept current
as plugins of the same delivery change them).
"""

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hook.events import GENERIC_COMMENT, HANDLED_KINDS, GenericComment
from prow.config.plugin_sections import PluginSection
from prow.config.plugins_schema import PluginsConfig
from prow.config.schema import ProwConfig
from prow.errors import OutsideError
from prow.github.bot import ABOUT_BOT
from prow.github.client import GitHubClient
from prow.github.types import Comment, Issue, Milestone, Review

Handler = Callable[["PluginContext", Any], None]
CommandHandler = Callable[["PluginContext", GenericComment, re.Match], None]


@dataclass(frozen=True)
class Command:
    """A slash command: what finds it, what runs it, and its help entry.

    handler None means the plugin's own generic_comment handler reads the
    pattern (trigger does, as one comment's commands decide together)."""

    pattern: re.Pattern
    usage: str
    description: str
    handler: CommandHandler | None = None
    examples: tuple[str, ...] = ()
    who_can_use: str = "Anyone"
    featured: bool = False
    # Commands act on new comments only, as the original's do; an edit
    # that adds `/lgtm` is not a second approval.
    actions: frozenset[str] = frozenset({"created"})


@dataclass(frozen=True)
class Plugin:
    name: str
    description: str
    handlers: dict[str, Handler] = field(default_factory=dict)
    commands: tuple[Command, ...] = ()
    # Its plugins.yaml section, if it has one.
    config: PluginSection | None = None
    # What its section means, in a sentence or two, for /plugin-help.
    config_help: str = ""

    def __post_init__(self) -> None:
        unknown = set(self.handlers) - HANDLED_KINDS
        if unknown:
            raise ValueError(
                f"plugin {self.name}: no such event kind {sorted(unknown)}; "
                f"handlers may be for {sorted(HANDLED_KINDS)}"
            )

    @property
    def events(self) -> list[str]:
        kinds = set(self.handlers)
        if any(command.handler for command in self.commands):
            kinds.add(GENERIC_COMMENT)
        return sorted(kinds)

    def handler_for(self, kind: str) -> Handler | None:
        """What runs for an event of kind: for generic comments, the
        plugin's own handler and then its commands' handlers."""
        own = self.handlers.get(kind)
        if kind != GENERIC_COMMENT:
            return own
        commands = [c for c in self.commands if c.handler is not None]
        if not commands:
            return own

        def handle(ctx: "PluginContext", comment: GenericComment) -> None:
            if own is not None:
                own(ctx, comment)
            text = comment.command_text
            for command in commands:
                if comment.action in command.actions:
                    for match in command.pattern.finditer(text):
                        command.handler(ctx, comment, match)

        return handle

    def settings(self, ctx: "PluginContext", org: str = "", repo: str = "") -> Any:
        """This plugin's section of plugins.yaml for org/repo (the event's
        repository by default)."""
        if self.config is None:
            raise LookupError(f"plugin {self.name} declares no plugins.yaml section")
        return ctx.plugins.section(self.config.key, org or ctx.org, repo or ctx.repo)


class PluginError(OutsideError):
    """A handler's way to fail on purpose; the delivery records the message
    and is not retried (raise a prow.errors.TransientError to be)."""


@dataclass
class _IssueView:
    """What is known of one issue or pull request during a delivery. None
    means "not known yet": the first helper that needs it reads the issue."""

    labels: dict[str, str] | None = None  # lower-cased name -> name
    assignees: set[str] | None = None  # lower-cased logins
    requested_reviewers: set[str] | None = None
    milestone: str | None = None
    state: str | None = None
    title: str | None = None


def _lower(names: Iterable[str]) -> dict[str, str]:
    return {name.lower(): name for name in names}


@dataclass
class PluginContext:
    org: str
    repo: str
    guid: str
    config: ProwConfig
    plugins: PluginsConfig
    github: GitHubClient
    logger: logging.LoggerAdapter
    _issues: dict[int, _IssueView] = field(default_factory=dict, repr=False)
    _milestones: list[Milestone] | None = field(default=None, repr=False)

    # What the event told us ---------------------------------------------------

    def know(
        self,
        number: int,
        *,
        labels: Iterable[str] | None = None,
        assignees: Iterable[str] | None = None,
        requested_reviewers: Iterable[str] | None = None,
        milestone: str | None = None,
        state: str | None = None,
        title: str | None = None,
    ) -> None:
        """Record what an event says of an issue, so that the helpers below
        diff against it instead of asking GitHub."""
        view = self._issues.setdefault(number, _IssueView())
        if labels is not None:
            view.labels = _lower(labels)
        if assignees is not None:
            view.assignees = {login.lower() for login in assignees}
        if requested_reviewers is not None:
            view.requested_reviewers = {login.lower() for login in requested_reviewers}
        if milestone is not None:
            view.milestone = milestone
        if state is not None:
            view.state = state
        if title is not None:
            view.title = title

    def _view(self, number: int, needed: str) -> _IssueView:
        view = self._issues.setdefault(number, _IssueView())
        if getattr(view, needed) is None:
            self._read(number, view)
        return view

    def _read(self, number: int, view: _IssueView) -> None:
        issue: Issue = self.github.get_issue(self.org, self.repo, number)
        if view.labels is None:
            view.labels = _lower(issue.labels)
        if view.assignees is None:
            view.assignees = {login.lower() for login in issue.assignees}
        if view.milestone is None:
            view.milestone = issue.milestone
        if view.state is None:
            view.state = issue.state
        if view.title is None:
            view.title = issue.title
        if view.requested_reviewers is None and issue.is_pr:
            pull = self.github.get_pull(self.org, self.repo, number)
            view.requested_reviewers = {r.lower() for r in pull.requested_reviewers}

    # Labels -------------------------------------------------------------------

    def labels(self, number: int) -> list[str]:
        return sorted(self._view(number, "labels").labels.values())

    def has_label(self, number: int, label: str) -> bool:
        # GitHub matches label names case-insensitively.
        return label.lower() in self._view(number, "labels").labels

    def add_labels(self, number: int, *labels: str) -> list[str]:
        """Add the labels not there yet, in one request; returns them."""
        current = self._view(number, "labels").labels
        missing = list(_lower(label for label in labels if label).values())
        missing = [label for label in missing if label.lower() not in current]
        if missing:
            self.github.add_labels(self.org, self.repo, number, *missing)
            current.update(_lower(missing))
        return missing

    def remove_labels(self, number: int, *labels: str) -> list[str]:
        """Remove those of the labels that are there; returns them."""
        current = self._view(number, "labels").labels
        removed = []
        for label in labels:
            name = current.get(label.lower())
            if name is None:
                continue
            self.github.remove_label(self.org, self.repo, number, name)
            del current[label.lower()]
            removed.append(name)
        return removed

    # Comments and reactions ---------------------------------------------------

    def comment(self, number: int, body: str) -> None:
        self.github.create_comment(self.org, self.repo, number, body)

    def reply(self, comment: GenericComment, text: str, *, key: str = "") -> None:
        """Answer a comment in the original's quoted format. key marks the
        reply (in a hidden HTML comment) so answered() can find it later."""
        self.github.create_comment(
            comment.org, comment.repo, comment.number, format_reply(comment, text, key)
        )

    # Answering once -----------------------------------------------------------
    # A delivery may be handled again (GitHub's Redeliver, a replay, a retry
    # after GitHub failed half way); what the bot already said is found on
    # the issue and not said twice.

    def bot_comments(self, number: int) -> list[Comment]:
        """The bot's own comments on the issue, oldest first."""
        return [
            c
            for c in self.github.list_comments(self.org, self.repo, number)
            if self.github.is_bot(c.user)
        ]

    def comment_once(self, number: int, body: str) -> bool:
        """Comment body unless the bot's comments hold it word for word;
        True when this call commented."""
        wanted = body.strip()
        if any(c.body.strip() == wanted for c in self.bot_comments(number)):
            return False
        self.comment(number, body)
        return True

    def reply_once(self, comment: GenericComment, text: str) -> bool:
        """reply(), unless this very answer to this very comment is there."""
        return self.comment_once(comment.number, format_reply(comment, text))

    def answered(self, comment: GenericComment, key: str) -> bool:
        """Whether the bot already answered this comment with a reply marked
        key: for answers that differ on each try (an image, a joke)."""
        if not comment.html_url:
            return False  # nothing tells this comment's answers apart
        quoted = f"In response to [this]({comment.html_url})"
        marker = _key_marker(key)
        return any(
            quoted in c.body and marker in c.body
            for c in self.bot_comments(comment.number)
        )

    def prune_comments(
        self,
        number: int,
        matches: Callable[[str], bool],
        comments: list[Comment] | None = None,
    ) -> int:
        """Delete the bot's comments whose body matches; returns how many.
        comments: the bot's comments when the caller has read them already."""
        gone = 0
        for c in self.bot_comments(number) if comments is None else comments:
            if matches(c.body):
                self.github.delete_comment(self.org, self.repo, c.id)
                gone += 1
        return gone

    def react(self, comment: GenericComment, reaction: str) -> None:
        """React to the comment itself, or to the issue when the text was
        its description. GitHub keeps one reaction of a kind per user, so
        doing it twice changes nothing."""
        if comment.comment_id is None:
            self.github.react_to_issue(
                comment.org, comment.repo, comment.number, reaction
            )
        else:
            self.github.react_to_comment(
                comment.org,
                comment.repo,
                comment.comment_id,
                reaction,
                review_comment=comment.review_comment,
            )

    # People -------------------------------------------------------------------

    def _add_people(self, number: int, kind: str, logins, send) -> list[str]:
        """Send those of logins not in the issue's `kind` yet; send returns
        the ones GitHub left out. Returns who was added."""
        current = getattr(self._view(number, kind), kind)
        new = [login for login in logins if login and login.lower() not in current]
        if new:
            left_out = send(new) or []
            new = [login for login in new if login not in left_out]
            current.update(login.lower() for login in new)
        return new

    def _remove_people(self, number: int, kind: str, logins, send) -> list[str]:
        current = getattr(self._view(number, kind), kind)
        gone = [login for login in logins if login.lower() in current]
        if gone:
            send(gone)
            current.difference_update(login.lower() for login in gone)
        return gone

    def assign(self, number: int, *logins: str) -> list[str]:
        """Assign those not assigned yet; returns who was. GitHub silently
        leaves out people who cannot be assigned."""
        return self._add_people(
            number,
            "assignees",
            logins,
            lambda new: self.github.assign(self.org, self.repo, number, *new),
        )

    def unassign(self, number: int, *logins: str) -> list[str]:
        return self._remove_people(
            number,
            "assignees",
            logins,
            lambda gone: self.github.unassign(self.org, self.repo, number, *gone),
        )

    def request_review(self, number: int, *logins: str) -> list[str]:
        """Ask for the reviews not asked for yet; returns who was asked."""
        return self._add_people(
            number,
            "requested_reviewers",
            logins,
            lambda new: self.github.request_review(self.org, self.repo, number, new),
        )

    def unrequest_review(self, number: int, *logins: str) -> list[str]:
        return self._remove_people(
            number,
            "requested_reviewers",
            logins,
            lambda gone: self.github.unrequest_review(
                self.org, self.repo, number, gone
            ),
        )

    # The issue itself ---------------------------------------------------------

    def milestones(self) -> list[Milestone]:
        if self._milestones is None:
            self._milestones = self.github.list_milestones(self.org, self.repo)
        return self._milestones

    def set_milestone(self, number: int, title: str) -> bool:
        """Put the issue in the milestone titled title; False when the repo
        has no such milestone."""
        view = self._view(number, "milestone")
        if view.milestone == title:
            return True
        found = next((m for m in self.milestones() if m.title == title), None)
        if found is None:
            return False
        self.github.set_milestone(self.org, self.repo, number, found.number)
        view.milestone = title
        return True

    def clear_milestone(self, number: int) -> None:
        view = self._view(number, "milestone")
        if view.milestone:
            self.github.set_milestone(self.org, self.repo, number, None)
            view.milestone = ""

    def close(self, number: int) -> bool:
        view = self._view(number, "state")
        if view.state == "closed":
            return False
        self.github.close(self.org, self.repo, number)
        view.state = "closed"
        return True

    def reopen(self, number: int) -> bool:
        view = self._view(number, "state")
        if view.state == "open":
            return False
        self.github.reopen(self.org, self.repo, number)
        view.state = "open"
        return True

    def edit_title(self, number: int, title: str) -> bool:
        view = self._view(number, "title")
        if view.title == title:
            return False
        self.github.edit_title(self.org, self.repo, number, title)
        view.title = title
        return True

    # Reads --------------------------------------------------------------------

    def file_at(self, path: str, ref: str) -> str | None:
        """A file of this repository at ref; None when it does not exist."""
        return self.github.file_content(self.org, self.repo, path, ref)

    def is_team_member(self, team_slug: str, login: str) -> bool:
        return self.github.is_team_member(self.org, team_slug, login)

    def permission(self, login: str) -> str:
        """login's permission on this repository: admin, maintain, write,
        triage, read or none."""
        return self.github.collaborator_permission(self.org, self.repo, login)

    def reviews(self, number: int) -> list[Review]:
        return self.github.list_reviews(self.org, self.repo, number)

    def delete_branch(self, branch: str) -> None:
        self.github.delete_branch(self.org, self.repo, branch)


def _key_marker(key: str) -> str:
    return f"<!-- prow:{key} -->"


def format_reply(comment: GenericComment, text: str, key: str = "") -> str:
    quoted = "\n".join(f">{line}" for line in (comment.body or "").splitlines())
    return (
        f"@{comment.user}: {text}\n\n<details>\n\n"
        f"In response to [this]({comment.html_url}):\n\n{quoted}\n\n\n"
        f"{ABOUT_BOT}\n</details>" + (f"\n{_key_marker(key)}" if key else "")
    )
