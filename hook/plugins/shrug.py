"""shrug: `/shrug` puts the ¯\\_(ツ)_/¯ label on an issue or PR, `/unshrug`
takes it off (with a shrug in reply)."""

import re

from hook.plugins.base import Command, Plugin

LABEL = "¯\\_(ツ)_/¯"


def shrug(ctx, comment, match) -> None:
    if not match.group(1):
        ctx.add_labels(comment.number, LABEL)
    elif ctx.has_label(comment.number, LABEL):
        ctx.reply(comment, "¯\\\\\\_(ツ)\\_/¯")
        ctx.remove_labels(comment.number, LABEL)


plugin = Plugin(
    name="shrug",
    description=LABEL,
    commands=(
        Command(
            pattern=re.compile(r"(?mi)^/(un)?shrug\s*$"),
            handler=shrug,
            usage="/[un]shrug",
            description=LABEL,
            examples=("/shrug", "/unshrug"),
            who_can_use="Anyone, " + LABEL,
        ),
    ),
)
