"""Validation of config.yaml and plugins.yaml that a person can act on.

Every problem names the file, the line, the path to the value
(presubmits["org/repo"][0].spec.containers) and what is wrong. Errors refuse
the whole config, as the original's checkconfig does; warnings (unknown keys,
placeholder repository names) are listed and the config still loads.
"""

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from croniter import croniter
from pydantic import BaseModel, ValidationError

from prow.config import plugin_sections, yamlsource
from prow.config.durations import parse_duration
from prow.config.plugin_sections import SectionReport, known_plugins
from prow.config.plugins_schema import PluginsConfig
from prow.config.regex import compile_go_regex, regex_problem
from prow.config.schema import (
    BranchJob,
    JobBase,
    Periodic,
    Postsubmit,
    Presubmit,
    ProwConfig,
)

CONFIG_FILE = "config.yaml"
PLUGINS_FILE = "plugins.yaml"

JOB_NAME = re.compile(r"^[A-Za-z0-9-._]+$")
JOB_NAME_MAX_LENGTH = 255
GITHUB_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
GITHUB_REPO = re.compile(r"^[A-Za-z0-9._-]+$")
MERGE_METHODS = ("merge", "squash", "rebase")
# "artifacts" is the sidecar that hands $ARTIFACTS to plank as its log: a
# job's own container by that name would have its log unpacked as an archive.
RESERVED_CONTAINER_NAMES = {
    "artifacts",
    "clonerefs",
    "initupload",
    "place-entrypoint",
    "sidecar",
}
RESERVED_VOLUME_NAMES = {"logs", "code", "tools", "gcs-credentials", "s3-credentials"}
RESERVED_MOUNT_PATHS = {"/logs", "/home/prow/go", "/tools"}
RESERVED_ENV_ALL = {
    "CI",
    "JOB_NAME",
    "JOB_TYPE",
    "JOB_SPEC",
    "BUILD_ID",
    "BUILD_NUMBER",
    "PROW_JOB_ID",
}
RESERVED_ENV_REFS = {
    "REPO_OWNER",
    "REPO_NAME",
    "PULL_BASE_REF",
    "PULL_BASE_SHA",
    "PULL_REFS",
    "SRC_HOST",
    "SRC_BASE",
}
RESERVED_ENV_PULL = {"PULL_NUMBER", "PULL_PULL_SHA", "PULL_HEAD_REF", "PULL_TITLE"}

# Fields whose keys are the user's data (repo names, branch patterns...) and
# are therefore shown as ["key"] rather than .key in a path; plugin sections
# declare their own.
MAP_FIELDS = {
    "presubmits",
    "postsubmits",
    "plugins",
    "external_plugins",
    "merge_method",
    "orgs",
    "repos",
    "branches",
    "labels",
    "annotations",
    "job_url_prefix_config",
    "report_templates",
    "rerun_auth_configs",
    "target_urls",
    "pr_status_base_urls",
    "batch_size_limit",
    "prioritize_existing_batches",
    "default_decoration_configs",
    "enabled",
    "allowed_clusters",
    "allowed_pod_options",
    "slack_reporter_configs",
    "merge_commit_template",
    "job_queue_capacities",
    "pubsub_subscriptions",
}
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


# Maps whose values may be maps of user keys again, to any depth.
DEEP_MAP_FIELDS = {"merge_method"}


def render_path(path: Iterable[str | int]) -> str:
    map_fields = MAP_FIELDS | plugin_sections.map_fields()
    out = ""
    previous: str | int | None = None
    deep = False
    for segment in path:
        if isinstance(segment, int):
            out += f"[{segment}]"
        elif deep or previous in map_fields or not _PLAIN_KEY.match(segment):
            out += f'["{segment}"]'
        else:
            out += f".{segment}" if out else segment
        deep = deep or segment in DEEP_MAP_FIELDS
        previous = segment
    return out or "(top level)"


@dataclass(frozen=True)
class ConfigIssue:
    file: str
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}"


@dataclass
class ValidationResult:
    config: ProwConfig | None = None
    plugins: PluginsConfig | None = None
    errors: list[ConfigIssue] = field(default_factory=list)
    warnings: list[ConfigIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Reporter:
    """Collects issues for one file, resolving paths to lines."""

    # A repository's own config gets no backtracking regexes.
    linear_only = False

    def __init__(self, file: str, lines: yamlsource.LineMap, result: ValidationResult):
        self.file = file
        self.lines = lines
        self.result = result

    def _issue(self, path, message: str, line: int | None) -> ConfigIssue:
        path = tuple(path)
        line = line or self.lines.line_of(path)
        return ConfigIssue(self.file, render_path(path), line, message)

    def error(self, path, message: str, line: int | None = None) -> None:
        self.result.errors.append(self._issue(path, message, line))

    def warning(self, path, message: str, line: int | None = None) -> None:
        self.result.warnings.append(self._issue(path, message, line))


def validate(config_text: str, plugins_text: str) -> ValidationResult:
    """Parse and check both files; the typed objects are set only when both
    are free of errors."""
    result = ValidationResult()
    config = _load_config(config_text, result)
    plugins = _load_plugins(plugins_text, result)
    result.errors.sort(key=_position)
    result.warnings.sort(key=_position)
    if result.ok:
        result.config, result.plugins = config, plugins
    return result


def _position(issue: ConfigIssue) -> tuple:
    return (issue.file != CONFIG_FILE, issue.line or 0)


def _parse(file: str, text: str, result: ValidationResult):
    try:
        parsed = yamlsource.parse(text or "")
    except yamlsource.YAMLSyntaxError as exc:
        result.errors.append(ConfigIssue(file, "(top level)", exc.line, exc.message))
        return None, None
    report = _Reporter(file, parsed.lines, result)
    for dup in parsed.duplicates:
        message = f"key appears twice (first on line {dup.first_line})"
        if dup.same_value:
            report.warning(dup.path, f"{message} with the same value", dup.line)
        else:
            report.error(dup.path, f"{message} with different values", dup.line)
    return parsed.data, report


def _typed(model, data, path: tuple, report: _Reporter, *, parse=None):
    """data as an instance of model (or what parse makes of it), or None with
    every type error reported."""
    try:
        obj = parse(data) if parse else model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            report.error((*path, *_clean_loc(err["loc"])), _pydantic_message(err))
        return None
    _warn_unknown_keys(obj, path, report)
    return obj


def _load_plugins(text: str, result: ValidationResult) -> PluginsConfig | None:
    """The core keys through PluginsConfig; every other key through the
    section its plugin declares, checked by that plugin; keys nobody
    declares are kept and warned about."""
    data, report = _parse(PLUGINS_FILE, text, result)
    if data is None:
        return None
    if not isinstance(data, dict):
        return _typed(PluginsConfig, data, (), report)
    core_keys = {info.alias or n for n, info in PluginsConfig.model_fields.items()}
    declared = plugin_sections.sections()
    errors_before = len(result.errors)
    core = _typed(
        PluginsConfig, {k: v for k, v in data.items() if k in core_keys}, (), report
    )
    if core is not None:
        check_plugins(core, report)
    typed = {}
    for key, value in data.items():
        if key in core_keys:
            continue
        section = declared.get(key)
        if section is None:
            report.warning((key,), "unknown field, kept but not used")
            continue
        typed[key] = _typed(None, value, (key,), report, parse=section.parse)
        if typed[key] is not None and section.check is not None:
            section.check(typed[key], SectionReport(key, report))
    if len(result.errors) > errors_before:
        return None
    plugins = PluginsConfig.model_validate(data)
    plugins._typed.update(typed)
    return plugins


JOB_SECTIONS = {"presubmits": Presubmit, "postsubmits": Postsubmit}


def _load_config(text: str, result: ValidationResult) -> ProwConfig | None:
    """Jobs are typed one by one so that one job's type error does not hide
    the problems of every other job, or of the rest of the file."""
    data, report = _parse(CONFIG_FILE, text, result)
    if data is None:
        return None
    errors_before = len(result.errors)
    rest = {k: v for k, v in data.items() if k not in (*JOB_SECTIONS, "periodics")}
    base = _typed(ProwConfig, rest, (), report) or ProwConfig()
    jobs: dict[str, dict[str, list[tuple[int, Any]]]] = {}
    for section, model in JOB_SECTIONS.items():
        jobs[section] = {}
        value = data.get(section) or {}
        if not isinstance(value, dict):
            report.error((section,), "must be a mapping of org/repo to a list of jobs")
            continue
        for key, items in value.items():
            if not isinstance(items, list):
                report.error((section, key), "must be a list of jobs")
                continue
            jobs[section][key] = _typed_items(model, items, (section, key), report)
    periodics = data.get("periodics") or []
    if not isinstance(periodics, list):
        report.error(("periodics",), "must be a list of jobs")
        periodics = []
    typed_periodics = _typed_items(Periodic, periodics, ("periodics",), report)
    check_config(base, jobs, typed_periodics, report)
    if len(result.errors) > errors_before:
        return None
    # Every part is known to be valid; build the whole object once.
    return ProwConfig.model_validate(data)


def _typed_items(model, items: list, path: tuple, report) -> list[tuple[int, Any]]:
    typed = []
    for index, item in enumerate(items):
        job = _typed(model, item, (*path, index), report)
        if job is not None:
            typed.append((index, job))
    return typed


def _clean_loc(loc: tuple) -> tuple:
    # Validators wrapped around a type add their own names to the location;
    # only real keys and indexes belong in a path a person reads.
    return tuple(
        part
        for part in loc
        if isinstance(part, int) or not part.startswith("function-")
    )


def _pydantic_message(err: dict) -> str:
    kind = err["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    value = err.get("input")
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{err['msg'][0].lower()}{err['msg'][1:]} (got {shown})"


def _warn_unknown_keys(value: Any, path: tuple, report: _Reporter) -> None:
    if isinstance(value, BaseModel):
        for key in value.model_extra or {}:
            report.warning((*path, key), "unknown field, kept but not used")
        for name, info in type(value).model_fields.items():
            key = info.alias or name
            _warn_unknown_keys(getattr(value, name), (*path, key), report)
    elif isinstance(value, dict):
        for key, item in value.items():
            _warn_unknown_keys(item, (*path, key), report)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _warn_unknown_keys(item, (*path, index), report)


# config.yaml -----------------------------------------------------------------


def check_config(config: ProwConfig, jobs, periodics, report: _Reporter) -> None:
    kinds = (("presubmit", _check_presubmit), ("postsubmit", _check_change_filters))
    for kind, check_kind in kinds:
        section = f"{kind}s"
        for key, indexed in jobs[section].items():
            _check_repo_key(key, (section, key), report)
            for index, job in indexed:
                path = (section, key, index)
                _check_job_base(job, path, report, kind, config.pod_namespace)
                check_kind(job, path, report)
            _check_duplicates(indexed, (section, key), kind, report)
    seen_periodics: dict[str, int] = {}
    for index, job in periodics:
        path = ("periodics", index)
        _check_job_base(job, path, report, "periodic", config.pod_namespace)
        _check_periodic(job, path, report)
        if job.name in seen_periodics:
            report.error(
                (*path, "name"),
                f"duplicated periodic job: {job.name} "
                f"(also periodics[{seen_periodics[job.name]}])",
            )
        seen_periodics.setdefault(job.name, index)
    _check_durations(config, report)
    _check_tide(config, report)
    for index, kind in enumerate(config.github_reporter.job_types_to_report):
        if kind not in ("presubmit", "postsubmit"):
            report.error(
                ("github_reporter", "job_types_to_report", index),
                f"only presubmit and postsubmit can be reported, not {kind!r}",
            )
    if config.plank.max_concurrency < 0:
        report.error(("plank", "max_concurrency"), "must be 0 (no limit) or more")
    for key, auth in config.deck.rerun_auth_configs.items():
        _check_rerun_auth(auth, ("deck", "rerun_auth_configs", key), report)


def _check_repo_key(key: str, path: tuple, report: _Reporter) -> None:
    org, sep, repo = key.partition("/")
    if not sep or not org or not repo or "/" in repo:
        report.error(path, f'"{key}" must be a repository written as org/repo')
    elif not GITHUB_OWNER.match(org) or not GITHUB_REPO.match(repo):
        report.warning(
            path,
            f'"{key}" is not a valid GitHub repository name (letters, digits, '
            "'-', '_' and '.'); no GitHub event will ever match it",
        )


def _check_regex(pattern: str, path: tuple, what: str, report: _Reporter) -> bool:
    problem = regex_problem(pattern, what, linear_only=report.linear_only)
    if problem:
        report.error(path, problem)
    return problem is None


def _check_job_base(
    job: JobBase, path: tuple, report: _Reporter, kind: str, pod_namespace: str
) -> None:
    if not JOB_NAME.match(job.name):
        report.error(
            (*path, "name"),
            f'name: must match regex "^[A-Za-z0-9-._]+$" (got {job.name!r})',
        )
    elif job.name in (".", "..") or len(job.name) > JOB_NAME_MAX_LENGTH:
        # Deck's pages take the name as a path segment, and it is stored in
        # a column of this length.
        report.error(
            (*path, "name"),
            f"name: must not be . or .. and at most {JOB_NAME_MAX_LENGTH} "
            "characters long",
        )
    if job.max_concurrency < 0:
        report.error((*path, "max_concurrency"), "must be 0 (no limit) or more")
    if job.rerun_auth_config is not None:
        _check_rerun_auth(job.rerun_auth_config, (*path, "rerun_auth_config"), report)
    if job.agent == "kubernetes":
        if job.spec is None:
            report.error(
                (*path, "spec"), "job with agent kubernetes must have a pod spec"
            )
        else:
            _check_pod_spec(job, (*path, "spec"), report, kind)
    elif job.spec is not None:
        report.error((*path, "agent"), f"pod spec given but agent is {job.agent!r}")
    if job.namespace not in (None, "", pod_namespace) and job.agent == "kubernetes":
        # Pods always run in pod_namespace: a job choosing its own namespace
        # could reach that namespace's secrets and service accounts.
        report.error(
            (*path, "namespace"),
            f"pods run in pod_namespace ({pod_namespace!r}); a job may not "
            f"choose another namespace (got {job.namespace!r})",
        )
    for key, value in {**job.labels}.items():
        if len(value) > 63:
            report.error(
                (*path, "labels", key), "label values are at most 63 characters"
            )


def _check_pod_spec(job: JobBase, path: tuple, report: _Reporter, kind: str) -> None:
    spec = job.spec or {}
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        report.error((*path, "containers"), "pod spec must have at least one container")
        return
    decorated = bool(job.decorate)
    if len(containers) > 1 and not decorated:
        report.error(
            (*path, "containers"),
            "pod spec may only have one container unless the job is decorated",
        )
    if spec.get("initContainers"):
        report.error((*path, "initContainers"), "pod spec may not use init containers")
    reserved_env = (
        RESERVED_ENV_ALL
        | (RESERVED_ENV_REFS if kind != "periodic" else set())
        | (RESERVED_ENV_PULL if kind == "presubmit" else set())
    )
    names: set[str] = set()
    for index, container in enumerate(containers):
        cpath = (*path, "containers", index)
        if not isinstance(container, dict):
            report.error(cpath, "a container must be a mapping")
            continue
        if not container.get("image"):
            report.error((*cpath, "image"), "container must name an image")
        name = container.get("name", "")
        if name in RESERVED_CONTAINER_NAMES:
            report.error((*cpath, "name"), f"container name {name!r} is reserved")
        if len(containers) > 1:
            if not name:
                report.error(cpath, "containers must be named when there are several")
            elif name in names:
                report.error((*cpath, "name"), f"duplicate container name {name!r}")
        names.add(name)
        if decorated and not (container.get("command") or container.get("args")):
            report.error(
                cpath, "decorated job containers must specify command and/or args"
            )
        env_names: set[str] = set()
        for eindex, env in enumerate(container.get("env") or []):
            ename = env.get("name") if isinstance(env, dict) else None
            if ename in reserved_env:
                report.error((*cpath, "env", eindex), f"env {ename} is reserved")
            elif ename in env_names:
                report.error((*cpath, "env", eindex), f"duplicate env {ename}")
            env_names.add(ename)
        for mindex, mount in enumerate(container.get("volumeMounts") or []):
            if (
                isinstance(mount, dict)
                and mount.get("mountPath") in RESERVED_MOUNT_PATHS
            ):
                report.error(
                    (*cpath, "volumeMounts", mindex),
                    f"mount path {mount['mountPath']} is reserved",
                )
    for vindex, volume in enumerate(spec.get("volumes") or []):
        if isinstance(volume, dict) and volume.get("name") in RESERVED_VOLUME_NAMES:
            report.error(
                (*path, "volumes", vindex),
                f"volume name {volume['name']!r} is reserved",
            )


def _check_change_filters(job: BranchJob, path, report) -> None:
    for attr in ("branches", "skip_branches"):
        for index, pattern in enumerate(getattr(job, attr)):
            _check_regex(pattern, (*path, attr, index), attr, report)
    for attr in ("run_if_changed", "skip_if_only_changed"):
        if getattr(job, attr):
            _check_regex(getattr(job, attr), (*path, attr), attr, report)
    if job.run_if_changed and job.skip_if_only_changed:
        report.error(
            (*path, "skip_if_only_changed"),
            "run_if_changed and skip_if_only_changed are mutually exclusive",
        )
    if job.always_run and (job.run_if_changed or job.skip_if_only_changed):
        report.error(
            (*path, "always_run"),
            "always_run and run_if_changed/skip_if_only_changed are mutually exclusive",
        )


def _check_presubmit(job: Presubmit, path: tuple, report: _Reporter) -> None:
    _check_change_filters(job, path, report)
    if bool(job.trigger) != bool(job.rerun_command):
        report.error(
            (*path, "trigger" if job.trigger else "rerun_command"),
            "either both of trigger and rerun_command must be set, or neither",
        )
        return
    if job.trigger and _check_regex(job.trigger, (*path, "trigger"), "trigger", report):
        if not compile_go_regex(job.trigger).search(job.rerun_command):
            report.error(
                (*path, "rerun_command"),
                f'rerun command "{job.rerun_command}" does not match trigger '
                f'"{job.trigger}"',
            )
    elif not job.trigger:
        _check_regex(job.effective_trigger, (*path, "name"), "default trigger", report)


def _branches_intersect(a: BranchJob, b: BranchJob) -> bool:
    """Whether two jobs could both run on one branch (the original's rule)."""

    def all_branches(job):
        return not job.branches and not job.skip_branches

    def runs_on(job, branch):
        try:
            if job.skip_branches and compile_go_regex(
                "|".join(job.skip_branches)
            ).search(branch):
                return False
            return not job.branches or bool(
                compile_go_regex("|".join(job.branches)).search(branch)
            )
        except re.error:
            return True

    if all_branches(a) or all_branches(b):
        return True
    if a.branches:
        if b.branches:
            return bool(set(a.branches) & set(b.branches))
        return any(runs_on(b, branch) for branch in a.branches)
    if not b.branches:
        return True
    return _branches_intersect(b, a)


def _check_duplicates(indexed, path: tuple, kind: str, report: _Reporter) -> None:
    for position, (i, job) in enumerate(indexed):
        for j, other in indexed[:position]:
            if not _branches_intersect(job, other):
                continue
            if job.name == other.name:
                report.error(
                    (*path, i, "name"),
                    f"duplicated {kind} job {job.name!r} (also at index {j}, "
                    "running on the same branches)",
                )
            elif job.effective_context == other.effective_context:
                report.error(
                    (*path, i, "context"),
                    f"jobs {other.name} and {job.name} report to the same GitHub "
                    f'context "{job.effective_context}"',
                )


def _check_periodic(job: Periodic, path: tuple, report: _Reporter) -> None:
    given = [k for k in ("cron", "interval", "minimum_interval") if getattr(job, k)]
    if not given:
        report.error(
            path, "at least one of cron, interval, or minimum_interval must be set"
        )
    elif len(given) > 1:
        # Point at whichever of them comes last in the file: the one added.
        last = max(given, key=lambda k: report.lines.line_of((*path, k)) or 0)
        report.error(
            (*path, last), f"{', '.join(given)} are mutually exclusive: set one"
        )
    for key in ("interval", "minimum_interval"):
        value = getattr(job, key)
        if value:
            _check_duration(value, (*path, key), report, positive=True)
    if job.cron:
        problem = cron_problem(job.cron)
        if problem:
            report.error((*path, "cron"), problem)
    if job.retry and job.retry.interval:
        _check_duration(job.retry.interval, (*path, "retry", "interval"), report)


CRON_DESCRIPTORS = {
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
}


def cron_problem(expression: str) -> str | None:
    """Why a cron expression is invalid, or None. Accepts what the original
    does: 5 fields, 6 with leading seconds, descriptors and @every <duration>."""
    text = expression.strip()
    if text.startswith("@every"):
        try:
            if parse_duration(text[len("@every") :].strip()).total_seconds() <= 0:
                return f"invalid cron {expression!r}: @every needs a positive duration"
        except ValueError as exc:
            return f"invalid cron {expression!r}: {exc}"
        return None
    if text in CRON_DESCRIPTORS:
        return None
    fields = text.split()
    if len(fields) not in (5, 6):
        return (
            f"invalid cron {expression!r}: expected 5 fields "
            "(minute hour day-of-month month day-of-week)"
        )
    try:
        croniter(text, second_at_beginning=len(fields) == 6)
    except (ValueError, KeyError) as exc:
        return f"invalid cron {expression!r}: {exc}"
    return None


def _check_duration(value, path: tuple, report: _Reporter, positive=False) -> None:
    try:
        parsed = parse_duration(value)
    except ValueError as exc:
        report.error(path, str(exc))
        return
    if positive and parsed.total_seconds() <= 0:
        report.error(path, f"duration must be positive (got {value!r})")


def _check_durations(config: ProwConfig, report: _Reporter) -> None:
    checks = [
        (("plank", "pod_pending_timeout"), config.plank.pod_pending_timeout),
        (("plank", "pod_running_timeout"), config.plank.pod_running_timeout),
        (("plank", "pod_unscheduled_timeout"), config.plank.pod_unscheduled_timeout),
        (("sinker", "resync_period"), config.sinker.resync_period),
        (("sinker", "max_prowjob_age"), config.sinker.max_prowjob_age),
        (("sinker", "max_pod_age"), config.sinker.max_pod_age),
        (("sinker", "terminated_pod_ttl"), config.sinker.terminated_pod_ttl),
        (("horologium", "tick_interval"), config.horologium.tick_interval),
        (("tide", "sync_period"), config.tide.sync_period),
        (("tide", "status_update_period"), config.tide.status_update_period),
        (("deck", "tide_update_period"), config.deck.tide_update_period),
        (("default_job_timeout",), config.default_job_timeout),
    ]
    for path, value in checks:
        if value:
            _check_duration(value, path, report, positive=True)


def _check_rerun_auth(auth, path: tuple, report: _Reporter) -> None:
    if auth.allow_anyone and (
        auth.github_users
        or auth.github_orgs
        or auth.github_team_ids
        or auth.github_team_slugs
    ):
        report.error(
            (*path, "allow_anyone"),
            "allow_anyone cannot be combined with lists of users, orgs or teams",
        )


def _check_tide(config: ProwConfig, report: _Reporter) -> None:
    tide = config.tide
    _check_merge_methods(tide.merge_method, ("tide", "merge_method"), report)
    if tide.max_goroutines <= 0:
        report.error(("tide", "max_goroutines"), "must be more than 0")
    for index, query in enumerate(tide.queries):
        path = ("tide", "queries", index)
        for rindex, repo in enumerate(query.repos):
            _check_repo_key(repo, (*path, "repos", rindex), report)
        for oindex, org in enumerate(query.orgs):
            if not org or "/" in org:
                report.error((*path, "orgs", oindex), f"{org!r} is not an org name")
        for rindex, repo in enumerate(query.excludedRepos):
            if repo.partition("/")[0] not in query.orgs:
                report.error(
                    (*path, "excludedRepos", rindex),
                    f"{repo!r} does not belong to any org of this query",
                )
        if not query.orgs and not query.repos:
            report.error(path, "a query must name at least one org or repo")
        both = set(query.labels) & set(query.missingLabels)
        if both:
            report.error(
                (*path, "missingLabels"),
                f"labels cannot be both required and missing: {sorted(both)}",
            )
        if query.includedBranches and query.excludedBranches:
            report.error(
                (*path, "excludedBranches"),
                "includedBranches and excludedBranches are mutually exclusive",
            )
    _check_context_policy(tide.context_options, ("tide", "context_options"), report)
    for org, org_policy in tide.context_options.orgs.items():
        opath = ("tide", "context_options", "orgs", org)
        _check_context_policy(org_policy, opath, report)
        for repo, repo_policy in org_policy.repos.items():
            rpath = (*opath, "repos", repo)
            _check_context_policy(repo_policy, rpath, report)
            for branch, policy in repo_policy.branches.items():
                _check_context_policy(policy, (*rpath, "branches", branch), report)


def _check_context_policy(policy, path: tuple, report: _Reporter) -> None:
    groups = {
        "required-contexts": set(policy.required_contexts),
        "optional-contexts": set(policy.optional_contexts),
        "required-if-present-contexts": set(policy.required_if_present_contexts),
    }
    names = list(groups)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            both = groups[a] & groups[b]
            if both:
                report.error(
                    (*path, b), f"contexts in both {a} and {b}: {sorted(both)}"
                )
    for index, pattern in enumerate(policy.optional_regex_contexts):
        _check_regex(
            pattern, (*path, "optional-regex-contexts", index), "context", report
        )


def _check_merge_methods(value: Any, path: tuple, report: _Reporter) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _check_merge_methods(item, (*path, key), report)
    elif value not in MERGE_METHODS:
        report.error(
            path,
            f"merge method {value!r} is not one of {', '.join(MERGE_METHODS)}",
        )


# plugins.yaml ----------------------------------------------------------------


def check_plugins(plugins: PluginsConfig, report: _Reporter) -> None:
    for key, entry in plugins.plugins.items():
        path = ("plugins", key)
        # Items sit under "plugins:" in the newer form, directly in the legacy.
        list_path = (
            (*path, "plugins") if (*path, "plugins") in report.lines.lines else path
        )
        if "/" in key:
            _check_repo_key(key, path, report)
        elif not GITHUB_OWNER.match(key):
            report.warning(path, f'"{key}" is not a valid GitHub organization name')
        known = known_plugins()
        for index, name in enumerate(entry.plugins):
            if name not in known:
                hint = difflib.get_close_matches(name, known, n=1)
                suggestion = f' (did you mean "{hint[0]}"?)' if hint else ""
                report.error(
                    (*list_path, index), f'unknown plugin "{name}"{suggestion}'
                )
        if "/" in key:
            org, _, repo = key.partition("/")
            org_entry = plugins.plugins.get(org)
            if org_entry and repo not in org_entry.excluded_repos:
                for index, name in enumerate(entry.plugins):
                    if name in org_entry.plugins:
                        report.error(
                            (*list_path, index),
                            f'plugin "{name}" is enabled for {key} and again for '
                            f"its org {org}",
                        )
    for key, entries in plugins.external_plugins.items():
        if "/" not in key:
            continue
        org_names = {
            e.name for e in plugins.external_plugins.get(key.split("/")[0], [])
        }
        for index, entry in enumerate(entries):
            if entry.name in org_names:
                report.error(
                    ("external_plugins", key, index),
                    f'external plugin "{entry.name}" is configured for {key} '
                    "and for its org",
                )


# A repository's own jobs -------------------------------------------------------

# Volume kinds that stay inside the pod or hold nothing secret; anything else
# reaches the node or the cluster's storage and is refused.
SAFE_VOLUME_KINDS = {"emptyDir", "configMap", "downwardAPI", "projected"}
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


@dataclass
class RepoJobs:
    presubmits: list[Presubmit] = field(default_factory=list)
    postsubmits: list[Postsubmit] = field(default_factory=list)
    errors: list[ConfigIssue] = field(default_factory=list)


class _RepoReporter(_Reporter):
    linear_only = True


def check_repo_jobs(
    config: ProwConfig,
    org: str,
    repo: str,
    documents: list[tuple[str, dict, dict]],
) -> RepoJobs:
    """A repository's presubmits and postsubmits, from (file, data, lines)
    of each of its config files, put through the central config's checks
    and then through what the central config lets this repository ask of
    the cluster. Any error refuses them all."""
    result = ValidationResult()
    granted = config.in_repo_config.pod_options_for(org, repo)
    typed: dict[str, list[tuple[str, Any]]] = {"presubmits": [], "postsubmits": []}
    for file, data, lines in documents:
        report = _RepoReporter(file, yamlsource.LineMap(lines), result)
        for section, model in JOB_SECTIONS.items():
            kind = section[:-1]
            items = data.get(section) or []
            if not isinstance(items, list):
                report.error((section,), "must be a list of jobs")
                continue
            indexed = _typed_items(model, items, (section,), report)
            for index, job in indexed:
                path = (section, index)
                _check_job_base(job, path, report, kind, config.pod_namespace)
                if kind == "presubmit":
                    _check_presubmit(job, path, report)
                else:
                    _check_change_filters(job, path, report)
                _check_repo_pod(job.spec or {}, (*path, "spec"), report, granted)
                for other_file, other in typed[section]:
                    if other.name == job.name and _branches_intersect(job, other):
                        report.error(
                            (*path, "name"),
                            f"duplicated {kind} job {job.name!r} (also in "
                            f"{other_file}, running on the same branches)",
                        )
            _check_duplicates(indexed, (section,), kind, report)
            typed[section].extend((file, job) for _, job in indexed)
    result.errors.sort(key=lambda issue: (issue.file, issue.line or 0))
    if result.errors:
        return RepoJobs(errors=result.errors)
    return RepoJobs(
        presubmits=[job for _, job in typed["presubmits"]],
        postsubmits=[job for _, job in typed["postsubmits"]],
    )


def _check_repo_pod(spec: dict, path: tuple, report: _Reporter, granted) -> None:
    """What only the central config may grant a repository: a service
    account, Secrets, the node's files and namespaces, privilege."""
    account = spec.get("serviceAccountName") or spec.get("serviceAccount")
    if account and account not in granted.service_accounts:
        key = "serviceAccountName" if "serviceAccountName" in spec else "serviceAccount"
        report.error(
            (*path, key),
            f"service account {account!r} is not granted to this repository "
            "(in_repo_config.allowed_pod_options.service_accounts)",
        )
    token = spec.get("automountServiceAccountToken") and not account
    if token and "default" not in granted.service_accounts:
        report.error(
            (*path, "automountServiceAccountToken"),
            "a service account token is not granted to this repository",
        )
    if not granted.privileged:
        for key in HOST_NAMESPACES:
            if spec.get(key):
                report.error(
                    (*path, key),
                    f"{key} is not granted to this repository "
                    "(in_repo_config.allowed_pod_options.privileged)",
                )
    for vindex, volume in enumerate(spec.get("volumes") or []):
        if isinstance(volume, dict):
            _check_repo_volume(volume, (*path, "volumes", vindex), report, granted)
    for key in ("containers", "initContainers", "ephemeralContainers"):
        containers = spec.get(key)
        for cindex, container in enumerate(containers or []):
            if isinstance(container, dict):
                cpath = (*path, key, cindex)
                _check_repo_container(container, cpath, report, granted)


def _secret_refused(name, path: tuple, report: _Reporter, granted) -> None:
    if name not in granted.secrets:
        report.error(
            path,
            f"Secret {name!r} is not granted to this repository "
            "(in_repo_config.allowed_pod_options.secrets)",
        )


def _check_repo_volume(volume: dict, path: tuple, report: _Reporter, granted) -> None:
    kinds = [key for key in volume if key != "name"]
    for kind in kinds:
        source = volume[kind] if isinstance(volume[kind], dict) else {}
        if kind == "secret":
            _secret_refused(source.get("secretName"), (*path, kind), report, granted)
        elif kind == "hostPath":
            if source.get("path") not in granted.host_paths:
                report.error(
                    (*path, kind),
                    f"host path {source.get('path')!r} is not granted to this "
                    "repository (in_repo_config.allowed_pod_options.host_paths)",
                )
        elif kind == "projected":
            for sindex, item in enumerate(source.get("sources") or []):
                secret = item.get("secret") if isinstance(item, dict) else None
                if secret is not None:
                    name = secret.get("name") if isinstance(secret, dict) else None
                    spath = (*path, kind, "sources", sindex)
                    _secret_refused(name, spath, report, granted)
        elif kind not in SAFE_VOLUME_KINDS:
            report.error(
                (*path, kind),
                f"{kind} volumes are not allowed in a repository's own config",
            )


def _check_repo_container(
    container: dict, path: tuple, report: _Reporter, granted
) -> None:
    context = container.get("securityContext")
    if isinstance(context, dict) and not granted.privileged:
        added = (context.get("capabilities") or {}).get("add") or []
        if context.get("privileged"):
            report.error(
                (*path, "securityContext"),
                "privileged containers are not granted to this repository "
                "(in_repo_config.allowed_pod_options.privileged)",
            )
        elif added:
            report.error(
                (*path, "securityContext", "capabilities", "add"),
                "added capabilities are not granted to this repository "
                "(in_repo_config.allowed_pod_options.privileged)",
            )
    for eindex, env in enumerate(container.get("env") or []):
        source = env.get("valueFrom") if isinstance(env, dict) else None
        ref = source.get("secretKeyRef") if isinstance(source, dict) else None
        if ref is not None:
            name = ref.get("name") if isinstance(ref, dict) else None
            _secret_refused(name, (*path, "env", eindex), report, granted)
    for eindex, source in enumerate(container.get("envFrom") or []):
        ref = source.get("secretRef") if isinstance(source, dict) else None
        if ref is not None:
            name = ref.get("name") if isinstance(ref, dict) else None
            _secret_refused(name, (*path, "envFrom", eindex), report, granted)
