"""Tide's configured queries as GitHub search strings.

One query of `tide.queries` becomes one search, written as the original
writes it: the fixed prefix `is:pr state:open archived:false`, then the
tokens shared by every org of the query (author, branches, labels,
milestone, review), then the tokens that name where to look (`org:`,
`repo:`, `-repo:`). Tide searches each org on its own (org_query_texts),
since GitHub's search cannot OR scopes across orgs cheaply; Deck shows the
whole query (query_text). Both come from here so the strings shown are the
strings searched.
"""

from __future__ import annotations

from prow.config.schema import TideQuery

PREFIX = ("is:pr", "state:open", "archived:false")


def _quoted(value: str) -> str:
    return f'"{value}"'


def _label(entry: str) -> str:
    # "a,b" in a query's labels means either label; GitHub reads a comma
    # list of quoted names after one `label:` as exactly that.
    return "label:" + ",".join(_quoted(name.strip()) for name in entry.split(","))


def shared_tokens(query: TideQuery) -> list[str]:
    """The tokens every org's search of `query` carries."""
    tokens = list(PREFIX)
    if query.author:
        tokens.append(f"author:{_quoted(query.author)}")
    tokens += [f"-base:{_quoted(b)}" for b in query.excludedBranches]
    tokens += [f"base:{_quoted(b)}" for b in query.includedBranches]
    tokens += [_label(entry) for entry in query.labels]
    tokens += [f"-label:{_quoted(name)}" for name in query.missingLabels]
    if query.milestone:
        tokens.append(f"milestone:{_quoted(query.milestone)}")
    if query.reviewApprovedRequired:
        tokens.append("review:approved")
    return tokens


def scope_tokens(query: TideQuery) -> dict[str, list[str]]:
    """org -> the `org:`, `repo:` and `-repo:` tokens that point a search
    of `query` at that org, orgs in the order the config names them. An
    entry that is not `org/repo` is left out, as GitHub would ignore it."""
    scopes: dict[str, list[str]] = {}
    for org in query.orgs:
        scopes.setdefault(org, [f"org:{_quoted(org)}"])
    for prefix, entries in (("repo", query.repos), ("-repo", query.excludedRepos)):
        for entry in entries:
            org, slash, repo = entry.partition("/")
            if not (org and slash and repo) or "/" in repo:
                continue
            scopes.setdefault(org, []).append(f"{prefix}:{_quoted(entry)}")
    return scopes


def query_text(query: TideQuery) -> str:
    """The whole query as one search string, every scope at the end."""
    tokens = shared_tokens(query)
    for scope in scope_tokens(query).values():
        tokens += scope
    return " ".join(tokens)


def org_query_texts(query: TideQuery) -> dict[str, str]:
    """org -> the search string for that org's part of the query."""
    shared = " ".join(shared_tokens(query))
    return {
        org: f"{shared} {' '.join(scope)}" for org, scope in scope_tokens(query).items()
    }


def query_fields(query: TideQuery) -> dict:
    """The query as the original serializes it: its config keys, empty
    ones left out."""
    fields = {
        "orgs": query.orgs,
        "repos": query.repos,
        "excludedRepos": query.excludedRepos,
        "author": query.author,
        "labels": query.labels,
        "missingLabels": query.missingLabels,
        "excludedBranches": query.excludedBranches,
        "includedBranches": query.includedBranches,
        "milestone": query.milestone,
        "reviewApprovedRequired": query.reviewApprovedRequired,
    }
    return {key: value for key, value in fields.items() if value}
