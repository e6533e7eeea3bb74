"""Tide's queries, evaluated here rather than by GitHub's search.

GitHub is asked only for the open pull requests of the orgs and repos the
queries cover (scope_terms), and each query's other conditions (labels,
branches, milestone, author, review) are checked on what came back. One
search then serves every query, a pull request that stops matching is
noticed (a search for the query would just stop returning it), and the
`tide` status can say which condition is unmet.
"""

from dataclasses import dataclass

from prow.config.schema import ProwConfig, TideQuery
from prow.wakeups import covers, tide_covers
from tide.types import TidePull

# Weights of unmet conditions, as the original ranks the closest query: a
# wrong branch or author is further away than a missing label.
WRONG_BRANCH = 2000
WRONG_AUTHOR = 1000
WRONG_MILESTONE = 100
NOT_APPROVED = 50
LABEL_WEIGHT = 1
LABEL_LIST_LIMIT = 50


def in_scope(config: ProwConfig, org: str, repo: str) -> bool:
    return tide_covers(config, org, repo)


def scope_terms(config: ProwConfig) -> list[str]:
    """The search qualifiers for everything the queries cover: each org
    once, each repo not already in a covered org once."""
    orgs = sorted({org for q in config.tide.queries for org in q.orgs})
    repos = sorted(
        {
            repo
            for q in config.tide.queries
            for repo in q.repos
            if repo.split("/", 1)[0] not in orgs
        }
    )
    return [f'org:"{org}"' for org in orgs] + [f'repo:"{repo}"' for repo in repos]


def _label_present(pr: TidePull, entry: str) -> bool:
    # "a,b" in a query's labels means either.
    return any(pr.has_label(name.strip()) for name in entry.split(","))


@dataclass(frozen=True)
class Unmet:
    weight: int
    message: str


def unmet(query: TideQuery, pr: TidePull) -> Unmet | None:
    """What keeps pr from matching query (None when it matches), with the
    original's first applicable message."""
    if not covers(query, pr.org, pr.repo):
        return Unmet(10**6, "")
    weight = 0
    messages: list[str] = []
    if (query.includedBranches and pr.base_ref not in query.includedBranches) or (
        pr.base_ref in query.excludedBranches
    ):
        weight += WRONG_BRANCH
        messages.append(f"Merging to branch {pr.base_ref} is forbidden.")
    if query.author and query.author.lower() != pr.author.lower():
        weight += WRONG_AUTHOR
        messages.append(f"Must be by author {query.author}.")
    if query.milestone and query.milestone != pr.milestone:
        weight += WRONG_MILESTONE
        messages.append(f"Must be in milestone {query.milestone}.")
    missing = [
        " or ".join(name.strip() for name in entry.split(","))
        for entry in query.labels
        if not _label_present(pr, entry)
    ]
    if missing:
        weight += LABEL_WEIGHT * len(missing)
        messages.append(_needs_labels(sorted(missing)))
    present = sorted(name for name in query.missingLabels if pr.has_label(name))
    if present:
        weight += LABEL_WEIGHT * len(present)
        label_word = "label" if len(present) == 1 else "labels"
        messages.append(f"Should not have {', '.join(present)} {label_word}.")
    if query.reviewApprovedRequired and pr.review_decision != "APPROVED":
        weight += NOT_APPROVED
        messages.append("PullRequest is missing sufficient approving GitHub review(s)")
    if not messages:
        return None
    return Unmet(weight, messages[0])


def _needs_labels(names: list[str]) -> str:
    joined = ", ".join(names)
    if len(joined) > LABEL_LIST_LIMIT:
        joined = joined[: LABEL_LIST_LIMIT - 3].rstrip(", ") + "..."
    label_word = "label" if len(names) == 1 else "labels"
    return f"Needs {joined} {label_word}."


def matches(config: ProwConfig, pr: TidePull) -> bool:
    return any(unmet(query, pr) is None for query in config.tide.queries)


def closest_unmet(config: ProwConfig, pr: TidePull) -> str:
    """Why pr matches no query, as the closest query sees it ("" if it
    matches one); with display_all_tide_queries_in_status, every covering
    query's reason joined with OR."""
    found = [unmet(query, pr) for query in config.tide.queries]
    if any(item is None for item in found):
        return ""
    covering = [item for item in found if item is not None and item.message]
    if not covering:
        return ""
    if config.tide.display_all_tide_queries_in_status:
        return " OR".join(sorted({item.message for item in covering}))
    return min(covering, key=lambda item: item.weight).message
