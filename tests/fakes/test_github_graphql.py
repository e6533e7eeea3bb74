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
