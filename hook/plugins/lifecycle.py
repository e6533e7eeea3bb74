"""lifecycle: `/lifecycle active|frozen|stale|rotten` and
`/remove-lifecycle ...` label where an issue or pull request stands;
`/close`, `/close not-planned` and `/reopen` close and reopen it.

Anyone may set the lifecycle labels (one at a time: adding one takes off the
others). Closing and reopening are for the author and the repository's
collaborators, except that anyone may close an item already labeled
lifecycle/stale or lifecycle/rotten.
"""

import re

from hook.events import GENERIC_COMMENT, GenericComment
from hook.plugins.base import Command, Plugin, PluginContext
from prow.errors import TransientError
from prow.github.client import GitHubError

LIFECYCLE = re.compile(r"(?mi)^/(remove-)?lifecycle (active|frozen|stale|rotten)\s*$")
CLOSE = re.compile(r"(?mi)^/close\s*$")
CLOSE_NOT_PLANNED = re.compile(r"(?mi)^/close not-planned\s*$")
REOPEN = re.compile(r"(?mi)^/reopen\s*$")
LABELS = tuple(
    f"lifecycle/{stage}" for stage in ("active", "frozen", "stale", "rotten")
)
FROZEN = "lifecycle/frozen"
INACTIVE = ("lifecycle/stale", "lifecycle/rotten")


def _may_act(ctx: PluginContext, comment: GenericComment) -> bool:
    if comment.issue_author.lower() == comment.user.lower():
        return True
    return ctx.github.is_collaborator(ctx.org, ctx.repo, comment.user)


def _reopen(ctx: PluginContext, comment: GenericComment, text: str) -> str | None:
    if comment.issue_state != "closed" or not REOPEN.search(text):
        return None
    if not _may_act(ctx, comment):
        return (
            "You can't reopen an issue/PR unless you authored it or you are a "
            "collaborator."
        )
    try:
        ctx.reopen(comment.number)
    except GitHubError as exc:
        # GitHub refuses for good (a merged pull request, a deleted branch):
        # say so. Anything that may pass is tried again later.
        if isinstance(exc, TransientError) or exc.status != 422:
            raise
        kind = "PR" if comment.is_pr else "Issue"
        reason = str(exc).partition("HTTP 422")[2].strip() or str(exc)
        return f"Failed to re-open {kind}: {reason}"
    return "Reopened this PR." if comment.is_pr else "Reopened this issue."


def _close(ctx: PluginContext, comment: GenericComment, text: str) -> str | None:
    if comment.issue_state != "open":
        return None
    not_planned = bool(CLOSE_NOT_PLANNED.search(text))
    if not not_planned and not CLOSE.search(text):
        return None
    number = comment.number
    active = not any(ctx.has_label(number, label) for label in INACTIVE)
    if active and not _may_act(ctx, comment):
        return (
            "You can't close an active issue/PR unless you authored it or you "
            "are a collaborator."
        )
    if comment.is_pr:
        # not_planned is a reason issues have; pull requests are just closed.
        if not_planned:
            return "PRs cannot be closed as Not Planned."
        ctx.close(number)
        return "Closed this PR."
    if not_planned:
        # ctx.close knows no reason; the event said the issue is open.
        ctx.github.close(ctx.org, ctx.repo, number, reason="not_planned")
        ctx.know(number, state="closed")
        return 'Closing this issue, marking it as "Not Planned".'
    ctx.close(number)
    return "Closing this issue."


def _lifecycle(ctx: PluginContext, comment: GenericComment, match) -> str | None:
    remove, label = bool(match.group(1)), f"lifecycle/{match.group(2).lower()}"
    number = comment.number
    if comment.is_pr and label == FROZEN and not remove:
        return f"The `{FROZEN}` label cannot be applied to Pull Requests."
    if remove:
        ctx.remove_labels(number, label)
    elif not ctx.has_label(number, label):
        ctx.remove_labels(number, *(other for other in LABELS if other != label))
        ctx.add_labels(number, label)
    return None


def handle_comment(ctx: PluginContext, comment: GenericComment) -> None:
    if comment.action != "created":
        return
    text = comment.command_text
    answers = [_reopen(ctx, comment, text), _close(ctx, comment, text)]
    answers += [_lifecycle(ctx, comment, m) for m in LIFECYCLE.finditer(text)]
    for answer in answers:
        if answer:
            ctx.reply_once(comment, answer)


AUTHORS_AND_COLLABORATORS = (
    "Authors and collaborators on the repository can trigger this command."
)

plugin = Plugin(
    name="lifecycle",
    description=(
        "Close, reopen, flag and/or unflag an issue or PR as frozen/stale/rotten. "
        "Unlike the original, a comment's answers come after everything it "
        "asked for is done, and an answer already given is not repeated when "
        "the comment is handled again."
    ),
    commands=(
        Command(
            pattern=CLOSE,
            usage="/close [not-planned]",
            description="Closes an issue or PR.",
            examples=("/close", "/close not-planned"),
            who_can_use=(
                f"{AUTHORS_AND_COLLABORATORS} Anyone can close an issue or PR "
                "labeled lifecycle/stale or lifecycle/rotten."
            ),
        ),
        Command(
            pattern=REOPEN,
            usage="/reopen",
            description="Reopens an issue or PR",
            examples=("/reopen",),
            who_can_use=AUTHORS_AND_COLLABORATORS,
        ),
        Command(
            pattern=LIFECYCLE,
            usage="/[remove-]lifecycle <active|frozen|stale|rotten>",
            description="Flags an issue or PR as active/frozen/stale/rotten",
            examples=("/lifecycle frozen", "/remove-lifecycle stale"),
            who_can_use="Anyone can trigger this command.",
        ),
    ),
    handlers={GENERIC_COMMENT: handle_comment},
)
