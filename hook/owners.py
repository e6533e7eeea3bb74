"""OWNERS files: who may approve and review which paths of a repository.

An OWNERS file (YAML) lists `approvers`, `reviewers`, `required_reviewers`
and `labels` for its directory and everything below it; parents' owners apply
too unless the file says `options: {no_parent_owners: true}`. Instead of
those lists a file may hold `filters`: regular expressions, matched against a
path relative to the OWNERS file's directory, each with its own lists (".*"
applies to every path). As in the original, a file with top-level lists is a
simple file and its `filters` are ignored. Names may be aliases defined in
the root OWNERS_ALIASES; logins are compared case-insensitively and may be
written with a leading "@". Files are read at a given SHA and cached by it,
since a commit's files never change.
"""

import logging
import posixpath
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.core.cache import cache
from pydantic import Field

from prow.config.plugin_sections import (
    PluginSection,
    SectionReport,
    register_section,
)
from prow.config.regex import compile_go_regex
from prow.config.schema import Section
from prow.github.client import GitHubClient

logger = logging.getLogger(__name__)

CACHE_SECONDS = 3600
OWNERS = "OWNERS"
OWNERS_ALIASES = "OWNERS_ALIASES"
# The original keeps a ".*" filter as "no filter": it applies to every path.
MATCH_ALL = ".*"
_LISTS = ("approvers", "reviewers", "required_reviewers", "labels")


class OwnersConfig(Section):
    """plugins.yaml's `owners:` section, read by every plugin that goes by
    OWNERS files (approve, lgtm, ...)."""

    mdyamlrepos: list[str] = Field(default_factory=list)
    # Repos where OWNERS alone grants rights: no collaborator cross-check.
    skip_collaborators: list[str] = Field(default_factory=list)
    labels_denylist: list[str] = Field(default_factory=lambda: ["approved", "lgtm"])
    # By org or org/repo: {owners: ..., owners_aliases: ...}, other names
    # for the two files.
    filenames: dict[str, dict[str, str]] = Field(default_factory=dict)

    def skips_collaborators(self, org: str, repo: str) -> bool:
        return bool({org, f"{org}/{repo}"} & set(self.skip_collaborators))

    def filenames_for(self, org: str, repo: str) -> tuple[str, str]:
        """(OWNERS file name, OWNERS_ALIASES file name) for org/repo."""
        names = self.filenames.get(f"{org}/{repo}") or self.filenames.get(org) or {}
        return (
            names.get("owners") or OWNERS,
            names.get("owners_aliases") or OWNERS_ALIASES,
        )


_FILENAME_KEYS = frozenset({"owners", "owners_aliases"})


def _check_owners(config: OwnersConfig, report: SectionReport) -> None:
    for key, names in config.filenames.items():
        for unknown in sorted(set(names) - _FILENAME_KEYS):
            report.error(
                ("filenames", key, unknown),
                "unknown key; the file names are `owners` and `owners_aliases`",
            )


# Declared here rather than by one plugin: several plugins read it, and a
# section is declared once.
OWNERS_SECTION = PluginSection(
    "owners", OwnersConfig, check=_check_owners, map_fields=frozenset({"filenames"})
)
register_section(OWNERS_SECTION)


class _Invalid(Exception):
    """A part of an OWNERS file that does not have the expected shape."""


def norm_login(login: str) -> str:
    return str(login).strip().lower().removeprefix("@")


@dataclass
class Owners:
    approvers: set[str] = field(default_factory=set)
    reviewers: set[str] = field(default_factory=set)
    required_reviewers: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)

    def add(self, other: "Owners | OwnersEntry") -> None:
        self.approvers |= other.approvers
        self.reviewers |= other.reviewers
        self.required_reviewers |= other.required_reviewers
        self.labels |= set(other.labels)


@dataclass(frozen=True)
class OwnersEntry:
    """One set of owners: a simple file's lists, or one filter's. pattern
    None means every path."""

    pattern: re.Pattern[str] | None = None
    approvers: frozenset[str] = frozenset()
    reviewers: frozenset[str] = frozenset()
    required_reviewers: frozenset[str] = frozenset()
    labels: frozenset[str] = frozenset()

    def applies_to(self, relative: str) -> bool:
        # Go's MatchString: the pattern may match anywhere in the path.
        return self.pattern is None or self.pattern.search(relative) is not None


@dataclass(frozen=True)
class OwnersFile:
    entries: tuple[OwnersEntry, ...] = ()
    no_parent_owners: bool = False
    auto_approve_unowned_subfolders: bool = False

    def owners_for(self, relative: str) -> Owners:
        """The owners this file gives to a path relative to its directory."""
        owners = Owners()
        for entry in self.entries:
            if entry.applies_to(relative):
                owners.add(entry)
        return owners

    def _unfiltered(self, key: str) -> frozenset[str]:
        out: set[str] = set()
        for entry in self.entries:
            if entry.pattern is None:
                out |= getattr(entry, key)
        return frozenset(out)

    @property
    def approvers(self) -> frozenset[str]:
        """Approvers of every path below the file (filters aside)."""
        return self._unfiltered("approvers")

    @property
    def reviewers(self) -> frozenset[str]:
        return self._unfiltered("reviewers")

    @property
    def labels(self) -> frozenset[str]:
        return self._unfiltered("labels")


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Invalid(f"expected a list, got {type(value).__name__}")
    out = []
    for item in value:
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise _Invalid(f"expected a name, got {item!r}")
        out.append(str(item))
    return out


def _entry(
    data: Any, aliases: dict[str, set[str]], pattern: re.Pattern[str] | None
) -> OwnersEntry:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _Invalid("expected a mapping")

    def logins(key: str) -> frozenset[str]:
        out: set[str] = set()
        for name in _names(data.get(key)):
            login = norm_login(name)
            if login:
                # Not recursive, as in the original: an alias naming another
                # alias yields that alias's name as a login.
                out |= aliases.get(login, {login})
        return frozenset(out)

    return OwnersEntry(
        pattern=pattern,
        approvers=logins("approvers"),
        reviewers=logins("reviewers"),
        required_reviewers=logins("required_reviewers"),
        labels=frozenset(label.strip() for label in _names(data.get("labels"))),
    )


def _options(value: Any) -> tuple[bool, bool]:
    if value is None:
        return False, False
    if not isinstance(value, dict):
        raise _Invalid("options must be a mapping")
    flags = []
    for key in ("no_parent_owners", "auto_approve_unowned_subfolders"):
        flag = value.get(key)
        if flag is not None and not isinstance(flag, bool):
            raise _Invalid(f"options.{key} must be true or false")
        flags.append(bool(flag))
    return flags[0], flags[1]


def parse_owners(text: str, aliases: dict[str, set[str]]) -> OwnersFile:
    """One OWNERS file. A broken one gives no owners (and is logged), as in
    the original, rather than failing every pull request touching it."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        logger.info("unparsable OWNERS file: %s", exc)
        return OwnersFile()
    if not isinstance(data, dict):
        return OwnersFile()
    try:
        no_parent, auto_approve = _options(data.get("options"))
    except _Invalid as exc:
        logger.info("invalid OWNERS file: %s", exc)
        return OwnersFile()
    try:
        simple = _entry(data, aliases, None)
    except _Invalid:
        simple = None  # the original then reads the file as filters only
    if simple is not None and any(getattr(simple, key) for key in _LISTS):
        return OwnersFile((simple,), no_parent, auto_approve)
    filters = data.get("filters")
    if filters is None:
        return OwnersFile((), no_parent, auto_approve)
    if not isinstance(filters, dict):
        logger.info("invalid OWNERS file: filters must be a mapping")
        return OwnersFile()
    entries = []
    try:
        for raw_pattern, config in filters.items():
            pattern = str(raw_pattern)
            compiled = None
            if pattern != MATCH_ALL:
                try:
                    # Written in the repository and matched against the
                    # paths a pull request names: RE2 only, as the original.
                    compiled = compile_go_regex(pattern, linear_only=True)
                except re.error as exc:
                    # One bad pattern costs only its own filter.
                    logger.info("invalid OWNERS filter %r: %s", pattern, exc)
                    continue
            entries.append(_entry(config, aliases, compiled))
    except _Invalid as exc:
        logger.info("invalid OWNERS file: %s", exc)
        return OwnersFile()
    return OwnersFile(tuple(entries), no_parent, auto_approve)


def parse_aliases(text: str | None) -> dict[str, set[str]]:
    try:
        data = yaml.safe_load(text or "") or {}
    except yaml.YAMLError as exc:
        logger.info("unparsable OWNERS_ALIASES file: %s", exc)
        return {}
    aliases = data.get("aliases") if isinstance(data, dict) else None
    if not isinstance(aliases, dict):
        return {}
    out: dict[str, set[str]] = {}
    for name, members in aliases.items():
        try:
            logins = {norm_login(m) for m in _names(members)}
        except _Invalid:
            logger.info("invalid alias %r in OWNERS_ALIASES", name)
            continue
        out[norm_login(str(name))] = {login for login in logins if login}
    return out


class OwnersReader:
    """The OWNERS files of one repository at one SHA.

    collaborators, when given, restricts approvers and reviewers to those
    logins, as the original does for repos not in skip_collaborators.
    """

    def __init__(
        self,
        gh: GitHubClient,
        org: str,
        repo: str,
        sha: str,
        *,
        owners_filename: str = OWNERS,
        aliases_filename: str = OWNERS_ALIASES,
        collaborators: Collection[str] | None = None,
    ):
        self.gh, self.org, self.repo, self.sha = gh, org, repo, sha
        self.owners_filename = owners_filename
        self.aliases_filename = aliases_filename
        self.collaborators = (
            None if collaborators is None else {norm_login(c) for c in collaborators}
        )
        self._aliases: dict[str, set[str]] | None = None
        self._parsed: dict[str, OwnersFile | None] = {}

    @classmethod
    def for_branch(
        cls, gh: GitHubClient, org: str, repo: str, branch: str, **kwargs
    ) -> "OwnersReader":
        """The files at the branch's current tip: a branch name would be a
        wrong cache key, since the branch moves."""
        return cls(gh, org, repo, gh.branch_sha(org, repo, branch), **kwargs)

    def _file(self, path: str) -> str | None:
        key = f"owners:{self.gh.base_url}:{self.org}/{self.repo}@{self.sha}:{path}"
        cached = cache.get(key)
        if cached is not None:
            return cached or None
        text = self.gh.file_content(self.org, self.repo, path, self.sha)
        # "" records a missing file, so that is not asked again either.
        cache.set(key, text or "", CACHE_SECONDS)
        return text

    @property
    def aliases(self) -> dict[str, set[str]]:
        if self._aliases is None:
            self._aliases = parse_aliases(self._file(self.aliases_filename))
        return self._aliases

    def file_at(self, directory: str) -> OwnersFile | None:
        """The OWNERS file of a directory ("" is the root), if it has one."""
        directory = _canonical(directory)
        if directory not in self._parsed:
            text = self._file(posixpath.join(directory, self.owners_filename))
            parsed = parse_owners(text, self.aliases) if text else None
            if parsed is not None and self.collaborators is not None:
                parsed = _only(parsed, self.collaborators)
            self._parsed[directory] = parsed
        return self._parsed[directory]

    def _walk(self, path: str) -> Iterable[tuple[str, OwnersFile]]:
        """(directory, file) for each OWNERS file that applies to path,
        nearest first, up to the root or a no_parent_owners file."""
        path = _canonical(path)
        directory = posixpath.dirname(path)
        while True:
            owners_file = self.file_at(directory)
            if owners_file is not None:
                yield directory, owners_file
                if owners_file.no_parent_owners:
                    return
            if not directory:
                return
            directory = posixpath.dirname(directory)

    def owners_of(self, path: str) -> Owners:
        """Everyone who owns path: its directory's OWNERS and the parents'."""
        path = _canonical(path)
        owners = Owners()
        for directory, owners_file in self._walk(path):
            owners.add(owners_file.owners_for(_relative(path, directory)))
        return owners

    def approvers(self, path: str) -> set[str]:
        return self.owners_of(path).approvers

    def reviewers(self, path: str) -> set[str]:
        return self.owners_of(path).reviewers

    def labels(self, path: str) -> set[str]:
        return self.owners_of(path).labels

    def leaf_approvers(self, path: str) -> set[str]:
        """The approvers of the nearest OWNERS file that has some for path."""
        path = _canonical(path)
        for directory, owners_file in self._walk(path):
            found = owners_file.owners_for(_relative(path, directory)).approvers
            if found:
                return found
        return set()

    def approvers_directory(self, path: str) -> str:
        """The directory of the nearest OWNERS file with approvers for path:
        the file whose approval path needs. "" is the root, also when no
        file has approvers for it, as in the original."""
        path = _canonical(path)
        for directory, owners_file in self._walk(path):
            if owners_file.owners_for(_relative(path, directory)).approvers:
                return directory
        return ""

    def is_approver(self, login: str, paths: Iterable[str]) -> bool:
        """Whether login may approve every one of paths."""
        login = norm_login(login)
        paths = list(paths)
        return bool(login and paths) and all(
            login in self.approvers(path) for path in paths
        )

    def top_level_approvers(self) -> set[str]:
        """The root OWNERS file's approvers of the repository as a whole."""
        root = self.file_at("")
        return root.owners_for(".").approvers if root is not None else set()


def _canonical(path: str) -> str:
    path = posixpath.normpath(path.strip("/")) if path.strip("/") else ""
    return "" if path == "." else path


def _relative(path: str, directory: str) -> str:
    return posixpath.relpath(path, directory) if directory else path


def _only(owners_file: OwnersFile, allowed: set[str]) -> OwnersFile:
    entries = tuple(
        OwnersEntry(
            pattern=entry.pattern,
            approvers=entry.approvers & allowed,
            reviewers=entry.reviewers & allowed,
            required_reviewers=entry.required_reviewers,
            labels=entry.labels,
        )
        for entry in owners_file.entries
    )
    return OwnersFile(
        entries,
        owners_file.no_parent_owners,
        owners_file.auto_approve_unowned_subfolders,
    )
