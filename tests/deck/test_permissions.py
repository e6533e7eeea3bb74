"""Who may rerun and abort: deck.rerun_auth_configs, the job's own
rerun_auth_config, GitHub org and team membership through the GitHub
double, and failing closed when GitHub can't answer."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from deck.permissions import (
    allowed_by,
    can_act_on_job,
    can_start_periodic,
    rerun_auth_config,
)
from jobs.models import ProwJob
from prow.config.schema import ProwConfig, RerunAuthConfig
from tests.factories import ProwJobFactory, RefsFactory

pytestmark = pytest.mark.django_db

CONFIG = """\
deck:
  rerun_auth_configs:
    "*":
      github_users: [root-admin]
    acme:
      github_orgs: [acme]
    acme/app:
      github_team_slugs: [{org: acme, slug: release}]
    open/sesame:
      allow_anyone: true
periodics:
- name: nightly
  interval: 24h
  rerun_auth_config: {github_users: [night-owl]}
  spec: {containers: [{image: a}]}
"""


def user(name: str, **extra):
    return get_user_model().objects.create_user(name, password="x", **extra)


def job(org: str, repo: str, **extra) -> ProwJob:
    return ProwJobFactory(
        postsubmit=True, job="post", refs=RefsFactory(org=org, repo=repo), **extra
    )


@pytest.fixture
def config(fake_github, activate_config):
    activate_config(config_yaml=CONFIG)
    return fake_github


def test_the_narrowest_entry_wins():
    config = ProwConfig.model_validate(
        {
            "deck": {
                "rerun_auth_configs": {
                    "*": {"github_users": ["a"]},
                    "o": {"github_users": ["b"]},
                    "o/r": {"github_users": ["c"]},
                }
            }
        }
    )
    assert rerun_auth_config(config, {"org": "o", "repo": "r"}).github_users == ["c"]
    assert rerun_auth_config(config, {"org": "o", "repo": "x"}).github_users == ["b"]
    assert rerun_auth_config(config, {"org": "z", "repo": "r"}).github_users == ["a"]
    assert rerun_auth_config(config, None).github_users == ["a"]
    own = {"github_users": ["d"]}
    assert rerun_auth_config(config, {"org": "o", "repo": "r"}, own).github_users == [
        "d"
    ]


def test_no_rules_means_staff_only():
    assert rerun_auth_config(ProwConfig(), {"org": "o", "repo": "r"}) is None
    assert not allowed_by(None, user("someone"))
    assert allowed_by(None, user("boss", is_staff=True))
    assert not allowed_by(RerunAuthConfig(allow_anyone=True), AnonymousUser())


def test_named_users_orgs_and_teams(config):
    config.add_org_member("acme", "member")
    config.add_team("acme", "release", members=["releaser"])
    assert can_act_on_job(user("root-admin"), job("other", "thing"))
    assert not can_act_on_job(user("stranger"), job("other", "thing"))
    # acme/* by org membership, acme/app by team only
    member = user("member")
    assert can_act_on_job(member, job("acme", "lib"))
    assert not can_act_on_job(member, job("acme", "app"))
    assert can_act_on_job(user("releaser"), job("acme", "app"))
    assert can_act_on_job(user("anyone-at-all"), job("open", "sesame"))


def test_a_job_s_own_rules_replace_the_config_s(config):
    special = job("open", "sesame", rerun_auth_config={"github_users": ["only-me"]})
    assert not can_act_on_job(user("anyone-at-all"), special)
    assert can_act_on_job(user("only-me"), special)


def test_periodic_rules(config):
    owl = user("night-owl")
    assert can_start_periodic(owl, "nightly")
    assert not can_start_periodic(user("root-admin"), "nightly")
    assert not can_start_periodic(owl, "no-such-job")


def test_github_outage_denies_rather_than_allows(config):
    config.add_org_member("acme", "member")
    config.fail_next("GET", "/orgs/acme/members", status=502, times=10)
    assert not can_act_on_job(user("member"), job("acme", "lib"))
