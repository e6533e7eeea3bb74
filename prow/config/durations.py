"""Go duration strings ("10m", "1h30m", "1.5h", "300ms"), as the original's
config uses them. Python has no parser for this syntax."""

import re
from datetime import timedelta

_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> timedelta:
    """Parse a Go duration; raise ValueError with the reason otherwise."""
    if not isinstance(text, str):
        raise ValueError(f"duration must be a string like 1h30m, not {text!r}")
    s = text.strip()
    sign = 1
    if s[:1] in "+-" and s:
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return timedelta(0)
    if not s:
        raise ValueError(f"invalid duration {text!r}")
    total = 0.0
    pos = 0
    while pos < len(s):
        match = _PART.match(s, pos)
        if not match:
            raise ValueError(
                f"invalid duration {text!r}: expected a number and a unit "
                "(ns, us, ms, s, m, h), e.g. 10m or 1h30m"
            )
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    return timedelta(seconds=sign * total)
