"""The plugin registry: the one list of plugins this project implements.

An explicit list, not a scan of the folder: what can run is visible here.
Loading it tells config validation every plugin name plugins.yaml may use
and every section it may hold (prow.config.plugin_sections), so a plugin is
written in one module and named once, below.

Deployments may add their own in-process plugins with PROW_EXTRA_PLUGINS
("name=dotted.module,other=pkg.mod:attribute"); those are imported on first
use, and their names also pass config validation.
"""

import importlib
import threading

from hook.plugins import (
    approve,
    assign,
    blockade,
    branchcleaner,
    cat,
    config_updater,
    dog,
    heart,
    help,
    hold,
    label,
    lgtm,
    lifecycle,
    milestone,
    milestonestatus,
    pony,
    project,
    shrug,
    size,
    skip,
    stage,
    trigger,
    unimplemented,
    welcome,
    wip,
    yuks,
)
from hook.plugins.base import Plugin
from prow.config.plugin_sections import (
    extra_plugin_modules,
    register_plugin_names,
    register_section,
)

PLUGINS: dict[str, Plugin] = {
    plugin.name: plugin
    for plugin in (
        approve.plugin,
        assign.plugin,
        blockade.plugin,
        branchcleaner.plugin,
        cat.plugin,
        config_updater.plugin,
        dog.plugin,
        heart.plugin,
        help.plugin,
        hold.plugin,
        label.plugin,
        lgtm.plugin,
        lifecycle.plugin,
        milestone.plugin,
        milestonestatus.plugin,
        pony.plugin,
        project.plugin,
        shrug.plugin,
        size.plugin,
        skip.plugin,
        stage.plugin,
        trigger.plugin,
        welcome.plugin,
        wip.plugin,
        yuks.plugin,
    )
}

register_plugin_names(PLUGINS)
register_plugin_names(unimplemented.NAMES)
for _plugin in PLUGINS.values():
    if _plugin.config is not None:
        register_section(_plugin.config)
for _section in unimplemented.SECTIONS:
    register_section(_section)

_extras: dict[str, Plugin] = {}
_lock = threading.Lock()


def get_plugin(name: str) -> Plugin | None:
    """The plugin called name, or None when no module implements it (yet)."""
    plugin = PLUGINS.get(name) or _extras.get(name)
    if plugin is not None:
        return plugin
    module_path = extra_plugin_modules().get(name)
    if module_path is None:
        return None
    # "pkg.module" holds `plugin`; "pkg.module:attr" names another attribute.
    module_name, _, attribute = module_path.partition(":")
    with _lock:
        if name not in _extras:
            module = importlib.import_module(module_name)
            _extras[name] = getattr(module, attribute or "plugin")
        return _extras[name]


def all_plugins() -> dict[str, Plugin]:
    names = sorted({*PLUGINS, *extra_plugin_modules()})
    return {name: p for name in names if (p := get_plugin(name))}
