"""The /plugin-help document, in the shape of the original's (pluginhelp.Help),
so its consumers (Deck's command help, scripts) read ours."""

from hook.plugins.registry import all_plugins
from prow.config.active import active_config


def _command(command) -> dict:
    return {
        "Usage": command.usage,
        "Featured": command.featured,
        "Description": command.description,
        "Examples": list(command.examples),
        "WhoCanUse": command.who_can_use,
    }


def plugin_help_document() -> dict:
    active = active_config()
    plugins_config = active.plugins
    repo_plugins = {
        key: list(entry.plugins)
        for key, entry in sorted(plugins_config.plugins.items())
    }
    repo_external = {
        key: [e.name for e in entries]
        for key, entries in sorted(plugins_config.external_plugins.items())
    }
    repos = {key for key in repo_plugins if "/" in key}
    repos |= set(active.config.presubmits)
    repos |= set(active.config.postsubmits)
    help_by_name = {}
    for name, plugin in all_plugins().items():
        help_by_name[name] = {
            "Description": plugin.description,
            "Config": {"": plugin.config_help} if plugin.config_help else {},
            "Events": plugin.events,
            "Commands": [_command(c) for c in plugin.commands],
        }
    return {
        "AllRepos": sorted(repos),
        "RepoPlugins": repo_plugins,
        "RepoExternalPlugins": repo_external,
        "PluginHelp": help_by_name,
        "ExternalPluginHelp": {},
    }
