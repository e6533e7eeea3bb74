"""Finding slash commands in comments, as the original's regexes do.

Commands start a line (`/lgtm`, `/lgtm cancel`, `/test e2e unit`); a comment
may hold several. Text GitHub does not show as prose is never a command:
fenced code blocks, where people paste logs and examples, and HTML comments,
where issue and pull request templates keep their instructions (the
original's label plugin strips those for that reason).
"""

import re
from dataclasses import dataclass

# Fences follow CommonMark: three or more backticks or tildes, closed by a
# line of at least as many of the same character, or by the end of the text;
# a backtick fence's info string holds no backtick (else it is inline code).
# Whichever construct starts first wins: a fence inside an HTML comment is
# comment text, and "<!--" inside a fence is code. The scan below finds
# each construct's end with str.find and one forward pass, rather than one
# lazy regex with both alternatives, which retried "<!--" to the end of the
# text from every unclosed one: quadratic on a long crafted comment.
_FENCE_OPEN = re.compile(r"^[ \t]*(?:(`{3,})[^`\n]*|(~{3,})[^\n]*)$", re.MULTILINE)
_FENCE_CLOSE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*$", re.MULTILINE)
# The approve plugin's command pattern: a name is anything up to whitespace.
_COMMAND_LINE = re.compile(r"(?m)^/([^\s]+)[\t ]*([^\n\r]*)")


def _normalize_newlines(body: str | None) -> str:
    # GitHub's web editor sends CRLF; a stray CR would keep a closing fence
    # from being seen as one.
    return (body or "").replace("\r\n", "\n").replace("\r", "\n")


def _hidden(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, is_comment) of each comment and fence, in order."""
    spans = []
    pos = 0
    comment = text.find("<!--")
    fence = _FENCE_OPEN.search(text)
    while True:
        if comment != -1 and comment < pos:
            comment = text.find("<!--", pos)
        if fence is not None and fence.start() < pos:
            fence = _FENCE_OPEN.search(text, pos)
        if comment != -1 and (fence is None or comment < fence.start()):
            end = text.find("-->", comment + 4)
            if end == -1:
                # Nothing closes this one, so nothing closes a later one.
                comment = -1
                continue
            spans.append((comment, end + 3, True))
            pos = end + 3
            continue
        if fence is None:
            return spans
        run = fence.group(1) or fence.group(2)
        end = len(text)
        for close in _FENCE_CLOSE.finditer(text, fence.end()):
            closing = close.group(1)
            if closing[0] == run[0] and len(closing) >= len(run):
                end = close.end()
                break
        spans.append((fence.start(), end, False))
        pos = end


def _strip(body: str | None, *, fences: bool, comments: bool) -> str:
    text = _normalize_newlines(body)
    kept = []
    pos = 0
    for start, end, is_comment in _hidden(text):
        strip = comments if is_comment else fences
        if strip:
            kept.append(text[pos:start])
            pos = end
    kept.append(text[pos:])
    return "".join(kept)


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
