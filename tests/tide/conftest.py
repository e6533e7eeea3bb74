"""The GitHub double seeded with one repository and Tide's config."""

import pytest

from tests.tide.test_scenarios import BASE, CONFIG, ORG, REPO


@pytest.fixture
def github(fake_github, activate_config, settings, private_cache):
    settings.PROW_TIDE_MERGE_RETRY_SECONDS = 0
    settings.PROW_TIDE_BATCH_MERGE_PAUSE_SECONDS = 0
    settings.PROW_TIDE_DEBOUNCE_SECONDS = 0
    fake_github.add_repo(ORG, REPO)
    fake_github.add_branch(ORG, REPO, "main", BASE)
    activate_config(config_yaml=CONFIG)
    return fake_github
