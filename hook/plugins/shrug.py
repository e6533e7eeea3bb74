"""shrug: `/shrug` puts the ¯\\_(ツ)_/¯ label on an issue or PR, `/unshrug`
takes it off (with a shrug in reply)."""

import re

from hook.plugins.base import GENERIC_COMMENT, CommandHelp, Plugin, PluginHelp

LABEL = "¯\\_(ツ)_/¯"
SHRUG = re.compile(r"(?mi)^/shrug\s*$")
UNSHRUG = re.compile(r"(?mi)^/unshrug\s*$")


def handle_comment(ctx, comment) -> None:
    if comment.action != "created":
        return
    if SHRUG.search(comment.command_text):
        wanted = True
    elif UNSHRUG.search(comment.command_text):
        wanted = False
    else:
        return
    present = LABEL in ctx.github.labels(comment.org, comment.repo, comment.number)
    if wanted and not present:
        ctx.github.add_labels(comment.org, comment.repo, comment.number, LABEL)
    elif present and not wanted:
        ctx.reply(comment, "¯\\\\\\_(ツ)\\_/¯")
        ctx.github.remove_label(comment.org, comment.repo, comment.number, LABEL)


plugin = Plugin(
    name="shrug",
    help=PluginHelp(
        description=LABEL,
        commands=(
            CommandHelp(
                usage="/[un]shrug",
                description=LABEL,
                examples=("/shrug", "/unshrug"),
                who_can_use="Anyone, " + LABEL,
            ),
        ),
    ),
    handlers={GENERIC_COMMENT: handle_comment},
)
