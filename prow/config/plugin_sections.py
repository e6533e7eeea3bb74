"""What plugins.yaml may hold besides `plugins:` and `external_plugins:`.

Each plugin declares its own section (a typed model with the original's
defaults, where it sits in the file, and its own checks) in its module; the
plugin registry hands the declarations and the plugin names to this module
when the hook app loads. Config validation and lookups read them from here,
so this layer knows no plugin by name. The few sections the jobs layer reads
too (trigger's, for trust) are declared in plugins_schema and registered by
it.
"""

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import TypeAdapter

from prow.config.regex import regex_problem
from prow.config.schema import Section


class Shape(StrEnum):
    # One object for every repository (size:, heart:).
    ONE = "one"
    # A list of entries, each naming the org or org/repo it is for in
    # `repos:` (triggers:, lgtm:, approve:). The first entry naming the repo
    # wins, else the first naming its org.
    REPO_LIST = "repo_list"
    # A map keyed by org or org/repo (repo_milestone:, dco:); the repo's
    # entry wins over its org's, and "" or "*" keys apply everywhere.
    REPO_MAP = "repo_map"


@dataclass(frozen=True)
class PluginSection:
    key: str  # its key in plugins.yaml
    # A Section model, or a plain type (dict[str, Any]) for a section kept
    # as the file has it.
    model: Any
    shape: Shape = Shape.ONE
    # check(value, report): errors and warnings beyond the types; value is
    # the typed section, report a SectionReport for paths inside it.
    check: Callable[[Any, "SectionReport"], None] | None = None
    # Keys inside the section whose own keys are the user's data (repo
    # names, label names), so that error paths show them as ["key"].
    map_fields: frozenset[str] = field(default_factory=frozenset)

    @cached_property
    def adapter(self) -> TypeAdapter:
        if self.shape is Shape.REPO_LIST:
            return TypeAdapter(list[self.model])
        if self.shape is Shape.REPO_MAP:
            return TypeAdapter(dict[str, self.model])
        return TypeAdapter(self.model)

    def parse(self, data: Any) -> Any:
        """The typed section; raises pydantic's ValidationError."""
        if data is None:
            data = [] if self.shape is Shape.REPO_LIST else {}
        return self.adapter.validate_python(data)

    def default(self) -> Any:
        return self.parse(None)

    def lookup(self, value: Any, org: str, repo: str) -> Section:
        """The settings that apply to org/repo, the model's defaults when no
        entry names it."""
        if self.shape is Shape.ONE:
            return value
        full = f"{org}/{repo}"
        if self.shape is Shape.REPO_LIST:
            for names in ({full}, {org}):
                for entry in value:
                    if names & set(getattr(entry, "repos", ())):
                        return entry
            return self.model()
        for key in (full, org, "*", ""):
            if key in value:
                return value[key]
        return self.model()


class SectionReport:
    """A section check's view of the file's reporter: paths are given from
    the section's key down, and turned into lines by the reporter."""

    def __init__(self, key: str, reporter: Any):
        self.key = key
        self._reporter = reporter

    def error(self, path: Iterable[str | int], message: str) -> None:
        self._reporter.error((self.key, *path), message)

    def warning(self, path: Iterable[str | int], message: str) -> None:
        self._reporter.warning((self.key, *path), message)

    def regex(self, pattern: str, path: Iterable[str | int], what: str) -> bool:
        """Whether pattern compiles as the original's (Go) regex would; an
        error naming what it is for when not."""
        problem = regex_problem(pattern, what)
        if problem:
            self.error(path, problem)
        return problem is None


_sections: dict[str, PluginSection] = {}
_plugin_names: set[str] = set()


def register_section(section: PluginSection) -> None:
    existing = _sections.get(section.key)
    if existing is not None and existing != section:
        raise ValueError(f"plugins.yaml key {section.key!r} is declared twice")
    _sections[section.key] = section


def register_plugin_names(names: Iterable[str]) -> None:
    _plugin_names.update(names)


def sections() -> dict[str, PluginSection]:
    return dict(_sections)


def section(key: str) -> PluginSection:
    try:
        return _sections[key]
    except KeyError:
        raise KeyError(f"no plugin declares the plugins.yaml section {key!r}")


def extra_plugin_modules() -> dict[str, str]:
    """In-process plugins a deployment adds: PROW_EXTRA_PLUGINS is a comma
    list of name=dotted.module. Their names are known plugin names too."""
    extras = {}
    for item in os.environ.get("PROW_EXTRA_PLUGINS", "").split(","):
        name, sep, module = item.strip().partition("=")
        if sep and name.strip() and module.strip():
            extras[name.strip()] = module.strip()
    return extras


def known_plugins() -> frozenset[str]:
    """Names plugins.yaml may enable: the registry's, and a deployment's own."""
    return frozenset(_plugin_names) | frozenset(extra_plugin_modules())


def map_fields() -> set[str]:
    fields = {name for s in _sections.values() for name in s.map_fields}
    return fields | {s.key for s in _sections.values() if s.shape is Shape.REPO_MAP}
