"""How Tide reads GitHub: one GraphQL document per sync.

Tide syncs every minute whether or not anything changed, so an idle sync
must cost as little as GitHub allows: every search (one per chunk of
scopes), the blocker search and every branch tip it needs go into a single
document, and only searches with more pages are asked again. An
incremental read (`since`) of a quiet minute is therefore one request.

Every string in a document is a GraphQL variable, never spliced into its
text: branch names come from pull-request authors, and a quote or a brace
in one must not be able to change what is asked.

GitHub refuses a search string longer than 256 characters, so the scope
qualifiers (org:/repo:, which GitHub ORs when repeated) are split into as
many searches as needed, each one alias in the same document.

The head commit's contexts come from its statusCheckRollup, one connection
of status contexts and check runs together: GitHub charges for every page
a query could read, and checkSuites(first: 20) { checkRuns(first: 50) }
under 100 pull requests would make each page cost 23 points instead of 3.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prow.github.client import GitHubClient
from tide.types import (
    ERROR,
    FAILURE,
    PENDING,
    SUCCESS,
    Blocker,
    BranchTip,
    Context,
    SearchResult,
    TidePull,
)

MAX_QUERY_LENGTH = 256
PAGE_SIZE = 100
OPEN_PULLS = "is:pr state:open archived:false"
# Without state:open, so pull requests closed or merged since the last
# read come back and their pools can drop them.
UPDATED_PULLS = "is:pr archived:false"
OPEN_ISSUES = "is:issue state:open archived:false"
# The original's rule for the branches a blocker issue names in its title;
# `-` moved to the end of the class, where Python reads it as itself.
BRANCH_IN_TITLE = re.compile(r"(?im)\bbranch:[^\w-]*([\w./-]+)\b")

_STATUS_STATES = {
    "SUCCESS": SUCCESS,
    "PENDING": PENDING,
    "EXPECTED": PENDING,
    "FAILURE": FAILURE,
    "ERROR": ERROR,
}
_PASSING_CONCLUSIONS = frozenset({"SUCCESS", "NEUTRAL", "SKIPPED"})
# When one check run name appears in several suites (apps), the best
# result counts.
_RANK = {SUCCESS: 0, PENDING: 1, FAILURE: 2, ERROR: 2}

_PULL_FIELDS = """
fragment TidePull on PullRequest {
  number
  author { login }
  title
  body
  headRefName
  headRefOid
  baseRefName
  baseRef { target { oid } }
  mergeable
  mergeStateStatus
  canBeRebased
  isDraft
  state
  updatedAt
  labels(first: 100) { nodes { name } }
  milestone { title }
  reviewDecision
  repository { name owner { login } }
  commits(last: 1) {
    nodes {
      commit {
        statusCheckRollup {
          contexts(first: 100) {
            nodes {
              __typename
              ... on StatusContext { context state description }
              ... on CheckRun { name status conclusion }
            }
          }
        }
      }
    }
  }
}
"""

_BLOCKER_FIELDS = """
fragment TideBlocker on Issue {
  number
  title
  url
  repository { name owner { login } }
}
"""


@dataclass
class _Search:
    alias: str
    query: str
    blockers: bool
    cursor: str | None = None


@dataclass
class _Repository:
    alias: str
    org: str
    repo: str
    # ref alias -> branch
    refs: dict[str, str] = field(default_factory=dict)


def fetch(
    github: GitHubClient,
    *,
    scopes: list[str],
    since: datetime | None = None,
    branches: Iterable[tuple[str, str, str]] = (),
    blocker_label: str = "",
) -> SearchResult:
    """Read the pull requests in scopes (all open ones, or with since every
    one updated at or after it, whatever its state), the tips and
    protection of branches, and the open blocker issues."""
    result = SearchResult()
    searches = _searches(scopes, since, blocker_label)
    repositories = _repositories(branches)
    if not searches and not repositories:
        return result
    seen_pulls: set[str] = set()
    seen_blockers: set[tuple[str, str, int]] = set()
    first = True
    while first or searches:
        document, variables = _document(searches, repositories if first else [])
        data = github.graphql("tide search", document, variables) or {}
        result.requests += 1
        result.cost += int((data.get("rateLimit") or {}).get("cost") or 0)
        more: list[_Search] = []
        if first:
            result.tips = _tips(data, repositories)
        for search in searches:
            page = data.get(search.alias) or {}
            for node in page.get("nodes") or []:
                if search.blockers:
                    blocker = _blocker(node)
                    key = blocker and (blocker.org, blocker.repo, blocker.number)
                    if blocker and key not in seen_blockers:
                        seen_blockers.add(key)
                        result.blockers.append(blocker)
                else:
                    pull = _pull(node)
                    if pull and pull.key not in seen_pulls:
                        seen_pulls.add(pull.key)
                        result.pulls.append(pull)
            info = page.get("pageInfo") or {}
            cursor = info.get("endCursor")
            # A cursor that does not move would ask for the same page forever.
            if info.get("hasNextPage") and cursor and cursor != search.cursor:
                search.cursor = cursor
                more.append(search)
        searches = more
        first = False
    return result


# ------------------------------------------------------------------- queries


def _searches(
    scopes: list[str], since: datetime | None, blocker_label: str
) -> list[_Search]:
    if not scopes:
        return []
    if since is None:
        prefix, suffix = OPEN_PULLS, ""
    else:
        prefix, suffix = UPDATED_PULLS, f"updated:>={_iso(since)}"
    searches = [
        _Search(f"pulls{n}", query, blockers=False)
        for n, query in enumerate(chunked_queries(prefix, scopes, suffix))
    ]
    if blocker_label:
        label = f"label:{_quoted(blocker_label)}"
        queries = chunked_queries(f"{OPEN_ISSUES} {label}", scopes)
        searches += [
            _Search(f"blockers{n}", query, blockers=True)
            for n, query in enumerate(queries)
        ]
    return searches


def chunked_queries(prefix: str, scopes: list[str], suffix: str = "") -> list[str]:
    """Search strings of prefix, some of scopes and suffix, each within
    GitHub's length limit, together covering every scope. A scope too long
    to fit even alone gets a search of its own, which GitHub will refuse
    rather than Tide silently leaving it out."""
    queries: list[str] = []
    chunk: list[str] = []

    def query(terms: list[str]) -> str:
        return " ".join(part for part in (prefix, *terms, suffix) if part)

    for scope in dict.fromkeys(scopes):
        if chunk and len(query([*chunk, scope])) > MAX_QUERY_LENGTH:
            queries.append(query(chunk))
            chunk = []
        chunk.append(scope)
    if chunk:
        queries.append(query(chunk))
    return queries


def _repositories(branches: Iterable[tuple[str, str, str]]) -> list[_Repository]:
    grouped: dict[tuple[str, str], _Repository] = {}
    for org, repo, branch in dict.fromkeys(branches):
        found = grouped.get((org, repo))
        if found is None:
            found = grouped[(org, repo)] = _Repository(f"repo{len(grouped)}", org, repo)
        found.refs[f"ref{len(found.refs)}"] = branch
    return list(grouped.values())


def _document(
    searches: list[_Search], repositories: list[_Repository]
) -> tuple[str, dict[str, Any]]:
    """The query text (made of aliases and variable names only) and its
    variables."""
    declarations: list[str] = []
    fields: list[str] = []
    variables: dict[str, Any] = {}
    for search in searches:
        query, after = f"{search.alias}Query", f"{search.alias}After"
        declarations += [f"${query}: String!", f"${after}: String"]
        variables[query], variables[after] = search.query, search.cursor
        fragment = "TideBlocker" if search.blockers else "TidePull"
        fields.append(
            f"{search.alias}: search(type: ISSUE, first: {PAGE_SIZE}, "
            f"after: ${after}, query: ${query}) {{\n"
            f"    pageInfo {{ hasNextPage endCursor }}\n"
            f"    nodes {{ __typename ...{fragment} }}\n  }}"
        )
    for repository in repositories:
        owner, name = f"{repository.alias}Owner", f"{repository.alias}Name"
        declarations += [f"${owner}: String!", f"${name}: String!"]
        variables[owner], variables[name] = repository.org, repository.repo
        refs = []
        for alias, branch in repository.refs.items():
            ref = f"{repository.alias}{alias.capitalize()}"
            declarations.append(f"${ref}: String!")
            variables[ref] = f"refs/heads/{branch}"
            refs.append(
                f"    {alias}: ref(qualifiedName: ${ref}) {{\n"
                "      target { oid }\n"
                "      branchProtectionRule { requiredStatusCheckContexts }\n"
                "    }"
            )
        fields.append(
            f"{repository.alias}: repository(owner: ${owner}, name: ${name}) {{\n"
            + "\n".join(refs)
            + "\n  }"
        )
    fields.append("rateLimit { cost remaining }")
    header = f"query TideSync({', '.join(declarations)})" if declarations else "query"
    document = header + " {\n  " + "\n  ".join(fields) + "\n}\n"
    # GitHub refuses a fragment the document does not use.
    if any(not search.blockers for search in searches):
        document += _PULL_FIELDS
    if any(search.blockers for search in searches):
        document += _BLOCKER_FIELDS
    return document, variables


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quoted(value: str) -> str:
    # A search string cannot escape a quote; dropping it keeps the term whole.
    return '"' + value.replace('"', "") + '"'


# ------------------------------------------------------------------- answers


def _tips(
    data: dict[str, Any], repositories: list[_Repository]
) -> dict[tuple[str, str, str], BranchTip]:
    tips = {}
    for repository in repositories:
        found = data.get(repository.alias) or {}
        for alias, branch in repository.refs.items():
            ref = found.get(alias)
            sha = ((ref or {}).get("target") or {}).get("oid")
            if not sha:
                continue  # no such branch (any more)
            rule = ref.get("branchProtectionRule")
            contexts = None
            if rule is not None:
                contexts = tuple(rule.get("requiredStatusCheckContexts") or ())
            key = (repository.org, repository.repo, branch)
            tips[key] = BranchTip(*key, sha=sha, protected_contexts=contexts)
    return tips


def _owner_and_name(node: dict[str, Any]) -> tuple[str, str]:
    repository = node.get("repository") or {}
    owner = (repository.get("owner") or {}).get("login", "")
    return owner, repository.get("name", "")


def _pull(node: dict[str, Any] | None) -> TidePull | None:
    if not node or node.get("__typename") != "PullRequest":
        return None
    org, repo = _owner_and_name(node)
    commits = (node.get("commits") or {}).get("nodes") or [None]
    head = (commits[-1] or {}).get("commit") or {}
    return TidePull(
        org=org,
        repo=repo,
        number=node["number"],
        author=(node.get("author") or {}).get("login", ""),
        title=node.get("title") or "",
        head_ref=node.get("headRefName") or "",
        head_sha=node.get("headRefOid") or "",
        base_ref=node.get("baseRefName") or "",
        base_sha=((node.get("baseRef") or {}).get("target") or {}).get("oid", ""),
        mergeable=node.get("mergeable") or "",
        merge_state_status=node.get("mergeStateStatus") or "",
        can_be_rebased=bool(node.get("canBeRebased")),
        labels=tuple(
            label["name"]
            for label in (node.get("labels") or {}).get("nodes") or []
            if label
        ),
        milestone=(node.get("milestone") or {}).get("title", ""),
        review_decision=node.get("reviewDecision") or "",
        state=node.get("state") or "",
        draft=bool(node.get("isDraft")),
        body=node.get("body") or "",
        updated_at=node.get("updatedAt") or "",
        contexts=_contexts(head),
    )


def _contexts(commit: dict[str, Any]) -> tuple[Context, ...]:
    """The head commit's status contexts (GitHub keeps the latest of each)
    and check runs (the latest of each name in each suite)."""
    rollup = (commit.get("statusCheckRollup") or {}).get("contexts") or {}
    statuses: list[Context] = []
    runs: dict[str, Context] = {}
    for node in rollup.get("nodes") or []:
        kind = (node or {}).get("__typename")
        if kind == "StatusContext":
            state = _STATUS_STATES.get(node["state"], FAILURE)
            statuses.append(
                Context(node["context"], state, node.get("description") or "")
            )
        elif kind == "CheckRun" and node.get("name"):
            context = Context(node["name"], _check_state(node))
            kept = runs.get(context.name)
            if kept is None or _RANK[context.state] < _RANK[kept.state]:
                runs[context.name] = context
    return (*statuses, *runs.values())


def _check_state(run: dict[str, Any]) -> str:
    if run.get("status") != "COMPLETED":
        return PENDING
    return SUCCESS if run.get("conclusion") in _PASSING_CONCLUSIONS else FAILURE


def _blocker(node: dict[str, Any] | None) -> Blocker | None:
    if not node or node.get("__typename") != "Issue":
        return None
    org, repo = _owner_and_name(node)
    title = node.get("title") or ""
    return Blocker(
        org=org,
        repo=repo,
        number=node["number"],
        title=title,
        url=node.get("url") or "",
        branches=tuple(dict.fromkeys(BRANCH_IN_TITLE.findall(title))),
    )
