"""blockade: pull requests that touch protected paths get
`do-not-merge/blocked-paths` and one comment saying which files and why;
both go once the pull request no longer touches them.

A blockade applies to the repositories its `repos` names (an org or
org/repo) and, with `branchregexp`, to base branches that match it. A
changed file is blocked when it matches one of the blockade's
`blockregexps` and none of its `exceptionregexps`.
"""

from pydantic import Field

from hook.events import PullRequestEvent
from hook.plugins.base import Plugin, PluginContext
from prow.config.plugin_sections import PluginSection, SectionReport, Shape
from prow.config.plugins_schema import RepoScoped
from prow.config.regex import compile_go_regex
from prow.github.bot import ABOUT_BOT
from prow.github.types import ChangedFile

LABEL = "do-not-merge/blocked-paths"
# The first line of the explanation comment; also how it is found again.
BLOCKED_BODY = f"Adding label: `{LABEL}` because PR changes a protected file."
DEFAULT_EXPLANATION = "Files are protected"
ACTIONS = frozenset({"opened", "reopened", "synchronize"})


class Blockade(RepoScoped):
    branchregexp: str | None = None
    blockregexps: list[str] = Field(default_factory=list)
    exceptionregexps: list[str] = Field(default_factory=list)
    explanation: str = DEFAULT_EXPLANATION


def _check(blockades: list[Blockade], report: SectionReport) -> None:
    for index, blockade in enumerate(blockades):
        if blockade.branchregexp:
            report.regex(blockade.branchregexp, (index, "branchregexp"), "branch")
        for attr in ("blockregexps", "exceptionregexps"):
            for rindex, pattern in enumerate(getattr(blockade, attr)):
                report.regex(pattern, (index, attr, rindex), attr)
        if not blockade.repos:
            report.warning((index, "repos"), "names no repository: never applies")
        if not blockade.blockregexps:
            report.warning((index, "blockregexps"), "blocks nothing: never applies")


BLOCKADES = PluginSection("blockades", Blockade, Shape.REPO_LIST, _check)


def applicable(
    blockades: list[Blockade], org: str, repo: str, branch: str
) -> list[Blockade]:
    """The blockades that apply to a pull request into org/repo's branch."""
    names = {org, f"{org}/{repo}"}
    return [
        b
        for b in blockades
        if names & set(b.repos)
        and b.blockregexps
        and (not b.branchregexp or compile_go_regex(b.branchregexp).search(branch))
    ]


def _blocks(blockade: Blockade, path: str) -> bool:
    def matches(patterns: list[str]) -> bool:
        return any(compile_go_regex(p).search(path) for p in patterns)

    return matches(blockade.blockregexps) and not matches(blockade.exceptionregexps)


def blocked_files(
    changes: list[ChangedFile], blockades: list[Blockade]
) -> dict[str, list[ChangedFile]]:
    """Blocked files by the explanation of the blockade blocking them, in
    the order they were first found."""
    found: dict[str, list[ChangedFile]] = {}
    for change in changes:
        for blockade in blockades:
            if _blocks(blockade, change.filename):
                reason = blockade.explanation or DEFAULT_EXPLANATION
                found.setdefault(reason, []).append(change)
    return found


def explanation(author: str, blocked: dict[str, list[ChangedFile]]) -> str:
    reasons = "#### Reasons for blocking this PR:\n"
    for reason, files in blocked.items():
        reasons += f"[{reason}]\n"
        for change in files:
            reasons += f"- [{change.filename}]({change.blob_url})\n\n"
    return (
        f"@{author}: {BLOCKED_BODY}\n\n"
        f"<details>\n\n{reasons}\n\n{ABOUT_BOT}\n</details>"
    )


def _all_blockades(ctx: PluginContext) -> list[Blockade]:
    # Every entry naming the repository applies, not only the first one, so
    # the whole list is read rather than one repo's entry.
    return BLOCKADES.parse((ctx.plugins.model_extra or {}).get(BLOCKADES.key))


def _our_comments(ctx: PluginContext, number: int):
    return [
        comment
        for comment in ctx.github.list_comments(ctx.org, ctx.repo, number)
        if ctx.github.is_bot(comment.user) and BLOCKED_BODY in comment.body
    ]


def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    if event.action not in ACTIONS or not event.number:
        return
    pull = event.pull
    labelled = ctx.has_label(pull.number, LABEL)
    blockades = applicable(_all_blockades(ctx), ctx.org, ctx.repo, pull.base_ref)
    if not blockades and not labelled:
        return
    blocked = {}
    if blockades:
        changes = ctx.github.pull_changes(ctx.org, ctx.repo, pull.number)
        blocked = blocked_files(changes, blockades)
    if blocked and not labelled:
        ctx.add_labels(pull.number, LABEL)
        # The label may have gone on in an earlier try of this delivery
        # whose comment failed, or in a copy of this event: one comment only.
        if not _our_comments(ctx, pull.number):
            ctx.comment(pull.number, explanation(pull.author, blocked))
    elif not blocked and labelled:
        ctx.remove_labels(pull.number, LABEL)
        for comment in _our_comments(ctx, pull.number):
            ctx.github.delete_comment(ctx.org, ctx.repo, comment.id)


plugin = Plugin(
    name="blockade",
    description=(
        "The blockade plugin blocks pull requests from merging if they touch "
        f"specific files. The plugin applies the '{LABEL}' label to pull "
        "requests that touch files that match a blockade's block regular "
        "expression and none of the corresponding exception regular "
        "expressions, with one comment listing the files, and removes both "
        "once the pull request no longer touches them. Unlike the original, "
        "the comment is never posted twice: when the label is put back (say, "
        "after someone removed it by hand), the comment already there stays "
        "the only one."
    ),
    config=BLOCKADES,
    config_help=(
        "blockades: a list of {repos, branchregexp, blockregexps, "
        "exceptionregexps, explanation}; every entry naming the repository "
        "applies. explanation defaults to "
        f"'{DEFAULT_EXPLANATION}'."
    ),
    handlers={"pull_request": handle_pull_request},
)
