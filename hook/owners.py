"""OWNERS files: who may approve and review which paths of a repository.

An OWNERS file (YAML) lists `approvers` and `reviewers` for its directory
and everything below it; parents' owners apply too unless the file says
`options: {no_parent_owners: true}`. Names may be aliases defined in the
root OWNERS_ALIASES. Files are read at a given SHA and cached by it, since a
commit's files never change.
"""

import posixpath
from dataclasses import dataclass, field

import yaml
from django.core.cache import cache

from prow.github.client import GitHubClient

CACHE_SECONDS = 3600


@dataclass(frozen=True)
class OwnersFile:
    approvers: frozenset[str] = frozenset()
    reviewers: frozenset[str] = frozenset()
    labels: tuple[str, ...] = ()
    no_parent_owners: bool = False


@dataclass
class Owners:
    approvers: set[str] = field(default_factory=set)
    reviewers: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)


def parse_owners(text: str, aliases: dict[str, set[str]]) -> OwnersFile:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return OwnersFile()
    if not isinstance(data, dict):
        return OwnersFile()

    def names(key: str) -> frozenset[str]:
        out: set[str] = set()
        for name in data.get(key) or []:
            name = str(name).strip().lower()
            out |= aliases.get(name, {name})
        return frozenset(out)

    options = data.get("options") or {}
    return OwnersFile(
        approvers=names("approvers"),
        reviewers=names("reviewers"),
        labels=tuple(str(label) for label in data.get("labels") or []),
        no_parent_owners=bool(
            isinstance(options, dict) and options.get("no_parent_owners")
        ),
    )


def parse_aliases(text: str | None) -> dict[str, set[str]]:
    try:
        data = yaml.safe_load(text or "") or {}
    except yaml.YAMLError:
        return {}
    aliases = data.get("aliases") if isinstance(data, dict) else None
    if not isinstance(aliases, dict):
        return {}
    return {
        str(name).lower(): {str(m).lower() for m in members or []}
        for name, members in aliases.items()
    }


class OwnersReader:
    def __init__(self, gh: GitHubClient, org: str, repo: str, sha: str):
        self.gh, self.org, self.repo, self.sha = gh, org, repo, sha
        self._aliases: dict[str, set[str]] | None = None

    def _file(self, path: str) -> str | None:
        key = f"owners:{self.org}/{self.repo}@{self.sha}:{path}"
        cached = cache.get(key)
        if cached is not None:
            return cached or None
        text = self.gh.file_content(self.org, self.repo, path, self.sha)
        cache.set(key, text or "", CACHE_SECONDS)
        return text

    @property
    def aliases(self) -> dict[str, set[str]]:
        if self._aliases is None:
            self._aliases = parse_aliases(self._file("OWNERS_ALIASES"))
        return self._aliases

    def owners_of(self, path: str) -> Owners:
        """Everyone who owns path: its directory's OWNERS and the parents'."""
        owners = Owners()
        directory = posixpath.dirname(path.strip("/"))
        while True:
            text = self._file(
                posixpath.join(directory, "OWNERS") if directory else "OWNERS"
            )
            if text:
                entry = parse_owners(text, self.aliases)
                owners.approvers |= entry.approvers
                owners.reviewers |= entry.reviewers
                owners.labels |= set(entry.labels)
                if entry.no_parent_owners:
                    break
            if not directory:
                break
            directory = posixpath.dirname(directory)
        return owners

    def is_approver(self, login: str, paths: list[str]) -> bool:
        """Whether login may approve every one of paths."""
        login = login.lower()
        return bool(paths) and all(login in self.owners_of(p).approvers for p in paths)

    def top_level_approvers(self) -> set[str]:
        text = self._file("OWNERS")
        return set(parse_owners(text, self.aliases).approvers) if text else set()
