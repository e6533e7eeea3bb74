"""The plugin registry: name -> module, imported on first use.

An explicit dict, not a scan of the folder: what can run is visible here.
Deployments may add their own in-process plugins with PROW_EXTRA_PLUGINS
("name=dotted.module,other=pkg.mod:attribute"); their names then also pass
config validation.
"""

import importlib
import logging
import threading

from hook.plugins.base import Plugin
from prow.config.plugins_schema import extra_plugin_modules

logger = logging.getLogger(__name__)

REGISTRY: dict[str, str] = {
    "shrug": "hook.plugins.shrug",
    "stage": "hook.plugins.stage",
    "trigger": "hook.plugins.trigger",
}

_loaded: dict[str, Plugin] = {}
_lock = threading.Lock()


def registry() -> dict[str, str]:
    return {**REGISTRY, **extra_plugin_modules()}


def get_plugin(name: str) -> Plugin | None:
    """The plugin called name, or None when no module implements it (yet)."""
    plugin = _loaded.get(name)
    if plugin is not None:
        return plugin
    module_path = registry().get(name)
    if module_path is None:
        return None
    # "pkg.module" holds `plugin`; "pkg.module:attr" names another attribute.
    module_name, _, attribute = module_path.partition(":")
    with _lock:
        if name not in _loaded:
            module = importlib.import_module(module_name)
            _loaded[name] = getattr(module, attribute or "plugin")
        return _loaded[name]


def all_plugins() -> dict[str, Plugin]:
    return {name: p for name in sorted(registry()) if (p := get_plugin(name))}
