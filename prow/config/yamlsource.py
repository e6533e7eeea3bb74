"""YAML text to Python data, remembering the line every key and item came from.

Errors found later (by pydantic or by the semantic checks) are reported as a
path such as ("presubmits", "org/repo", 0, "spec"); the LineMap turns that
path back into the line a person has to edit.
"""

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


class YAMLSyntaxError(ValueError):
    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class LineMap:
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int | None:
        """The line of path, or of its nearest ancestor that exists in the file
        (a missing field is reported where its parent is)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


@dataclass
class DuplicateKey:
    path: Path
    line: int
    first_line: int
    same_value: bool


@dataclass
class Parsed:
    data: dict[str, Any]
    lines: LineMap
    duplicates: list[DuplicateKey]


# Anchors and aliases are welcome (configs share job templates with them),
# but aliases may repeat what is written at most this many times over (any
# document may expand to MIN_ALIAS_BUDGET values), and an alias inside its
# own anchor never ends. Such text is refused before anything walks it.
ALIAS_EXPANSION = 10
MIN_ALIAS_BUDGET = 100_000


def parse(text: str) -> Parsed:
    """Parse one YAML document whose top level is a mapping (or empty)."""
    loader = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return Parsed({}, LineMap({(): 1}), [])
        problem = expansion_problem(node)
        if problem is not None:
            line, message = problem
            raise YAMLSyntaxError(line, f"invalid YAML: {message}")
        lines = LineMap({(): node.start_mark.line + 1})
        duplicates: list[DuplicateKey] = []
        _walk(node, (), lines, duplicates)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        line, reason = _syntax_problem(exc, text)
        raise YAMLSyntaxError(line, f"invalid YAML: {reason}") from exc
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character
        code = char if isinstance(char, int) else ord(str(char)[:1] or "?")
        raise YAMLSyntaxError(
            line, f"invalid YAML: character U+{code:04X} cannot appear in YAML"
        ) from exc
    except yaml.YAMLError as exc:
        raise YAMLSyntaxError(None, f"invalid YAML: {exc}") from exc
    except RecursionError as exc:
        raise YAMLSyntaxError(None, "invalid YAML: nested too deeply") from exc
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise YAMLSyntaxError(
            lines.line_of(()),
            f"the top level must be a mapping of keys, not a {type(data).__name__}",
        )
    return Parsed(data, lines, duplicates)


# Contexts in which PyYAML gives up wherever the text stops making sense,
# often lines after the bracket, quote or key that was left open; the line
# to edit is where that opened (the context mark).
_OPENED = {
    "while parsing a flow sequence": "'[' opened here is not closed",
    "while parsing a flow mapping": "'{' opened here is not closed",
    "while scanning a quoted scalar": "the quote opened here is not closed",
    "while scanning a simple key": "this key has no ':' after it",
}


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str) -> tuple[int | None, str]:
    """(line, reason) of a YAML syntax error, the line being the one to edit."""
    problem = exc.problem or str(exc)
    opened = _OPENED.get(exc.context or "")
    start = exc.context_mark
    if exc.context == "while parsing a flow node" and exc.problem_mark is not None:
        # A node missing inside brackets ("[1," then nothing fitting) is
        # named at the node; the bracket left open is the likelier fix.
        start = _open_bracket(text, exc.problem_mark.index)
        if start is not None:
            opened = f"'{text[start.index]}' opened here is not closed"
    if opened and start is not None:
        line = start.line + 1
        if opened.startswith("the quote"):
            opened = opened.replace("the quote", f"the quote ({text[start.index]})")
        gave_up = exc.problem_mark.line + 1 if exc.problem_mark else line
        if gave_up == line:
            return line, f"{opened} ({problem})"
        return line, f"{opened} (the parser gave up at line {gave_up}: {problem})"
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    if exc.context:
        problem = f"{problem} ({exc.context})"
    return line, problem


def _open_bracket(text: str, before: int):
    """The mark of the innermost '[' or '{' still open at index before."""
    stack = []
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index >= before:
                break
            if isinstance(
                token, yaml.FlowSequenceStartToken | yaml.FlowMappingStartToken
            ):
                stack.append(token.start_mark)
            elif stack and isinstance(
                token, yaml.FlowSequenceEndToken | yaml.FlowMappingEndToken
            ):
                stack.pop()
    except yaml.YAMLError:
        pass
    return stack[-1] if stack else None


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def expansion_problem(root) -> tuple[int, str] | None:
    """(line, reason) if the aliases of a composed document are unsafe to
    expand. Composing is linear in the text, since an alias is one shared
    node there; what explodes is a walk that visits a node once per path
    to it, so sizes are counted here once per node."""
    sizes: dict[int, int] = {}
    entered: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        children = _children(node)
        if leaving:
            entered.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            continue
        if id(node) in sizes:
            continue
        entered.add(id(node))
        stack.append((node, True))
        for child in children:
            if id(child) in entered:
                return (
                    child.start_mark.line + 1,
                    "an alias refers to a value that contains it",
                )
            if id(child) not in sizes:
                stack.append((child, False))
    expanded = sizes[id(root)]
    if expanded > max(MIN_ALIAS_BUDGET, ALIAS_EXPANSION * len(sizes)):
        return (
            root.start_mark.line + 1,
            f"aliases expand this YAML to {expanded} values, more than "
            f"{ALIAS_EXPANSION} times what is written",
        )
    return None


def _walk(node, path: Path, lines: LineMap, duplicates: list[DuplicateKey]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, tuple[int, Any]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None or key == "<<":
                continue
            child = (*path, key)
            line = key_node.start_mark.line + 1
            if key in seen:
                first_line, first_value = seen[key]
                duplicates.append(
                    DuplicateKey(
                        child,
                        line,
                        first_line,
                        _shape(first_value) == _shape(value_node),
                    )
                )
            else:
                seen[key] = (line, value_node)
                lines.lines[child] = line
            _walk(value_node, child, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines.lines.setdefault(child, item.start_mark.line + 1)
            _walk(item, child, lines, duplicates)


def _shape(node) -> Any:
    """A comparable form of a node, to tell a harmless repeated key from a
    conflicting one."""
    if isinstance(node, yaml.ScalarNode):
        return (node.tag, node.value)
    if isinstance(node, yaml.SequenceNode):
        return ("seq", tuple(_shape(n) for n in node.value))
    if isinstance(node, yaml.MappingNode):
        return ("map", tuple((_shape(k), _shape(v)) for k, v in node.value))
    return None
