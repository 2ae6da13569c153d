"""ConfluenceConnector against its simulator over real HTTP: what the shared contract suite does not cover."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from connectors.confluence.config import ConfluenceConfig
from connectors.confluence.connector import ConfluenceConnector
from connectors.confluence.contract import HARNESS, page_effect
from connectors.confluence.plugin import PLUGIN, SIM_LOGIN, SIM_PARENT, SIM_SPACE, SIM_TOKEN
from connectors.confluence.simcontract import confluence_errors, confluence_v2, have_specs
from connectors.confluence.simulator import ConfluenceSimulator
from connectors.confluence.storage import END, START, render_section, splice
from continuum.connector import ConnectionInfo, Effect
from continuum.kit.config import ConfigError
from continuum.kit.errors import is_auth_error
from continuum.simkit.server import Exchange
from continuum.testing.harness import HOSTILE_TEXTS

STAFF_NOTE = "<p>Escalate to <strong>Kim</strong> first &amp; call back.</p>\n"


@pytest.fixture
def sim() -> Iterator[ConfluenceSimulator]:
    simulator = ConfluenceSimulator()
    with simulator:
        yield simulator
        if have_specs():  # every exchange of every test here is true to Confluence's descriptions
            problems = confluence_errors(simulator.exchanges)
            assert not problems, "\n".join(problems[:5])


def connect(sim: ConfluenceSimulator, **options: Any) -> ConfluenceConnector:
    connector = (
        HARNESS.connector(sim)
        if not options
        else PLUGIN.create(ConnectionInfo("cf", sim.base_url, SIM_LOGIN, SIM_TOKEN, {"space": SIM_SPACE}), options)
    )
    assert isinstance(connector, ConfluenceConnector)
    return connector


def writes(sim: ConfluenceSimulator) -> int:
    counts = sim.effect_counts()
    return counts["created"] + counts["updated"] + counts["labels"]


def history(text: str) -> dict[str, Any]:
    return {
        "intro": "Ann Lee's history",
        "blocks": [
            {"heading": "Identities", "facts": [["mastodon", "@ann@fosstodon.org"], ["e-mail", "ann@example.com"]]},
            {
                "heading": "Interactions",
                "columns": ["Date", "Text", "Source"],
                "rows": [["2026-03-02", text, {"text": "post", "url": "https://fosstodon.org/@ann/1"}]],
            },
            {"heading": "Tickets", "columns": ["Ticket", "State"], "rows": [], "empty": "No tickets."},
        ],
    }


def publish(
    connector: ConfluenceConnector,
    key: str,
    document: dict[str, Any],
    title: str = "Customer: Ann Lee",
    target: str | None = None,
    **more: Any,
) -> Any:
    result = connector.write(
        [Effect(key, "publish", "page", {"title": title, "document": document, **more}, target_id=target)]
    )[0]
    assert result.ok, result.error
    return result


# -- config ----------------------------------------------------------------------------------
def test_the_wiki_address_is_taken_as_the_site_and_the_token_is_never_shown() -> None:
    config = ConfluenceConfig.from_connection(
        ConnectionInfo("cf", "acme.atlassian.net/wiki", "bot@acme.com", "SECRET-TOKEN-9"), {"space": "SUP"}
    )
    assert (config.url, config.wiki) == ("https://acme.atlassian.net", "https://acme.atlassian.net/wiki")
    with pytest.raises(ConfigError) as caught:
        ConfluenceConfig.from_connection(
            ConnectionInfo("cf", "acme.atlassian.net", "bot@acme.com", "SECRET-TOKEN-9"), {"space": "not a key!"}
        )
    assert "space" in str(caught.value) and "SECRET-TOKEN-9" not in str(caught.value)


def test_a_wrong_space_is_a_clear_error_naming_it(sim: ConfluenceSimulator) -> None:
    connector = connect(sim, space="NOPE")
    with pytest.raises(Exception, match=r"confluence .*no space with the key 'NOPE'"):
        connector.check()
    bad = HARNESS.connector(sim, credentials={"password": "wrong-token-77"})
    with pytest.raises(Exception) as caught:
        bad.check()
    assert is_auth_error(caught.value) and "wrong-token-77" not in str(caught.value)


# -- writes per page ---------------------------------------------------------------------------
def test_one_write_per_changed_page_and_none_when_nothing_changed(sim: ConfluenceSimulator) -> None:
    connector = connect(sim)
    made = publish(connector, "k-1", history("The export button does nothing"))
    assert (writes(sim), sim.page(made.external_id)["labels"]) == (2, ["continuum"])  # the page and its label
    assert sim.page(made.external_id)["parent"] == SIM_PARENT
    before = writes(sim)
    same = publish(connector, "k-2", history("The export button does nothing"), target=made.external_id)
    assert (writes(sim) - before, same.found_existing, same.external_id) == (0, True, made.external_id)
    changed = publish(connector, "k-3", history("Now it exports an empty file"), target=made.external_id)
    assert writes(sim) - before == 1 and not changed.found_existing
    assert changed.version == "2" and "Now it exports an empty file" in sim.page(made.external_id)["body"]


def test_the_staffs_part_of_the_page_is_kept_byte_for_byte(sim: ConfluenceSimulator) -> None:
    connector = connect(sim)
    made = publish(connector, "k-1", history("the old text"))
    sim.edit_page(made.external_id, lambda body: STAFF_NOTE + body + "<p>Footnote by staff</p>")
    publish(connector, "k-2", history("the new text"), target=made.external_id)
    body = sim.page(made.external_id)["body"]
    assert body == STAFF_NOTE + render_section(history("the new text")) + "<p>Footnote by staff</p>"
    assert "the old text" not in body


def test_a_page_staff_saved_meanwhile_is_read_again_and_their_edit_survives(sim: ConfluenceSimulator) -> None:
    connector = connect(sim)
    made = publish(connector, "k-1", history("first"))
    sim.edit_before_next_update(made.external_id, lambda body: STAFF_NOTE + body)
    again = publish(connector, "k-2", history("second"), target=made.external_id)
    page = sim.page(made.external_id)
    assert sim.effect_counts()["conflicts"] == 1 and again.version == "3"
    assert page["body"] == STAFF_NOTE + render_section(history("second"))
    assert [who for _, who, _ in page["saves"]][-2:] == ["557058:staff-1", "712020:5e1c0b1d-hub0-4c3a-9c7e-continuum01"]


def test_conflicts_past_the_retries_fail_the_effect_and_overwrite_nothing(sim: ConfluenceSimulator) -> None:
    connector = connect(sim, conflict_retries=0, parent_id=SIM_PARENT)
    made = publish(connector, "k-1", history("first"))
    sim.edit_before_next_update(made.external_id, lambda body: STAFF_NOTE + body)
    failed = connector.write([page_effect("k-2", "Customer: Ann Lee", "second")])[0]
    assert not failed.ok and "409" in (failed.error or "") and "k-2" in (failed.error or "")
    body = sim.page(made.external_id)["body"]
    assert body.startswith(STAFF_NOTE) and "second" not in body


def test_markers_a_person_broke_stop_the_write_with_an_error_naming_them(sim: ConfluenceSimulator) -> None:
    connector = connect(sim)
    made = publish(connector, "k-1", history("first"))
    sim.edit_page(made.external_id, lambda body: body.replace(END, ""))
    kept = sim.page(made.external_id)["body"]
    failed = connector.write(
        [
            Effect(
                "k-2",
                "publish",
                "page",
                {"title": "Customer: Ann Lee", "document": history("second")},
                made.external_id,
            )
        ]
    )[0]
    assert not failed.ok and "markers were edited" in (failed.error or "")
    assert sim.page(made.external_id)["body"] == kept


def test_a_staff_page_of_the_same_title_gets_the_section_below_their_text(sim: ConfluenceSimulator) -> None:
    page_id = sim.add_page("Customer: Ann Lee", STAFF_NOTE)
    connector = connect(sim)
    result = publish(connector, "k-1", history("first"))
    page = sim.page(page_id)
    assert result.external_id == str(page_id) and len([p for p in sim.pages() if p["title"] == page["title"]]) == 1
    assert page["body"] == STAFF_NOTE + render_section(history("first")) and page["labels"] == ["continuum"]


def test_a_deleted_page_is_made_again_and_bad_fields_name_themselves(sim: ConfluenceSimulator) -> None:
    connector = connect(sim)
    gone = publish(connector, "k-1", history("first"), target="99999999")
    assert gone.external_id != "99999999" and not gone.found_existing
    broken = connector.write(
        [
            Effect("k-2", "publish", "page", {"title": "T", "document": {"blocks": [{"heading": "x"}]}}),
            Effect("k-3", "publish", "page", {"title": "T", "document": {"blocks": []}, "labels": ["Not A Label"]}),
            Effect("k-4", "publish", "page", {"title": "T", "document": {"blocks": []}, "colour": "red"}),
        ]
    )
    assert [r.ok for r in broken] == [False, False, False]
    assert "document.blocks[0]" in (broken[0].error or "") and "labels" in (broken[1].error or "")
    assert "colour" in (broken[2].error or "")


# -- escaping --------------------------------------------------------------------------------
@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_text_anywhere_in_the_document_stays_text(sim: ConfluenceSimulator, text: str) -> None:
    connector = connect(sim)
    document = {
        "intro": text,
        "blocks": [
            {"heading": text, "facts": [[text, text]]},
            {"heading": "Links", "columns": [text], "rows": [[{"text": text, "url": "javascript:alert(1)"}]]},
            {"heading": "Note", "text": text},
        ],
    }
    result = publish(connector, f"k-{HOSTILE_TEXTS.index(text)}", document, title=f"Customer {text}")
    page = sim.page(result.external_id)
    assert "\n" not in page["title"] and "\u202e" not in page["title"]
    body = page["body"]
    assert body.count("<ac:") == 4 and "<ri:" not in body and "<a " not in body and "<script" not in body
    assert 'href="javascript' not in body  # a link only to http(s): this one is left out


def test_a_template_value_cannot_forge_the_hubs_markers() -> None:
    section = render_section({"blocks": [{"heading": END, "text": START}]})
    assert section.count(START) == 1 and section.count(END) == 1
    assert splice("<p>a</p>" + section + "<p>b</p>", "NEW") == "<p>a</p>NEW<p>b</p>"


# -- the descriptions ----------------------------------------------------------------------------
def _exchange(body: Any) -> Exchange:
    page = {"id": "1", "status": "current", "title": "T", "version": {"number": 2}}
    return Exchange(
        "PUT",
        "/wiki/api/v2/pages/1",
        "",
        {"Content-Type": "application/json"},
        json.dumps({**page, "body": body}).encode(),
        200,
        {"Content-Type": "application/json"},
        json.dumps(page).encode(),
        0.0,
    )


@pytest.mark.skipif(not have_specs(), reason="Confluence's descriptions are not checked out next to the repository")
def test_closing_the_page_body_shapes_still_refuses_a_body_of_neither_shape() -> None:
    assert confluence_v2() is not None
    assert confluence_errors([_exchange({"representation": "storage", "value": "<p>x</p>"})]) == []
    assert confluence_errors([_exchange({"storage": {"representation": "storage", "value": "<p>x</p>"}})]) == []
    assert confluence_errors([_exchange({"representation": "storage", "value": "<p>x</p>", "html": "<b>"})])
    assert confluence_errors([_exchange({"representation": "pdf", "value": "x"})])


def test_a_malformed_storage_body_is_refused_by_the_simulator(sim: ConfluenceSimulator) -> None:
    connector = connect(sim)
    made = publish(connector, "k-1", history("first"))
    page = connector.api.page(made.external_id)
    assert page is not None
    with pytest.raises(Exception, match=r"400.*xhtml"):
        connector.api.update_page(page, "Customer: Ann Lee", "<p>unclosed", "test")


def test_a_create_cut_off_before_its_label_is_labelled_on_the_retry(sim: ConfluenceSimulator) -> None:
    connector = connect(sim)
    sim.inject("500", times=10, path_contains="/label", method="POST")  # the page is made, its label fails
    first = connector.write([page_effect("k-1", "Customer: Ann Lee", "hello")])[0]
    assert not first.ok and len(sim.pages()) == 3  # two seeded pages and this one, unlabelled
    sim.faults.queued.clear()
    again = connector.write(
        [dataclasses.replace(page_effect("k-1", "Customer: Ann Lee", "hello"), maybe_applied=True)]
    )[0]
    assert again.ok and again.found_existing and sim.page(again.external_id)["labels"] == ["continuum"]


# -- delete (a customer's erasure) -----------------------------------------------------------------
def test_delete_trashes_then_purges_the_page_with_its_earlier_versions(sim: ConfluenceSimulator) -> None:
    connector = connect(sim)
    made = publish(connector, "k-1", history("first"))
    publish(connector, "k-2", history("second, with more to say"), target=made.external_id)
    assert len(sim.page(made.external_id)["saves"]) == 2
    (gone,) = connector.write([Effect("k-3", "delete", "page", {}, target_id=made.external_id)])
    assert gone.ok and gone.external_id is None, gone.error  # nothing left to link
    assert sim.purged(made.external_id) and (sim.effect_counts()["trashed"], sim.effect_counts()["purged"]) == (1, 1)
    assert [p["title"] for p in sim.pages()] == ["Support home", "Customers"]


def test_a_delete_retried_after_a_lost_answer_finishes_the_purge_and_a_gone_page_is_done(
    sim: ConfluenceSimulator,
) -> None:
    connector = connect(sim)
    made = publish(connector, "k-1", history("first"))
    # The trash happened, the purge did not: a crash between the two calls.
    connector.api.call("DELETE", f"wiki/api/v2/pages/{made.external_id}")
    assert sim.page(made.external_id)["status"] == "trashed" and not sim.purged(made.external_id)
    (again,) = connector.write(
        [dataclasses.replace(Effect("k-3", "delete", "page", {}, target_id=made.external_id), maybe_applied=True)]
    )
    assert again.ok and sim.purged(made.external_id), again.error
    (twice,) = connector.write([Effect("k-3", "delete", "page", {}, target_id=made.external_id)])
    assert twice.ok and sim.effect_counts()["purged"] == 1  # nothing there: done, no second purge


def test_a_purge_the_account_may_not_do_fails_naming_the_page_and_what_to_do(sim: ConfluenceSimulator) -> None:
    connector = connect(sim)
    made = publish(connector, "k-1", history("first"))
    sim.can_purge = False  # the hub's account is no space admin
    (refused,) = connector.write([Effect("k-3", "delete", "page", {}, target_id=made.external_id)])
    assert not refused.ok and f"page {made.external_id} is in the trash but was not purged" in (refused.error or "")
    assert "space admin" in (refused.error or "") and not sim.purged(made.external_id)
    (bad,) = connector.write([Effect("k-4", "delete", "page", {}, target_id="../spaces")])
    assert not bad.ok and "target_id" in (bad.error or "")


def test_prune_keeps_the_page_as_it_is_and_deletes_every_earlier_version(sim: ConfluenceSimulator) -> None:
    connector = connect(sim)
    made = publish(connector, "k-1", history("Ann's words, version one"))
    sim.edit_page(made.external_id, lambda body: STAFF_NOTE + body)  # staff add a note: version 2
    publish(connector, "k-2", history("rewritten without Ann"), target=made.external_id)  # version 3
    now = sim.page(made.external_id)
    (pruned,) = connector.write([Effect("k-3", "prune", "page", {}, target_id=made.external_id)])
    assert pruned.ok, pruned.error
    after = sim.page(made.external_id)
    assert after["body"] == now["body"] and after["version"] == 1 and STAFF_NOTE in after["body"]
    assert [body for _, _, body in after["saves"]] == [now["body"]] and "version one" not in str(after["saves"])
    (again,) = connector.write([Effect("k-3", "prune", "page", {}, target_id=made.external_id)])
    assert again.ok and sim.effect_counts()["versions_deleted"] == 2  # nothing earlier left: no call
