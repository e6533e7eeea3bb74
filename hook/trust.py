"""Who the bot trusts: the original's TrustedUser and trusted pull requests.

Membership answers are cached briefly by the GitHub client, so a burst of
commands costs one lookup per user.
"""

from dataclasses import dataclass

from prow.config.plugins_schema import TriggerConfig
from prow.github.client import GitHubClient

OK_TO_TEST = "ok-to-test"


@dataclass(frozen=True)
class Trust:
    trusted: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.trusted


def trusted_user(
    gh: GitHubClient, login: str, org: str, repo: str, trigger: TriggerConfig
) -> Trust:
    """In order: the bot itself; an org member; a repo collaborator (unless
    only_org_members); a trusted GitHub App; a member of trusted_org."""
    if gh.is_bot(login):
        return Trust(True)
    if gh.is_org_member(org, login):
        return Trust(True)
    reason = "User is not a member of the org. "
    if not trigger.only_org_members:
        if gh.is_collaborator(org, repo, login):
            return Trust(True)
        reason += "User is not a collaborator. "
    if login.endswith("[bot]") and login[: -len("[bot]")] in trigger.trusted_apps:
        return Trust(True)
    if trigger.trusted_org and trigger.trusted_org != org:
        if gh.is_org_member(trigger.trusted_org, login):
            return Trust(True)
        reason += "User is not a member of the trusted secondary org. "
    reason += "Satisfy at least one of these conditions to make the user trusted."
    return Trust(False, reason)


def trusted_pull_request(
    gh: GitHubClient,
    author: str,
    org: str,
    repo: str,
    labels: list[str],
    trigger: TriggerConfig,
) -> bool:
    """A pull request is trusted when its author is, or when a trusted member
    has said /ok-to-test (the label)."""
    if OK_TO_TEST in labels:
        return True
    return bool(trusted_user(gh, author, org, repo, trigger))
