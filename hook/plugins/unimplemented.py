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
        "approve",
        "assign",
        "blockade",
        "blunderbuss",
        "branchcleaner",
        "bugzilla",
        "buildifier",
        "cat",
        "cherry-pick-unapproved",
        "cla",
        "config-updater",
        "dco",
        "docs-no-retest",
        "dog",
        "golint",
        "goose",
        "heart",
        "help",
        "hold",
        "invalidcommitmsg",
        "jira",
        "label",
        "lgtm",
        "lifecycle",
        "merge-method-comment",
        "mergecommitblocker",
        "milestone",
        "milestoneapplier",
        "milestonestatus",
        "override",
        "owners-label",
        "pony",
        "project",
        "projectmanager",
        "release-note",
        "require-matching-label",
        "require-sig",
        "retitle",
        "sigmention",
        "size",
        "skip",
        "slackevents",
        "testfreeze",
        "transfer-issue",
        "trick-or-treat",
        "verify-owners",
        "welcome",
        "wip",
        "yuks",
    }
)
INVALID_COMMIT_MSG_CHECKS = {"fixupPrefix", "issueClosingKeywords"}


class LgtmConfig(RepoScoped):
    review_acts_as_lgtm: bool = False
    store_tree_hash: bool = False
    trusted_team_for_sticky_lgtm: str = ""


class ApproveConfig(RepoScoped):
    issue_required: bool = False
    require_self_approval: bool | None = None
    lgtm_acts_as_approve: bool = False
    ignore_review_state: bool | None = None
    commandHelpLink: str = "https://go.k8s.io/bot-commands"
    pr_process_link: str = (
        "https://git.k8s.io/community/contributors/guide/owners.md"
        "#the-code-review-process"
    )


class WelcomeConfig(RepoScoped):
    message_template: str = (
        "Welcome @{{.AuthorLogin}}! It looks like this is your first PR to "
        "{{.Org}}/{{.Repo}} 🎉"
    )
    always_post: bool = False


class Blockade(RepoScoped):
    branchregexp: str | None = None
    blockregexps: list[str] = Field(default_factory=list)
    exceptionregexps: list[str] = Field(default_factory=list)
    explanation: str = "Files are protected"


class InvalidCommitMsgCheck(Section):
    name: str
    disabled: bool = False


class InvalidCommitMsgConfig(RepoScoped):
    checks: list[InvalidCommitMsgCheck] = Field(default_factory=list)


class SizeConfig(Section):
    s: int = 10
    m: int = 30
    l: int = 100  # noqa: E741 - the original's key
    xl: int = 500
    xxl: int = 1000


class RestrictedLabel(Section):
    label: str
    allowed_teams: list[str] = Field(default_factory=list)
    allowed_users: list[str] = Field(default_factory=list)
    assign_on: list[dict[str, str]] = Field(default_factory=list)


class LabelConfig(Section):
    additional_labels: list[str] = Field(default_factory=list)
    restricted_labels: dict[str, list[RestrictedLabel]] = Field(default_factory=dict)


class HeartConfig(Section):
    adorees: list[str] = Field(default_factory=list)
    commentregexp: str = ""


class HelpConfig(Section):
    help_guidelines_url: str = (
        "https://git.k8s.io/community/contributors/guide/help-wanted.md"
    )
    help_guidelines_summary: str = ""


class OwnersConfig(Section):
    mdyamlrepos: list[str] = Field(default_factory=list)
    skip_collaborators: list[str] = Field(default_factory=list)
    labels_denylist: list[str] = Field(default_factory=lambda: ["approved", "lgtm"])
    filenames: dict[str, dict[str, str]] = Field(default_factory=dict)


class Milestone(Section):
    maintainers_id: int = 0
    maintainers_team: str = ""
    maintainers_friendly_name: str = "SIG Chairs/TLs"


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


class BranchCleaner(Section):
    preserved_branches: dict[str, list[str]] = Field(default_factory=dict)


class SigMention(Section):
    regexp: str = (
        r"(?m)@kubernetes/sig-([\w-]*)-(misc|test-failures|bugs|"
        r"feature-requests|proposals|pr-reviews|api-reviews)"
    )


class CherryPickUnapproved(Section):
    branchregexp: str = "^release-.*$"
    comment: str = ""


def _check_size(size: SizeConfig, report: SectionReport) -> None:
    thresholds = [
        ("s", size.s),
        ("m", size.m),
        ("l", size.l),
        ("xl", size.xl),
        ("xxl", size.xxl),
    ]
    for (_, low), (name, high) in zip(thresholds, thresholds[1:], strict=False):
        if high <= low:
            report.error((name,), "size thresholds must increase: s < m < l < xl < xxl")


def _check_blunderbuss(blunderbuss: Blunderbuss, report: SectionReport) -> None:
    if blunderbuss.request_count is not None and blunderbuss.request_count < 1:
        report.error(("request_count",), "must be at least 1")


def _check_blockades(blockades: list[Blockade], report: SectionReport) -> None:
    for index, blockade in enumerate(blockades):
        if blockade.branchregexp:
            report.regex(blockade.branchregexp, (index, "branchregexp"), "branch")
        for attr in ("blockregexps", "exceptionregexps"):
            for rindex, pattern in enumerate(getattr(blockade, attr)):
                report.regex(pattern, (index, attr, rindex), attr)


def _check_heart(heart: HeartConfig, report: SectionReport) -> None:
    if heart.commentregexp:
        report.regex(heart.commentregexp, ("commentregexp",), "comment")


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
    PluginSection("lgtm", LgtmConfig, Shape.REPO_LIST),
    PluginSection("approve", ApproveConfig, Shape.REPO_LIST),
    PluginSection("welcome", WelcomeConfig, Shape.REPO_LIST),
    PluginSection("blockades", Blockade, Shape.REPO_LIST, _check_blockades),
    PluginSection(
        "invalid_commit_msg", InvalidCommitMsgConfig, Shape.REPO_LIST, _check_commit_msg
    ),
    PluginSection("size", SizeConfig, check=_check_size),
    PluginSection("label", LabelConfig, map_fields=frozenset({"restricted_labels"})),
    PluginSection("heart", HeartConfig, check=_check_heart),
    PluginSection("help", HelpConfig),
    PluginSection("owners", OwnersConfig),
    PluginSection("repo_milestone", Milestone, Shape.REPO_MAP),
    PluginSection("blunderbuss", Blunderbuss, check=_check_blunderbuss),
    PluginSection("override", Override, map_fields=frozenset({"allowed_github_teams"})),
    PluginSection("retitle", Retitle),
    PluginSection(
        "branch_cleaner", BranchCleaner, map_fields=frozenset({"preserved_branches"})
    ),
    PluginSection("sigmention", SigMention, check=_check_sigmention),
    PluginSection(
        "cherry_pick_unapproved", CherryPickUnapproved, check=_check_cherry_pick
    ),
    PluginSection("dco", dict[str, _RAW], Shape.ONE, map_fields=frozenset({"dco"})),
    PluginSection("project_config", _RAW),
    PluginSection("project_manager", _RAW),
    PluginSection("config_updater", _RAW),
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
    PluginSection("cat", _RAW),
    PluginSection("help_config", _RAW),
    PluginSection("testfreeze", _RAW),
)
