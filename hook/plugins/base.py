"""The shape every plugin has.

A plugin module defines one `plugin = Plugin(...)`: its name, its help (what
/plugin-help and Deck show), and one handler per event kind it reacts to.
Handlers are plain functions `handler(ctx, event)`; `event` is an
events.Event, or an events.GenericComment for the "generic_comment" kind.
To add a plugin: write hook/plugins/<name>.py with that shape, add it to
REGISTRY in hook/plugins/__init__.py, and test it through /hook.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prow.config.plugins_schema import PluginsConfig
from prow.config.schema import ProwConfig
from prow.github.client import GitHubClient

GENERIC_COMMENT = "generic_comment"

ABOUT_BOT = (
    "Instructions for interacting with me using PR comments are available "
    "[here](https://git.k8s.io/community/contributors/guide/pull-requests.md).  "
    "If you have questions or suggestions related to my behavior, please file an "
    "issue against the [kubernetes-sigs/prow]"
    "(https://github.com/kubernetes-sigs/prow/issues/new?title=Prow%20issue:) "
    "repository."
)


@dataclass(frozen=True)
class CommandHelp:
    usage: str
    description: str
    examples: tuple[str, ...] = ()
    who_can_use: str = "Anyone"
    featured: bool = False


@dataclass(frozen=True)
class PluginHelp:
    description: str
    commands: tuple[CommandHelp, ...] = ()
    # What the plugin's section of plugins.yaml means, in a sentence or two.
    config: str = ""


@dataclass(frozen=True)
class Plugin:
    name: str
    help: PluginHelp
    handlers: dict[str, Callable[["PluginContext", Any], None]] = field(
        default_factory=dict
    )

    @property
    def events(self) -> list[str]:
        return sorted(self.handlers)


class PluginError(Exception):
    """A handler's way to fail on purpose. permanent=False asks for a retry."""

    def __init__(self, message: str, *, permanent: bool = True):
        super().__init__(message)
        self.permanent = permanent


@dataclass
class PluginContext:
    org: str
    repo: str
    guid: str
    config: ProwConfig
    plugins: PluginsConfig
    github: GitHubClient
    logger: logging.LoggerAdapter

    def reply(self, comment, text: str) -> None:
        """Answer a comment in the original's quoted format."""
        self.github.create_comment(
            comment.org, comment.repo, comment.number, format_reply(comment, text)
        )


def format_reply(comment, text: str) -> str:
    quoted = "\n".join(f">{line}" for line in (comment.body or "").splitlines())
    return (
        f"@{comment.user}: {text}\n\n<details>\n\n"
        f"In response to [this]({comment.html_url}):\n\n{quoted}\n\n\n"
        f"{ABOUT_BOT}\n</details>"
    )
