"""GitHub's GraphQL API for the GitHub double (POST /graphql, /api/graphql).

Every request is executed by graphql-core against GitHub's own public
schema, kept as data beside this module (github_schema.graphql, the
`schema.graphql` of the npm package @octokit/graphql-schema 15.26.1). A query
GitHub would refuse (a field that does not exist, a missing or mistyped
argument or variable) is refused here too, with GitHub's `{"errors": [...]}`
answer, so code that passes against the double sends queries GitHub accepts.

Fields resolve through RESOLVERS, keyed by (type name, field name). A field
without a resolver reads its parent's dict, so whatever the double does not
model answers null; objects are dicts carrying `__typename`, which is how
unions and interfaces find their type. Resolvers run under the double's lock
with the FakeGitHub as `fake`, and read and write its state. More of the API
is served by registering more of them::

    @resolver("Repository", "issues")
    def _issues(fake, parent, args, info): ...

Projects (v2) are modelled: boards with a single-select "Status" field, and
their items (issues and pull requests). Seed them with the double's
add_project_v2 / add_project_v2_item.

Tide's reads are modelled too: `search(type: ISSUE)` with the REST search's
qualifiers (a stable order, by repository and number, so pages do not
shift; over 256 characters refused as GitHub does), pull requests with
their labels, milestone, review decision, merge state and head commit
(statuses, check suites and runs, statusCheckRollup), `Repository.ref` with
its branchProtectionRule (the double's protect_branch), and `rateLimit`.
Each executed request costs GitHub's points (cost_of), counted in
fake.graphql_requests / graphql_cost and taken from fake.graphql_remaining,
a budget apart from the REST one.
"""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    build_schema,
    default_field_resolver,
    execute,
    parse,
    validate,
)
from graphql.language import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.utilities import get_operation_ast, value_from_ast_untyped

from tests.fakes import github as rest

SCHEMA_PATH = Path(__file__).with_name("github_schema.graphql")
# GitHub's limit on `first` / `last` of any connection.
MAX_PAGE = 100
STATUS_FIELD = "Status"
# GitHub's search is refused past this many characters.
MAX_SEARCH_LENGTH = 256
MERGEABLE = {True: "MERGEABLE", False: "CONFLICTING", None: "UNKNOWN"}

Resolver = Callable[["rest.FakeGitHub", Any, dict[str, Any], GraphQLResolveInfo], Any]
RESOLVERS: dict[tuple[str, str], Resolver] = {}


def resolver(type_name: str, field_name: str) -> Callable[[Resolver], Resolver]:
    def register(function: Resolver) -> Resolver:
        RESOLVERS[(type_name, field_name)] = function
        return function

    return register


@cache
def schema() -> GraphQLSchema:
    """GitHub's schema, parsed once per process (it is over a megabyte).

    The published SDL declares a few fields twice (on
    EnterpriseOwnerInfo), which strict SDL validation refuses; GitHub
    serves it as is, so it is read as is."""
    return build_schema(SCHEMA_PATH.read_text(encoding="utf-8"), assume_valid_sdl=True)


class GraphQLFakeError(Exception):
    """Raised by resolvers for GitHub's typed errors (NOT_FOUND, ...)."""

    def __init__(self, message: str, type: str = "NOT_FOUND") -> None:
        super().__init__(message)
        self.type = type


# ----------------------------------------------------------------------- state


@dataclass
class ProjectV2Option:
    id: str
    name: str


@dataclass
class ProjectV2Item:
    id: str
    org: str
    repo: str
    number: int
    status: str | None = None  # an option id of the board's Status field
    archived: bool = False


@dataclass
class ProjectV2:
    id: str
    number: int
    owner: str
    title: str
    status_field_id: str
    options: list[ProjectV2Option] = field(default_factory=list)
    items: list[ProjectV2Item] = field(default_factory=list)
    closed: bool = False

    def item_for(self, org: str, repo: str, number: int) -> ProjectV2Item | None:
        return next(
            (i for i in self.items if (i.org, i.repo, i.number) == (org, repo, number)),
            None,
        )

    def status_of(self, item: ProjectV2Item) -> str | None:
        """The name of the item's Status, None when it has none."""
        option = next((o for o in self.options if o.id == item.status), None)
        return option.name if option else None

    def option(self, name: str) -> ProjectV2Option:
        found = next((o for o in self.options if o.name == name), None)
        if found is None:
            raise KeyError(f"board {self.title!r} has no Status {name!r}")
        return found


@dataclass
class GraphQLFault:
    field: str  # a root field of the operation, e.g. a mutation's name
    status: int
    times: int
    errors: list[dict[str, Any]] | None


@dataclass
class GraphQLState:
    """What the GraphQL side of the double holds beyond the REST state."""

    projects: dict[str, ProjectV2] = field(default_factory=dict)
    faults: list[GraphQLFault] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    # The points of the request being executed, which rateLimit reports.
    request_cost: int = 0

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.ids):06d}"

    def add_project(
        self,
        owner: str,
        title: str,
        statuses: tuple[str, ...],
        closed: bool,
    ) -> ProjectV2:
        number = 1 + sum(p.owner == owner for p in self.projects.values())
        project = ProjectV2(
            id=self.new_id("PVT"),
            number=number,
            owner=owner,
            title=title,
            status_field_id=self.new_id("PVTSSF"),
            closed=closed,
        )
        project.options = [
            ProjectV2Option(self.new_id("opt"), name) for name in statuses
        ]
        self.projects[project.id] = project
        return project

    def add_item(
        self, project: ProjectV2, org: str, repo: str, number: int
    ) -> ProjectV2Item:
        item = project.item_for(org, repo, number)
        if item is None:
            item = ProjectV2Item(self.new_id("PVTI"), org, repo, number)
            project.items.append(item)
        return item

    def take_fault(self, fields: set[str]) -> GraphQLFault | None:
        for fault in self.faults:
            if fault.field in fields:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None


# ------------------------------------------------------------------- execution


def execute_request(fake: rest.FakeGitHub, body: Any) -> rest.Reply:
    """Answer one POST /graphql as GitHub does: 200 with data and/or
    errors; a body that is not a query is a 400."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise rest.ApiError(
            400, "A query attribute must be specified and must be a string."
        )
    variables = body.get("variables") or {}
    try:
        document = parse(body["query"])
    except GraphQLError as error:
        return rest.Reply(body={"errors": [_formatted(error)]})
    errors = validate(schema(), document)
    if errors:
        return rest.Reply(body={"errors": [_formatted(e) for e in errors]})
    fault = fake.graphql.take_fault(_root_fields(document))
    if fault is not None:
        if fault.errors is not None:
            return rest.Reply(fault.status, {"data": None, "errors": fault.errors})
        return rest.Reply(fault.status, rest._error_body(fault.status, "Server Error"))
    cost = cost_of(document, variables, body.get("operationName"))
    fake.graphql_requests += 1
    fake.graphql_cost += cost
    fake.graphql_remaining = max(0, fake.graphql_remaining - cost)
    fake.graphql.request_cost = cost
    result = execute(
        schema(),
        document,
        context_value=fake,
        variable_values=variables,
        operation_name=body.get("operationName"),
        field_resolver=_resolve,
    )
    answer: dict[str, Any] = {"data": result.data}
    if result.errors:
        answer["errors"] = [_formatted(e) for e in result.errors]
    return rest.Reply(body=answer)


def cost_of(document, variables: dict[str, Any], operation: str | None) -> int:
    """GitHub's rate-limit points for an operation: every connection counts
    the pages it could take (the product of the `first`/`last` of the
    connections it sits in), summed, divided by 100 and rounded; at least 1."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }

    def page_size(node: FieldNode) -> int | None:
        for argument in node.arguments:
            if argument.name.value in ("first", "last"):
                value = value_from_ast_untyped(argument.value, variables)
                if isinstance(value, int):
                    return value
        return None

    def pages(selection_set: SelectionSetNode | None, times: int) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                size = page_size(selection)
                if size is not None:
                    total += times
                inner = times * size if size is not None else times
                total += pages(selection.selection_set, inner)
            elif isinstance(selection, InlineFragmentNode):
                total += pages(selection.selection_set, times)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                total += pages(fragment and fragment.selection_set, times)
        return total

    found = get_operation_ast(document, operation)
    requests = pages(found.selection_set, 1) if found else 0
    return max(1, int(requests / 100 + 0.5))


def _root_fields(document) -> set[str]:
    return {
        selection.name.value
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
        for selection in definition.selection_set.selections
        if hasattr(selection, "name")
    }


def _formatted(error: GraphQLError) -> dict[str, Any]:
    data = dict(error.formatted)
    original = error.original_error
    if isinstance(original, GraphQLFakeError):
        data["type"] = original.type
    return data


def _resolve(parent: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    found = RESOLVERS.get((info.parent_type.name, info.field_name))
    if found is None:
        if isinstance(parent, dict):
            return parent.get(info.field_name)
        return default_field_resolver(parent, info, **args)
    return found(info.context, parent, args, info)


# ----------------------------------------------------------------- connections


def _cursor(offset: int) -> str:
    return base64.b64encode(f"cursor:v2:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    try:
        return int(base64.b64decode(cursor).decode().rsplit(":", 1)[1])
    except (ValueError, IndexError):
        raise GraphQLFakeError(
            f"`{cursor}` does not appear to be a valid cursor.",
            "INVALID_CURSOR_ARGUMENTS",
        )


def connection(
    items: list[Any],
    args: dict[str, Any],
    name: str,
    render: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """A page of a Relay connection with GitHub's pagination rules: `first`
    or `last` is required, and at most 100."""
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLFakeError(
            f"You must provide a `first` or `last` value to properly paginate "
            f"the `{name}` connection.",
            "MISSING_PAGINATION_BOUNDARIES",
        )
    for arg, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE:
            raise GraphQLFakeError(
                f"Requesting {value} records on the `{name}` connection exceeds "
                f"the `{arg}` limit of {MAX_PAGE} records.",
                "EXCESSIVE_PAGINATION",
            )
    start = _offset(args["after"]) + 1 if args.get("after") else 0
    end = _offset(args["before"]) if args.get("before") else len(items)
    window = list(range(start, min(end, len(items))))
    if first is not None:
        window = window[:first]
    if last is not None:
        window = window[len(window) - last :] if last else []
    edges = [{"cursor": _cursor(i), "node": render(items[i])} for i in window]
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": bool(window) and window[-1] < min(end, len(items)) - 1,
            "hasPreviousPage": bool(window) and window[0] > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


# ------------------------------------------------------------------- rendering


def _organization(fake: rest.FakeGitHub, login: str) -> dict[str, Any]:
    user = fake._users[login]
    return {
        "__typename": "Organization",
        "id": rest._node_id("O", user.id),
        "databaseId": user.id,
        "login": login,
        "name": login,
        "url": f"{rest.WEB_URL}/{login}",
    }


def _repository(fake: rest.FakeGitHub, repo: rest.Repo) -> dict[str, Any]:
    return {
        "__typename": "Repository",
        "id": rest._node_id("R", repo.id),
        "databaseId": repo.id,
        "name": repo.name,
        "nameWithOwner": repo.full_name,
        "isPrivate": repo.private,
        "url": f"{rest.WEB_URL}/{repo.full_name}",
        "_repo": repo,
    }


def _content(repo: rest.Repo, issue: rest.Issue) -> dict[str, Any]:
    """An Issue or PullRequest object; its id is the REST API's node_id."""
    is_pull = isinstance(issue, rest.Pull)
    kind = "pull" if is_pull else "issues"
    data = {
        "__typename": "PullRequest" if is_pull else "Issue",
        "id": rest._node_id("I", issue.id),
        "databaseId": issue.id,
        "number": issue.number,
        "title": issue.title,
        "body": issue.body,
        "state": issue.state.upper(),
        "closed": issue.state == "closed",
        "url": f"{rest.WEB_URL}/{repo.full_name}/{kind}/{issue.number}",
        "createdAt": issue.created_at,
        "updatedAt": issue.updated_at,
        "_repo": repo,
        "_issue": issue,
    }
    if is_pull:
        data.update(
            merged=issue.merged,
            isDraft=issue.draft,
            headRefName=issue.head_ref,
            baseRefName=issue.base_ref,
            headRefOid=issue.head_sha,
            mergeable=MERGEABLE[issue.mergeable],
            mergeStateStatus=_merge_state_status(issue),
            # The double's merges never meet a rebase conflict.
            canBeRebased=True,
            reviewDecision=rest.review_decision(issue),
        )
        if issue.state == "closed":
            data["state"] = "MERGED" if issue.merged else "CLOSED"
    return data


def _project(project: ProjectV2) -> dict[str, Any]:
    return {
        "__typename": "ProjectV2",
        "id": project.id,
        "number": project.number,
        "title": project.title,
        "closed": project.closed,
        "public": False,
        "template": False,
        "url": f"{rest.WEB_URL}/orgs/{project.owner}/projects/{project.number}",
        "resourcePath": f"/orgs/{project.owner}/projects/{project.number}",
        "_project": project,
    }


def _status_field(project: ProjectV2) -> dict[str, Any]:
    return {
        "__typename": "ProjectV2SingleSelectField",
        "id": project.status_field_id,
        "name": STATUS_FIELD,
        "dataType": "SINGLE_SELECT",
        "options": [
            {
                "id": option.id,
                "name": option.name,
                "nameHTML": option.name,
                "color": "GRAY",
                "description": "",
                "descriptionHTML": "",
            }
            for option in project.options
        ],
        "_project": project,
    }


def _item(project: ProjectV2, item: ProjectV2Item) -> dict[str, Any]:
    return {
        "__typename": "ProjectV2Item",
        "id": item.id,
        "isArchived": item.archived,
        "_project": project,
        "_item": item,
    }


# ------------------------------------------------------------------- resolvers


@resolver("Query", "organization")
def _query_organization(fake, parent, args, info):
    login = args["login"]
    if login not in fake._orgs:
        raise GraphQLFakeError(
            f"Could not resolve to an Organization with the login of '{login}'."
        )
    return _organization(fake, login)


@resolver("Query", "repository")
def _query_repository(fake, parent, args, info):
    repo = fake._repos.get((args["owner"], args["name"]))
    if repo is None:
        raise GraphQLFakeError(
            f"Could not resolve to a Repository with the name "
            f"'{args['owner']}/{args['name']}'."
        )
    return _repository(fake, repo)


def _issue_in(parent: dict[str, Any], number: int, kinds: tuple[type, ...]):
    repo = parent["_repo"]
    issue = repo.issues.get(number)
    if issue is None or not isinstance(issue, kinds):
        return None
    if kinds == (rest.Issue,) and isinstance(issue, rest.Pull):
        return None
    return _content(repo, issue)


@resolver("Repository", "issueOrPullRequest")
def _repository_issue_or_pull(fake, parent, args, info):
    found = _issue_in(parent, args["number"], (rest.Issue, rest.Pull))
    if found is None:
        raise GraphQLFakeError(
            f"Could not resolve to an issue or pull request with the number of "
            f"{args['number']}."
        )
    return found


@resolver("Repository", "issue")
def _repository_issue(fake, parent, args, info):
    found = _issue_in(parent, args["number"], (rest.Issue,))
    if found is None:
        raise GraphQLFakeError(
            f"Could not resolve to an Issue with the number of {args['number']}."
        )
    return found


@resolver("Repository", "pullRequest")
def _repository_pull(fake, parent, args, info):
    found = _issue_in(parent, args["number"], (rest.Pull,))
    if found is None:
        raise GraphQLFakeError(
            f"Could not resolve to a PullRequest with the number of {args['number']}."
        )
    return found


def _org_projects(fake, login: str) -> list[ProjectV2]:
    return [p for p in fake.graphql.projects.values() if p.owner == login]


@resolver("Organization", "projectsV2")
def _organization_projects(fake, parent, args, info):
    projects = _org_projects(fake, parent["login"])
    query = (args.get("query") or "").lower()
    if query:
        projects = [p for p in projects if query in p.title.lower()]
    return connection(projects, args, "projectsV2", _project)


@resolver("Organization", "projectV2")
def _organization_project(fake, parent, args, info):
    for project in _org_projects(fake, parent["login"]):
        if project.number == args["number"]:
            return _project(project)
    raise GraphQLFakeError(
        f"Could not resolve to a ProjectV2 with the number {args['number']}."
    )


@resolver("ProjectV2", "field")
def _project_field(fake, parent, args, info):
    project = parent["_project"]
    return _status_field(project) if args["name"] == STATUS_FIELD else None


@resolver("ProjectV2", "fields")
def _project_fields(fake, parent, args, info):
    project = parent["_project"]
    return connection([project], args, "fields", _status_field)


@resolver("ProjectV2", "items")
def _project_items(fake, parent, args, info):
    project = parent["_project"]
    return connection(project.items, args, "items", lambda i: _item(project, i))


def _content_items(fake, parent, args, info):
    issue, repo = parent["_issue"], parent["_repo"]
    include_archived = args.get("includeArchived", True)
    pairs = [
        (project, item)
        for project in fake.graphql.projects.values()
        for item in project.items
        if (item.org, item.repo, item.number) == (repo.org, repo.name, issue.number)
        and (include_archived or not item.archived)
    ]
    return connection(pairs, args, "projectItems", lambda pair: _item(*pair))


RESOLVERS[("Issue", "projectItems")] = _content_items
RESOLVERS[("PullRequest", "projectItems")] = _content_items


@resolver("ProjectV2Item", "project")
def _item_project(fake, parent, args, info):
    return _project(parent["_project"])


@resolver("ProjectV2Item", "type")
def _item_type(fake, parent, args, info):
    item = parent["_item"]
    issue = fake._repos[(item.org, item.repo)].issues[item.number]
    return "PULL_REQUEST" if isinstance(issue, rest.Pull) else "ISSUE"


@resolver("ProjectV2Item", "content")
def _item_content(fake, parent, args, info):
    item = parent["_item"]
    repo = fake._repos[(item.org, item.repo)]
    return _content(repo, repo.issues[item.number])


@resolver("ProjectV2Item", "fieldValueByName")
def _item_field_value(fake, parent, args, info):
    project, item = parent["_project"], parent["_item"]
    if args["name"] != STATUS_FIELD or item.status is None:
        return None
    option = next(o for o in project.options if o.id == item.status)
    return {
        "__typename": "ProjectV2ItemFieldSingleSelectValue",
        "id": f"PVTFSV_{item.id}",
        "name": option.name,
        "nameHTML": option.name,
        "optionId": option.id,
        "color": "GRAY",
        "field": _status_field(project),
    }


# ------------------------------------------------ search, pulls, commits, refs


def _merge_state_status(pull: rest.Pull) -> str:
    if pull.draft:
        return "DRAFT"
    if pull.mergeable is None:
        return "UNKNOWN"
    if not pull.mergeable:
        return "DIRTY"
    return "BLOCKED" if pull.blocked else "CLEAN"


def _commit(repo: rest.Repo, sha: str) -> dict[str, Any]:
    return {
        "__typename": "Commit",
        "id": base64.b64encode(f"0:C{sha}".encode()).decode(),
        "oid": sha,
        "abbreviatedOid": sha[:7],
        "message": repo.commit_messages.get(sha, ""),
        "_repo": repo,
        "_sha": sha,
    }


def _ref(repo: rest.Repo, branch: str) -> dict[str, Any] | None:
    sha = repo.branches.get(branch)
    if sha is None:
        return None
    return {
        "__typename": "Ref",
        "id": rest._node_id("REF", repo.id) + branch,
        "name": branch,
        "prefix": "refs/heads/",
        "target": _commit(repo, sha),
        "_repo": repo,
        "_branch": branch,
    }


def _latest_statuses(repo: rest.Repo, sha: str) -> list[rest.Status]:
    """The newest status of each context, oldest context first, as the
    combined status reports them."""
    latest: dict[str, rest.Status] = {}
    for status in rest._statuses_newest_first(repo, sha):
        latest.setdefault(status.context, status)
    return sorted(latest.values(), key=lambda status: status.id)


def _status_context(status: rest.Status) -> dict[str, Any]:
    return {
        "__typename": "StatusContext",
        "id": rest._node_id("SC", status.id),
        "context": status.context,
        "state": status.state.upper(),
        "description": status.description,
        "targetUrl": status.target_url,
        "createdAt": status.created_at,
    }


def _check_suites(repo: rest.Repo, sha: str) -> list[list[rest.CheckRun]]:
    """The check runs of sha grouped by app, the latest run of each name."""
    suites: dict[str, dict[str, rest.CheckRun]] = {}
    for run in repo.check_runs:
        if run.sha == sha:
            suites.setdefault(run.app, {})[run.name] = run
    return [list(runs.values()) for runs in suites.values()]


def _check_run(run: rest.CheckRun) -> dict[str, Any]:
    return {
        "__typename": "CheckRun",
        "id": rest._node_id("CR", run.id),
        "databaseId": run.id,
        "name": run.name,
        "status": run.status.upper(),
        "conclusion": run.conclusion.upper() if run.conclusion else None,
    }


def _check_suite(runs: list[rest.CheckRun]) -> dict[str, Any]:
    done = all(run.status == "completed" for run in runs)
    return {
        "__typename": "CheckSuite",
        "id": rest._node_id("CS", runs[0].id),
        "status": "COMPLETED" if done else "IN_PROGRESS",
        "_runs": runs,
    }


@resolver("Query", "search")
def _query_search(fake, parent, args, info):
    if args["type"] != "ISSUE":
        raise GraphQLFakeError(
            f"The double searches issues and pull requests, not {args['type']}.",
            "UNPROCESSABLE",
        )
    query = args["query"]
    if len(query) > MAX_SEARCH_LENGTH:
        raise GraphQLFakeError(
            f"The search is longer than {MAX_SEARCH_LENGTH} characters.",
            "UNPROCESSABLE",
        )
    terms = rest._parse_search(query)
    for _, key, _ in terms:
        if (
            key not in rest._SEARCH_MATCHERS
            and key not in rest.IGNORED_SEARCH_QUALIFIERS
        ):
            raise GraphQLFakeError(
                f"Unsupported search qualifier {key!r}", "UNPROCESSABLE"
            )
    try:
        found = [
            (repo, issue)
            for repo in fake._repos.values()
            for issue in repo.issues.values()
            if rest._search_matches(repo, issue, terms)
        ]
    except ValueError as error:
        raise GraphQLFakeError(f"Invalid search: {error}", "UNPROCESSABLE")
    # By repository, then number, so that pages do not shift between calls.
    found.sort(key=lambda hit: (hit[0].org, hit[0].name, hit[1].number))
    page = connection(found, args, "search", lambda hit: _content(*hit))
    page["issueCount"] = len(found)
    return page


@resolver("Query", "rateLimit")
def _query_rate_limit(fake, parent, args, info):
    used = fake._rate_limit - fake.graphql_remaining
    return {
        "__typename": "RateLimit",
        "cost": fake.graphql.request_cost,
        "limit": fake._rate_limit,
        "remaining": fake.graphql_remaining,
        "used": used,
        "nodeCount": 0,
        "resetAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(fake._rate_reset)),
    }


@resolver("Repository", "owner")
def _repository_owner(fake, parent, args, info):
    return _organization(fake, parent["_repo"].org)


@resolver("Repository", "ref")
def _repository_ref(fake, parent, args, info):
    name = args["qualifiedName"]
    if name.startswith("refs/") and not name.startswith("refs/heads/"):
        return None  # only branches are modelled
    return _ref(parent["_repo"], name.removeprefix("refs/heads/"))


@resolver("Ref", "branchProtectionRule")
def _ref_protection(fake, parent, args, info):
    repo, branch = parent["_repo"], parent["_branch"]
    if branch not in repo.protected:
        return None
    contexts = repo.required_contexts.get(branch, [])
    return {
        "__typename": "BranchProtectionRule",
        "id": rest._node_id("BPR", repo.id) + branch,
        "pattern": branch,
        "requiresStatusChecks": bool(contexts),
        "requiredStatusCheckContexts": list(contexts),
    }


def _author(fake, parent, args, info):
    user = fake._users.get(parent["_issue"].author)
    if user is None:
        return None
    kind = "Bot" if user.type == "Bot" else "User"
    return {"__typename": kind, "login": user.login, "id": rest._node_id("U", user.id)}


def _repository_of(fake, parent, args, info):
    return _repository(fake, parent["_repo"])


def _labels(fake, parent, args, info):
    repo, issue = parent["_repo"], parent["_issue"]

    def render(name: str) -> dict[str, Any]:
        label = repo.labels.get(name.lower())
        return {
            "__typename": "Label",
            "id": rest._node_id("LA", label.id if label else 0),
            "name": name,
            "color": label.color if label else "ededed",
            "description": label.description if label else "",
        }

    return connection(list(issue.labels), args, "labels", render)


def _milestone(fake, parent, args, info):
    repo, issue = parent["_repo"], parent["_issue"]
    milestone = repo.milestones.get(issue.milestone or 0)
    if milestone is None:
        return None
    return {
        "__typename": "Milestone",
        "id": rest._node_id("MI", milestone.id),
        "number": milestone.number,
        "title": milestone.title,
        "state": milestone.state.upper(),
    }


for _kind in ("Issue", "PullRequest"):
    RESOLVERS[(_kind, "author")] = _author
    RESOLVERS[(_kind, "repository")] = _repository_of
    RESOLVERS[(_kind, "labels")] = _labels
    RESOLVERS[(_kind, "milestone")] = _milestone


@resolver("PullRequest", "baseRef")
def _pull_base_ref(fake, parent, args, info):
    return _ref(parent["_repo"], parent["_issue"].base_ref)


@resolver("PullRequest", "headRef")
def _pull_head_ref(fake, parent, args, info):
    return _ref(parent["_repo"], parent["_issue"].head_ref)


@resolver("PullRequest", "commits")
def _pull_commits(fake, parent, args, info):
    repo, pull = parent["_repo"], parent["_issue"]
    shas = list(pull.commits)
    if not shas or shas[-1] != pull.head_sha:
        shas.append(pull.head_sha)  # the head moved without its list
    return connection(
        shas,
        args,
        "commits",
        lambda sha: {"__typename": "PullRequestCommit", "commit": _commit(repo, sha)},
    )


@resolver("PullRequest", "statusCheckRollup")
def _pull_rollup(fake, parent, args, info):
    return _rollup(parent["_repo"], parent["_issue"].head_sha)


@resolver("Commit", "status")
def _commit_status(fake, parent, args, info):
    statuses = _latest_statuses(parent["_repo"], parent["_sha"])
    if not statuses:
        return None
    return {
        "__typename": "Status",
        "state": rest._combined_state(statuses).upper(),
        "contexts": [_status_context(status) for status in statuses],
    }


@resolver("Commit", "checkSuites")
def _commit_check_suites(fake, parent, args, info):
    suites = _check_suites(parent["_repo"], parent["_sha"])
    return connection(suites, args, "checkSuites", _check_suite)


@resolver("CheckSuite", "checkRuns")
def _suite_check_runs(fake, parent, args, info):
    return connection(parent["_runs"], args, "checkRuns", _check_run)


def _rollup(repo: rest.Repo, sha: str) -> dict[str, Any] | None:
    """A commit's check runs and latest statuses together, or None when it
    has neither, as on GitHub."""
    runs = [run for suite in _check_suites(repo, sha) for run in suite]
    statuses = _latest_statuses(repo, sha)
    if not runs and not statuses:
        return None
    states = {rest._combined_state(statuses)} if statuses else set()
    for run in runs:
        if run.status != "completed":
            states.add("pending")
        elif run.conclusion not in ("success", "neutral", "skipped"):
            states.add("failure")
    state = next((s for s in ("failure", "pending") if s in states), "success").upper()
    return {
        "__typename": "StatusCheckRollup",
        "state": state,
        "_contexts": [*map(_check_run, runs), *map(_status_context, statuses)],
    }


@resolver("Commit", "statusCheckRollup")
def _commit_rollup(fake, parent, args, info):
    return _rollup(parent["_repo"], parent["_sha"])


@resolver("StatusCheckRollup", "contexts")
def _rollup_contexts(fake, parent, args, info):
    page = connection(parent["_contexts"], args, "contexts", lambda node: node)
    kinds = [node["__typename"] for node in parent["_contexts"]]
    page["checkRunCount"] = kinds.count("CheckRun")
    page["statusContextCount"] = kinds.count("StatusContext")
    return page


# ------------------------------------------------------------------- mutations


def _project_by_id(fake, project_id: str) -> ProjectV2:
    project = fake.graphql.projects.get(project_id)
    if project is None:
        raise GraphQLFakeError(
            f"Could not resolve to a node with the global id of '{project_id}'."
        )
    if project.closed:
        raise GraphQLFakeError("The project is closed.", "FORBIDDEN")
    return project


def _item_by_id(project: ProjectV2, item_id: str) -> ProjectV2Item:
    item = next((i for i in project.items if i.id == item_id), None)
    if item is None:
        raise GraphQLFakeError(
            f"Could not resolve to a node with the global id of '{item_id}'."
        )
    return item


def _content_by_id(fake, node_id: str) -> tuple[rest.Repo, rest.Issue]:
    for repo in fake._repos.values():
        for issue in repo.issues.values():
            if rest._node_id("I", issue.id) == node_id:
                return repo, issue
    raise GraphQLFakeError(
        f"Could not resolve to a node with the global id of '{node_id}'."
    )


@resolver("Mutation", "addProjectV2ItemById")
def _add_item(fake, parent, args, info):
    data = args["input"]
    project = _project_by_id(fake, data["projectId"])
    repo, issue = _content_by_id(fake, data["contentId"])
    # As on GitHub, adding what is already on the board answers its item.
    item = fake.graphql.add_item(project, repo.org, repo.name, issue.number)
    return {
        "clientMutationId": data.get("clientMutationId"),
        "item": _item(project, item),
    }


@resolver("Mutation", "updateProjectV2ItemFieldValue")
def _update_item_field(fake, parent, args, info):
    data = args["input"]
    project = _project_by_id(fake, data["projectId"])
    item = _item_by_id(project, data["itemId"])
    if data["fieldId"] != project.status_field_id:
        raise GraphQLFakeError(
            f"Could not resolve to a node with the global id of '{data['fieldId']}'."
        )
    option_id = (data.get("value") or {}).get("singleSelectOptionId")
    if option_id not in {option.id for option in project.options}:
        raise GraphQLFakeError(
            "The single select option Id does not belong to the field",
            "UNPROCESSABLE",
        )
    item.status = option_id
    return {
        "clientMutationId": data.get("clientMutationId"),
        "projectV2Item": _item(project, item),
    }


@resolver("Mutation", "clearProjectV2ItemFieldValue")
def _clear_item_field(fake, parent, args, info):
    data = args["input"]
    project = _project_by_id(fake, data["projectId"])
    item = _item_by_id(project, data["itemId"])
    item.status = None
    return {
        "clientMutationId": data.get("clientMutationId"),
        "projectV2Item": _item(project, item),
    }


@resolver("Mutation", "deleteProjectV2Item")
def _delete_item(fake, parent, args, info):
    data = args["input"]
    project = _project_by_id(fake, data["projectId"])
    item = _item_by_id(project, data["itemId"])
    project.items.remove(item)
    return {"clientMutationId": data.get("clientMutationId"), "deletedItemId": item.id}
