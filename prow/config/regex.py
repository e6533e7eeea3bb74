"""Regular expressions written for Go's RE2.

The original's patterns (job triggers, branch filters, file filters) are
RE2, and they are matched against text anyone can write: comments, branch
and file names. They are compiled with RE2 itself, whose matching time is
linear in the text, so no pattern can hold a worker on a crafted comment.
Python's re, which backtracks, is used only for a central-config pattern
that needs what RE2 lacks (backreferences, lookaround); a repository's own
config never gets it (linear_only).
"""

import re
from functools import lru_cache

import re2

_TRANSLATIONS = (
    (r"\z", r"\Z"),  # end of text
)

_OPTIONS = re2.Options()
# A pattern RE2 refuses is reported (or handed to re); RE2's own logging of
# it to stderr would only be noise.
_OPTIONS.log_errors = False


class RegexError(re.error):
    """A pattern that compiles with neither engine, or needs backtracking
    where only linear matching is allowed."""


@lru_cache(maxsize=4096)
def compile_go_regex(pattern: str, *, linear_only: bool = False):
    """Compile an RE2 pattern; the result has re's search/match/finditer.
    Raises re.error (RegexError) with the reason if it cannot be used."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode(errors="replace")
        re2_reason = str(reason)
    translated = pattern
    for go, py in _TRANSLATIONS:
        translated = translated.replace(go, py)
    # RE2 spells named groups (?P<name>...) as Python does, and also
    # (?<name>...), which Python 3.11 does not accept.
    translated = re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", translated)
    try:
        compiled = re.compile(translated)
    except re.error as exc:
        raise RegexError(str(exc)) from None
    if linear_only:
        raise RegexError(
            f"{re2_reason}; a repository's own config may only use patterns "
            "that match in linear time (RE2 syntax)"
        )
    return compiled


def search(pattern: str, text: str) -> bool:
    """Go's MatchString: an unanchored search."""
    return compile_go_regex(pattern).search(text) is not None


def regex_problem(pattern: str, what: str, *, linear_only: bool = False) -> str | None:
    """Why pattern is not a usable regex for what, in words for a config
    error; None when it compiles."""
    try:
        compile_go_regex(pattern, linear_only=linear_only)
    except re.error as exc:
        return f"could not compile {what} regex {pattern!r}: {exc}"
    return None
