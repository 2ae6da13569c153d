"""The contract suite every registered connector passes against its simulator.

In this repository ``tests/connectors/test_contract.py`` runs it for every
plugin in the registry; a connector in another package adds one line to its
tests::

    TestMine = contract_for("mine")

Each test starts a fresh simulator, and every exchange it recorded is checked
against the vendor's official description afterwards (where the harness has
one).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from continuum.connector import Connector, Effect, SourceRecord
from continuum.kit.cursors import cursor_json
from continuum.kit.errors import is_auth_error
from continuum.kit.plugin import resolve
from continuum.kit.registry import plugin
from continuum.testing.harness import HOSTILE_TEXTS, ContractHarness

CLOSED_PORT_URL = "http://127.0.0.1:9"  # discard: nothing answers, so any call would fail


def read_all(connector: Connector, stream: str, cursor: dict[str, Any] | None) -> tuple[
        list[SourceRecord], dict[str, Any] | None]:
    """Every record of a full read, and the last cursor a page handed back."""
    records: list[SourceRecord] = []
    last = cursor
    for page in connector.read_changes(stream, cursor):
        records.extend(page.records)
        stored = cursor_json(page.cursor)  # type: ignore[arg-type]
        if stored is not None:
            last = stored
    return records, last


class ConnectorContract:
    system: ClassVar[str]

    @pytest.fixture
    def harness(self) -> ContractHarness:
        found = plugin(self.system)
        if not found.contract:
            pytest.fail(f"connector {self.system!r} registers no contract harness (ConnectorPlugin.contract)")
        made = resolve(found.contract)
        return made() if isinstance(made, type) else made  # type: ignore[no-any-return]

    @pytest.fixture(autouse=True)
    def _applies(self, request: pytest.FixtureRequest, harness: ContractHarness) -> None:
        reason = harness.not_applicable.get(request.node.originalname)
        if reason:  # before the simulator starts: a check that cannot apply costs nothing
            pytest.skip(f"{self.system}: {reason}")

    @pytest.fixture
    def sim(self, harness: ContractHarness) -> Iterator[Any]:
        sim = harness.start()
        try:
            yield sim
            harness.check_exchanges(sim)
        finally:
            sim.stop()

    def _stream(self, harness: ContractHarness) -> str:
        if harness.stream is None:
            pytest.skip(f"{self.system} has no stream to read")
        return harness.stream

    # -- construction and credentials -------------------------------------------
    def test_builds_without_touching_the_network(self, harness: ContractHarness, sim: Any) -> None:
        calls = sim.effect_counts()["calls"]
        connector = harness.connector(sim)
        assert isinstance(connector, Connector)
        assert connector.system == self.system
        assert set(connector.capabilities.effects) == set(plugin(self.system).capabilities.effects)
        assert sim.effect_counts()["calls"] == calls, "building the connector called the system"
        harness.connector(None, base_url=CLOSED_PORT_URL)  # nothing listens there; building must not care

    def test_bad_credentials_give_a_clear_error_without_the_secret(self, harness: ContractHarness, sim: Any) -> None:
        connector = harness.connector(sim, credentials=harness.bad_credentials)
        with pytest.raises(Exception) as caught:
            connector.check()
        message = str(caught.value)
        assert self.system.lower() in message.lower(), f"the error does not name the system: {message}"
        for value in harness.bad_credentials.values():
            assert str(value) not in message, "the error shows the secret"
        assert is_auth_error(caught.value), f"not recognised as a credentials problem: {caught.value!r}"
        harness.connector(sim).check()  # and the right credentials pass

    # -- effects ----------------------------------------------------------------
    def test_a_maybe_applied_retry_finds_the_earlier_object(self, harness: ContractHarness, sim: Any) -> None:
        connector = harness.connector(sim)
        effect = harness.effect(sim, "contract-retry-1", "The export button does nothing")
        first = connector.write([effect])[0]
        assert first.ok, first.error
        again = connector.write([Effect(**{**effect.__dict__, "maybe_applied": True})])[0]
        assert again.ok, again.error
        assert again.found_existing and again.external_id == first.external_id
        assert len(harness.written(sim, effect.key)) == 1, "the retry made a second object"

    def test_one_bad_effect_does_not_sink_the_batch(self, harness: ContractHarness, sim: Any) -> None:
        connector = harness.connector(sim)
        batch = [harness.effect(sim, "contract-good-1", "first"), harness.broken_effect(sim, "contract-bad-2"),
                 harness.effect(sim, "contract-good-3", "third")]
        results = connector.write(batch)
        assert [r.key for r in results] == [e.key for e in batch]
        assert [r.ok for r in results] == [True, False, True], [r.error for r in results]
        assert results[1].error and "contract-bad-2" in results[1].error
        assert len(harness.written(sim, "contract-good-3")) == 1

    def test_hostile_customer_text_comes_out_inert(self, harness: ContractHarness, sim: Any) -> None:
        connector = harness.connector(sim)
        for n, text in enumerate(HOSTILE_TEXTS):
            key = f"contract-hostile-{n}"
            result = connector.write([harness.effect(sim, key, connector.escape_text(text))])[0]
            assert result.ok, result.error
            stored = harness.written(sim, key)
            assert len(stored) == 1
            harness.assert_inert(stored[0], text)

    def test_429_with_retry_after_is_honoured(self, harness: ContractHarness, sim: Any) -> None:
        connector = harness.connector(sim)
        sim.inject("429", times=1, retry_after="1")
        result = connector.write([harness.effect(sim, "contract-throttled-1", "after a pause")])[0]
        assert result.ok, result.error
        exchanges = sim.exchanges
        limited = [i for i, x in enumerate(exchanges) if x.status == 429]
        assert limited, "the simulator served no 429"
        after = exchanges[limited[0] + 1:]
        assert after, "nothing was sent after the 429"
        waited = after[0].at - exchanges[limited[0]].at
        assert waited >= 0.95, f"the next request came {waited:.2f}s after a 429 asking for 1s"
        assert len(harness.written(sim, "contract-throttled-1")) == 1

    # -- reading ----------------------------------------------------------------
    def test_a_repeating_or_shifting_page_neither_loops_nor_loses_records(self, harness: ContractHarness,
                                                                         sim: Any) -> None:
        stream = self._stream(harness)
        harness.add_records(sim, harness.page_size * 3 + 7)
        clean, _ = read_all(harness.connector(sim), stream, None)
        expected = {(r.object_type, r.external_id) for r in clean}
        assert len(expected) > harness.page_size * 3
        for mode in ("repeat", "shift"):
            sim.set_paging_faults(mode, rate=0.5)
            try:
                faulty, _ = read_all(harness.connector(sim), stream, None)
            except RuntimeError as exc:  # failing loudly is allowed; skipping silently is not
                assert "page" in str(exc).lower() or "feed" in str(exc).lower(), exc
                continue
            finally:
                sim.set_paging_faults(None)
            got = {(r.object_type, r.external_id) for r in faulty}
            assert expected <= got, f"{mode}: lost {sorted(expected - got)[:5]}"

    def test_a_re_read_from_the_saved_cursor_yields_nothing_new(self, harness: ContractHarness, sim: Any) -> None:
        stream = self._stream(harness)
        harness.add_records(sim, harness.page_size + 3)
        connector = harness.connector(sim)
        first, cursor = read_all(connector, stream, None)
        assert first and cursor is not None
        seen = {(r.object_type, r.external_id, r.version) for r in first}
        again, _ = read_all(harness.connector(sim), stream, cursor)
        new = [(r.object_type, r.external_id, r.version) for r in again
               if (r.object_type, r.external_id, r.version) not in seen]
        assert not new, f"a re-read from the saved cursor brought {new[:5]}"
        harness.add_records(sim, 2)
        later, _ = read_all(harness.connector(sim), stream, cursor)
        fresh = {(r.object_type, r.external_id) for r in later} - {(o, i) for o, i, _ in seen}
        assert len(fresh) >= 2, "records added after the cursor were not read"


def contract_for(system: str) -> type[ConnectorContract]:
    """The contract suite as a test class for one registered connector."""
    name = "TestContract" + "".join(part.capitalize() for part in system.replace("-", "_").split("_"))
    return type(name, (ConnectorContract,), {"system": system, "__module__": __name__})
