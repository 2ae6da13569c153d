"""E-mail as a Continuum system: the plugin object the registry finds."""

from __future__ import annotations

from typing import Any

from continuum.connector import Capabilities
from continuum.kit.plugin import ConnectorPlugin

SIM_USER, SIM_PASSWORD = "support@hub.example", "sim-mail-password-7c21"  # what the local servers accept
CAPABILITIES = Capabilities(streams=("messages",), effects=("reply",), bulk_sizes={})


class EmailPlugin(ConnectorPlugin):
    def simulator_connection(self, base_url: str) -> dict[str, Any]:
        """The local servers answer IMAP at ``base_url`` and SMTP elsewhere: the connection names both."""
        from connectors.email.simservers import smtp_url_for  # only ever called with the local servers running

        return {**super().simulator_connection(base_url), "extra": {"smtp_url": smtp_url_for(base_url)}}


PLUGIN = EmailPlugin(
    name="email", summary="E-mail: read a support mailbox over IMAP, answer customers over SMTP in their thread",
    config="connectors.email.config:EmailConfig", connector="connectors.email.connector:EmailConnector",
    capabilities=CAPABILITIES, default_connection="continuum_email",
    # One mailbox user for IMAP and SMTP (an app password where the provider has them); the rest are extras.
    connection_form={"ui-field-behaviour": {
        "hidden-fields": ["schema", "port"],
        "relabeling": {"host": "IMAP URL", "login": "Mailbox user", "password": "Password",
                       "extra": "smtp_url, address, display_name, folders, sent_folder (JSON)"},
        "placeholders": {"host": "imaps://imap.example.com", "login": "support@example.com",
                         "password": "app password",
                         "extra": '{"smtp_url": "smtps://smtp.example.com", "display_name": "Acme Support"}'}}},
    # Real servers, not a simulator: pymap (IMAP) and aiosmtpd (SMTP, delivering into the IMAP mailbox).
    simulator="connectors.email.simservers:LocalMailServers", seed="connectors.email.seed:seed",
    simulator_credentials={"login": SIM_USER, "password": SIM_PASSWORD},
    contract="connectors.email.contract:HARNESS",
)
