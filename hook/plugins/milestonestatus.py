"""milestonestatus: `/status approved-for-milestone|in-progress|in-review`
labels a pull request `status/<value>`, for the milestone maintainers team
(milestone's `repo_milestone` section)."""

import re

from hook.events import GENERIC_COMMENT, GenericComment
from hook.plugins.base import Command, Plugin, PluginContext
from hook.plugins.milestone import (
    SECTION,
    configured,
    is_maintainer,
    maintainers,
    team_link,
)

STATUS = re.compile(r"(?m)^/status\s+(.+)$")
STATUSES = ("approved-for-milestone", "in-progress", "in-review")


def handle_comment(ctx: PluginContext, comment: GenericComment) -> None:
    if comment.action != "created":
        return
    matches = list(STATUS.finditer(comment.command_text))
    if not matches:
        return
    team = maintainers(ctx)
    if not configured(ctx, team):
        return
    if not is_maintainer(ctx, team, comment.user):
        # A plain comment rather than a reply, as the original's.
        ctx.comment_once(
            comment.number,
            f"You must be a member of the {team_link(ctx.org, team)} GitHub team "
            "to add status labels. If you believe you should be able to issue the "
            "/status command, please contact your "
            f"{team.maintainers_friendly_name} and have them propose you as an "
            "additional delegate for this responsibility.",
        )
        return
    labels = [
        f"status/{value}"
        for value in (match.group(1).strip() for match in matches)
        if value in STATUSES
    ]
    ctx.add_labels(comment.number, *labels)


plugin = Plugin(
    name="milestonestatus",
    description=(
        "The milestonestatus plugin allows members of the milestone maintainers "
        "GitHub team to specify the 'status/*' label that should apply to a "
        "pull request. Unlike the original, the labels of one comment go on in "
        "one request, and the refusal is not repeated when the comment is "
        "handled again."
    ),
    commands=(
        Command(
            pattern=STATUS,
            usage="/status (approved-for-milestone|in-progress|in-review)",
            description="Applies the 'status/' label to a PR.",
            examples=(
                "/status approved-for-milestone",
                "/status in-progress",
                "/status in-review",
            ),
            who_can_use=(
                "Members of the milestone maintainers GitHub team can use the "
                "'/status' command. The team is milestone's repo_milestone "
                "section: a team slug, else a team id."
            ),
        ),
    ),
    handlers={GENERIC_COMMENT: handle_comment},
    # Declared by milestone; the registry takes the same declaration twice.
    config=SECTION,
    config_help=(
        "Reads milestone's repo_milestone section: maintainers_team or "
        "maintainers_id, and maintainers_friendly_name."
    ),
)
