"""hold: `/hold` puts `do-not-merge/hold` on a pull request so that it does
not merge while approved; `/hold cancel` (or `/unhold`, `/remove-hold`)
takes it off. No comment either way."""

import re

from hook.events import GENERIC_COMMENT, GenericComment
from hook.plugins.base import Command, Plugin, PluginContext

LABEL = "do-not-merge/hold"

HOLD = re.compile(r"(?mi)^/hold(\s.*)?$")
# Checked first: "/hold cancel" also reads as a /hold with a reason.
CANCEL = re.compile(r"(?mi)^/(remove-hold|hold\s+cancel|unhold)(\s.*)?$")


def handle_comment(ctx: PluginContext, comment: GenericComment) -> None:
    if not comment.is_pr or comment.action != "created":
        return
    text = comment.command_text
    # One comment decides once, as in the original: a cancel anywhere in it
    # wins over a /hold elsewhere in it.
    if CANCEL.search(text):
        ctx.remove_labels(comment.number, LABEL)
    elif HOLD.search(text):
        ctx.add_labels(comment.number, LABEL)


plugin = Plugin(
    name="hold",
    description=(
        f"The hold plugin allows anyone to add or remove the '{LABEL}' label "
        "from a pull request in order to temporarily prevent the PR from "
        "merging without withholding approval."
    ),
    # The comment is read as a whole (a cancel wins), so the handler below
    # reads these patterns rather than each command having its own.
    commands=(
        Command(
            pattern=HOLD,
            usage="/[remove-][un]hold [cancel]",
            description=(
                f"Adds or removes the `{LABEL}` label, which is used to "
                "indicate that the PR should not be automatically merged."
            ),
            examples=("/hold", "/hold cancel", "/unhold", "/remove-hold"),
            who_can_use=(
                f"Anyone can use the /hold command to add or remove the "
                f"'{LABEL}' label."
            ),
        ),
    ),
    handlers={GENERIC_COMMENT: handle_comment},
)
