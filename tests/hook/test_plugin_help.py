"""GET /plugin-help in the original's shape."""

import pytest

pytestmark = pytest.mark.django_db


def test_plugin_help_lists_plugins_and_where_they_are_enabled(client, plugins_enabled):
    plugins_enabled({"octo": ["shrug"], "octo/app": ["stage", "lgtm"]})
    response = client.get("/plugin-help")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {
        "AllRepos",
        "RepoPlugins",
        "RepoExternalPlugins",
        "PluginHelp",
        "ExternalPluginHelp",
    }
    assert data["RepoPlugins"] == {"octo": ["shrug"], "octo/app": ["stage", "lgtm"]}
    assert data["AllRepos"] == ["octo/app"]
    shrug = data["PluginHelp"]["shrug"]
    assert shrug["Events"] == ["generic_comment"]
    (command,) = shrug["Commands"]
    assert command["Usage"] == "/[un]shrug"
    assert command["Examples"] == ["/shrug", "/unshrug"]
    assert set(command) == {"Usage", "Featured", "Description", "Examples", "WhoCanUse"}
    assert "stage" in data["PluginHelp"]


def test_plugin_help_is_read_only(client):
    assert client.post("/plugin-help").status_code == 405
