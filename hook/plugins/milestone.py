"""milestone: `/milestone v1.2` puts an issue or pull request in that
milestone, `/milestone clear` takes it out of any.

Only members of the repository's milestone maintainers team may: the team of
`repo_milestone["org/repo"]`, else of `repo_milestone[""]`, named by slug,
else by id. The same section serves milestonestatus.
"""

import re

from hook.events import GENERIC_COMMENT, GenericComment
from hook.plugins.base import Command, Plugin, PluginContext
from prow.config.plugin_sections import PluginSection, SectionReport, Shape
from prow.config.schema import Section

MILESTONE = re.compile(r"(?m)^/milestone\s+(.+?)\s*$")
CLEAR = "clear"
GITHUB_HOST = "github.com"


class RepoMilestone(Section):
    maintainers_id: int = 0
    maintainers_team: str = ""
    maintainers_friendly_name: str = "SIG Chairs/TLs"


def _check(entries: dict[str, RepoMilestone], report: SectionReport) -> None:
    for key, entry in entries.items():
        if not entry.maintainers_team and not entry.maintainers_id:
            report.warning(
                (key,),
                "neither maintainers_team nor maintainers_id is set: nobody "
                "may use /milestone or /status here",
            )
        if entry.maintainers_id < 0:
            report.error((key, "maintainers_id"), "a team id is a positive number")


SECTION = PluginSection("repo_milestone", RepoMilestone, Shape.REPO_MAP, _check)


def maintainers(ctx: PluginContext) -> RepoMilestone:
    """The milestone maintainers of the event's repository."""
    return ctx.plugins.section(SECTION.key, ctx.org, ctx.repo)


def configured(ctx: PluginContext, team: RepoMilestone) -> bool:
    """Whether the repository has a maintainers team at all; without one the
    commands are ignored, as the original fails before answering."""
    if team.maintainers_team or team.maintainers_id:
        return True
    ctx.logger.info("no milestone maintainers team for %s/%s", ctx.org, ctx.repo)
    return False


def is_maintainer(ctx: PluginContext, team: RepoMilestone, login: str) -> bool:
    if team.maintainers_team:
        return ctx.is_team_member(team.maintainers_team, login)
    if team.maintainers_id:
        return ctx.github.is_team_member_by_id(team.maintainers_id, login)
    return False


def team_link(org: str, team: RepoMilestone) -> str:
    slug = team.maintainers_team
    return f"[{org}/{slug}](https://{GITHUB_HOST}/orgs/{org}/teams/{slug}/members)"


def handle_comment(ctx: PluginContext, comment: GenericComment) -> None:
    if comment.action != "created":
        return
    # The first /milestone of a comment decides, as in the original.
    match = MILESTONE.search(comment.command_text)
    if match is None:
        return
    team = maintainers(ctx)
    if not configured(ctx, team):
        return
    if not is_maintainer(ctx, team, comment.user):
        ctx.reply_once(
            comment,
            f"You must be a member of the {team_link(ctx.org, team)} GitHub team "
            "to set the milestone. If you believe you should be able to issue the "
            "/milestone command, please contact your "
            f"{team.maintainers_friendly_name} and have them propose you as an "
            "additional delegate for this responsibility.",
        )
        return
    wanted = match.group(1)
    if wanted == CLEAR:
        ctx.clear_milestone(comment.number)
        return
    if ctx.set_milestone(comment.number, wanted):
        return
    titles = sorted(f"`{m.title}`" for m in ctx.milestones())
    ctx.reply_once(
        comment,
        "The provided milestone is not valid for this repository. Milestones in "
        f"this repository: [{', '.join(titles)}]\n\n"
        f"Use `/milestone {CLEAR}` to clear the milestone.",
    )


plugin = Plugin(
    name="milestone",
    description=(
        "The milestone plugin allows members of a configurable GitHub team to "
        "set the milestone on an issue or pull request. Unlike the original, "
        "membership is asked of GitHub for the commenter alone rather than by "
        "listing the whole team, an org key in repo_milestone applies to the "
        "org's repositories, and an answer already given is not repeated."
    ),
    commands=(
        Command(
            pattern=MILESTONE,
            usage="/milestone <version> or /milestone clear",
            description="Updates the milestone for an issue or PR",
            examples=("/milestone v1.10", "/milestone v1.9", "/milestone clear"),
            who_can_use=(
                "Members of the milestone maintainers GitHub team can use the "
                "'/milestone' command."
            ),
        ),
    ),
    handlers={GENERIC_COMMENT: handle_comment},
    config=SECTION,
    config_help=(
        'repo_milestone: by org/repo, or "" for every repository: '
        "maintainers_team (a team slug) or maintainers_id, and "
        "maintainers_friendly_name."
    ),
)
