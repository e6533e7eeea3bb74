"""branchcleaner: when a pull request from a branch of the repository itself
is merged, delete that branch.

Branches of forks are left alone, and so are the branches branch_cleaner's
preserved_branches names for the org or the repo (each entry an exact name
or a regex, unanchored as Go's MatchString), protected branches and the
repository's default branch.
"""

from pydantic import Field

from hook.events import PullRequestEvent
from hook.plugins.base import Plugin, PluginContext
from prow.config.plugin_sections import PluginSection, SectionReport
from prow.config.regex import compile_go_regex, regex_problem
from prow.config.schema import Section
from prow.github.client import GitHubError


class BranchCleaner(Section):
    # org or org/repo -> branch names or regexes to keep.
    preserved_branches: dict[str, list[str]] = Field(default_factory=dict)

    def preserved(self, org: str, repo: str, branch: str) -> bool:
        for key in (f"{org}/{repo}", org):
            for entry in self.preserved_branches.get(key, ()):
                if branch == entry or _matches(entry, branch):
                    return True
        return False


def _matches(pattern: str, branch: str) -> bool:
    # The original ignores an entry that is no regex: it is a name only.
    if regex_problem(pattern, "branch") is not None:
        return False
    return compile_go_regex(pattern).search(branch) is not None


def _check(config: BranchCleaner, report: SectionReport) -> None:
    for key, entries in config.preserved_branches.items():
        for index, entry in enumerate(entries):
            problem = regex_problem(entry, "preserved branch")
            if problem:
                report.warning(
                    ("preserved_branches", key, index),
                    f"{problem}; it keeps only the branch of exactly that name",
                )


SECTION = PluginSection(
    "branch_cleaner",
    BranchCleaner,
    check=_check,
    map_fields=frozenset({"preserved_branches"}),
)


def _full_name(repo: object) -> str:
    return str(repo.get("full_name") or "") if isinstance(repo, dict) else ""


def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    raw = event.payload.get("pull_request") or {}
    if event.action != "closed" or not raw.get("merged"):
        return
    head, base = raw.get("head") or {}, raw.get("base") or {}
    # A fork's branch is not ours to delete (nor, once the fork is gone, is
    # there a head repository at all).
    head_repo = _full_name(head.get("repo"))
    if not head_repo or head_repo != _full_name(base.get("repo")):
        return
    branch = str(head.get("ref") or "")
    if not branch:
        return
    settings: BranchCleaner = plugin.settings(ctx)
    if settings.preserved(ctx.org, ctx.repo, branch):
        return
    default = (event.payload.get("repository") or {}).get("default_branch")
    if branch == default or branch == (base.get("repo") or {}).get("default_branch"):
        return
    protected = ctx.github.branch_protected(ctx.org, ctx.repo, branch)
    if protected is None:
        return  # already deleted, by hand or by GitHub's own auto-delete
    if protected:
        ctx.logger.info("branchcleaner keeps protected branch %s", branch)
        return
    try:
        ctx.delete_branch(branch)
    except GitHubError as exc:
        # Protected since it was read, or a rule GitHub enforces that the
        # branch API does not show: the branch is kept, which is no error.
        if exc.status != 422:
            raise
        ctx.logger.info("branchcleaner: GitHub kept %s: %s", branch, exc)


plugin = Plugin(
    name="branchcleaner",
    description=(
        "The branchcleaner plugin automatically deletes source branches for "
        "merged PRs between two branches on the same repository. This is "
        "helpful to keep repos that don't allow forking clean. Unlike the "
        "original, it also keeps protected branches and the repository's "
        "default branch, and a branch GitHub refuses to delete is kept "
        "rather than reported as a failure."
    ),
    handlers={"pull_request": handle_pull_request},
    config=SECTION,
    config_help=(
        "branch_cleaner.preserved_branches: per org or org/repo, branch names "
        "or regexes never deleted."
    ),
)
