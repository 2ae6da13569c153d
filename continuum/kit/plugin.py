"""The one object a system registers: what it is called, how it is built, and where its simulator lives.

``pyproject.toml`` (ours, or a separate package's) names it under the
``continuum.connectors`` entry point::

    [project.entry-points."continuum.connectors"]
    discourse = "connectors.discourse.plugin:PLUGIN"

Everything heavy is a lazy ``"module:attribute"`` reference, resolved on
first use: reading the registry (as every Airflow process does for its
connection forms) imports no vendor library, and building a connector for
production never imports its simulator or werkzeug.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from continuum.connector import Capabilities, ConnectionInfo, Connector

if TYPE_CHECKING:
    from continuum.kit.config import ConnectorConfig
    from continuum.kit.webhooks import WebhookVerifier


def resolve(reference: str) -> Any:
    """Import ``"package.module:attribute"`` and return the attribute."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"{reference!r} is not a 'module:attribute' reference")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ValueError(f"{module_name} has no {attribute!r} (from the reference {reference!r})") from None


def hook_class_name(connector: str) -> str:
    """The Airflow hook class made for a connector: ``jira`` -> ``JiraHook``."""
    return "".join(part.capitalize() for part in connector.replace("-", "_").split("_")) + "Hook"


@dataclass(frozen=True)
class ConnectorPlugin:
    """A system, as the core, the CLI, ``simulate`` and the Airflow provider know it."""

    name: str
    summary: str
    config: str  # "module:ConfigClass", a ConnectorConfig subclass
    connector: str  # "module:ConnectorClass", built as ConnectorClass(config)
    capabilities: Capabilities
    # The Airflow connection form: "ui-field-behaviour" and "conn-fields" as Airflow's provider.yaml has them.
    connection_form: Mapping[str, Any] = field(default_factory=dict)
    default_connection: str = ""
    simulator: str | None = None  # "module:SimulatorClass"
    seed: str | None = None  # "module:function", seed(simulator) loads the demo story
    # What a connection to the running simulator holds besides its URL (login, password, extra).
    simulator_credentials: Mapping[str, Any] = field(default_factory=dict)
    contract: str | None = None  # "module:Harness", the contract suite's view of this system
    # "module:VERIFIER", a continuum.kit.webhooks.WebhookVerifier: the system can push (``continuum serve``).
    webhook: str | None = None

    @property
    def connection_type(self) -> str:
        return self.name

    def config_class(self) -> type[ConnectorConfig]:
        return resolve(self.config)  # type: ignore[no-any-return]

    def create(self, conn: ConnectionInfo, options: Mapping[str, Any] | None = None) -> Connector:
        """Build the connector; nothing touches the network until it is used."""
        config = self.config_class().from_connection(conn, options or {})
        return resolve(self.connector)(config)  # type: ignore[no-any-return]

    def simulator_class(self) -> type[Any]:
        if not self.simulator:
            raise LookupError(f"connector {self.name!r} ships no simulator")
        return resolve(self.simulator)  # type: ignore[no-any-return]

    def webhook_verifier(self) -> WebhookVerifier | None:
        """The verifier of this system's signed deliveries, or None when it cannot push."""
        return resolve(self.webhook) if self.webhook else None

    def seed_simulator(self, sim: Any) -> None:
        if self.seed:
            resolve(self.seed)(sim)

    def simulator_connection(self, base_url: str) -> dict[str, Any]:
        """The Airflow connection (JSON form) that points this connector at a running simulator."""
        return {"conn_type": self.connection_type, "host": base_url, **dict(self.simulator_credentials)}

    def form(self) -> dict[str, Any]:
        """The Airflow connection form, with a masked field for each webhook secret when the system can push."""
        form = dict(self.connection_form)
        verifier = self.webhook_verifier()
        if verifier is not None:
            fields = dict(form.get("conn-fields") or {})
            for name in verifier.secret_fields:
                fields.setdefault(name, {
                    "label": f"Webhook {name.replace('_', ' ')}",
                    "schema": {"type": ["string", "null"], "format": "password"},  # masked in the form
                    "description": "For `continuum serve`: what the vendor signs its webhook deliveries with "
                                   "(leave empty without webhooks)."})
            form["conn-fields"] = fields
        return form

    def airflow_connection_type(self, hook_class: str) -> dict[str, Any]:
        """This system's entry in the provider's ``connection-types``."""
        return {"connection-type": self.connection_type, "hook-class-name": hook_class,
                "hook-name": f"{self.summary.split(':')[0]} (Continuum)", **self.form()}
