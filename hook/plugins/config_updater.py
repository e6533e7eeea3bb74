"""config-updater: a merged pull request that changes the config files makes
them the active config, so nobody edits the running config by hand.

The original writes the files named by `config_updater.maps` into the
Kubernetes ConfigMaps that Prow's components mount. Here the running config
is a stored config version (config.yaml and plugins.yaml together), so the
maps whose ConfigMap is one this system reads are followed:

- `config`: the file is config.yaml;
- `plugins` (or `plugin`): the file is plugins.yaml;
- `job-config` (or partitions named `job-config...`): job config files,
  whose jobs are merged into config.yaml, as the original's
  `--job-config-path` does.

The files are read at the merge commit; a file the pull request did not
touch is the active version's text (plugins.yaml edited in the admin stays
until a pull request changes it). Both are validated together and stored as
one version; an invalid change stores nothing and says why on the pull
request, file by file and line by line.
"""

import posixpath
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import yaml
from django.db import transaction
from pydantic import Field, model_validator

from hook.events import GenericComment, PullRequestEvent
from hook.plugins.base import Plugin, PluginContext, format_reply
from prow.config import yamlsource
from prow.config.models import ConfigVersion
from prow.config.plugin_sections import PluginSection, SectionReport
from prow.config.schema import Section
from prow.config.services import ConfigInvalid, config_version_create
from prow.config.validation import (
    CONFIG_FILE,
    ConfigIssue,
    ValidationResult,
    validate,
)
from prow.github.types import ChangedFile, PullRequest
from prow.locks import transaction_lock

# The most errors one comment lists; the rest are counted.
MAX_LISTED_ERRORS = 30
JOB_KEYS = ("presubmits", "postsubmits", "periodics", "presets")
# GitHub's limit on a ConfigMap-sized file is not ours, but a job config
# tree this large is a mistake rather than a config.
MAX_JOB_FILES = 2000


# Section -------------------------------------------------------------------------


class ClusterGroup(Section):
    clusters: list[str] = Field(default_factory=list)
    namespaces: list[str] = Field(default_factory=list)


class ConfigMapSpec(Section):
    name: str = ""
    partitioned_names: list[str] = Field(default_factory=list)
    key: str = ""
    gzip: bool | None = None
    namespace: str = ""
    additional_namespaces: list[str] = Field(default_factory=list)
    clusters: dict[str, list[str]] = Field(default_factory=dict)
    cluster_groups: list[str] = Field(default_factory=list)
    use_full_path_as_key: bool = False
    allowed_repos: list[str] = Field(default_factory=list)
    denied_repos: list[str] = Field(default_factory=list)

    def allows(self, org: str, repo: str) -> bool:
        """The original's ACL: a denied org or org/repo never updates the
        ConfigMap; with an allow list, only those listed do."""
        full = f"{org}/{repo}"
        if any(entry in (full, org) for entry in self.denied_repos):
            return False
        return not self.allowed_repos or any(
            entry in (full, org) for entry in self.allowed_repos
        )

    @property
    def display_name(self) -> str:
        return self.name or ", ".join(self.partitioned_names)


def _default_maps() -> dict[str, ConfigMapSpec]:
    return {
        "config/prow/config.yaml": ConfigMapSpec(name="config"),
        "config/prow/plugins.yaml": ConfigMapSpec(name="plugins"),
    }


class ConfigUpdater(Section):
    maps: dict[str, ConfigMapSpec] = Field(default_factory=_default_maps)
    cluster_groups: dict[str, ClusterGroup] = Field(default_factory=dict)
    gzip: bool = False

    @model_validator(mode="after")
    def _maps_default_when_empty(self) -> "ConfigUpdater":
        # As in the original, `maps: {}` means the default maps too.
        if not self.maps:
            self.maps = _default_maps()
        return self


class Role(StrEnum):
    CONFIG = "config"
    PLUGINS = "plugins"
    JOBS = "jobs"


def role_of(spec: ConfigMapSpec) -> Role | None:
    """What a ConfigMap is to this system, from its name; None for the
    ConfigMaps other tools read (label config, boskos...)."""
    if spec.name == "config":
        return Role.CONFIG
    if spec.name in ("plugins", "plugin"):
        return Role.PLUGINS
    names = [spec.name] if spec.name else spec.partitioned_names
    if names and all(name.startswith("job-config") for name in names):
        return Role.JOBS
    return None


_GLOB_CHARS = re.compile(r"[*?\[]")


def is_glob(pattern: str) -> bool:
    return bool(_GLOB_CHARS.search(pattern))


def glob_regex(pattern: str) -> re.Pattern:
    """The original's glob (zglob): `**` spans directories, `*` and `?`
    stay within one, `[...]` is a class."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out += f"[{body}]"
            i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def glob_matches(pattern: str, path: str) -> bool:
    return bool(glob_regex(pattern).match(path))


def _targets(spec: ConfigMapSpec, groups: dict[str, ClusterGroup]):
    """(cluster, namespace) pairs the original would write the ConfigMap to."""
    if spec.clusters:
        return {(c, ns) for c, nss in spec.clusters.items() for ns in nss or [""]}
    if spec.cluster_groups:
        return {
            (c, ns)
            for name in spec.cluster_groups
            for c in groups.get(name, ClusterGroup()).clusters
            for ns in groups.get(name, ClusterGroup()).namespaces or [""]
        }
    return {("default", ns) for ns in [spec.namespace, *spec.additional_namespaces]}


def check_config_updater(value: ConfigUpdater, report: SectionReport) -> None:
    keys: dict[tuple, str] = {}
    by_role: dict[Role, list[str]] = {}
    for path, spec in value.maps.items():
        where = ("maps", path)
        if spec.name and spec.partitioned_names:
            report.error(
                (*where, "partitioned_names"),
                "'name' and 'partitioned_names' are mutually exclusive",
            )
        elif not spec.name and not spec.partitioned_names:
            report.error(where, "needs the name of the ConfigMap it updates")
        if len(spec.partitioned_names) > 256:
            report.error(
                (*where, "partitioned_names"),
                f"at most 256 partitions are supported, not "
                f"{len(spec.partitioned_names)}",
            )
        if spec.clusters and spec.cluster_groups:
            report.error(where, "sets both clusters and cluster_groups")
        for index, group in enumerate(spec.cluster_groups):
            if group not in value.cluster_groups:
                report.error(
                    (*where, "cluster_groups", index),
                    f"no cluster group named {group!r} in cluster_groups",
                )
        key = spec.key or posixpath.basename(path)
        for cluster, namespace in _targets(spec, value.cluster_groups):
            target = (spec.display_name, cluster, namespace, key)
            if target in keys and not spec.use_full_path_as_key:
                report.error(
                    where,
                    f"key {key} in ConfigMap {spec.display_name} is updated "
                    f"from more than one file (also from {keys[target]})",
                )
            keys.setdefault(target, path)
        role = role_of(spec)
        if role is None:
            report.warning(
                where,
                f"the {spec.display_name!r} ConfigMap is not one this system reads "
                "(config, plugins, job-config): merges changing these files "
                "change nothing here",
            )
            continue
        by_role.setdefault(role, []).append(path)
        if role is not Role.JOBS and is_glob(path):
            report.error(
                where,
                f"the {role} file must be one path, not a pattern",
            )
    for role in (Role.CONFIG, Role.PLUGINS):
        paths = by_role.get(role, [])
        for extra in paths[1:]:
            report.error(
                ("maps", extra),
                f"only one file can be the {role} (already {paths[0]})",
            )
    if by_role.get(Role.JOBS) and not by_role.get(Role.CONFIG):
        report.error(
            ("maps", by_role[Role.JOBS][0]),
            "job config files are merged into config.yaml, so a map for the "
            "config ConfigMap (name: config) is needed too",
        )


CONFIG_UPDATER = PluginSection(
    "config_updater",
    ConfigUpdater,
    check=check_config_updater,
    map_fields=frozenset({"maps", "cluster_groups", "clusters"}),
)


# What a merge changed ------------------------------------------------------------


@dataclass(frozen=True)
class Update:
    """One key of one ConfigMap the merge changes (file "" when it goes)."""

    role: Role
    configmap: str
    key: str
    file: str
    removed_file: str = ""


@dataclass
class Plan:
    maps: dict[Role, list[tuple[str, ConfigMapSpec]]]
    updates: list[Update]

    def touched(self, role: Role) -> bool:
        return any(update.role is role for update in self.updates)

    def path(self, role: Role) -> str:
        return self.maps[role][0][0]


def _key(spec: ConfigMapSpec, path: str) -> str:
    if spec.key:
        return spec.key
    if spec.use_full_path_as_key:
        return path.replace("/", "-")
    return posixpath.basename(path)


def _match(maps, filename: str):
    for role, entries in maps.items():
        for pattern, spec in entries:
            if glob_matches(pattern, filename):
                return role, spec
    return None


def plan_updates(
    settings: ConfigUpdater, org: str, repo: str, changes: list[ChangedFile]
) -> Plan:
    maps: dict[Role, list[tuple[str, ConfigMapSpec]]] = {}
    for pattern, spec in settings.maps.items():
        role = role_of(spec)
        if role is not None and spec.allows(org, repo):
            maps.setdefault(role, []).append((pattern, spec))
    if Role.CONFIG not in maps:
        # Jobs are merged into config.yaml; without it they go nowhere.
        maps.pop(Role.JOBS, None)
    updates: list[Update] = []
    for change in changes:
        found = _match(maps, change.filename)
        if change.status == "renamed" and change.previous_filename:
            old = _match(maps, change.previous_filename)
            if old is not None:
                role, spec = old
                old_key = _key(spec, change.previous_filename)
                # The key the old name filled goes, unless the new name
                # fills the same key of the same ConfigMap.
                if (
                    found is None
                    or found[0] is not role
                    or (_key(found[1], change.filename) != old_key)
                ):
                    updates.append(
                        Update(
                            role,
                            spec.display_name,
                            old_key,
                            "",
                            change.previous_filename,
                        )
                    )
        if found is None:
            continue
        role, spec = found
        if change.status == "removed":
            updates.append(
                Update(
                    role,
                    spec.display_name,
                    _key(spec, change.filename),
                    "",
                    change.filename,
                )
            )
        else:
            updates.append(
                Update(
                    role,
                    spec.display_name,
                    _key(spec, change.filename),
                    change.filename,
                )
            )
    return Plan(maps, updates)


# Building the texts --------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"`{self.file}`" + (f" line {self.line}" if self.line else "")
        path = "" if self.path in ("", "(top level)") else f" `{self.path}`"
        return f"{where}{path}: {self.message}"


def _relabel(issues: list[ConfigIssue], file: str, name: str) -> list[Problem]:
    return [Problem(name, i.line, i.path, i.message) for i in issues if i.file == file]


class _PlainDumper(yaml.SafeDumper):
    # Jobs shared through YAML anchors are written out in full: the stored
    # text is read by people, and each job is its own there.
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _jobs(parsed: yamlsource.Parsed):
    """(kind, repo, job, line) of every job a parsed file defines."""
    for section in ("presubmits", "postsubmits"):
        repos = parsed.data.get(section)
        for repo, jobs in (repos if isinstance(repos, dict) else {}).items():
            for index, job in enumerate(jobs if isinstance(jobs, list) else []):
                if isinstance(job, dict):
                    line = parsed.lines.line_of((section, repo, index))
                    yield section[:-1], repo, job, line
    periodics = parsed.data.get("periodics")
    for index, job in enumerate(periodics if isinstance(periodics, list) else []):
        if isinstance(job, dict):
            yield "periodic", "", job, parsed.lines.line_of(("periodics", index))


def _branch_filters(job: dict) -> tuple:
    return (job.get("branches") or [], job.get("skip_branches") or [])


def merge_job_config(
    config_path: str, config_text: str, job_files: dict[str, str]
) -> tuple[str, list[Problem]]:
    """config.yaml with the jobs of every job config file added, as the
    original loads `--job-config-path`; problems name the file and line."""
    try:
        base = yamlsource.parse(config_text)
    except yamlsource.YAMLSyntaxError as exc:
        return "", [Problem(config_path, exc.line, "", exc.message)]
    problems = _relabel(validate(config_text, "").errors, CONFIG_FILE, config_path)
    merged = base.data
    # A job of the same name in two files is found here, where both lines
    # are known; validating the merged text could only name an index in it.
    # Jobs whose branch filters differ are left to that validation, which
    # knows whether the branches meet.
    seen: dict[tuple, tuple[str, int | None, tuple]] = {}

    def remember(file: str, parsed: yamlsource.Parsed) -> None:
        for kind, repo, job, line in _jobs(parsed):
            name = str(job.get("name"))
            first = seen.setdefault(
                (kind, repo, name), (file, line, _branch_filters(job))
            )
            if first[0] != file and first[2] == _branch_filters(job):
                at = f"`{first[0]}`" + (f" line {first[1]}" if first[1] else "")
                problems.append(
                    Problem(
                        file, line, "", f"duplicated {kind} job {name!r} (also in {at})"
                    )
                )

    remember(config_path, base)
    for path, text in sorted(job_files.items()):
        try:
            parsed = yamlsource.parse(text)
        except yamlsource.YAMLSyntaxError as exc:
            problems.append(Problem(path, exc.line, "", exc.message))
            continue
        for key in parsed.data:
            if key not in JOB_KEYS:
                problems.append(
                    Problem(
                        path,
                        parsed.lines.line_of((key,)),
                        str(key),
                        "a job config file holds only presubmits, postsubmits, "
                        "periodics and presets",
                    )
                )
        problems += _relabel(validate(text, "").errors, CONFIG_FILE, path)
        remember(path, parsed)
        for section in ("presubmits", "postsubmits"):
            repos = parsed.data.get(section)
            if not isinstance(repos, dict):
                continue
            target = merged.get(section)
            target = merged[section] = dict(target if isinstance(target, dict) else {})
            for repo, jobs in repos.items():
                target[repo] = list(target.get(repo) or []) + list(jobs or [])
        for section in ("periodics", "presets"):
            items = parsed.data.get(section)
            if isinstance(items, list):
                merged[section] = list(merged.get(section) or []) + items
    text = yaml.dump(
        merged,
        Dumper=_PlainDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,
    )
    return text, problems


# The handler ---------------------------------------------------------------------


class Refused(Exception):
    """The merge cannot become the config; the message says why."""


def _fetch(ctx: PluginContext, path: str, sha: str) -> str:
    text = ctx.file_at(path, sha)
    if text is None:
        raise Refused(
            f"`{path}` does not exist at the merge commit {sha[:8]}, so the "
            "config was not updated; the active config stays as it was."
        )
    return text


def _config_text(ctx: PluginContext, plan: Plan, sha: str) -> tuple[str, list]:
    """config.yaml at the merge commit, with the job config merged in when
    job config files are mapped; and the problems found reading them."""
    config_path = plan.path(Role.CONFIG)
    text = _fetch(ctx, config_path, sha)
    job_maps = plan.maps.get(Role.JOBS)
    if not job_maps:
        return text, []
    patterns = [glob_regex(pattern) for pattern, _ in job_maps]
    paths = [
        path
        for path in ctx.github.tree_files(ctx.org, ctx.repo, sha)
        if path != config_path and any(p.match(path) for p in patterns)
    ]
    if len(paths) > MAX_JOB_FILES:
        raise Refused(
            f"{len(paths)} job config files match `config_updater.maps`; at most "
            f"{MAX_JOB_FILES} are read, so the config was not updated."
        )
    job_files = {path: _fetch(ctx, path, sha) for path in paths}
    return merge_job_config(config_path, text, job_files)


def _problems(
    result: ValidationResult, plan: Plan, merged_jobs: bool, from_pr: dict
) -> list[Problem]:
    """The validation's errors, named by the file a person has to edit."""
    problems = []
    for issue in result.errors:
        if issue.file == CONFIG_FILE:
            if from_pr.get(Role.CONFIG) and not merged_jobs:
                name, line = plan.path(Role.CONFIG), issue.line
            elif from_pr.get(Role.CONFIG):
                # Lines of the merged text mean nothing in any one file.
                name, line = f"{plan.path(Role.CONFIG)} with the job config", None
            else:
                name, line = "config.yaml (active version)", issue.line
        elif from_pr.get(Role.PLUGINS):
            name, line = plan.path(Role.PLUGINS), issue.line
        else:
            name, line = "plugins.yaml (active version)", issue.line
        problems.append(Problem(name, line, issue.path, issue.message))
    return problems


def _merge_tag(org: str, repo: str, sha: str) -> str:
    return f"merge commit {sha} of {org}/{repo}"


def _store(
    pr: PullRequest, texts: dict[Role, str], plan: Plan
) -> tuple[ConfigVersion | None, list[Problem], bool]:
    """Store the merge's config as the active version, once: (version,
    problems, stored by this merge). The other file is read from the active
    version under the config writers' lock, so that two merges landing
    together both count."""
    sha = pr.merge_commit_sha
    tag = _merge_tag(pr.org, pr.repo, sha)
    with transaction.atomic():
        transaction_lock("config:writes")
        done = (
            ConfigVersion.objects.filter(
                source=ConfigVersion.Source.MERGE, comment__contains=tag
            )
            .order_by("-pk")
            .first()
        )
        if done is not None:
            # Stored by an earlier handling that failed before it could say so.
            return done, [], True
        active = ConfigVersion.objects.order_by("-pk").first()
        config_yaml = texts.get(Role.CONFIG)
        if config_yaml is None:
            config_yaml = active.config_yaml if active else ""
        plugins_yaml = texts.get(Role.PLUGINS)
        if plugins_yaml is None:
            plugins_yaml = active.plugins_yaml if active else ""
        result = validate(config_yaml, plugins_yaml)
        if not result.ok:
            return (
                None,
                _problems(result, plan, bool(plan.maps.get(Role.JOBS)), texts),
                False,
            )
        if active is not None and active.content_hash == ConfigVersion.hash_texts(
            config_yaml, plugins_yaml
        ):
            return active, [], False
        try:
            version = config_version_create(
                config_yaml=config_yaml,
                plugins_yaml=plugins_yaml,
                source=ConfigVersion.Source.MERGE,
                comment=f"Pull request {pr.org}/{pr.repo}#{pr.number} "
                f"({pr.title}), {tag}",
            )
        except ConfigInvalid as exc:
            return None, _problems(exc.result, plan, False, texts), False
    return version, [], True


def _updated_message(plan: Plan, version: ConfigVersion, stored: bool) -> str:
    by_map: dict[str, list[Update]] = {}
    for update in plan.updates:
        by_map.setdefault(update.configmap, []).append(update)
    indent = "   " if len(by_map) > 1 else " "

    def describe(name: str, updates: list[Update]) -> str:
        lines = [f"`{name}` configmap using the following files:"]
        for u in updates:
            if u.file:
                lines.append(f"{indent}- key `{u.key}` using file `{u.file}`")
            else:
                gone = u.removed_file
                lines.append(
                    f"{indent}- key `{u.key}` removed, as `{gone}` was deleted"
                )
        return "\n".join(lines)

    names = sorted(by_map)
    if len(names) == 1:
        text = f"Updated the {describe(names[0], by_map[names[0]])}"
    else:
        text = f"Updated the following {len(names)} configmaps:\n"
        text += "".join(f" * {describe(n, by_map[n])}\n" for n in names)
    text = text.rstrip("\n")
    if stored:
        text += f"\n\nConfig version {version.pk} is now active."
    else:
        text += (
            f"\n\nThe active config (version {version.pk}) already had this content."
        )
    return text


def _refused_message(problems: list[Problem]) -> str:
    listed = "".join(f"- {p}\n" for p in problems[:MAX_LISTED_ERRORS])
    more = len(problems) - MAX_LISTED_ERRORS
    if more > 0:
        listed += f"- and {more} more\n"
    return (
        "The config was not updated: the files this pull request merged have "
        "errors, so the active config stays as it was. Please fix them in a new "
        f"pull request:\n\n{listed}"
    )


def _say_once(ctx: PluginContext, pr: PullRequest, text: str) -> None:
    """Reply to the pull request's author, quoting its description as the
    original does; a marker naming the merge keeps a second handling of the
    same merge from saying it again."""
    marker = f"<!-- config-updater: {pr.merge_commit_sha} -->"
    for comment in ctx.github.list_comments(ctx.org, ctx.repo, pr.number):
        if ctx.github.is_bot(comment.user) and marker in comment.body:
            return
    about = GenericComment(
        action="created",
        body=pr.body,
        user=pr.author,
        is_pr=True,
        number=pr.number,
        org=ctx.org,
        repo=ctx.repo,
        html_url=pr.html_url,
        guid=ctx.guid,
    )
    ctx.comment(pr.number, format_reply(about, f"{text}\n{marker}"))


def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    if event.action != "closed":
        return
    pr = event.pull
    if not pr.merged or not pr.merge_commit_sha:
        return
    base_repo = (event.payload.get("pull_request") or {}).get("base") or {}
    default_branch = (base_repo.get("repo") or {}).get("default_branch")
    if default_branch and pr.base_ref != default_branch:
        return  # only what lands on the default branch is the config
    settings = plugin.settings(ctx)
    plan = plan_updates(
        settings,
        ctx.org,
        ctx.repo,
        ctx.github.pull_changes(ctx.org, ctx.repo, pr.number),
    )
    if not plan.updates:
        return
    sha = pr.merge_commit_sha
    try:
        for update in plan.updates:
            if not update.file and update.role is not Role.JOBS:
                raise Refused(
                    f"This pull request deleted `{update.removed_file}`, the "
                    f"{'config.yaml' if update.role is Role.CONFIG else 'plugins.yaml'}"
                    " of the running config. The config must stay whole, so it "
                    "was not updated; to stop updating it from this file, remove "
                    "the file's entry from `config_updater.maps` instead."
                )
        texts: dict[Role, str] = {}
        problems: list[Problem] = []
        if plan.touched(Role.CONFIG) or plan.touched(Role.JOBS):
            texts[Role.CONFIG], problems = _config_text(ctx, plan, sha)
        if plan.touched(Role.PLUGINS):
            texts[Role.PLUGINS] = _fetch(ctx, plan.path(Role.PLUGINS), sha)
        if not problems:
            version, problems, stored = _store(pr, texts, plan)
    except Refused as exc:
        _say_once(ctx, pr, str(exc))
        return
    if problems:
        ctx.logger.info(
            "config from %s/%s#%s refused: %d problems",
            ctx.org,
            ctx.repo,
            pr.number,
            len(problems),
        )
        _say_once(ctx, pr, _refused_message(problems))
        return
    _say_once(ctx, pr, _updated_message(plan, version, stored))


plugin = Plugin(
    name="config-updater",
    description=(
        "The config-updater plugin automatically redeploys configuration and "
        "plugin configuration files when they change. The plugin watches for "
        "pull request merges that modify either of the config files and makes "
        "them the active config. Unlike the original, which writes Kubernetes "
        "ConfigMaps, it stores a new config version: only the maps for the "
        "`config`, `plugins` and `job-config` ConfigMaps count (job config files "
        "are merged into config.yaml), namespaces, clusters and gzip change "
        "nothing, and the file the merge did not touch is the active version's. "
        "An invalid change is refused whole, with its errors by file and line "
        "in a comment. A merge that deletes config.yaml or plugins.yaml is "
        "refused with a comment rather than deleting the key, since the config "
        "must stay whole."
    ),
    handlers={"pull_request": handle_pull_request},
    config=CONFIG_UPDATER,
    config_help=(
        "config_updater: maps (path or glob -> {name, key, use_full_path_as_key, "
        "allowed_repos, denied_repos, ...}); default: config/prow/config.yaml -> "
        "config, config/prow/plugins.yaml -> plugins"
    ),
)
