"""Merging a pull request: which method, which commit message, and what a
refusal from GitHub means.

GitHub is always sent the head SHA Tide tested, so a pull request pushed
to after its tests is refused rather than merged untested. A refusal is
reported, never forced; only "base branch was modified" (GitHub still
settling a previous merge) is worth asking again at once.
"""

import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings

from prow.config.regex import compile_go_regex
from prow.config.schema import Tide
from prow.github.client import GitHubClient, GitHubError
from tide.types import TidePull

logger = logging.getLogger(__name__)

DEFAULT_METHOD = "merge"
BASE_MODIFIED_RETRIES = 3


def configured_method(tide: Tide, org: str, repo: str, branch: str) -> str:
    """The merge method for a branch: org/repo@branch, then a branch regex
    under the nested form (keys in sorted order), then org/repo, then the
    nested repo entry, then org, then merge."""
    methods = tide.merge_method
    exact = methods.get(f"{org}/{repo}@{branch}")
    if isinstance(exact, str):
        return exact
    nested_repo = None
    org_entry = methods.get(org)
    if isinstance(org_entry, dict):
        nested_repo = org_entry.get(repo)
        if isinstance(nested_repo, dict):
            for pattern in sorted(nested_repo):
                if compile_go_regex(f"^(?:{pattern})$").search(branch):
                    return str(nested_repo[pattern])
    shorthand = methods.get(f"{org}/{repo}")
    if isinstance(shorthand, str):
        return shorthand
    if isinstance(nested_repo, str):
        return nested_repo
    if isinstance(org_entry, str):
        return org_entry
    return DEFAULT_METHOD


def label_methods(tide: Tide) -> dict[str, str]:
    return {
        label: method
        for label, method in (
            (tide.squash_label, "squash"),
            (tide.rebase_label, "rebase"),
            (tide.merge_label, "merge"),
        )
        if label
    }


def merge_method(tide: Tide, pr: TidePull) -> tuple[str, str]:
    """(method, problem): a label may override the configured method; more
    than one such label is a problem, and so is rebasing what cannot be."""
    chosen = {
        method for label, method in label_methods(tide).items() if pr.has_label(label)
    }
    if len(chosen) > 1:
        return "", "PR has conflicting merge method override labels"
    method = (
        chosen.pop()
        if chosen
        else configured_method(tide, pr.org, pr.repo, pr.base_ref)
    )
    if method == "rebase" and not pr.can_be_rebased:
        return method, "PR can't be rebased"
    return method, ""


_FIELD = re.compile(r"\{\{\s*\.([A-Za-z.]+)\s*\}\}")


def render_template(template: str, pr: TidePull) -> str:
    """The commit template's `{{ .Field }}` references filled from the pull
    request (Number, Title, Body, HeadRefName, HeadRefOID, BaseRef.Name,
    Author.Login); anything else in the template is left as written."""
    values = {
        "Number": str(pr.number),
        "Title": pr.title,
        "Body": pr.body,
        "HeadRefName": pr.head_ref,
        "HeadRefOID": pr.head_sha,
        "BaseRef.Name": pr.base_ref,
        "BaseRefName": pr.base_ref,
        "Author.Login": pr.author,
    }
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def commit_fields(tide: Tide, pr: TidePull) -> dict[str, str]:
    template = tide.merge_commit_template.get(
        f"{pr.org}/{pr.repo}"
    ) or tide.merge_commit_template.get(pr.org)
    if template is None:
        return {}
    fields = {}
    if template.title:
        fields["commit_title"] = render_template(template.title, pr)
    if template.body:
        fields["commit_message"] = render_template(template.body, pr)
    return fields


@dataclass
class MergeOutcome:
    merged: bool
    error: str = ""
    # The batch must stop: nothing else in it can merge either.
    fatal: bool = False


def _is_base_modified(error: GitHubError) -> bool:
    return "base branch was modified" in str(error).lower()


def _is_fatal(error: GitHubError) -> bool:
    text = str(error).lower()
    return (
        "not authorized to push" in text
        or "merge commits are not allowed" in text
        or error.status in (401, 403)
    )


def merge_pull(
    github: GitHubClient, tide: Tide, pr: TidePull, method: str
) -> MergeOutcome:
    extra = commit_fields(tide, pr)
    pause = settings.PROW_TIDE_MERGE_RETRY_SECONDS
    for attempt in range(BASE_MODIFIED_RETRIES + 1):
        try:
            github.merge(
                pr.org, pr.repo, pr.number, sha=pr.head_sha, method=method, **extra
            )
            return MergeOutcome(True)
        except GitHubError as error:
            if _is_base_modified(error) and attempt < BASE_MODIFIED_RETRIES:
                time.sleep(pause * 2**attempt)
                continue
            logger.info("tide: merging %s refused: %s", pr.key, error)
            return MergeOutcome(False, f"#{pr.number}: {error}", _is_fatal(error))
    return MergeOutcome(False, f"#{pr.number}: base branch kept moving")
