"""Regular expressions written for Go's RE2, compiled with Python's re.

The original's patterns (job triggers, branch filters, file filters) are
RE2. The common subset means the same in both; the few RE2 spellings that
Python lacks are translated here so a pattern that loads also matches.
"""

import re
from functools import lru_cache

_TRANSLATIONS = (
    (r"\z", r"\Z"),  # end of text
)


@lru_cache(maxsize=4096)
def compile_go_regex(pattern: str) -> re.Pattern:
    """Compile an RE2 pattern; raise re.error with the reason if it is invalid."""
    translated = pattern
    for go, py in _TRANSLATIONS:
        translated = translated.replace(go, py)
    # RE2 spells named groups (?P<name>...) as Python does, and also
    # (?<name>...), which Python 3.11 does not accept.
    translated = re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", translated)
    return re.compile(translated)


def search(pattern: str, text: str) -> bool:
    """Go's MatchString: an unanchored search."""
    return compile_go_regex(pattern).search(text) is not None


def regex_problem(pattern: str, what: str) -> str | None:
    """Why pattern is not a usable regex for what, in words for a config
    error; None when it compiles."""
    try:
        compile_go_regex(pattern)
    except re.error as exc:
        return f"could not compile {what} regex {pattern!r}: {exc}"
    return None
