"""Who has approved a pull request, which OWNERS files still need someone,
and whom to suggest: the approve plugin's reckoning, and its notification.

Every changed file needs one approver from the nearest OWNERS file that has
approvers for it, or from any OWNERS file above that one; the files that
need approval are grouped by that nearest OWNERS file's directory, and a
directory below another one in the group is covered by it (unless an OWNERS
file between them says no_parent_owners). Suggested approvers are chosen
greedily, each the one who covers the most of what is still unapproved, from
the potential approvers in an order shuffled by the pull request's number,
so that one pull request always gets the same suggestions and different pull
requests spread the load.
"""

import json
import posixpath
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

from hook.owners import OwnersReader, norm_login

NOTIFIER = "APPROVALNOTIFIER"


@dataclass(frozen=True)
class Approval:
    login: str  # as GitHub spells it
    how: str  # "Approved", "LGTM", "Author self-approved"
    reference: str  # where: the comment's or review's URL
    no_issue: bool = False

    def __str__(self) -> str:
        return f'*<a href="{self.reference}" title="{self.how}">{self.login}</a>*'


def _parent(directory: str) -> str:
    parent = posixpath.dirname(directory)
    return "" if parent == "." else parent


class ChangedFiles:
    """What a pull request's changed files need, given the OWNERS files at
    its base branch."""

    def __init__(self, reader: OwnersReader, filenames: Iterable[str], seed: int):
        self.reader = reader
        self.all_files = list(filenames)
        self.seed = seed
        self._owners_dir: dict[str, str] = {}
        self._approvers: dict[str, set[str]] = {}

    def owners_dir(self, path: str) -> str:
        if path not in self._owners_dir:
            self._owners_dir[path] = self.reader.approvers_directory(path)
        return self._owners_dir[path]

    def approvers_of(self, path: str) -> set[str]:
        """Everyone who may approve path: its OWNERS files' approvers, up
        to the root or a no_parent_owners file (lower-cased)."""
        if path not in self._approvers:
            self._approvers[path] = self.reader.approvers(path)
        return self._approvers[path]

    def _auto_approved(self, path: str) -> bool:
        # A file in a subfolder that has no OWNERS file of its own, below an
        # OWNERS file that approves such subfolders automatically.
        directory = self.owners_dir(path)
        if posixpath.dirname(path) == directory:
            return False
        owners_file = self.reader.file_at(directory)
        return owners_file is not None and owners_file.auto_approve_unowned_subfolders

    @cached_property
    def files(self) -> list[str]:
        """The changed files that need an approval."""
        return [path for path in self.all_files if not self._auto_approved(path)]

    @cached_property
    def owners_set(self) -> frozenset[str]:
        """The directories of the OWNERS files the pull request needs an
        approver from: one per group of files, the highest of the nested."""
        dirs = {self.owners_dir(path) for path in self.files}
        for directory in sorted(dirs):
            path = directory
            while path and not self._no_parent_owners(path):
                path = _parent(path)
                if path in dirs:
                    dirs.discard(directory)
                    break
        return frozenset(dirs)

    def _no_parent_owners(self, directory: str) -> bool:
        owners_file = self.reader.file_at(directory)
        return owners_file is not None and owners_file.no_parent_owners

    def _by_owners_dir(self, approvers_of: Callable[[str], set[str]]):
        found: dict[str, set[str]] = {}
        for path in self.files:
            found.setdefault(self.owners_dir(path), set()).update(approvers_of(path))
        return {k: v for k, v in found.items() if k in self.owners_set}

    @cached_property
    def approvers(self) -> dict[str, set[str]]:
        """OWNERS directory -> everyone who may approve its files."""
        return self._by_owners_dir(self.approvers_of)

    @cached_property
    def leaf_approvers(self) -> dict[str, set[str]]:
        """OWNERS directory -> the approvers of the nearest OWNERS file only."""
        return self._by_owners_dir(self.reader.leaf_approvers)

    @staticmethod
    def reverse(approvers: dict[str, set[str]]) -> dict[str, set[str]]:
        """person -> the OWNERS directories they may approve."""
        out: dict[str, set[str]] = {}
        for directory, people in approvers.items():
            for person in people:
                out.setdefault(person, set()).add(directory)
        return out

    def shuffled_approvers(self) -> list[str]:
        potential = sorted(
            person for people in self.leaf_approvers.values() for person in people
        )
        random.Random(self.seed).shuffle(potential)
        return potential

    def unapproved_with(self, approvers: Iterable[str]) -> set[str]:
        state = Approvers(self)
        for login in approvers:
            state.add(login, "", how="Approved")
        return state.unapproved_dirs()

    def suggest(self, reverse: dict[str, set[str]], candidates: list[str]) -> set[str]:
        """Approvers, in the candidates' order, until every file is
        covered or no candidate helps."""
        state = Approvers(self)
        while not state.requirements_met():
            chosen = _most_covering(
                candidates, state.current(), reverse, state.unapproved_dirs()
            )
            if not chosen:
                break
            state.add(chosen, "", how="Approved")
        return state.current()

    def keep_covering(
        self, reverse: dict[str, set[str]], known: set[str], candidates: list[str]
    ) -> set[str]:
        """Those of the suggestions from candidates that cover something
        the known approvers leave unapproved."""
        unapproved = self.unapproved_with(known)
        return {
            person
            for person in self.suggest(reverse, candidates)
            if reverse.get(person, set()) & unapproved
        }


def _most_covering(
    candidates: list[str],
    chosen: set[str],
    reverse: dict[str, set[str]],
    unapproved: set[str],
) -> str:
    # As in the original, the bar a later candidate must clear is the count
    # of everything the best so far may approve, not only what is still
    # unapproved: earlier candidates in the shuffled order keep an edge.
    best, bar = "", 0
    for person in candidates:
        can = reverse.get(person, set())
        if len(can & unapproved) > bar and person not in chosen:
            bar = len(can)
            best = person
    return best


@dataclass
class Approvers:
    """The approvals of one pull request, and what follows from them."""

    files: ChangedFiles
    # lower-cased login -> their approval
    approvals: dict[str, Approval] = field(default_factory=dict)
    assignees: set[str] = field(default_factory=set)
    associated_issue: int = 0
    require_issue: bool = False
    # Asked only when the answer matters: it costs a request.
    manually_approved: Callable[[], bool] = lambda: False

    # Recording approvals --------------------------------------------------------

    def add(self, login: str, reference: str, *, how: str, no_issue: bool = False):
        key = login.lower()
        earlier = self.approvals.get(key)
        # A later plain approval does not take back an earlier "no-issue".
        if earlier is not None and earlier.no_issue and not no_issue:
            return
        self.approvals[key] = Approval(login, how, reference, no_issue)

    def remove(self, login: str) -> None:
        self.approvals.pop(login.lower(), None)

    def add_assignees(self, *logins: str) -> None:
        self.assignees.update(login.lower() for login in logins)

    # What they amount to --------------------------------------------------------

    def current(self) -> set[str]:
        return set(self.approvals)

    def current_cased(self) -> set[str]:
        return {approval.login for approval in self.approvals.values()}

    def unapproved_dirs(self) -> set[str]:
        current = self.current()
        unapproved = set()
        for path in self.files.files:
            directory = self.files.owners_dir(path)
            if directory not in self.files.owners_set:
                continue
            if not self.files.approvers_of(path) & current:
                unapproved.add(directory)
        return unapproved

    def no_issue_approvals(self) -> list[Approval]:
        """no-issue approvals of people who may approve some of the files."""
        reverse = self.files.reverse(self.files.approvers)
        return [
            self.approvals[login]
            for login in sorted(self.approvals)
            if self.approvals[login].no_issue and reverse.get(login)
        ]

    def files_approved(self) -> bool:
        return bool(self.files.all_files) and not self.unapproved_dirs()

    def requirements_met(self) -> bool:
        return self.files_approved() and (
            not self.require_issue
            or bool(self.associated_issue)
            or bool(self.no_issue_approvals())
        )

    def is_approved(self) -> bool:
        return self.requirements_met() or self.manually_approved()

    def list_approvals(self) -> list[Approval]:
        return [self.approvals[login] for login in sorted(self.approvals)]

    def approvers_by_dir(self) -> dict[str, list[str]]:
        """OWNERS directory -> who of the current approvers may approve it,
        spelled as on GitHub."""
        cased = self.current_cased()
        return {
            directory: sorted(
                login for login in cased if norm_login(login) in potential
            )
            for directory, potential in self.files.approvers.items()
        }

    # Suggestions ---------------------------------------------------------------

    @cached_property
    def ccs(self) -> list[str]:
        """Whom to ask: suggestions from the nearest OWNERS files that cover
        what current approvers and assignees leave, and those assignees
        who would help."""
        files = self.files
        current = self.current()
        suggested = files.keep_covering(
            files.reverse(files.leaf_approvers),
            current | self.assignees,
            files.shuffled_approvers(),
        )
        with_suggested = current | suggested
        keep_assigned = files.keep_covering(
            files.reverse(files.approvers),
            with_suggested,
            sorted(with_suggested | self.assignees),
        )
        return sorted(suggested | keep_assigned)

    def assigned_ccs(self) -> list[str]:
        return sorted(set(self.ccs) & self.assignees)

    def suggested_ccs(self) -> list[str]:
        return sorted(set(self.ccs) - self.assignees)


# The notification ---------------------------------------------------------------


def _people(logins: list[str]) -> str:
    return ", ".join(f"[{login}](https://github.com/{login})" for login in logins)


def _owners_line(
    directory: str, who: list[str], approved: bool, base: str, branch: str, name: str
) -> str:
    path = posixpath.join(directory, name)
    link = f"{base}/blob/{branch}/{path}"
    names = ",".join(who)
    if approved:
        return f"- ~~[{path}]({link})~~ [{names}]\n"
    if names:
        more = "  > Need more approvers for rest parts.\n"
        return f"- **[{path}]({link})** [{names}]\n{more}"
    return f"- **[{path}]({link})**\n"


def notification(
    approvers: Approvers,
    *,
    link_url: str,
    command_help_link: str,
    pr_process_link: str,
    org: str,
    repo: str,
    branch: str,
    owners_filename: str,
) -> str:
    """The [APPROVALNOTIFIER] comment, as the original words it."""
    files_approved = approvers.files_approved()
    process = f"For more information see [the Code Review Process]({pr_process_link})."
    out = []
    if not approvers.requirements_met() and approvers.manually_approved():
        out.append("\nApproval requirements bypassed by manually added approval.\n\n")
    out.append("This pull-request has been approved by:")
    out.append(
        "".join(
            (", " if i else " ") + str(a)
            for i, a in enumerate(approvers.list_approvals())
        )
    )
    if not files_approved and not approvers.manually_approved():
        out.append("\n")
        suggested, assigned = approvers.suggested_ccs(), approvers.assigned_ccs()
        lead = "**Once this PR has been reviewed and has the lgtm label**, please"
        if suggested and assigned:
            out.append(
                f"{lead} ask for approval from {_people(assigned)} and additionally "
                f"assign {_people(suggested)} for approval. {process}"
            )
        elif suggested:
            out.append(f"{lead} assign {_people(suggested)} for approval. {process}")
        elif assigned:
            out.append(f"{lead} ask for approval from {_people(assigned)}. {process}")
    out.append("\n\n")
    if approvers.require_issue:
        if approvers.associated_issue:
            out.append(f"Associated issue: *#{approvers.associated_issue}*\n\n")
        elif approvers.no_issue_approvals():
            out.append("Associated issue requirement bypassed by:")
            out.append(
                "".join(
                    (", " if i else " ") + str(a)
                    for i, a in enumerate(approvers.no_issue_approvals())
                )
            )
            out.append("\n\n")
        elif approvers.manually_approved():
            out.append(
                "*No associated issue*. Requirement bypassed by manually added "
                "approval.\n\n"
            )
        else:
            out.append(
                "*No associated issue*. Update pull-request body to add a reference "
                "to an issue, or get approval with `/approve no-issue`\n\n"
            )
    out.append(
        "The full list of commands accepted by this bot can be found "
        f"[here]({command_help_link}?repo={org}%2F{repo}).\n\n"
    )
    if files_approved or approvers.manually_approved():
        out.append(
            f"The pull request process is described [here]({pr_process_link})\n\n"
        )
    is_open = not files_approved and not approvers.manually_approved()
    out.append(f"<details {'open' if is_open else ''}>\n")
    out.append("Needs approval from an approver in each of these files:\n\n")
    base = f"{link_url.rstrip('/')}/{org}/{repo}"
    by_dir, unapproved = approvers.approvers_by_dir(), approvers.unapproved_dirs()
    for directory in sorted(approvers.files.owners_set):
        out.append(
            _owners_line(
                directory,
                by_dir.get(directory, []),
                directory not in unapproved,
                base,
                branch,
                owners_filename,
            )
        )
    out.append(
        "\nApprovers can indicate their approval by writing `/approve` in a comment\n"
        "Approvers can cancel approval by writing `/approve cancel` in a comment\n"
        "</details>"
    )
    meta = json.dumps({"approvers": approvers.ccs}, separators=(",", ":"))
    message = "".join(out) + f"\n<!-- META={meta} -->"
    title = "This PR is **NOT APPROVED**"
    if approvers.is_approved():
        title = "This PR is **APPROVED**"
    return f"[{NOTIFIER}] {title}\n\n{message.strip()}"
