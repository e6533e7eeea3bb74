"""Starting presubmits: for one pull request, or for several tested together
on the same base (a batch, as Tide runs them).

The trigger plugin, the status reconciler and Tide all start presubmits
through presubmits_start, so refs, labels and the once-per-event rule are
made in one place.
"""

import logging

from django.core.cache import cache

from jobs.labels import EVENT_GUID_LABEL, IS_OPTIONAL_LABEL, RETEST_LABEL
from jobs.models import ProwJob, ProwJobType
from jobs.services import presubmit_fields, prowjob_create
from prow.config.schema import Presubmit, ProwConfig
from prow.github.client import GitHubClient
from prow.github.types import PullRequest

logger = logging.getLogger(__name__)

CHANGES_SECONDS = 3600


def base_refs(link: str, org: str, repo: str, base_ref: str, base_sha: str) -> dict:
    """The refs of a branch at a commit, with the links the original adds."""
    return {
        "org": org,
        "repo": repo,
        "repo_link": f"{link}/{org}/{repo}",
        "base_ref": base_ref,
        "base_sha": base_sha,
        "base_link": f"{link}/{org}/{repo}/commit/{base_sha}",
    }


def pull_refs(link: str, pulls: list[PullRequest], base_sha: str) -> dict:
    """The code under test: the base branch at base_sha with each pull
    request's head merged in, in order."""
    first = pulls[0]
    refs = base_refs(link, first.org, first.repo, first.base_ref, base_sha)
    refs["pulls"] = [
        {
            "number": pr.number,
            "author": pr.author,
            "sha": pr.head_sha,
            "title": pr.title,
            "head_ref": pr.head_ref,
            "link": f"{link}/{pr.org}/{pr.repo}/pull/{pr.number}",
            "commit_link": f"{link}/{pr.org}/{pr.repo}/pull/{pr.number}"
            f"/commits/{pr.head_sha}",
            "author_link": f"{link}/{pr.author}",
        }
        for pr in pulls
    ]
    return refs


def made_for_event(guid: str, **filters) -> set[str]:
    """Names of the jobs this event already started (one query), so a
    redelivered or replayed webhook starts nothing twice."""
    return set(
        ProwJob.objects.filter(
            labels__contains={EVENT_GUID_LABEL: guid}, **filters
        ).values_list("job", flat=True)
    )


def pull_changes(github: GitHubClient, pr: PullRequest) -> list[str]:
    """The files a pull request changes, asked once per head SHA."""
    key = f"pr-changes:{pr.org}/{pr.repo}#{pr.number}@{pr.head_sha}"
    files = cache.get(key)
    if files is None:
        changed = github.pull_changes(pr.org, pr.repo, pr.number)
        files = [f.filename for f in changed]
        cache.set(key, files, CHANGES_SECONDS)
    return files


def presubmits_start(
    *,
    config: ProwConfig,
    github: GitHubClient,
    guid: str,
    pulls: list[PullRequest],
    jobs: list[Presubmit],
    base_sha: str = "",
    retest: bool = False,
    extra_labels: dict[str, str] | None = None,
) -> list[ProwJob]:
    """Create a ProwJob for each job on the pulls, once per event guid: a
    redelivered webhook finds the jobs it made and makes none.

    One pull request runs presubmits; several run batch jobs, all on the
    same base. base_sha defaults to the base branch's current tip (not the
    stale SHA in a webhook)."""
    if not jobs or not pulls:
        return []
    if len(pulls) == 1 and pulls[0].mergeable is False:
        pr = pulls[0]
        logger.info("%s/%s#%s is not mergeable; no jobs", pr.org, pr.repo, pr.number)
        return []
    first = pulls[0]
    if not base_sha:
        base_sha = github.branch_sha(first.org, first.repo, first.base_ref)
    refs = pull_refs(config.github.link_url.rstrip("/"), pulls, base_sha)
    batch = len(pulls) > 1
    made = made_for_event(
        guid,
        org=first.org,
        repo=first.repo,
        pull_number=first.number,
        type=ProwJobType.BATCH if batch else ProwJobType.PRESUBMIT,
    )
    created = []
    for job in jobs:
        if job.name in made:
            continue
        labels = {
            EVENT_GUID_LABEL: guid,
            IS_OPTIONAL_LABEL: "true" if job.optional else "false",
        }
        if retest:
            labels[RETEST_LABEL] = "true"
        labels.update(extra_labels or {})
        fields = presubmit_fields(job, refs, config)
        if batch:
            fields["type"] = ProwJobType.BATCH
        created.append(prowjob_create(fields=fields, extra_labels=labels))
    return created
