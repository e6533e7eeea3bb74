"""Typed model of the original Prow's config.yaml.

Field names and defaults follow the original. Keys we do not act on yet are
still declared so they load, are kept and round-trip; keys nobody declares
are kept too (extra="allow") and reported as warnings by the validator.
Durations stay strings here (Go syntax, "1h30m") and are parsed by the
validator, which can then point at the offending line.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Section(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_means_unset(cls, data):
        # `key:` with nothing after it is YAML null; like the original, read
        # it as "not set" rather than as a wrong type.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data


# Job configuration -----------------------------------------------------------


class RerunAuthConfig(Section):
    allow_anyone: bool = False
    github_users: list[str] = Field(default_factory=list)
    github_orgs: list[str] = Field(default_factory=list)
    github_team_ids: list[int] = Field(default_factory=list)
    github_team_slugs: list[dict[str, str]] = Field(default_factory=list)


class ExtraRef(Section):
    org: str
    repo: str
    base_ref: str = ""
    base_sha: str = ""
    repo_link: str = ""
    base_link: str = ""
    path_alias: str = ""
    workdir: bool = False
    clone_uri: str = ""
    skip_submodules: bool = False
    clone_depth: int = 0
    skip_fetch_head: bool = False
    blobless_fetch: bool | None = None


class JobBase(Section):
    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    max_concurrency: int = 0
    agent: str = "kubernetes"
    cluster: str = "default"
    namespace: str | None = None
    error_on_eviction: bool = False
    # The pod spec is validated against the Kubernetes schema when a pod is
    # built; here only its shape matters (see validation.check_pod_spec).
    spec: dict[str, Any] | None = None
    pipeline_run_spec: dict[str, Any] | None = None
    tekton_pipeline_run_spec: dict[str, Any] | None = None
    reporter_config: dict[str, Any] | None = None
    rerun_auth_config: RerunAuthConfig | None = None
    hidden: bool = False
    prowjob_defaults: dict[str, Any] | None = None
    job_queue_name: str = ""
    # UtilityConfig: how the job's code is checked out and decorated.
    decorate: bool | None = None
    decoration_config: dict[str, Any] | None = None
    path_alias: str = ""
    clone_uri: str = ""
    skip_submodules: bool = False
    clone_depth: int = 0
    skip_fetch_head: bool = False
    extra_refs: list[ExtraRef] = Field(default_factory=list)


class BranchJob(JobBase):
    """What pre- and postsubmits share: which branches and changes they run
    for, and the status context they report."""

    branches: list[str] = Field(default_factory=list)
    skip_branches: list[str] = Field(default_factory=list)
    run_if_changed: str = ""
    skip_if_only_changed: str = ""
    context: str = ""
    skip_report: bool = False
    jenkins_spec: dict[str, Any] | None = None

    @property
    def effective_context(self) -> str:
        return self.context or self.name


class Presubmit(BranchJob):
    always_run: bool = False
    optional: bool = False
    trigger: str = ""
    rerun_command: str = ""
    run_before_merge: bool = False

    @property
    def effective_trigger(self) -> str:
        # The job name goes in unescaped, as the original does.
        return self.trigger or rf"(?m)^/test( | .* ){self.name},?($|\s.*)"

    @property
    def effective_rerun_command(self) -> str:
        return self.rerun_command or f"/test {self.name}"


class Postsubmit(BranchJob):
    # None means "not said": postsubmits run unless something says otherwise.
    always_run: bool | None = None


class Retry(Section):
    run_all: bool = False
    attempts: int = 0
    interval: str = ""


class Periodic(JobBase):
    interval: str = ""
    minimum_interval: str = ""
    cron: str = ""
    tags: list[str] = Field(default_factory=list)
    retry: Retry | None = None


class Preset(Section):
    labels: dict[str, str] = Field(default_factory=dict)
    env: list[dict[str, Any]] = Field(default_factory=list)
    volumes: list[dict[str, Any]] = Field(default_factory=list)
    volumeMounts: list[dict[str, Any]] = Field(default_factory=list)
    tolerations: list[dict[str, Any]] = Field(default_factory=list)


# Controllers -----------------------------------------------------------------


class DefaultDecorationConfigEntry(Section):
    repo: str = ""
    cluster: str = ""
    config: dict[str, Any] = Field(default_factory=dict)


class Plank(Section):
    job_url_template: str = ""
    report_template: str = ""
    report_templates: dict[str, str] = Field(default_factory=dict)
    max_concurrency: int = 0
    max_goroutines: int = 20
    pod_pending_timeout: str = "10m"
    pod_running_timeout: str = "48h"
    pod_unscheduled_timeout: str = "5m"
    max_revivals: int = 3
    default_decoration_configs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    default_decoration_config_entries: list[DefaultDecorationConfigEntry] = Field(
        default_factory=list
    )
    job_url_prefix_config: dict[str, str] = Field(default_factory=dict)
    jobURLPrefixDisableAppendStorageProvider: bool = False
    job_queue_capacities: dict[str, int] = Field(default_factory=dict)
    build_cluster_status_file: str = ""


class Sinker(Section):
    resync_period: str = "1h"
    max_prowjob_age: str = "168h"
    max_pod_age: str = "24h"
    terminated_pod_ttl: str = ""
    exclude_clusters: list[str] = Field(default_factory=list)


class Horologium(Section):
    tick_interval: str = "1m"


class TideQuery(Section):
    orgs: list[str] = Field(default_factory=list)
    repos: list[str] = Field(default_factory=list)
    excludedRepos: list[str] = Field(default_factory=list)
    author: str = ""
    labels: list[str] = Field(default_factory=list)
    missingLabels: list[str] = Field(default_factory=list)
    excludedBranches: list[str] = Field(default_factory=list)
    includedBranches: list[str] = Field(default_factory=list)
    milestone: str = ""
    reviewApprovedRequired: bool = False


class TideContextPolicy(Section):
    skip_unknown_contexts: bool | None = Field(None, alias="skip-unknown-contexts")
    required_contexts: list[str] = Field(
        default_factory=list, alias="required-contexts"
    )
    required_if_present_contexts: list[str] = Field(
        default_factory=list, alias="required-if-present-contexts"
    )
    optional_contexts: list[str] = Field(
        default_factory=list, alias="optional-contexts"
    )
    optional_regex_contexts: list[str] = Field(
        default_factory=list, alias="optional-regex-contexts"
    )
    from_branch_protection: bool | None = Field(None, alias="from-branch-protection")
    overwrite_pending_contexts: list[str] = Field(
        default_factory=list, alias="overwrite-pending-contexts"
    )


class TideRepoContextPolicy(TideContextPolicy):
    branches: dict[str, TideContextPolicy] = Field(default_factory=dict)


class TideOrgContextPolicy(TideContextPolicy):
    repos: dict[str, TideRepoContextPolicy] = Field(default_factory=dict)


class TideContextOptions(TideContextPolicy):
    orgs: dict[str, TideOrgContextPolicy] = Field(default_factory=dict)


class TidePriority(Section):
    labels: list[str] = Field(default_factory=list)


class TideMergeCommitTemplate(Section):
    title: str = ""
    body: str = ""


class Tide(Section):
    sync_period: str = "1m"
    status_update_period: str = ""
    max_goroutines: int = 20
    queries: list[TideQuery] = Field(default_factory=list)
    # Shorthand or nested form: "org/repo": method, or org: {repo: method},
    # or org: {repo: {branch-regex: method}}; walked by the validator.
    merge_method: dict[str, Any] = Field(default_factory=dict)
    merge_commit_template: dict[str, TideMergeCommitTemplate] = Field(
        default_factory=dict
    )
    target_url: str = ""
    target_urls: dict[str, str] = Field(default_factory=dict)
    pr_status_base_url: str = ""
    pr_status_base_urls: dict[str, str] = Field(default_factory=dict)
    blocker_label: str = ""
    squash_label: str = ""
    rebase_label: str = ""
    merge_label: str = ""
    batch_size_limit: dict[str, int] = Field(default_factory=dict)
    prioritize_existing_batches: dict[str, bool] = Field(default_factory=dict)
    priority: list[TidePriority] = Field(default_factory=list)
    context_options: TideContextOptions = Field(default_factory=TideContextOptions)
    display_all_tide_queries_in_status: bool = False
    github_merge_blocks_policy: str = "permit"
    batch_test_status_context: str = ""


class Spyglass(Section):
    size_limit: int = 100_000_000
    lenses: list[dict[str, Any]] = Field(default_factory=list)
    gcs_browser_prefix: str = ""
    gcs_browser_prefixes: dict[str, str] = Field(default_factory=dict)
    testgrid_config: str = ""
    testgrid_root: str = ""
    announcement: str = ""
    hide_pr_history_link: bool = False
    pr_history_link_template: str = ""
    bucket_aliases: dict[str, str] = Field(default_factory=dict)


class Branding(Section):
    logo: str = ""
    favicon: str = ""
    background_color: str = ""
    header_color: str = ""


class DefaultRerunAuthConfigEntry(Section):
    repo: str = ""
    cluster: str = ""
    config: RerunAuthConfig | None = None


class Deck(Section):
    spyglass: Spyglass = Field(default_factory=Spyglass)
    tide_update_period: str = "10s"
    hidden_repos: list[str] = Field(default_factory=list)
    external_agent_logs: list[dict[str, Any]] = Field(default_factory=list)
    branding: Branding | None = None
    google_analytics: str = ""
    rerun_auth_configs: dict[str, RerunAuthConfig] = Field(default_factory=dict)
    default_rerun_auth_configs: list[DefaultRerunAuthConfigEntry] = Field(
        default_factory=list
    )
    skip_storage_path_validation: bool | None = None
    additional_allowed_buckets: list[str] = Field(default_factory=list)
    additional_storage_providers: list[str] = Field(default_factory=list)


class GitHubReporter(Section):
    job_types_to_report: list[str] = Field(
        default_factory=lambda: ["presubmit", "postsubmit"]
    )
    no_comment_repos: list[str] = Field(default_factory=list)
    summary_comment_repos: list[str] = Field(default_factory=list)


class InRepoPodOptions(Section):
    """What a repository's own jobs may ask of the cluster beyond a plain
    pod; nothing unless the central config grants it."""

    service_accounts: list[str] = Field(default_factory=list)
    secrets: list[str] = Field(default_factory=list)
    host_paths: list[str] = Field(default_factory=list)
    privileged: bool = False


class InRepoConfig(Section):
    enabled: dict[str, bool] = Field(default_factory=dict)
    allowed_clusters: dict[str, list[str]] = Field(default_factory=dict)
    # Keyed like allowed_clusters (org/repo, org or "*"); grants add up.
    allowed_pod_options: dict[str, InRepoPodOptions] = Field(default_factory=dict)

    def pod_options_for(self, org: str, repo: str) -> InRepoPodOptions:
        granted = InRepoPodOptions()
        for key in (f"{org}/{repo}", org, "*"):
            options = self.allowed_pod_options.get(key)
            if options is None:
                continue
            granted.service_accounts += options.service_accounts
            granted.secrets += options.secrets
            granted.host_paths += options.host_paths
            granted.privileged |= options.privileged
        return granted

    def enabled_for(self, org: str, repo: str) -> bool:
        # The narrowest key wins: org/repo, then org, then "*".
        for key in (f"{org}/{repo}", org, "*"):
            if key in self.enabled:
                return self.enabled[key]
        return False


class GitHubOptions(Section):
    link_url: str = "https://github.com"


class PushGateway(Section):
    endpoint: str = ""
    interval: str = "1m"
    serve_metrics: bool = False


class OwnersDirDenylist(Section):
    repos: dict[str, list[str]] = Field(default_factory=dict)
    default: list[str] = Field(default_factory=list)
    ignore_preconfigured_defaults: bool = False


class ProwConfig(Section):
    """The whole of config.yaml: controller settings plus job configuration."""

    prowjob_namespace: str = "default"
    pod_namespace: str = "default"
    log_level: str = "info"
    presubmits: dict[str, list[Presubmit]] = Field(default_factory=dict)
    postsubmits: dict[str, list[Postsubmit]] = Field(default_factory=dict)
    periodics: list[Periodic] = Field(default_factory=list)
    presets: list[Preset] = Field(default_factory=list)
    decorate_all_jobs: bool = False
    plank: Plank = Field(default_factory=Plank)
    sinker: Sinker = Field(default_factory=Sinker)
    horologium: Horologium = Field(default_factory=Horologium)
    tide: Tide = Field(default_factory=Tide)
    deck: Deck = Field(default_factory=Deck)
    branch_protection: dict[str, Any] = Field(
        default_factory=dict, alias="branch-protection"
    )
    in_repo_config: InRepoConfig = Field(default_factory=InRepoConfig)
    github_reporter: GitHubReporter = Field(default_factory=GitHubReporter)
    slack_reporter_configs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    github: GitHubOptions = Field(default_factory=GitHubOptions)
    status_error_link: str = "https://github.com/kubernetes/test-infra/issues"
    default_job_timeout: str = "24h"
    push_gateway: PushGateway = Field(default_factory=PushGateway)
    owners_dir_denylist: OwnersDirDenylist | None = None
    owners_dir_blacklist: OwnersDirDenylist | None = None
    managed_webhooks: dict[str, Any] = Field(default_factory=dict)
    prowjob_default_entries: list[dict[str, Any]] = Field(default_factory=list)
    disabled_clusters: list[str] = Field(default_factory=list)
    gangway: dict[str, Any] = Field(default_factory=dict)
    scheduler: dict[str, Any] = Field(default_factory=dict)
    pubsub_subscriptions: dict[str, list[str]] = Field(default_factory=dict)
    gerrit: dict[str, Any] = Field(default_factory=dict)
    moonraker: dict[str, Any] = Field(default_factory=dict)
    jenkins_operators: list[dict[str, Any]] = Field(default_factory=list)
    slack_reporter: dict[str, Any] | None = None

    def presubmits_for(self, org: str, repo: str) -> list[Presubmit]:
        return self.presubmits.get(f"{org}/{repo}", [])

    def postsubmits_for(self, org: str, repo: str) -> list[Postsubmit]:
        return self.postsubmits.get(f"{org}/{repo}", [])

    def periodic(self, name: str) -> Periodic | None:
        return next((p for p in self.periodics if p.name == name), None)
