"""Who the bot trusts: the original's TrustedUser and trusted pull requests.

Membership answers are cached briefly by the GitHub client, so a burst of
commands costs one lookup per user.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prow.config.plugins_schema import TriggerConfig
from prow.github.client import GitHubClient

OK_TO_TEST = "ok-to-test"
BOT_SUFFIX = "[bot]"

NOT_MEMBER = "User is not a member of the org. "
NOT_COLLABORATOR = "User is not a collaborator. "
NOT_SECONDARY_MEMBER = "User is not a member of the trusted secondary org. "
SATISFY = "Satisfy at least one of these conditions to make the user trusted."


@dataclass(frozen=True)
class Trust:
    trusted: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.trusted


def _untrusted_reason(trigger: TriggerConfig, checked_trusted_org: bool) -> str:
    reason = NOT_MEMBER
    if not trigger.only_org_members:
        reason += NOT_COLLABORATOR
    if checked_trusted_org:
        reason += NOT_SECONDARY_MEMBER
    return reason + SATISFY


def trusted_user(
    gh: GitHubClient, login: str, org: str, repo: str, trigger: TriggerConfig
) -> Trust:
    """In order: the bot itself; an org member; a repo collaborator (unless
    only_org_members); a trusted GitHub App; a member of trusted_org."""
    trusted_org = trigger.trusted_org
    checks_trusted_org = bool(trusted_org) and trusted_org.lower() != org.lower()
    if not login:
        # An empty name would ask GitHub about the org's member list rather
        # than about anyone, and nobody wrote the text anyway.
        return Trust(False, _untrusted_reason(trigger, checks_trusted_org))
    if gh.is_bot(login):
        return Trust(True)
    if gh.is_org_member(org, login):
        return Trust(True)
    if not trigger.only_org_members and gh.is_collaborator(org, repo, login):
        return Trust(True)
    if _is_trusted_app(login, trigger.trusted_apps):
        return Trust(True)
    if checks_trusted_org and gh.is_org_member(trusted_org, login):
        return Trust(True)
    return Trust(False, _untrusted_reason(trigger, checks_trusted_org))


def _is_trusted_app(login: str, trusted_apps: Iterable[str]) -> bool:
    # trusted_apps names GitHub Apps without the suffix their bot users carry;
    # logins are case-insensitive on GitHub.
    if not login.lower().endswith(BOT_SUFFIX):
        return False
    app = login[: -len(BOT_SUFFIX)].lower()
    return bool(app) and app in {name.lower() for name in trusted_apps}


def _label_names(labels: Iterable[str | dict[str, Any]]) -> set[str]:
    # Payload labels are objects, API answers names; GitHub matches label
    # names case-insensitively.
    names = set()
    for label in labels:
        name = label.get("name") if isinstance(label, dict) else label
        if name:
            names.add(str(name).lower())
    return names


def trusted_pull_request(
    gh: GitHubClient,
    author: str,
    org: str,
    repo: str,
    labels: Iterable[str | dict[str, Any]] | None,
    trigger: TriggerConfig,
    *,
    number: int | None = None,
) -> bool:
    """A pull request is trusted when its author is, or when a trusted member
    has said /ok-to-test (the label).

    labels may be None when the caller has not got them: they are then read
    (for PR `number`) only if the author alone is not trusted.
    """
    if labels is not None:
        # Known labels are free to look at; membership costs requests.
        if OK_TO_TEST in _label_names(labels):
            return True
        return bool(trusted_user(gh, author, org, repo, trigger))
    if trusted_user(gh, author, org, repo, trigger):
        return True
    if number is None:
        return False
    return OK_TO_TEST in _label_names(gh.labels(org, repo, number))
