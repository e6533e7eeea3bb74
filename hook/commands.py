"""Finding slash commands in comments, as the original's regexes do.

Commands start a line (`/lgtm`, `/lgtm cancel`, `/test e2e unit`); a comment
may hold several. Text inside fenced code blocks is never a command: people
paste logs and examples there.
"""

import re
from dataclasses import dataclass

_FENCE = re.compile(r"(?ms)^[ \t]*(```|~~~).*?(^[ \t]*\1[ \t]*$|\Z)")
_HTML_COMMENT = re.compile(r"(?s)<!--.*?-->")
_COMMAND_LINE = re.compile(r"(?m)^/([\w?-]+)(?:[ \t]+(.*?))?[ \t]*\r?$")


def strip_code_blocks(body: str) -> str:
    return _FENCE.sub("", body or "")


def strip_html_comments(body: str) -> str:
    return _HTML_COMMENT.sub("", body or "")


@dataclass(frozen=True)
class Command:
    name: str  # as written, without the slash
    args: str  # the rest of the line, stripped

    @property
    def arguments(self) -> list[str]:
        return self.args.split()


def parse_commands(body: str) -> list[Command]:
    """Every `/name args` line outside code blocks, in order."""
    return [
        Command(m.group(1), (m.group(2) or "").strip())
        for m in _COMMAND_LINE.finditer(strip_code_blocks(body))
    ]


def matches(pattern: re.Pattern, body: str) -> list[re.Match]:
    """All matches of a plugin's command regex outside code blocks."""
    return list(pattern.finditer(strip_code_blocks(body)))
