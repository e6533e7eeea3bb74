"""wip: keeps `do-not-merge/work-in-progress` on a pull request while it is
a draft or its title starts with WIP, and takes it off once neither holds."""

import re

from hook.events import PullRequestEvent
from hook.plugins.base import Plugin, PluginContext

LABEL = "do-not-merge/work-in-progress"
# "WIP: x", "[WIP] x", "wip x"; not "WIPE x".
TITLE = re.compile(r"(?i)^\W?WIP\W")
# The actions after which the title or the draft state may differ.
ACTIONS = frozenset(
    {"opened", "reopened", "edited", "ready_for_review", "converted_to_draft"}
)


def is_work_in_progress(title: str, draft: bool) -> bool:
    return draft or bool(TITLE.match(title))


def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    if event.action not in ACTIONS or not event.number:
        return
    pull = event.pull
    if is_work_in_progress(pull.title, pull.draft):
        ctx.add_labels(pull.number, LABEL)
    else:
        ctx.remove_labels(pull.number, LABEL)


plugin = Plugin(
    name="wip",
    description=(
        f"The wip (Work In Progress) plugin applies the '{LABEL}' label to "
        "pull requests whose title starts with 'WIP' or are in the 'draft' "
        "stage, and removes it from pull requests when they remove the title "
        f"prefix or become ready for review. The '{LABEL}' label is typically "
        "used to block a pull request from merging while it is still in "
        "progress."
    ),
    handlers={"pull_request": handle_pull_request},
)
