"""Logs with terminal colours, as HTML: the SGR colour and weight codes
become spans with classes (deck.css); every other escape sequence is
dropped and all text is escaped, so a log can colour itself but never
inject markup."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

CSI = re.compile(r"\x1b\[([0-9;:?]*)([@-~])")
# Anything else introduced by ESC (a lone ESC, OSC titles): not text.
OTHER_ESCAPES = re.compile(r"\x1b(?:\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_]?)")
COLOURS = ("black", "red", "green", "yellow", "blue", "magenta", "cyan", "white")


def _apply(params: str, style: dict) -> None:
    codes = [int(p) if p.isdigit() else 0 for p in re.split("[;:]", params)] or [0]
    i = 0
    while i < len(codes):
        code = codes[i]
        if code == 0:
            style.clear()
        elif code == 1:
            style["bold"] = "ansi-bold"
        elif code == 2:
            style["bold"] = "ansi-faint"
        elif code == 3:
            style["italic"] = "ansi-italic"
        elif code == 4:
            style["underline"] = "ansi-underline"
        elif code == 22:
            style.pop("bold", None)
        elif code == 23:
            style.pop("italic", None)
        elif code == 24:
            style.pop("underline", None)
        elif 30 <= code <= 37:
            style["fg"] = f"ansi-{COLOURS[code - 30]}"
        elif 90 <= code <= 97:
            style["fg"] = f"ansi-bright-{COLOURS[code - 90]}"
        elif code == 39:
            style.pop("fg", None)
        elif 40 <= code <= 47:
            style["bg"] = f"ansi-bg-{COLOURS[code - 40]}"
        elif 100 <= code <= 107:
            style["bg"] = f"ansi-bg-bright-{COLOURS[code - 100]}"
        elif code == 49:
            style.pop("bg", None)
        elif code in (38, 48):
            # 256-colour and true-colour forms: their arguments are skipped,
            # the text keeps the default colour.
            kind = codes[i + 1] if i + 1 < len(codes) else None
            i += 2 if kind == 5 else 4 if kind == 2 else 0
        i += 1


def ansi_to_html(text: str) -> SafeString:
    parts: list[str] = []
    style: dict[str, str] = {}
    position = 0

    def emit(chunk: str) -> None:
        chunk = OTHER_ESCAPES.sub("", chunk)
        if not chunk:
            return
        if style:
            classes = " ".join(style[k] for k in sorted(style))
            parts.append(f'<span class="{classes}">{escape(chunk)}</span>')
        else:
            parts.append(escape(chunk))

    for match in CSI.finditer(text):
        emit(text[position : match.start()])
        if match.group(2) == "m":
            _apply(match.group(1), style)
        position = match.end()
    emit(text[position:])
    return mark_safe("".join(parts))


@register.filter
def ansi(text) -> SafeString:
    return ansi_to_html(str(text or ""))
