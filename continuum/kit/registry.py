"""Find systems: every ``continuum.connectors`` entry point, loaded once per process.

This is the only place the core learns which systems exist, so a connector
in a separately installed package works without a change to Continuum.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib.metadata import entry_points

from continuum.connector import ConnectorFactory
from continuum.kit.plugin import ConnectorPlugin

GROUP = "continuum.connectors"

log = logging.getLogger(__name__)


class UnknownConnector(LookupError):
    """The hub config names a connector no installed package registers."""


@cache
def plugins() -> dict[str, ConnectorPlugin]:
    found: dict[str, ConnectorPlugin] = {}
    for point in entry_points(group=GROUP):
        plugin = point.load()
        if not isinstance(plugin, ConnectorPlugin):
            raise TypeError(f"entry point {point.name!r} ({point.value}) in group {GROUP!r} "
                            f"is a {type(plugin).__name__}, not a ConnectorPlugin")
        if plugin.name != point.name:
            raise ValueError(f"entry point {point.name!r} ({point.value}) registers a plugin named {plugin.name!r}")
        if plugin.name in found:
            log.warning("connector %r is registered twice; keeping the first (%s)", plugin.name, point.value)
            continue
        found[plugin.name] = plugin
    return dict(sorted(found.items()))


def plugin(name: str) -> ConnectorPlugin:
    try:
        return plugins()[name]
    except KeyError:
        known = ", ".join(plugins()) or "none"
        raise UnknownConnector(f"no connector named {name!r} is installed (installed: {known}); "
                               f"check `connector:` in the hub config, or pip install the package "
                               "that provides it") from None


def load_connector_factory(name: str) -> ConnectorFactory:
    """The registered plugin's factory for connector ``name``: the one way the core builds a system."""
    return plugin(name).create
