"""GitHub Projects (v2) over GraphQL: an org's boards, the boards an issue
or pull request is on, and putting it on one, in a Status, or taking it off.

GitHub retired classic projects (columns and cards); a board's "columns"
are now the options of its single-select Status field, and a card is an
item whose Status is one of them.
"""

from dataclasses import dataclass

from prow.github.client import GitHubClient, GitHubError

# The page size (100, GitHub's most) and the field name ("Status") are
# spelled out in the queries below.
_BOARDS = """
query Boards($org: String!, $after: String) {
  organization(login: $org) {
    projectsV2(first: 100, after: $after) {
      nodes {
        id
        number
        title
        closed
        field(name: "Status") {
          ... on ProjectV2SingleSelectField { id options { id name } }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

_CONTENT = """
query Content($org: String!, $repo: String!, $number: Int!) {
  repository(owner: $org, name: $repo) {
    issueOrPullRequest(number: $number) {
      ... on Issue { id projectItems(first: 100) { ...Items } }
      ... on PullRequest { id projectItems(first: 100) { ...Items } }
    }
  }
}

fragment Items on ProjectV2ItemConnection {
  nodes {
    id
    project { id }
    fieldValueByName(name: "Status") {
      ... on ProjectV2ItemFieldSingleSelectValue { name }
    }
  }
}
"""

_ADD = """
mutation Add($board: ID!, $content: ID!) {
  addProjectV2ItemById(input: {projectId: $board, contentId: $content}) {
    item { id }
  }
}
"""

_SET_STATUS = """
mutation SetStatus($board: ID!, $item: ID!, $field: ID!, $option: String!) {
  updateProjectV2ItemFieldValue(input: {
    projectId: $board, itemId: $item, fieldId: $field,
    value: {singleSelectOptionId: $option}
  }) {
    projectV2Item { id }
  }
}
"""

_DELETE = """
mutation Delete($board: ID!, $item: ID!) {
  deleteProjectV2Item(input: {projectId: $board, itemId: $item}) {
    deletedItemId
  }
}
"""


@dataclass(frozen=True)
class StatusOption:
    id: str
    name: str


@dataclass(frozen=True)
class Board:
    id: str
    number: int
    title: str
    closed: bool
    # The board's Status field; "" when it has none (then no column can be
    # chosen, only the board).
    status_field_id: str = ""
    statuses: tuple[StatusOption, ...] = ()

    def status(self, name: str) -> StatusOption | None:
        """The Status option called name: the exact spelling first, then
        one differing only in case."""
        for option in self.statuses:
            if option.name == name:
                return option
        folded = [o for o in self.statuses if o.name.lower() == name.lower()]
        return folded[0] if len(folded) == 1 else None


@dataclass(frozen=True)
class BoardItem:
    id: str
    board_id: str
    status: str  # the Status option's name; "" when it has none


@dataclass(frozen=True)
class Content:
    """An issue or pull request as Projects see it: its node id and the
    boards it is on."""

    id: str
    items: tuple[BoardItem, ...]

    def item_on(self, board: Board) -> BoardItem | None:
        return next((i for i in self.items if i.board_id == board.id), None)


def org_boards(client: GitHubClient, org: str) -> list[Board]:
    """Every board the org owns (all pages), open and closed."""
    boards: list[Board] = []
    after = None
    while True:
        data = client.graphql(
            f"list the project boards of {org}", _BOARDS, {"org": org, "after": after}
        )
        page = ((data.get("organization") or {}).get("projectsV2")) or {}
        for node in page.get("nodes") or []:
            if node:
                boards.append(_board(node))
        info = page.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return boards
        after = info.get("endCursor")


def _board(node: dict) -> Board:
    field = node.get("field") or {}
    return Board(
        id=node["id"],
        number=int(node.get("number") or 0),
        title=str(node.get("title") or ""),
        closed=bool(node.get("closed")),
        status_field_id=str(field.get("id") or ""),
        statuses=tuple(
            StatusOption(o["id"], o["name"]) for o in field.get("options") or []
        ),
    )


def content(client: GitHubClient, org: str, repo: str, number: int) -> Content:
    """The issue or pull request org/repo#number and the boards it is on."""
    data = client.graphql(
        f"read the project items of {org}/{repo}#{number}",
        _CONTENT,
        {"org": org, "repo": repo, "number": number},
    )
    node = ((data.get("repository") or {}).get("issueOrPullRequest")) or {}
    if not node.get("id"):
        raise GitHubError(f"{org}/{repo}#{number} not found", status=404)
    items = []
    for item in (node.get("projectItems") or {}).get("nodes") or []:
        if not item:
            continue
        value = item.get("fieldValueByName") or {}
        items.append(
            BoardItem(
                id=item["id"],
                board_id=(item.get("project") or {}).get("id") or "",
                status=str(value.get("name") or ""),
            )
        )
    return Content(id=node["id"], items=tuple(items))


def add_item(client: GitHubClient, board: Board, content_id: str) -> str:
    """Put the content on the board; returns its item's id. GitHub answers
    the existing item when it is there already, so this is safe to repeat.
    "" in dry mode."""
    data = client.graphql(
        f"add {content_id} to project {board.title!r}",
        _ADD,
        {"board": board.id, "content": content_id},
        write=True,
    )
    if data is None:
        return ""
    return str(((data.get("addProjectV2ItemById") or {}).get("item") or {})["id"])


def set_status(
    client: GitHubClient, board: Board, item_id: str, option: StatusOption
) -> None:
    client.graphql(
        f"set the Status of {item_id} on project {board.title!r} to {option.name!r}",
        _SET_STATUS,
        {
            "board": board.id,
            "item": item_id,
            "field": board.status_field_id,
            "option": option.id,
        },
        write=True,
    )


def delete_item(client: GitHubClient, board: Board, item_id: str) -> None:
    """Take an item off the board; one already gone is fine."""
    try:
        client.graphql(
            f"remove {item_id} from project {board.title!r}",
            _DELETE,
            {"board": board.id, "item": item_id},
            write=True,
        )
    except GitHubError as exc:
        if exc.status != 404:
            raise
