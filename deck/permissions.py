"""Who may rerun, abort or start a job from Deck and the API.

The original's rules: the job's own `rerun_auth_config` if it has one, else
the narrowest entry of `deck.rerun_auth_configs` ("org/repo", then "org",
then "*"). An entry allows anyone logged in (`allow_anyone`), named GitHub
users, members of GitHub orgs, or members of teams. Reading stays public.

Who a Django user is on GitHub: the login of their linked GitHub account
(GitHub OAuth login), else their username (accounts made by an admin).
Staff users may always act: they run this installation.
"""

from __future__ import annotations

import logging
from typing import Any

from jobs.models import ProwJob
from prow.config.active import active_config
from prow.config.schema import ProwConfig, RerunAuthConfig
from prow.github.client import GitHubError, github_client

logger = logging.getLogger(__name__)


def github_login(user) -> str:
    """The user's GitHub login (their username without a GitHub account).

    Read once per user object: a page asks for every job or periodic it
    shows, and the answer cannot change within a request.
    """
    if not getattr(user, "is_authenticated", False):
        return ""
    login = getattr(user, "_github_login", None)
    if login is None:
        login = user._github_login = _github_login(user)
    return login


def _github_login(user) -> str:
    accounts = getattr(user, "socialaccount_set", None)
    if accounts is not None:
        for account in accounts.all():
            if account.provider == "github":
                login = (account.extra_data or {}).get("login")
                if login:
                    return str(login)
    return user.get_username()


def rerun_auth_config(
    config: ProwConfig, refs: dict[str, Any] | None, own: dict | None = None
) -> RerunAuthConfig | None:
    """The rules that apply to a job with these refs (None: nobody but
    staff)."""
    if own:
        return RerunAuthConfig.model_validate(own)
    configs = config.deck.rerun_auth_configs
    org = (refs or {}).get("org", "")
    repo = (refs or {}).get("repo", "")
    for key in (f"{org}/{repo}", org, "*"):
        if key and key != "/" and key in configs:
            return configs[key]
    for entry in config.deck.default_rerun_auth_configs:
        if entry.config is None:
            continue
        wanted = entry.repo or "*"
        if wanted in ("*", org, f"{org}/{repo}"):
            return entry.config
    return None


def allowed_by(rules: RerunAuthConfig | None, user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    if rules is None:
        return False
    if rules.allow_anyone:
        return True
    login = github_login(user)
    if login.lower() in {name.lower() for name in rules.github_users}:
        return True
    if not (rules.github_orgs or rules.github_team_slugs or rules.github_team_ids):
        return False
    try:
        return _member_of_any(rules, login)
    except GitHubError as exc:
        # Failing closed: an outage must not hand out rights.
        logger.warning("could not check %s's GitHub memberships: %s", login, exc)
        return False


def _member_of_any(rules: RerunAuthConfig, login: str) -> bool:
    for org in rules.github_orgs:
        if github_client(org).is_org_member(org, login):
            return True
    for team in rules.github_team_slugs:
        org, slug = team.get("org", ""), team.get("slug", "")
        # One cached question about login, rather than paging through a
        # whole team on every rerun click.
        if org and slug and github_client(org).is_team_member(org, slug, login):
            return True
    if rules.github_team_ids:
        logger.info(
            "github_team_ids %s ignored for %s: use github_team_slugs",
            rules.github_team_ids,
            login,
        )
    return False


def can_act_on_job(user, job: ProwJob) -> bool:
    """May `user` rerun or abort `job`?"""
    config = active_config().config
    refs = job.refs or (job.extra_refs[0] if job.extra_refs else None)
    return allowed_by(rerun_auth_config(config, refs, job.rerun_auth_config), user)


def can_start_periodic(user, name: str) -> bool:
    """May `user` start the periodic `name` now?"""
    config = active_config().config
    periodic = config.periodic(name)
    if periodic is None:
        return bool(getattr(user, "is_staff", False))
    refs = periodic.extra_refs[0].model_dump() if periodic.extra_refs else None
    own = getattr(periodic, "rerun_auth_config", None)
    own = own.model_dump() if own is not None else None
    return allowed_by(rerun_auth_config(config, refs, own), user)
