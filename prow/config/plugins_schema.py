"""Typed model of the original Prow's plugins.yaml."""

import os
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, Field

from prow.config.schema import Section

# Every plugin name the original knows. Names outside this list are refused
# by validation; hook's registry implements a growing subset of it.
KNOWN_PLUGINS = frozenset(
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
        "shrug",
        "sigmention",
        "size",
        "skip",
        "slackevents",
        "stage",
        "testfreeze",
        "transfer-issue",
        "trick-or-treat",
        "trigger",
        "verify-owners",
        "welcome",
        "wip",
        "yuks",
    }
)


def extra_plugin_modules() -> dict[str, str]:
    """In-process plugins a deployment adds: PROW_EXTRA_PLUGINS is a comma
    list of name=dotted.module. Their names are known plugin names too."""
    extras = {}
    for item in os.environ.get("PROW_EXTRA_PLUGINS", "").split(","):
        name, sep, module = item.strip().partition("=")
        if sep and name.strip() and module.strip():
            extras[name.strip()] = module.strip()
    return extras


def known_plugins() -> frozenset[str]:
    return KNOWN_PLUGINS | frozenset(extra_plugin_modules())


def _legacy_plugin_list(value: Any) -> Any:
    # The original still accepts `org: [p1, p2]` beside the newer
    # `org: {plugins: [...], excluded_repos: [...]}`.
    if isinstance(value, list):
        return {"plugins": value}
    if value is None:
        return {}
    return value


class OrgPlugins(Section):
    plugins: list[str] = Field(default_factory=list)
    excluded_repos: list[str] = Field(default_factory=list)


class ExternalPlugin(Section):
    name: str
    endpoint: str = ""
    events: list[str] = Field(default_factory=list)

    @property
    def effective_endpoint(self) -> str:
        return self.endpoint or f"http://{self.name}"


class RepoScoped(Section):
    """Plugin sections that are lists of entries, each for some repos."""

    repos: list[str] = Field(default_factory=list)


class TriggerConfig(RepoScoped):
    trusted_apps: list[str] = Field(default_factory=list)
    trusted_org: str = ""
    join_org_url: str = ""
    only_org_members: bool = False
    ignore_ok_to_test: bool = False
    trigger_github_workflows: bool = False
    org_invite: dict[str, Any] = Field(default_factory=dict)


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


T = TypeVar("T", bound=RepoScoped)


class PluginsConfig(Section):
    """The whole of plugins.yaml."""

    plugins: dict[str, Annotated[OrgPlugins, BeforeValidator(_legacy_plugin_list)]] = (
        Field(default_factory=dict)
    )
    external_plugins: dict[str, list[ExternalPlugin]] = Field(default_factory=dict)
    triggers: list[TriggerConfig] = Field(default_factory=list)
    lgtm: list[LgtmConfig] = Field(default_factory=list)
    approve: list[ApproveConfig] = Field(default_factory=list)
    welcome: list[WelcomeConfig] = Field(default_factory=list)
    blockades: list[Blockade] = Field(default_factory=list)
    invalid_commit_msg: list[InvalidCommitMsgConfig] = Field(default_factory=list)
    size: SizeConfig = Field(default_factory=SizeConfig)
    label: LabelConfig = Field(default_factory=LabelConfig)
    heart: HeartConfig = Field(default_factory=HeartConfig)
    help: HelpConfig = Field(default_factory=HelpConfig)
    owners: OwnersConfig = Field(default_factory=OwnersConfig)
    repo_milestone: dict[str, Milestone] = Field(default_factory=dict)
    project_config: dict[str, Any] = Field(default_factory=dict)
    project_manager: dict[str, Any] = Field(default_factory=dict)
    blunderbuss: Blunderbuss = Field(default_factory=Blunderbuss)
    override: Override = Field(default_factory=Override)
    retitle: Retitle = Field(default_factory=Retitle)
    dco: dict[str, dict[str, Any]] = Field(default_factory=dict)
    branch_cleaner: BranchCleaner = Field(default_factory=BranchCleaner)
    sigmention: SigMention = Field(default_factory=SigMention)
    cherry_pick_unapproved: CherryPickUnapproved = Field(
        default_factory=CherryPickUnapproved
    )
    config_updater: dict[str, Any] = Field(default_factory=dict)
    slack: dict[str, Any] = Field(default_factory=dict)
    require_matching_label: list[dict[str, Any]] = Field(default_factory=list)
    milestone_applier: dict[str, dict[str, str]] = Field(default_factory=dict)
    bugzilla: dict[str, Any] = Field(default_factory=dict)
    jira: dict[str, Any] = Field(default_factory=dict)
    golint: dict[str, Any] = Field(default_factory=dict)
    goose: dict[str, Any] = Field(default_factory=dict)
    cat: dict[str, Any] = Field(default_factory=dict)
    plugin_help: dict[str, Any] = Field(default_factory=dict, alias="help_config")
    testfreeze: dict[str, Any] = Field(default_factory=dict)

    def plugins_for(self, org: str, repo: str) -> list[str]:
        """The plugins enabled for org/repo: the org's (unless the repo is
        excluded there) followed by the repo's own."""
        names: list[str] = []
        org_entry = self.plugins.get(org)
        if org_entry and repo not in org_entry.excluded_repos:
            names.extend(org_entry.plugins)
        repo_entry = self.plugins.get(f"{org}/{repo}")
        if repo_entry:
            names.extend(p for p in repo_entry.plugins if p not in names)
        return names

    def external_plugins_for(self, org: str, repo: str) -> list[ExternalPlugin]:
        return [
            *self.external_plugins.get(org, []),
            *self.external_plugins.get(f"{org}/{repo}", []),
        ]

    def trigger_for(self, org: str, repo: str) -> TriggerConfig:
        return _scoped(self.triggers, org, repo) or TriggerConfig()

    def lgtm_for(self, org: str, repo: str) -> LgtmConfig:
        return _scoped(self.lgtm, org, repo) or LgtmConfig()

    def approve_for(self, org: str, repo: str) -> ApproveConfig:
        return _scoped(self.approve, org, repo) or ApproveConfig()

    def welcome_for(self, org: str, repo: str) -> WelcomeConfig:
        return _scoped(self.welcome, org, repo) or WelcomeConfig()


def _scoped(entries: list[T], org: str, repo: str) -> T | None:
    # As the original: the first entry naming the repo, else the first naming
    # its org.
    full = f"{org}/{repo}"
    for entry in entries:
        if full in entry.repos:
            return entry
    for entry in entries:
        if org in entry.repos:
            return entry
    return None
