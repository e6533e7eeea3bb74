"""size: labels a pull request size/XS ... size/XXL by the lines it changes
(additions plus deletions), leaving out generated files, and keeps exactly
one size label on it as it changes."""

import fnmatch
import posixpath
import re
from dataclasses import dataclass, field

from pydantic import field_validator

from hook.events import PullRequestEvent
from hook.plugins.base import Plugin, PluginContext
from prow.config.plugin_sections import PluginSection, SectionReport
from prow.config.schema import Section

PREFIX = "size/"
ACTIONS = frozenset({"opened", "reopened", "synchronize", "edited"})
GENERATED_FILES = ".generated_files"
GITATTRIBUTES = ".gitattributes"
DEFAULTS = {"s": 10, "m": 30, "l": 100, "xl": 500, "xxl": 1000}


class SizeConfig(Section):
    """The lower bound of each size but XS, in changed lines."""

    s: int = DEFAULTS["s"]
    m: int = DEFAULTS["m"]
    l: int = DEFAULTS["l"]  # noqa: E741 - the original's key
    xl: int = DEFAULTS["xl"]
    xxl: int = DEFAULTS["xxl"]

    @field_validator("s", "m", "l", "xl", "xxl")
    @classmethod
    def _zero_means_default(cls, value: int, info) -> int:
        # The original reads 0 as "not set".
        return value or DEFAULTS[info.field_name]


def _check(size: SizeConfig, report: SectionReport) -> None:
    thresholds = [(name, getattr(size, name)) for name in DEFAULTS]
    for name, value in thresholds:
        if value < 0:
            report.error((name,), "size thresholds must be positive")
    for (_, low), (name, high) in zip(thresholds, thresholds[1:], strict=False):
        if high <= low:
            report.error((name,), "size thresholds must increase: s < m < l < xl < xxl")


SIZE = PluginSection("size", SizeConfig, check=_check)


def label_for(lines: int, size: SizeConfig) -> str:
    for name, bound in (
        ("XS", size.s),
        ("S", size.m),
        ("M", size.l),
        ("L", size.xl),
        ("XL", size.xxl),
    ):
        if lines < bound:
            return PREFIX + name
    return PREFIX + "XXL"


# Generated files -------------------------------------------------------------


@dataclass
class GeneratedFiles:
    """What `.generated_files` at the root of the repository names:
    `path`, `file-name`, `path-prefix` (or `prefix`), `file-prefix`, and
    `paths-from-repo <file>` (a file listing paths, one a line)."""

    paths: set[str] = field(default_factory=set)
    file_names: set[str] = field(default_factory=set)
    path_prefixes: set[str] = field(default_factory=set)
    file_prefixes: set[str] = field(default_factory=set)
    path_files: list[str] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> "GeneratedFiles":
        found = cls()
        kinds = {
            "path": found.paths,
            "file-name": found.file_names,
            "path-prefix": found.path_prefixes,
            "prefix": found.path_prefixes,
            "file-prefix": found.file_prefixes,
        }
        for line in _lines(text):
            parts = line.split()
            if len(parts) == 2 and parts[0] in kinds:
                kinds[parts[0]].add(parts[1])
            elif len(parts) == 2 and parts[0] == "paths-from-repo":
                found.path_files.append(parts[1])
            else:
                found.bad_lines.append(line)
        return found

    def matches(self, path: str) -> bool:
        name = posixpath.basename(path)
        return (
            path in self.paths
            or any(path.startswith(prefix) for prefix in self.path_prefixes)
            or name in self.file_names
            or any(name.startswith(prefix) for prefix in self.file_prefixes)
        )


def _lines(text: str) -> list[str]:
    """Lines that say something: not blank, not a `#` comment."""
    stripped = (line.strip() for line in text.splitlines())
    return [line for line in stripped if line and not line.startswith("#")]


def _glob_regex(pattern: str) -> re.Pattern:
    """A .gitattributes pattern as git reads it: without a slash it matches
    a file name at any depth; with one, a path from the root, where `**`
    spans directories."""
    anchored = "/" in pattern.rstrip("/")
    pattern = pattern.strip("/")
    parts, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] == "*":
            parts.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            parts.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            parts.append(fnmatch.translate(pattern[i : end + 1])[4:-3])
            i = end + 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    body = "".join(parts)
    # A pattern naming a directory covers everything under it.
    return re.compile(("" if anchored else "(?:.*/)?") + body + "(?:/.*)?")


def linguist_generated(text: str) -> list[re.Pattern]:
    """The patterns .gitattributes marks `linguist-generated=true`."""
    patterns = []
    for line in _lines(text):
        pattern, *attributes = line.split()
        if "linguist-generated=true" in attributes:
            patterns.append(_glob_regex(pattern))
    return patterns


# The handler -------------------------------------------------------------------


def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    if event.action not in ACTIONS or not event.number:
        return
    pull = event.pull
    # Read at the base: a pull request must not shrink itself by adding
    # its own files to .generated_files.
    ref = pull.base_sha or pull.base_ref
    generated = GeneratedFiles.parse(ctx.file_at(GENERATED_FILES, ref) or "")
    for line in generated.bad_lines:
        ctx.logger.warning("%s: ignoring invalid line %r", GENERATED_FILES, line)
    for listing in generated.path_files:
        text = ctx.file_at(listing, ref)
        if text is None:
            ctx.logger.warning(
                "%s names %s, which does not exist", GENERATED_FILES, listing
            )
        generated.paths.update(_lines(text or ""))
    marked = linguist_generated(ctx.file_at(GITATTRIBUTES, ref) or "")

    lines = sum(
        change.additions + change.deletions
        for change in ctx.github.pull_changes(ctx.org, ctx.repo, pull.number)
        if not generated.matches(change.filename)
        and not any(p.fullmatch(change.filename) for p in marked)
    )
    wanted = label_for(lines, plugin.settings(ctx))
    stale = [
        label
        for label in ctx.labels(pull.number)
        if label.startswith(PREFIX) and label != wanted
    ]
    ctx.remove_labels(pull.number, *stale)
    ctx.add_labels(pull.number, wanted)


def _thresholds(size: SizeConfig) -> str:
    return (
        f"size/XS: 0-{size.s - 1}, size/S: {size.s}-{size.m - 1}, "
        f"size/M: {size.m}-{size.l - 1}, size/L: {size.l}-{size.xl - 1}, "
        f"size/XL: {size.xl}-{size.xxl - 1}, size/XXL: {size.xxl}+"
    )


plugin = Plugin(
    name="size",
    description=(
        "The size plugin manages the 'size/*' labels, maintaining the "
        "appropriate label on each pull request as it is updated. Generated "
        "files identified by the config file '.generated_files' at the repo "
        "root, and files marked linguist-generated=true in its "
        "'.gitattributes', are ignored. Labels are applied based on the total "
        "number of lines of changes (additions and deletions). Unlike the "
        "original, a `path` line in '.generated_files' matches that exact "
        "path, and invalid lines are skipped rather than failing the count."
    ),
    config=SIZE,
    config_help=(
        "size: s, m, l, xl, xxl: the lower bound of each size in changed lines "
        f"(one setting for every repository). Defaults: {_thresholds(SizeConfig())}."
    ),
    handlers={"pull_request": handle_pull_request},
)
