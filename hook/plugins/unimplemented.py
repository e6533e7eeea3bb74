"""The original's plugins that have no module here yet.

plugins.yaml may enable them (the seed's file does), and their sections are
typed and checked now, so a file that the plugin would refuse is refused
today rather than on the day the plugin lands. Each plugin's names, model
and checks move into its own module when it is written.
"""

from typing import Any

from pydantic import Field

from prow.config.plugin_sections import PluginSection, SectionReport, Shape
from prow.config.plugins_schema import RepoScoped
from prow.config.schema import Section

NAMES = frozenset(
    {
        "blunderbuss",
        "bugzilla",
        "buildifier",
        "cherry-pick-unapproved",
        "cla",
        "dco",
        "docs-no-retest",
        "golint",
        "goose",
        "invalidcommitmsg",
        "jira",
        "merge-method-comment",
        "mergecommitblocker",
        "milestoneapplier",
        "override",
        "owners-label",
        "projectmanager",
        "release-note",
        "require-matching-label",
        "require-sig",
        "retitle",
        "sigmention",
        "slackevents",
        "testfreeze",
        "transfer-issue",
        "trick-or-treat",
        "verify-owners",
    }
)
INVALID_COMMIT_MSG_CHECKS = {"fixupPrefix", "issueClosingKeywords"}


class InvalidCommitMsgCheck(Section):
    name: str
    disabled: bool = False


class InvalidCommitMsgConfig(RepoScoped):
    checks: list[InvalidCommitMsgCheck] = Field(default_factory=list)


class Blunderbuss(Section):
    request_count: int | None = None
    max_request_count: int = 0
    exclude_approvers: bool = False
    use_status_availability: bool = False
    ignore_drafts: bool = False
    ignore_authors: list[str] = Field(default_factory=list)
    wait_for_status: dict[str, Any] | None = None


class Override(Section):
    allow_top_level_owners: bool = False
    allowed_github_teams: dict[str, list[str]] = Field(default_factory=dict)


class Retitle(Section):
    allow_closed_issues: bool = False


class SigMention(Section):
    regexp: str = (
        r"(?m)@kubernetes/sig-([\w-]*)-(misc|test-failures|bugs|"
        r"feature-requests|proposals|pr-reviews|api-reviews)"
    )


class CherryPickUnapproved(Section):
    branchregexp: str = "^release-.*$"
    comment: str = ""


def _check_blunderbuss(blunderbuss: Blunderbuss, report: SectionReport) -> None:
    if blunderbuss.request_count is not None and blunderbuss.request_count < 1:
        report.error(("request_count",), "must be at least 1")


def _check_sigmention(sigmention: SigMention, report: SectionReport) -> None:
    report.regex(sigmention.regexp, ("regexp",), "sigmention")


def _check_cherry_pick(config: CherryPickUnapproved, report: SectionReport) -> None:
    report.regex(config.branchregexp, ("branchregexp",), "branch")


def _check_commit_msg(
    entries: list[InvalidCommitMsgConfig], report: SectionReport
) -> None:
    for index, entry in enumerate(entries):
        for cindex, check in enumerate(entry.checks):
            if check.name not in INVALID_COMMIT_MSG_CHECKS:
                report.error(
                    (index, "checks", cindex, "name"),
                    f"unknown check {check.name!r}; known: "
                    f"{', '.join(sorted(INVALID_COMMIT_MSG_CHECKS))}",
                )


_RAW = dict[str, Any]
SECTIONS = (
    PluginSection(
        "invalid_commit_msg", InvalidCommitMsgConfig, Shape.REPO_LIST, _check_commit_msg
    ),
    PluginSection("blunderbuss", Blunderbuss, check=_check_blunderbuss),
    PluginSection("override", Override, map_fields=frozenset({"allowed_github_teams"})),
    PluginSection("retitle", Retitle),
    PluginSection("sigmention", SigMention, check=_check_sigmention),
    PluginSection(
        "cherry_pick_unapproved", CherryPickUnapproved, check=_check_cherry_pick
    ),
    PluginSection("dco", dict[str, _RAW], Shape.ONE, map_fields=frozenset({"dco"})),
    PluginSection("project_manager", _RAW),
    PluginSection("slack", _RAW),
    PluginSection("require_matching_label", list[_RAW]),
    PluginSection(
        "milestone_applier",
        dict[str, dict[str, str]],
        map_fields=frozenset({"milestone_applier"}),
    ),
    PluginSection("bugzilla", _RAW),
    PluginSection("jira", _RAW),
    PluginSection("golint", _RAW),
    PluginSection("goose", _RAW),
    PluginSection("help_config", _RAW),
    PluginSection("testfreeze", _RAW),
)
