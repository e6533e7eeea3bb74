"""Typed model of the original Prow's plugins.yaml.

The model holds what every layer reads: which plugins are enabled where,
the external plugins, and trigger's settings (the jobs layer decides trust
with them). Every other key is one plugin's section, declared by that plugin
(prow.config.plugin_sections) and typed on first use.
"""

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PrivateAttr

from prow.config.plugin_sections import (
    PluginSection,
    Shape,
    register_section,
    section,
)
from prow.config.schema import Section


def _legacy_plugin_list(value: Any) -> Any:
    # The original still accepts `org: [p1, p2]` beside the newer
    # `org: {plugins: [...], excluded_repos: [...]}`.
    if isinstance(value, list):
        return {"plugins": value}
    if value is None:
        return {}
    return value


class OrgPlugins(Section):
    plugins: list[str] = Field(default_factory=list)
    excluded_repos: list[str] = Field(default_factory=list)


class ExternalPlugin(Section):
    name: str
    endpoint: str = ""
    events: list[str] = Field(default_factory=list)

    @property
    def effective_endpoint(self) -> str:
        return self.endpoint or f"http://{self.name}"


class RepoScoped(Section):
    """Plugin sections that are lists of entries, each for some repos."""

    repos: list[str] = Field(default_factory=list)


class TriggerConfig(RepoScoped):
    trusted_apps: list[str] = Field(default_factory=list)
    trusted_org: str = ""
    join_org_url: str = ""
    only_org_members: bool = False
    ignore_ok_to_test: bool = False
    trigger_github_workflows: bool = False
    org_invite: dict[str, Any] = Field(default_factory=dict)


TRIGGERS = PluginSection(key="triggers", model=TriggerConfig, shape=Shape.REPO_LIST)
register_section(TRIGGERS)


class PluginsConfig(Section):
    """The whole of plugins.yaml."""

    plugins: dict[str, Annotated[OrgPlugins, BeforeValidator(_legacy_plugin_list)]] = (
        Field(default_factory=dict)
    )
    external_plugins: dict[str, list[ExternalPlugin]] = Field(default_factory=dict)
    # Typed plugin sections, by key, parsed once per config.
    _typed: dict[str, Any] = PrivateAttr(default_factory=dict)

    def plugins_for(self, org: str, repo: str) -> list[str]:
        """The plugins enabled for org/repo: the org's (unless the repo is
        excluded there) followed by the repo's own."""
        names: list[str] = []
        org_entry = self.plugins.get(org)
        if org_entry and repo not in org_entry.excluded_repos:
            names.extend(org_entry.plugins)
        repo_entry = self.plugins.get(f"{org}/{repo}")
        if repo_entry:
            names.extend(p for p in repo_entry.plugins if p not in names)
        return names

    def external_plugins_for(self, org: str, repo: str) -> list[ExternalPlugin]:
        return [
            *self.external_plugins.get(org, []),
            *self.external_plugins.get(f"{org}/{repo}", []),
        ]

    def section(self, key: str, org: str = "", repo: str = "") -> Any:
        """A plugin's settings for org/repo (or, for a section that is one
        object for every repo, that object), with the original's defaults
        where the file says nothing. Validation has typed every section
        before a config is stored, so this does not fail on a stored one."""
        declared = section(key)
        if key not in self._typed:
            self._typed[key] = declared.parse((self.model_extra or {}).get(key))
        return declared.lookup(self._typed[key], org, repo)
