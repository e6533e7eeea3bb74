"""heart: reacts to comments its adorees leave on pull requests (those
matching `heart.commentregexp`), and to pull requests that add to OWNERS or
OWNERS_ALIASES files."""

import posixpath

from pydantic import Field

from hook.owners import OWNERS_SECTION
from hook.plugins.base import Plugin
from prow.config.plugin_sections import PluginSection, SectionReport
from prow.config.regex import compile_go_regex
from prow.config.schema import Section

REACTIONS = ("+1", "heart", "hooray")


class HeartConfig(Section):
    adorees: list[str] = Field(default_factory=list)
    # Empty means never react to comments, as in the original.
    commentregexp: str = ""


def _check(heart: HeartConfig, report: SectionReport) -> None:
    if heart.commentregexp:
        report.regex(heart.commentregexp, ("commentregexp",), "comment")
    for index, login in enumerate(heart.adorees):
        if not login.strip():
            report.error(("adorees", index), "an empty login adores nobody")


SECTION = PluginSection("heart", HeartConfig, check=_check)


def reaction_for(key: int) -> str:
    """One of the reactions, the same every time for the same comment or
    pull request: a delivery handled twice must not leave two reactions of
    different kinds."""
    return REACTIONS[key % len(REACTIONS)]


def on_comment(ctx, comment) -> None:
    # As the original: new comments on pull requests, not reviews or the
    # lines of a diff.
    if comment.source != "issue_comment" or comment.action != "created":
        return
    if not comment.is_pr:
        return
    heart = plugin.settings(ctx)
    if not heart.adorees or not heart.commentregexp:
        return
    # GitHub logins are case-insensitive; the original compares them exactly.
    if comment.user.lower() not in {login.lower() for login in heart.adorees}:
        return
    if not compile_go_regex(heart.commentregexp).search(comment.body):
        return
    ctx.logger.info("This is a wonderful thing!")
    ctx.react(comment, reaction_for(comment.comment_id or comment.number))


def on_pull_request(ctx, event) -> None:
    if event.action != "opened":
        return
    owners = ctx.plugins.section(OWNERS_SECTION.key, ctx.org, ctx.repo)
    wanted = set(owners.filenames_for(ctx.org, ctx.repo))
    for change in ctx.github.pull_changes(ctx.org, ctx.repo, event.number):
        if posixpath.basename(change.filename) in wanted and change.additions > 0:
            ctx.logger.info("Adding new OWNERS makes me happy!")
            ctx.github.react_to_issue(
                ctx.org, ctx.repo, event.number, reaction_for(event.number)
            )
            return


plugin = Plugin(
    name="heart",
    description=(
        "The heart plugin celebrates certain GitHub actions with the reaction "
        "emojis. Emojis are added to pull requests that make additions to "
        "OWNERS or OWNERS_ALIASES files and to comments left by specified "
        '"adorees". Unlike the original, which picks the emoji at random, '
        "the emoji follows from the comment or pull request, so a webhook "
        "delivered twice never leaves two different reactions; adorees' "
        "logins are matched case-insensitively, as GitHub treats them."
    ),
    handlers={"generic_comment": on_comment, "pull_request": on_pull_request},
    config=SECTION,
    config_help=(
        "`heart.adorees` lists the GitHub users whose pull request comments "
        "matching `heart.commentregexp` get a reaction; an empty regexp "
        "means no comment does."
    ),
)
