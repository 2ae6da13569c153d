"""What the contract suite needs to know about one system, beyond its plugin.

Each connector ships a small :class:`ContractHarness` subclass (its plugin's
``contract`` reference).  The harness speaks for the simulator: how to make a
valid effect carrying customer text, how to find what the connector wrote
under a key, how to add source records.  The suite itself never names a
system.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from continuum.connector import ConnectionInfo, Connector, Effect
from continuum.kit.registry import plugin

# Customer text written to look like markup in every system we know: it must come out inert.
HOSTILE_TEXTS: tuple[str, ...] = (
    "<script>alert('x')</script> <img src=x onerror=alert(1)> &amp; &lt;b&gt;",
    "@channel @here @everyone <!channel> <!here> <@U024BE7LH> <#C024BE91L|general>",
    "[~accountid:5b10ac8d82e05b22cc7d4ef5] {code}rm -rf /{code} {color:red}red{color} *bold* _it_",
    '<ac:structured-macro ac:name="html"><ac:plain-text-body><![CDATA[<b>x</b>]]></ac:plain-text-body>'
    "</ac:structured-macro> <ri:user ri:account-id=\"1\"/>",
    "[click](javascript:alert(1)) ![pixel](http://tracker.example/p.png) <https://evil.example|bank>",
    "- [ ] approve refund\n# Heading\n> quoted\n```\ncode\n```\n<!-- hidden -->",
    "Line one\r\nline two\u202eevil\u200b done",
)


class ContractHarness:
    """Defaults work for a simulator built on :mod:`continuum.simkit`; override what differs."""

    system: ClassVar[str]
    options: ClassVar[Mapping[str, Any]] = {}
    # A stream the connector reads (None for a system the hub only writes to).
    stream: ClassVar[str | None] = None
    # Connection fields that make the credentials wrong (the value must not appear in any error).
    bad_credentials: ClassVar[Mapping[str, Any]] = {"password": "wrong-secret-3f9d1c"}
    # How many records a read page holds at most, so the suite can seed several pages.
    page_size: ClassVar[int] = 50
    # Checks of the suite that cannot apply to this system (no HTTP, so no 429), by test name, each with why:
    # they are skipped with that reason in the report, and the harness's own tests cover the equivalent.
    not_applicable: ClassVar[Mapping[str, str]] = {}

    # -- simulator ------------------------------------------------------------
    def start(self) -> Any:
        found = plugin(self.system)
        sim = found.simulator_class()()
        sim.start()
        found.seed_simulator(sim)
        return sim

    def connector(self, sim: Any | None, credentials: Mapping[str, Any] | None = None,
                  base_url: str | None = None) -> Connector:
        found = plugin(self.system)
        data = found.simulator_connection(base_url or str(getattr(sim, "base_url", "")))
        data.update(credentials or {})
        conn = ConnectionInfo(conn_id=f"contract_{self.system}", host=str(data.get("host") or ""),
                              login=data.get("login"), password=data.get("password"), extra=data.get("extra") or {})
        return found.create(conn, dict(self.options))

    # -- effects --------------------------------------------------------------
    def effect(self, sim: Any, key: str, text: str) -> Effect:
        """A valid effect whose customer-visible text is ``text``."""
        raise NotImplementedError

    def broken_effect(self, sim: Any, key: str) -> Effect:
        """An effect the connector must refuse (a missing required field, say), without sinking the batch."""
        raise NotImplementedError

    def written(self, sim: Any, key: str) -> list[str]:
        """The stored text (as the system keeps it) of every object in the simulator carrying ``key``."""
        raise NotImplementedError

    def assert_inert(self, stored: str, text: str) -> None:
        """Fail unless ``text`` came out of the connector as literal text in ``stored``."""
        raise NotImplementedError

    # -- reading --------------------------------------------------------------
    def add_records(self, sim: Any, count: int) -> None:
        """Add ``count`` new source records to the simulator's stream."""
        raise NotImplementedError

    # -- the vendor's description -----------------------------------------------
    def check_exchanges(self, sim: Any) -> None:
        """Validate every recorded exchange against the official description (skip when there is none)."""
