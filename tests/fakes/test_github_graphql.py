"""The GitHub double's GraphQL API, spoken to with plain HTTP."""

import pytest
import requests

from tests.fakes import github_graphql
from tests.fakes.github import FakeGitHub

AUTH = {"Authorization": "token t"}


@pytest.fixture
def fake():
    with FakeGitHub() as server:
        server.add_repo("org", "repo")
        yield server


def post(fake, query, variables=None, path="/graphql"):
    body = {"query": query, "variables": variables or {}}
    response = requests.post(fake.url + path, json=body, headers=AUTH, timeout=10)
    return response.status_code, response.json()


BOARDS = """query($after: String, $first: Int) {
  organization(login: "org") {
    projectsV2(first: $first, after: $after) {
      totalCount nodes { title } pageInfo { hasNextPage endCursor }
    }
  }
}"""


def test_the_schema_is_parsed_once():
    assert github_graphql.schema() is github_graphql.schema()
    assert github_graphql.schema().get_type("ProjectV2") is not None


def test_unknown_fields_of_the_double_answer_null(fake):
    fake.add_project_v2("org", "Roadmap")
    status, body = post(
        fake,
        '{ organization(login: "org") { login description '
        "projectsV2(first: 1) { nodes { title shortDescription } } } }",
    )
    assert status == 200
    org = body["data"]["organization"]
    assert org["description"] is None
    assert org["projectsV2"]["nodes"] == [
        {"title": "Roadmap", "shortDescription": None}
    ]


def test_connections_page_as_github_does(fake):
    for n in range(5):
        fake.add_project_v2("org", f"b{n}")
    _, first = post(fake, BOARDS, {"first": 2})
    page = first["data"]["organization"]["projectsV2"]
    assert [n["title"] for n in page["nodes"]] == ["b0", "b1"]
    assert page["totalCount"] == 5 and page["pageInfo"]["hasNextPage"]
    _, rest = post(fake, BOARDS, {"first": 10, "after": page["pageInfo"]["endCursor"]})
    page = rest["data"]["organization"]["projectsV2"]
    assert [n["title"] for n in page["nodes"]] == ["b2", "b3", "b4"]
    assert not page["pageInfo"]["hasNextPage"]


@pytest.mark.parametrize(
    ("first", "kind"),
    [(None, "MISSING_PAGINATION_BOUNDARIES"), (101, "EXCESSIVE_PAGINATION")],
)
def test_pagination_limits(fake, first, kind):
    _, body = post(fake, BOARDS, {"first": first})
    (error,) = body["errors"]
    assert error["type"] == kind
    assert body["data"]["organization"] is None


def test_a_request_that_is_no_query_is_a_400(fake):
    response = requests.post(fake.url + "/graphql", json={}, headers=AUTH, timeout=10)
    assert response.status_code == 400


def test_fail_graphql_hits_only_operations_selecting_the_field(fake):
    fake.fail_graphql("addProjectV2ItemById", 502)
    status, _ = post(fake, '{ organization(login: "org") { login } }')
    assert status == 200
    status, body = post(
        fake,
        'mutation { addProjectV2ItemById(input: {projectId: "x", contentId: "y"}) '
        "{ item { id } } }",
    )
    assert status == 502
    status, body = post(
        fake,
        'mutation { addProjectV2ItemById(input: {projectId: "x", contentId: "y"}) '
        "{ item { id } } }",
    )
    assert status == 200
    assert body["errors"][0]["type"] == "NOT_FOUND"


def test_the_rest_fault_injection_reaches_graphql_too(fake):
    fake.fail_next("POST", "^/graphql$", 503)
    status, _ = post(fake, '{ organization(login: "org") { login } }')
    assert status == 503


SEARCH = """query($q: String!, $after: String) {
  search(type: ISSUE, first: 2, after: $after, query: $q) {
    issueCount
    pageInfo { hasNextPage endCursor }
    nodes { __typename ... on PullRequest { number } ... on Issue { number } }
  }
}"""


def numbers(fake, query):
    found, after = [], None
    while True:
        _, body = post(fake, SEARCH, {"q": query, "after": after})
        page = body["data"]["search"]
        found += [node["number"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def test_search_pages_in_a_stable_order(fake):
    for number in (5, 3, 1, 4, 2):
        fake.add_pull("org", "repo", number, "dev", f"{number:040x}")
    fake.add_issue("org", "repo", 6)

    assert numbers(fake, "is:pr repo:org/repo") == [1, 2, 3, 4, 5]
    _, body = post(fake, SEARCH, {"q": "repo:org/repo"})
    assert body["data"]["search"]["issueCount"] == 6


def test_search_qualifiers_a_merge_bot_sends(fake):
    fake.add_repo("org", "other")
    one = fake.add_pull("org", "repo", 1, "dev", "1" * 40, labels=["lgtm"])
    fake.add_pull("org", "repo", 2, "dev", "2" * 40, labels=["approved"])
    fake.add_pull("org", "repo", 3, "dev", "3" * 40, labels=["lgtm", "hold"])
    fake.add_pull("org", "repo", 4, "dev", "4" * 40, base_ref="release")
    fake.add_pull("org", "other", 5, "dev", "5" * 40, head_ref="topic")
    fake.add_review("org", "repo", 2, "a", "APPROVED")
    fake.add_review("org", "repo", 3, "a", "APPROVED")
    fake.add_review("org", "repo", 3, "b", "CHANGES_REQUESTED")
    one.updated_at = "2024-01-01T00:00:00Z"

    def found(query):
        return numbers(fake, f"is:pr state:open archived:false {query}")

    assert found('label:"lgtm","approved"') == [1, 2, 3]
    assert found('label:"lgtm" -label:"hold"') == [1]
    assert found("review:approved") == [2]
    assert found('base:"release"') == [4]
    assert found('head:"topic"') == [5]
    assert found('repo:"org/other" org:"nobody"') == [5]
    assert found("updated:>=2024-06-01T00:00:00Z repo:org/repo") == [2, 3, 4]
    assert found("updated:<2024-06-01T00:00:00Z") == [1]
    assert found("updated:2024-01-01..2024-01-01") == [1]


def test_a_search_longer_than_github_allows_is_refused(fake):
    _, body = post(fake, SEARCH, {"q": "is:pr " + "x" * 260})
    (error,) = body["errors"]
    assert error["type"] == "UNPROCESSABLE"
    assert "256 characters" in error["message"]


def test_a_query_github_would_refuse_is_refused(fake):
    # search needs its type, and PullRequest has no field `mergeability`.
    _, body = post(fake, '{ search(first: 1, query: "is:pr") { issueCount } }')
    assert "type" in body["errors"][0]["message"]
    assert "data" not in body
    _, body = post(
        fake,
        '{ search(type: ISSUE, first: 1, query: "is:pr") '
        "{ nodes { ... on PullRequest { mergeability } } } }",
    )
    assert "mergeability" in body["errors"][0]["message"]
    assert fake.graphql_requests == 0


REF = """query($name: String!) {
  repository(owner: "org", name: "repo") {
    ref(qualifiedName: $name) {
      name prefix
      target { __typename oid }
      branchProtectionRule { requiredStatusCheckContexts }
    }
  }
}"""


def test_refs_and_their_protection(fake):
    fake.add_branch("org", "repo", "dev", "d" * 40)
    fake.protect_branch("org", "repo", "dev", ["ci/unit", "build"])
    main = fake.repo("org", "repo").branches["main"]

    _, body = post(fake, REF, {"name": "refs/heads/dev"})
    assert body["data"]["repository"]["ref"] == {
        "name": "dev",
        "prefix": "refs/heads/",
        "target": {"__typename": "Commit", "oid": "d" * 40},
        "branchProtectionRule": {"requiredStatusCheckContexts": ["ci/unit", "build"]},
    }
    _, body = post(fake, REF, {"name": "main"})
    ref = body["data"]["repository"]["ref"]
    assert (ref["target"]["oid"], ref["branchProtectionRule"]) == (main, None)
    _, body = post(fake, REF, {"name": "refs/heads/nope"})
    assert body["data"]["repository"]["ref"] is None


def test_required_status_checks_over_rest(fake):
    fake.add_branch("org", "repo", "release/1.0", "e" * 40)
    fake.protect_branch("org", "repo", "release/1.0", ["ci/unit"])
    base = f"{fake.url}/repos/org/repo/branches"

    protected = requests.get(
        f"{base}/release/1.0/protection/required_status_checks",
        headers=AUTH,
        timeout=10,
    )
    unprotected = requests.get(
        f"{base}/main/protection/required_status_checks", headers=AUTH, timeout=10
    )

    assert protected.status_code == 200
    assert protected.json()["contexts"] == ["ci/unit"]
    assert unprotected.status_code == 404
    branch = requests.get(f"{base}/release/1.0", headers=AUTH, timeout=10).json()
    assert branch["protected"] is True


def test_graphql_points_are_a_budget_of_their_own(fake):
    query = """{
      search(type: ISSUE, first: 100, query: "is:pr") {
        nodes { ... on PullRequest { labels(first: 100) { nodes { name } } } }
      }
      rateLimit { cost remaining limit used }
    }"""
    rest_before = fake.rate_limit_remaining

    response = requests.post(
        fake.url + "/graphql", json={"query": query}, headers=AUTH, timeout=10
    )

    # One search page and up to 100 label pages: 101 / 100, rounded.
    limits = response.json()["data"]["rateLimit"]
    assert limits == {"cost": 1, "remaining": 4999, "limit": 5000, "used": 1}
    assert (fake.graphql_requests, fake.graphql_cost) == (1, 1)
    assert fake.rate_limit_remaining == rest_before
    assert response.headers["X-RateLimit-Resource"] == "graphql"
    assert response.headers["X-RateLimit-Remaining"] == "4999"
    overview = requests.get(fake.url + "/rate_limit", headers=AUTH, timeout=10)
    assert overview.json()["resources"]["graphql"]["remaining"] == 4999


def test_the_cost_multiplies_nested_connections(fake):
    query = """{
      search(type: ISSUE, first: 50, query: "is:pr") {
        nodes { ... on PullRequest { commits(last: 1) { nodes { commit {
          checkSuites(first: 20) { nodes { checkRuns(first: 50) { nodes { name } } } }
        } } } } }
      }
      rateLimit { cost }
    }"""
    _, body = post(fake, query)
    # 1 search + 50 commits + 50 suites + 50 * 20 run pages = 1101.
    assert body["data"]["rateLimit"]["cost"] == 11


def test_check_runs_and_statuses_of_a_commit(fake):
    head = "c" * 40
    fake.add_pull("org", "repo", 1, "dev", head)
    fake.set_status("org", "repo", head, "ci/unit", "pending")
    fake.set_status("org", "repo", head, "ci/unit", "success", "ok")
    fake.add_check_run("org", "repo", head, "build", conclusion="failure")
    fake.add_check_run("org", "repo", head, "build", conclusion="success")
    fake.add_check_run("org", "repo", head, "lint", status="queued", app="linter")
    query = """{ repository(owner: "org", name: "repo") { pullRequest(number: 1) {
      commits(last: 1) { nodes { commit {
        oid
        status { state contexts { context state description } }
        checkSuites(first: 10) { nodes { checkRuns(first: 10) {
          nodes { name status conclusion } } } }
        statusCheckRollup { state contexts(first: 10) { nodes {
          __typename ... on CheckRun { name } ... on StatusContext { context } } } }
      } } }
    } } }"""

    _, body = post(fake, query)

    (node,) = body["data"]["repository"]["pullRequest"]["commits"]["nodes"]
    commit = node["commit"]
    assert commit["oid"] == head
    assert commit["status"] == {
        "state": "SUCCESS",
        "contexts": [{"context": "ci/unit", "state": "SUCCESS", "description": "ok"}],
    }
    runs = [s["checkRuns"]["nodes"] for s in commit["checkSuites"]["nodes"]]
    assert runs == [
        [{"name": "build", "status": "COMPLETED", "conclusion": "SUCCESS"}],
        [{"name": "lint", "status": "QUEUED", "conclusion": None}],
    ]
    rollup = commit["statusCheckRollup"]
    assert rollup["state"] == "PENDING"
    assert [n.get("name") or n.get("context") for n in rollup["contexts"]["nodes"]] == [
        "build",
        "lint",
        "ci/unit",
    ]
