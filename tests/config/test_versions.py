"""Config versions: what becomes active, what never does, and how files load."""

import os

import pytest

from prow.config import active
from prow.config.active import active_config
from prow.config.models import ConfigVersion
from prow.config.services import (
    ConfigInvalid,
    config_rollback,
    config_sync_files,
    config_version_create,
)

pytestmark = pytest.mark.django_db

VALID = "periodics:\n- name: p\n  interval: 1h\n  spec: {containers: [{image: a}]}\n"
OTHER = "periodics:\n- name: q\n  interval: 2h\n  spec: {containers: [{image: a}]}\n"
INVALID = (
    "periodics:\n- name: p\n  interval: soon\n  spec: {containers: [{image: a}]}\n"
)


def create(config=VALID, plugins="", source=ConfigVersion.Source.API):
    return config_version_create(
        config_yaml=config, plugins_yaml=plugins, source=source
    )


def test_no_version_means_an_empty_default_config():
    current = active_config()
    assert current.version_id is None
    assert current.config.periodics == []
    assert current.config.prowjob_namespace == "default"


def test_newest_valid_version_is_active():
    create(VALID)
    second = create(OTHER)
    current = active_config()
    assert current.version_id == second.pk
    assert [p.name for p in current.config.periodics] == ["q"]


def test_invalid_config_is_not_stored_and_never_active():
    good = create(VALID)
    with pytest.raises(ConfigInvalid) as raised:
        create(INVALID)
    assert "periodics[0].interval" in str(raised.value)
    assert ConfigVersion.objects.count() == 1
    assert active_config().version_id == good.pk


def test_rollback_makes_an_old_text_active_as_a_new_version(admin_user):
    first = create(VALID)
    create(OTHER)
    restored = config_rollback(version=first, author=admin_user)
    assert restored.pk > first.pk
    assert restored.source == ConfigVersion.Source.ROLLBACK
    assert restored.author == admin_user
    assert restored.config_yaml == VALID
    assert active_config().version_id == restored.pk
    assert [p.name for p in active_config().config.periodics] == ["p"]


def test_readers_reuse_the_parsed_config_until_the_cache_expires(
    settings, django_assert_num_queries
):
    settings.PROW_CONFIG_CACHE_SECONDS = 60
    create(VALID)
    first = active_config()
    # Within the cache window: no query and the very same parsed object.
    with django_assert_num_queries(0):
        for _ in range(100):
            assert active_config() is first
    # A new version is seen once the window has passed: one query for the id,
    # one to read the new version.
    create(OTHER)
    active._cache.checked_at -= 61
    with django_assert_num_queries(2):
        assert [p.name for p in active_config().config.periodics] == ["q"]


def test_unchanged_version_costs_one_small_query_per_window(
    settings, django_assert_num_queries
):
    settings.PROW_CONFIG_CACHE_SECONDS = 60
    create(VALID)
    first = active_config()
    active._cache.checked_at -= 61
    with django_assert_num_queries(1):
        assert active_config() is first


@pytest.fixture
def config_files(tmp_path):
    config = tmp_path / "config.yaml"
    plugins = tmp_path / "plugins.yaml"
    config.write_text(VALID)
    plugins.write_text("plugins:\n  org: [trigger]\n")
    return config, plugins


def sync(config, plugins):
    return config_sync_files(config_path=str(config), plugins_path=str(plugins))


def test_files_are_imported_once_and_again_only_when_they_change(config_files):
    config, plugins = config_files
    first = sync(config, plugins)
    assert first is not None and first.source == ConfigVersion.Source.FILE
    assert sync(config, plugins) is None
    config.write_text(OTHER)
    second = sync(config, plugins)
    assert second is not None and second.config_yaml == OTHER
    assert ConfigVersion.objects.count() == 2


def test_admin_edits_are_not_overwritten_by_unchanged_files(config_files):
    config, plugins = config_files
    sync(config, plugins)
    edited = create(OTHER, source=ConfigVersion.Source.ADMIN)
    assert sync(config, plugins) is None
    assert active_config().version_id == edited.pk


def test_invalid_files_keep_the_active_config(config_files, caplog):
    config, plugins = config_files
    good = sync(config, plugins)
    config.write_text(INVALID)
    assert sync(config, plugins) is None
    assert sync(config, plugins) is None
    assert active_config().version_id == good.pk
    rejected = [r for r in caplog.records if "config files rejected" in r.getMessage()]
    # Logged once per distinct bad content, not on every poll.
    assert len(rejected) == 1
    assert "config.yaml:3: periodics[0].interval" in rejected[0].getMessage()


def test_configmap_symlink_swap_is_followed(tmp_path):
    """A mounted ConfigMap is updated by pointing ..data at a new folder."""
    mount = tmp_path / "mount"
    mount.mkdir()
    first = tmp_path / "mount" / "..2026_11_27_01"
    first.mkdir()
    (first / "config.yaml").write_text(VALID)
    (first / "plugins.yaml").write_text("")
    os.symlink(first.name, mount / "..data")
    os.symlink("..data/config.yaml", mount / "config.yaml")
    os.symlink("..data/plugins.yaml", mount / "plugins.yaml")
    assert sync(mount / "config.yaml", mount / "plugins.yaml") is not None

    second = tmp_path / "mount" / "..2026_11_27_02"
    second.mkdir()
    (second / "config.yaml").write_text(OTHER)
    (second / "plugins.yaml").write_text("")
    tmp_link = mount / "..data_tmp"
    os.symlink(second.name, tmp_link)
    os.replace(tmp_link, mount / "..data")  # atomic, as the kubelet does

    version = sync(mount / "config.yaml", mount / "plugins.yaml")
    assert version is not None
    assert version.config_yaml == OTHER


def test_missing_file_keeps_the_active_config(config_files, caplog):
    config, plugins = config_files
    good = sync(config, plugins)
    config.unlink()
    assert sync(config, plugins) is None
    assert active_config().version_id == good.pk
    assert any("unreadable" in r.getMessage() for r in caplog.records)
