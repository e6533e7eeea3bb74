"""Jobs a repository defines for itself: `.prow.yaml`, or `.prow/*.yaml`.

Enabled per repository by `in_repo_config.enabled` (org/repo, org or "*",
the narrowest key wins). The files are read at the SHA under test and
merged with the central config; a job defined in both places is an error,
as in the original. Results are cached per SHA, since a commit's files
never change.
"""

import yaml
from django.core.cache import cache
from pydantic import ValidationError

from prow.config.schema import Postsubmit, Presubmit, ProwConfig
from prow.github.client import GitHubClient

CACHE_SECONDS = 3600


class InRepoConfigError(Exception):
    """The repository's own job config is broken; the message says how."""


def _documents(
    gh: GitHubClient, org: str, repo: str, sha: str
) -> list[tuple[str, str]]:
    single = gh.file_content(org, repo, ".prow.yaml", sha)
    if single is not None:
        return [(".prow.yaml", single)]
    names = gh.directory_files(org, repo, ".prow", sha) or []
    documents = []
    for name in sorted(names):
        if name.endswith((".yaml", ".yml")):
            text = gh.file_content(org, repo, f".prow/{name}", sha)
            if text is not None:
                documents.append((f".prow/{name}", text))
    return documents


def _parse(documents: list[tuple[str, str]]) -> dict[str, list[dict]]:
    jobs: dict[str, list[dict]] = {"presubmits": [], "postsubmits": []}
    for path, text in documents:
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise InRepoConfigError(f"{path}: invalid YAML: {exc}")
        if not isinstance(data, dict):
            raise InRepoConfigError(f"{path}: the top level must be a mapping")
        unknown = set(data) - set(jobs)
        if unknown:
            raise InRepoConfigError(
                f"{path}: only presubmits and postsubmits may be defined in the "
                f"repository, not {', '.join(sorted(unknown))}"
            )
        for kind in jobs:
            items = data.get(kind) or []
            if not isinstance(items, list):
                raise InRepoConfigError(f"{path}: {kind} must be a list of jobs")
            jobs[kind].extend(items)
    return jobs


def in_repo_jobs(
    gh: GitHubClient, config: ProwConfig, org: str, repo: str, sha: str
) -> tuple[list[Presubmit], list[Postsubmit]]:
    """The repository's own presubmits and postsubmits at sha (none when the
    feature is off for it)."""
    if not config.in_repo_config.enabled_for(org, repo):
        return [], []
    key = f"inrepo:{org}/{repo}@{sha}"
    raw = cache.get(key)
    if raw is None:
        raw = _parse(_documents(gh, org, repo, sha))
        cache.set(key, raw, CACHE_SECONDS)
    try:
        presubmits = [Presubmit.model_validate(item) for item in raw["presubmits"]]
        postsubmits = [Postsubmit.model_validate(item) for item in raw["postsubmits"]]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InRepoConfigError(
            f"invalid job in the repository's config: {where}: {first['msg']}"
        )
    allowed = _allowed_clusters(config, org, repo)
    for job in [*presubmits, *postsubmits]:
        if job.cluster not in allowed:
            raise InRepoConfigError(
                f"job {job.name} may not use cluster {job.cluster!r}; allowed: "
                f"{', '.join(sorted(allowed))}"
            )
    return presubmits, postsubmits


def _allowed_clusters(config: ProwConfig, org: str, repo: str) -> set[str]:
    allowed = {"default"}
    clusters = config.in_repo_config.allowed_clusters
    for key in (f"{org}/{repo}", org, "*"):
        allowed |= set(clusters.get(key, []))
    return allowed


def presubmits_for(
    gh: GitHubClient, config: ProwConfig, org: str, repo: str, sha: str
) -> list[Presubmit]:
    """Central presubmits plus the repository's own at sha."""
    static = config.presubmits_for(org, repo)
    own, _ = in_repo_jobs(gh, config, org, repo, sha)
    _refuse_duplicates(static, own)
    return [*static, *own]


def postsubmits_for(
    gh: GitHubClient, config: ProwConfig, org: str, repo: str, sha: str
) -> list[Postsubmit]:
    static = config.postsubmits_for(org, repo)
    _, own = in_repo_jobs(gh, config, org, repo, sha)
    _refuse_duplicates(static, own)
    return [*static, *own]


def _refuse_duplicates(static, own) -> None:
    names = {job.name for job in static}
    for job in own:
        if job.name in names:
            raise InRepoConfigError(
                "duplicated presubmit jobs (consider both inrepo and central "
                f"config): [{job.name}]"
            )
