"""GET /command-help and GET /plugins: what the bot understands, where.

Both pages read hook.plugin_help.plugin_help_document(), the same data
GET /plugin-help serves, so the pages and the JSON cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from deck.compat import bad_request
from hook.plugin_help import plugin_help_document
from prow.config.active import active_config

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_NOT_IN_ANCHOR = re.compile(r"[^A-Za-z0-9_]")


@dataclass
class Command:
    plugin: str
    usage: str
    description: str
    examples: list[str]
    who_can_use: str
    featured: bool
    anchor: str = ""
    enabled_in: list[str] = field(default_factory=list)


def command_name(command: dict) -> str:
    """The command's anchor, as the original names it: its first example's
    first word without the slash, with `-` as `_` (`/retest-required` is
    #retest_required)."""
    words = (command["Examples"] or [command["Usage"]])[0].split()
    word = words[0].lstrip("/") if words else ""
    return _NOT_IN_ANCHOR.sub("", word.replace("-", "_")) or "command"


def enabled_in(document: dict) -> dict[str, list[str]]:
    """Plugin name -> the orgs and repositories that enable it."""
    where: dict[str, list[str]] = {}
    for key, names in document["RepoPlugins"].items():
        for name in names:
            where.setdefault(name, []).append(key)
    return where


def commands_of(document: dict, plugins: list[str]) -> list[Command]:
    """Every command of the named plugins, featured ones first, each with
    an anchor unique on the page."""
    where = enabled_in(document)
    commands = []
    for name in sorted(plugins):
        help_ = document["PluginHelp"].get(name)
        for command in (help_ or {}).get("Commands", []):
            commands.append(
                Command(
                    plugin=name,
                    usage=command["Usage"],
                    description=command["Description"],
                    examples=list(command["Examples"]),
                    who_can_use=command["WhoCanUse"],
                    featured=command["Featured"],
                    anchor=command_name(command),
                    enabled_in=sorted(where.get(name, [])),
                )
            )
    commands.sort(key=lambda c: not c.featured)
    seen: set[str] = set()
    for command in commands:
        anchor = base = command.anchor
        suffix = 2
        while anchor in seen:
            anchor = f"{base}_{suffix}"
            suffix += 1
        seen.add(anchor)
        command.anchor = anchor
    return commands


def _selected_repo(request) -> str:
    repo = request.GET.get("repo", "").strip()
    if repo and not _REPO.match(repo):
        raise ValueError("repo: must look like org/repo")
    return repo


@require_safe
@vary_on_headers("HX-Request")
def command_help(request):
    try:
        repo = _selected_repo(request)
    except ValueError as exc:
        return bad_request(str(exc))
    document = plugin_help_document()
    external: list[str] = []
    if repo:
        org, name = repo.split("/")
        # plugins_for also honours an org entry's excluded_repos.
        plugins = active_config().plugins.plugins_for(org, name)
        external = sorted(
            set(document["RepoExternalPlugins"].get(org, []))
            | set(document["RepoExternalPlugins"].get(repo, []))
        )
    else:
        plugins = sorted(
            set(document["PluginHelp"])
            | {n for names in document["RepoPlugins"].values() for n in names}
        )
    context = {
        "repos": sorted(set(document["AllRepos"]) | ({repo} if repo else set())),
        "repo": repo,
        "commands": commands_of(document, plugins),
        "missing": sorted(set(plugins) - set(document["PluginHelp"])),
        "external": external,
    }
    template = "deck/command_help.html"
    if request.htmx:
        template += "#commands"
    return render(request, template, context)


@require_safe
def plugin_list(request):
    """Every plugin this installation has, with its help and where it is
    enabled, and the configured plugins it lacks."""
    document = plugin_help_document()
    where = enabled_in(document)
    commands = commands_of(document, list(document["PluginHelp"]))
    plugins = []
    for name, help_ in sorted(document["PluginHelp"].items()):
        plugins.append(
            {
                "name": name,
                "description": help_["Description"],
                "events": help_["Events"],
                "config": help_["Config"].get("", ""),
                "commands": [c for c in commands if c.plugin == name],
                "enabled_in": sorted(where.get(name, [])),
            }
        )
    configured = {n for names in document["RepoPlugins"].values() for n in names}
    external = {n for names in document["RepoExternalPlugins"].values() for n in names}
    context = {
        "plugins": plugins,
        "missing": sorted(configured - set(document["PluginHelp"])),
        "external": sorted(external),
    }
    return render(request, "deck/plugins.html", context)
