"""project: `/project <board> [column]` puts an issue or pull request on one
of the org's project boards, in that column; `/clear-project <board>` (or
the original's `/project clear <board>`) takes it off.

GitHub retired classic projects, so this works on Projects (v2) over
GraphQL: a board is found by its title among the org's open boards, a
column is an option of the board's single-select "Status" field, and the
card is the board's item for the issue. Only members of the maintainer team
that `project_config` names for the repository (else for its org) may.

A command is carried out in steps (add the item, set its Status, reply).
What it is to do is decided once, from the board as it was, and remembered
until the reply is posted: a delivery retried after a failure half way
finishes the same plan and says the same thing, once. A repeated command
that would change nothing says nothing, as in the original.
"""

import re
from dataclasses import dataclass

from django.core.cache import cache
from pydantic import Field

from hook.events import GenericComment
from hook.plugins.base import Command, Plugin, PluginContext
from prow.config.plugin_sections import PluginSection, SectionReport
from prow.config.schema import Section
from prow.github import projects
from prow.github.projects import Board

PROJECT = re.compile(r"(?m)^/project[ \t]+(.*?)[ \t]*$")
CLEAR_PROJECT = re.compile(r"(?m)^/clear-project[ \t]+(.*?)[ \t]*$")
CLEAR = "clear"
GITHUB_HOST = "github.com"
# How long a half-done command's plan is kept for its retry.
PLAN_SECONDS = 24 * 3600

NO_TEAM = "There is no maintainer team for this repo or org."
NOT_A_MEMBER = (
    "You must be a member of the {team} GitHub team to set the project and column."
)
INVALID_PROJECT = (
    "The provided project is not valid for this organization. "
    "Projects in the {org} organization: [{boards}]."
)
INVALID_COLUMN = (
    "A column is not provided or it's not valid for the project {board}. "
    "Please provide one of the following columns in the command:\n{columns}"
)
INVALID_NUM_ARGS = (
    "Please provide 1 or more arguments. Example usage: /project 0.5.0, "
    "/project 0.5.0 To do, /project clear 0.4.0"
)
ADDED = "You have successfully added this {kind} to project {board}."
ADDED_IN_COLUMN = (
    "You have successfully added this {kind} to project {board}, in column {column}."
)
MOVED = (
    "You have successfully moved the project card for this {kind} to column "
    "{column} of project {board}."
)
CLEARED = "You have successfully removed this issue/PR from project {board}."
NOT_ON_BOARD = (
    'The project "{board}" is not valid for the issue/PR #{number}. Please '
    "provide a valid project to which this issue belongs."
)


# plugins.yaml -------------------------------------------------------------------


class ProjectRepoConfig(Section):
    repo_maintainers_team_id: int = 0
    repo_default_column_map: dict[str, str] = Field(default_factory=dict)


class ProjectOrgConfig(Section):
    org_maintainers_team_id: int = 0
    org_default_column_map: dict[str, str] = Field(default_factory=dict)
    project_repo_configs: dict[str, ProjectRepoConfig] = Field(default_factory=dict)


class ProjectConfig(Section):
    project_org_configs: dict[str, ProjectOrgConfig] = Field(default_factory=dict)

    def maintainer_team(self, org: str, repo: str) -> int:
        """The team id for org/repo: the repo's own, else its org's; 0 for
        none."""
        org_config = self.project_org_configs.get(org)
        if org_config is None:
            return 0
        repo_config = org_config.project_repo_configs.get(repo)
        if repo_config is not None and repo_config.repo_maintainers_team_id:
            return repo_config.repo_maintainers_team_id
        return org_config.org_maintainers_team_id

    def default_column(self, org: str, repo: str, board: str) -> str:
        """The column a board's items go to when the command names none:
        the repo's map, then the org's."""
        org_config = self.project_org_configs.get(org)
        if org_config is None:
            return ""
        repo_config = org_config.project_repo_configs.get(repo)
        if repo_config is not None and board in repo_config.repo_default_column_map:
            return repo_config.repo_default_column_map[board]
        return org_config.org_default_column_map.get(board, "")


POSITIVE = "a team id is a positive number"
NOBODY = "no maintainer team for this repo or its org: nobody may use /project"


def _check(config: ProjectConfig, report: SectionReport) -> None:
    for org, org_config in config.project_org_configs.items():
        path = ("project_org_configs", org)
        if "/" in org:
            report.error(path, "keys here are orgs; repos go in project_repo_configs")
        if org_config.org_maintainers_team_id < 0:
            report.error((*path, "org_maintainers_team_id"), POSITIVE)
        for repo, repo_config in org_config.project_repo_configs.items():
            repo_path = (*path, "project_repo_configs", repo)
            if "/" in repo:
                report.error(repo_path, "keys here are repo names, without the org")
            if repo_config.repo_maintainers_team_id < 0:
                report.error((*repo_path, "repo_maintainers_team_id"), POSITIVE)
            if not (
                repo_config.repo_maintainers_team_id
                or org_config.org_maintainers_team_id
            ):
                report.warning(repo_path, NOBODY)
        if not (org_config.org_maintainers_team_id or org_config.project_repo_configs):
            report.warning(path, NOBODY)


SECTION = PluginSection(
    "project_config",
    ProjectConfig,
    check=_check,
    map_fields=frozenset(
        {
            "project_org_configs",
            "project_repo_configs",
            "org_default_column_map",
            "repo_default_column_map",
        }
    ),
)


# The command ----------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    board: str
    column: str
    clear: bool


def parse(args: str, clear: bool = False) -> Request | None:
    """A command's arguments as the original reads them: an optional
    leading `clear`, then the board and the column, each one word or
    quoted ('…' or "…"); without quotes the column is the rest of the line.
    None when there is no board."""
    content = args.strip()
    if re.match(rf"{CLEAR}(\s|$)", content):
        clear = True
        content = content[len(CLEAR) :].strip()
    content = content.replace('"', "'")
    parts = content.split("'") if "'" in content else content.split(" ", 1)
    words = [part.strip() for part in parts if part.strip()]
    if not 1 <= len(words) <= 2:
        return None
    return Request(words[0], words[1] if len(words) > 1 else "", clear)


def _kind(comment: GenericComment) -> str:
    return "PR" if comment.is_pr else "issue"


def _team_link(org: str, slug: str, team_id: int) -> str:
    if not slug:
        return f"{org} (team ID {team_id})"
    return f"[{org}/{slug}](https://{GITHUB_HOST}/orgs/{org}/teams/{slug}/members)"


def _plan_key(ctx: PluginContext, command: str, match: re.Match) -> str:
    return f"hook:project:plan:{ctx.guid}:{command}:{match.start()}"


def handle_project(ctx: PluginContext, comment: GenericComment, match) -> None:
    _handle(ctx, comment, match, clear=False)


def handle_clear_project(ctx: PluginContext, comment: GenericComment, match) -> None:
    _handle(ctx, comment, match, clear=True)


def _handle(ctx: PluginContext, comment: GenericComment, match, *, clear: bool) -> None:
    key = _plan_key(ctx, "clear" if clear else "project", match)
    plan = cache.get(key)
    if plan is None:
        plan = _decide(ctx, comment, match.group(1), clear)
        if plan is None:
            return
        if plan.get("steps"):
            cache.set(key, plan, PLAN_SECONDS)
    _carry_out(ctx, plan)
    if plan.get("reply"):
        ctx.reply(comment, plan["reply"])
    cache.delete(key)


def _decide(
    ctx: PluginContext, comment: GenericComment, args: str, clear: bool
) -> dict | None:
    """What the command is to do, as a plan: steps (GraphQL writes, each
    safe to repeat) and the reply. None when there is nothing to do or say."""
    request = parse(args, clear)
    if request is None:
        return {"reply": INVALID_NUM_ARGS}
    settings: ProjectConfig = plugin.settings(ctx)
    team_id = settings.maintainer_team(comment.org, comment.repo)
    if not team_id:
        return {"reply": NO_TEAM}
    if not ctx.github.is_team_member_by_id(team_id, comment.user):
        slug = ctx.github.team_slug(team_id)
        team = _team_link(comment.org, slug, team_id)
        return {"reply": NOT_A_MEMBER.format(team=team)}

    boards = [b for b in projects.org_boards(ctx.github, comment.org) if not b.closed]
    board = next((b for b in boards if b.title == request.board), None)
    if board is None:
        titles = ", ".join(sorted(f"`{b.title}`" for b in boards))
        return {"reply": INVALID_PROJECT.format(org=comment.org, boards=titles)}

    content = projects.content(ctx.github, comment.org, comment.repo, comment.number)
    item = content.item_on(board)
    if request.clear:
        if item is None:
            return {
                "reply": NOT_ON_BOARD.format(board=board.title, number=comment.number)
            }
        return {
            "board": board,
            "steps": [("delete", item.id)],
            "reply": CLEARED.format(board=board.title),
        }

    column = request.column or settings.default_column(
        comment.org, comment.repo, board.title
    )
    option = board.status(column) if column else None
    if column and option is None:
        names = ", ".join(f"`{o.name}`" for o in board.statuses) or "(none)"
        return {"reply": INVALID_COLUMN.format(board=board.title, columns=names)}

    kind = _kind(comment)
    if item is not None:
        if option is None or item.status == option.name:
            return None  # already there: nothing to change, nothing to say
        return {
            "board": board,
            "steps": [("status", item.id, option)],
            "reply": MOVED.format(kind=kind, column=option.name, board=board.title),
        }
    steps: list[tuple] = [("add", content.id)]
    if option is None:
        reply = ADDED.format(kind=kind, board=board.title)
    else:
        steps.append(("status", None, option))
        reply = ADDED_IN_COLUMN.format(kind=kind, board=board.title, column=option.name)
    return {"board": board, "steps": steps, "reply": reply}


def _carry_out(ctx: PluginContext, plan: dict) -> None:
    board: Board | None = plan.get("board")
    item_id = ""
    for step in plan.get("steps") or []:
        if step[0] == "add":
            item_id = projects.add_item(ctx.github, board, step[1])
        elif step[0] == "status":
            projects.set_status(ctx.github, board, step[1] or item_id, step[2])
        elif step[0] == "delete":
            projects.delete_item(ctx.github, board, step[1])


WHO = "Members of the project maintainer GitHub team can use the '/project' command."

plugin = Plugin(
    name="project",
    description=(
        "The project plugin allows members of a GitHub team to set the project "
        "and column on an issue or pull request. It works on GitHub Projects "
        "(v2), as GitHub retired classic projects: a project is one of the "
        "org's open boards, found by its title, and a column is an option of "
        "the board's Status field. Unlike the original, `/project <board>` "
        "with no column (and no default column configured) adds the item "
        "without a Status; the maintainer team is the repo's when it names "
        "one, else the org's; `/clear-project <board>` is a spelling of "
        "`/project clear <board>`; and a column may differ from the board's "
        "spelling in case. Each `/project` line of a comment is carried out "
        "(the original reads only the first), and a refusal links the "
        "maintainer team itself (the original linked a team named after the "
        "repo)."
    ),
    commands=(
        Command(
            pattern=PROJECT,
            handler=handle_project,
            usage=(
                "/project <board>, /project <board> <column>, or /project clear <board>"
            ),
            description="Add an issue or PR to a project board and column",
            examples=("/project 0.5.0", "/project 0.5.0 To do", "/project clear 0.4.0"),
            who_can_use=WHO,
        ),
        Command(
            pattern=CLEAR_PROJECT,
            handler=handle_clear_project,
            usage="/clear-project <board>",
            description="Remove an issue or PR from a project board",
            examples=("/clear-project 0.4.0",),
            who_can_use=WHO,
        ),
    ),
    config=SECTION,
    config_help=(
        "project_config.project_org_configs: per org, org_maintainers_team_id "
        "and org_default_column_map (board title -> column), and per repo "
        "under project_repo_configs, repo_maintainers_team_id and "
        "repo_default_column_map."
    ),
)
