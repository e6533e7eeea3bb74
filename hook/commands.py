"""Finding slash commands in comments, as the original's regexes do.

Commands start a line (`/lgtm`, `/lgtm cancel`, `/test e2e unit`); a comment
may hold several. Text GitHub does not show as prose is never a command:
fenced code blocks, where people paste logs and examples, and HTML comments,
where issue and pull request templates keep their instructions (the
original's label plugin strips those for that reason).
"""

import re
from dataclasses import dataclass

# Both constructs in one pattern, so that whichever starts first wins: a fence
# inside an HTML comment is comment text, and "<!--" inside a fence is code.
# Fences follow CommonMark: three or more backticks or tildes, closed by a
# line of at least as many of the same character, or by the end of the text;
# a backtick fence's info string holds no backtick (else it is inline code).
_HIDDEN = re.compile(
    r"(?P<comment><!--.*?-->)"
    r"|(?P<fence>"
    r"^[ \t]*(?P<ticks>`{3,})[^`\n]*$.*?(?:^[ \t]*(?P=ticks)`*[ \t]*$|\Z)"
    r"|^[ \t]*(?P<tildes>~{3,})[^\n]*$.*?(?:^[ \t]*(?P=tildes)~*[ \t]*$|\Z)"
    r")",
    re.DOTALL | re.MULTILINE,
)
# The approve plugin's command pattern: a name is anything up to whitespace.
_COMMAND_LINE = re.compile(r"(?m)^/([^\s]+)[\t ]*([^\n\r]*)")


def _normalize_newlines(body: str | None) -> str:
    # GitHub's web editor sends CRLF; a stray CR would keep a closing fence
    # from being seen as one.
    return (body or "").replace("\r\n", "\n").replace("\r", "\n")


def _strip(body: str | None, *, fences: bool, comments: bool) -> str:
    def replace(match: re.Match) -> str:
        if match.group("comment") is not None:
            return "" if comments else match.group(0)
        return "" if fences else match.group(0)

    return _HIDDEN.sub(replace, _normalize_newlines(body))


def strip_code_blocks(body: str | None) -> str:
    return _strip(body, fences=True, comments=False)


def strip_html_comments(body: str | None) -> str:
    return _strip(body, fences=False, comments=True)


def command_text(body: str | None) -> str:
    """The body as commands are looked for in it: LF line ends, without code
    blocks and HTML comments."""
    return _strip(body, fences=True, comments=True)


@dataclass(frozen=True)
class Command:
    name: str  # as written, without the slash
    args: str  # the rest of the line, stripped

    @property
    def arguments(self) -> list[str]:
        return self.args.split()


def parse_commands(body: str | None) -> list[Command]:
    """Every `/name args` line outside code blocks and comments, in order."""
    return [
        Command(m.group(1), m.group(2).strip())
        for m in _COMMAND_LINE.finditer(command_text(body))
    ]
