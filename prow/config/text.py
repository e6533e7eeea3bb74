"""Config text as stored and compared: one line-ending convention.

Browsers submit textareas with CRLF and Windows editors save files with it;
stored as they came, every such save would differ on every line from the
version before, and the diff would show nothing but that.
"""

import difflib

from django.conf import settings


def too_large(text: str) -> str | None:
    """Why text is over the cap on config typed into the API or the admin
    (None when it is not)."""
    limit = settings.PROW_CONFIG_TEXT_MAX_BYTES
    # Every character is at least a byte: a long text needs no encoding.
    size = len(text) if len(text) > limit else len(text.encode("utf-8", "replace"))
    if size <= limit:
        return None
    return (
        f"at most {limit} bytes are accepted here ({size} sent); "
        "load a larger config from its file instead"
    )


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _lines(text: str) -> list[str]:
    lines = normalize_newlines(text).split("\n")
    if lines[-1] == "":
        lines.pop()
    # A missing newline at the end is not a change worth a diff hunk.
    return [line + "\n" for line in lines]


def unified_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    """The changes from old to new, blind to line endings (versions stored
    before the texts were normalised still carry CRLF)."""
    return "".join(
        difflib.unified_diff(
            _lines(old), _lines(new), fromfile=old_name, tofile=new_name
        )
    )
