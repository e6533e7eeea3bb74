"""Jobs a repository defines for itself: `.prow.yaml`, or `.prow/*.yaml`.

Enabled per repository by `in_repo_config.enabled` (org/repo, org or "*",
the narrowest key wins). The files are read at the SHA under test and
merged with the central config; a job defined in both places is an error,
as in the original. The files' parse is cached per SHA, since a commit's
files never change.

The jobs pass the central config's job and pod checks (regexes must match
in linear time here), and ask nothing of the cluster that the central
config's `in_repo_config.allowed_pod_options` does not grant the repository:
no service account, Secret, host path or privilege otherwise. Their pods run
in pod_namespace like every other.
"""

from django.core.cache import cache

from jobs.labels import IN_REPO_ANNOTATION
from prow.config import yamlsource
from prow.config.schema import Postsubmit, Presubmit, ProwConfig
from prow.config.validation import check_repo_jobs
from prow.github.client import GitHubClient

CACHE_SECONDS = 3600
JOB_KINDS = ("presubmits", "postsubmits")


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


def _parse(documents: list[tuple[str, str]]) -> list[tuple[str, dict, dict]]:
    """(file, data, lines) of each document. Parsed as the central config
    is, so aliases that would expand without end are refused here too."""
    parsed = []
    for path, text in documents:
        try:
            document = yamlsource.parse(text)
        except yamlsource.YAMLSyntaxError as exc:
            where = f"{path}:{exc.line}" if exc.line else path
            raise InRepoConfigError(f"{where}: {exc.message}")
        unknown = set(document.data) - set(JOB_KINDS)
        if unknown:
            raise InRepoConfigError(
                f"{path}: only presubmits and postsubmits may be defined in the "
                f"repository, not {', '.join(sorted(map(str, unknown)))}"
            )
        parsed.append((path, document.data, document.lines.lines))
    return parsed


def in_repo_jobs(
    gh: GitHubClient, config: ProwConfig, org: str, repo: str, sha: str
) -> tuple[list[Presubmit], list[Postsubmit]]:
    """The repository's own presubmits and postsubmits at sha (none when the
    feature is off for it). Callers decide whether the code at sha may be
    trusted before asking: the files are the pull request author's."""
    if not config.in_repo_config.enabled_for(org, repo):
        return [], []
    key = f"inrepo-documents:{org}/{repo}@{sha}"
    documents = cache.get(key)
    if documents is None:
        documents = _parse(_documents(gh, org, repo, sha))
        cache.set(key, documents, CACHE_SECONDS)
    checked = check_repo_jobs(config, org, repo, documents)
    if checked.errors:
        raise InRepoConfigError("\n".join(str(issue) for issue in checked.errors))
    allowed = _allowed_clusters(config, org, repo)
    for job in [*checked.presubmits, *checked.postsubmits]:
        if job.cluster not in allowed:
            raise InRepoConfigError(
                f"job {job.name} may not use cluster {job.cluster!r}; allowed: "
                f"{', '.join(sorted(allowed))}"
            )
    return _marked(checked.presubmits), _marked(checked.postsubmits)


def _marked(jobs: list) -> list:
    return [
        job.model_copy(
            update={"annotations": {**job.annotations, IN_REPO_ANNOTATION: "true"}}
        )
        for job in jobs
    ]


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
    contexts = {job.effective_context for job in static}
    for job in own:
        if job.name in names:
            raise InRepoConfigError(
                "duplicated presubmit jobs (consider both inrepo and central "
                f"config): [{job.name}]"
            )
        # A central job's context is its own: a repository's job reporting
        # to it could pass (or /skip) a required check.
        if job.effective_context in contexts:
            raise InRepoConfigError(
                f"job {job.name} reports to the context "
                f"{job.effective_context!r} of a job in the central config"
            )
