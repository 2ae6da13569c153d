"""BoxConnector against the Box simulator over real HTTP: what the shared contract suite does not cover."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from connectors.box.config import BoxConfig
from connectors.box.connector import BoxConnector, key_of, safe_name
from connectors.box.contract import store
from connectors.box.plugin import PLUGIN, SIM_ROOT_FOLDER, SIM_TOKEN
from connectors.box.simcontract import SPEC, box_errors
from connectors.box.simulator import BoxSimulator
from continuum.connector import ConnectionInfo, Effect
from continuum.http import RetryPolicy
from continuum.kit.config import ConfigError
from continuum.simkit import Response, SimRequest, Simulator, route
from continuum.simkit.contract import specs_dir

FOLDER = "customer-42 Ann Lee"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def sim() -> Iterator[BoxSimulator]:
    simulator = BoxSimulator()
    with simulator:
        yield simulator
        if (specs_dir() / SPEC).is_file():  # every exchange of every test here is true to Box's description
            problems = box_errors(simulator.exchanges)
            assert not problems, "\n".join(problems[:5])


def connect(sim: BoxSimulator, policy: RetryPolicy | None = None, **options: Any) -> BoxConnector:
    config = PLUGIN.config_class().from_connection(ConnectionInfo("box_test", sim.base_url, None, SIM_TOKEN),
                                                   {"root_folder_id": SIM_ROOT_FOLDER, **options})
    return BoxConnector(config, policy)  # type: ignore[arg-type]


def customer_files(sim: BoxSimulator, folder: str = FOLDER) -> list[dict[str, Any]]:
    found = [f for f in sim.folders(SIM_ROOT_FOLDER) if f["name"] == folder]
    return sim.files(found[0]["id"]) if found else []


# -- config ----------------------------------------------------------------------------
def test_box_itself_uploads_to_its_upload_host_and_the_token_is_never_shown() -> None:
    config = BoxConfig.from_connection(ConnectionInfo("box", "", None, "SECRET-TOKEN-1"), {"root_folder_id": "123"})
    assert (config.url, config.upload_base) == ("https://api.box.com", "https://upload.box.com/api")
    with pytest.raises(ConfigError) as caught:
        PLUGIN.config_class().from_connection(ConnectionInfo("box", "", None, "SECRET-TOKEN-1"),
                                              {"root_folder_id": "not a folder id"})
    assert "root_folder_id" in str(caught.value) and "SECRET-TOKEN-1" not in str(caught.value)


# -- storing -----------------------------------------------------------------------------
def test_a_file_is_stored_in_the_customers_folder_with_its_key_and_a_shared_link(sim: BoxSimulator) -> None:
    result = connect(sim).write([store("att-1", "screenshot.png", PNG)])[0]
    assert result.ok, result.error
    [stored] = customer_files(sim)
    assert stored["name"] == "screenshot.png" and stored["content"] == PNG
    assert key_of(stored) == "att-1"
    assert stored["shared_link"]["access"] == "company"  # the config's default
    assert (result.external_id, result.object_type, result.url, result.version) == (
        stored["id"], "file", stored["shared_link"]["url"], hashlib.sha1(PNG).hexdigest())
    assert not result.found_existing


def test_the_shared_link_access_comes_from_the_config(sim: BoxSimulator) -> None:
    assert connect(sim, shared_link_access="collaborators").write([store("att-1", "a.txt", b"x")])[0].ok
    assert customer_files(sim)[0]["shared_link"]["access"] == "collaborators"


def test_the_same_content_twice_is_one_file(sim: BoxSimulator) -> None:
    connector = connect(sim)
    first = connector.write([store("att-1", "screenshot.png", PNG)])[0]
    # Another message, another name, the same bytes: the customer's file is linked, not stored again.
    again = connect(sim).write([store("att-2", "IMG_0042.png", PNG)])[0]
    assert first.ok and again.ok, (first.error, again.error)
    assert again.found_existing and again.external_id == first.external_id and again.url == first.url
    assert len(customer_files(sim)) == 1 and sim.effect_counts()["uploads"] == 1
    assert sim.effect_counts()["folders"] == 1  # the second connector found the folder Box said was taken


def test_the_same_content_for_another_customer_is_stored_in_their_folder(sim: BoxSimulator) -> None:
    connector = connect(sim)
    assert connector.write([store("att-1", "log.txt", b"same")])[0].ok
    other = connector.write([store("att-2", "log.txt", b"same", folder="customer-7 Kim Ito")])[0]
    assert other.ok and not other.found_existing
    assert len(customer_files(sim)) == len(customer_files(sim, "customer-7 Kim Ito")) == 1


def test_a_name_in_use_with_other_content_gets_a_suffix(sim: BoxSimulator) -> None:
    connector = connect(sim)
    assert connector.write([store("att-1", "trace.log", b"first run")])[0].ok
    folder_id = sim.folders(SIM_ROOT_FOLDER)[0]["id"]
    sim.add_file(folder_id, "TRACE (2).log", b"put there by hand")  # Box compares names without case
    result = connector.write([store("att-2", "trace.log", b"second run")])[0]
    assert result.ok, result.error
    names = {f["name"]: f["content"] for f in customer_files(sim)}
    assert names == {"trace.log": b"first run", "TRACE (2).log": b"put there by hand", "trace (3).log": b"second run"}


def test_a_name_taken_between_listing_and_upload_moves_to_the_next_suffix(sim: BoxSimulator) -> None:
    connector = connect(sim)
    assert connector.write([store("att-1", "trace.log", b"first")])[0].ok

    folder_id = sim.folders(SIM_ROOT_FOLDER)[0]["id"]
    listed = sim.folder_items  # someone uploads "trace (2).log" just after the hub listed the folder

    def list_then_race(request: SimRequest, folder_id: str) -> Response:
        answer = listed(request, folder_id)
        sim.add_file(folder_id, "trace (2).log", b"raced in")
        return answer

    sim.folder_items = list_then_race  # type: ignore[method-assign]
    result = connector.write([store("att-2", "trace.log", b"second")])[0]
    assert result.ok, result.error
    assert {f["name"] for f in sim.files(folder_id)} == {"trace.log", "trace (2).log", "trace (3).log"}
    assert [x.status for x in sim.calls("POST", "/files/content")][-2:] == [409, 201]


# -- limits ------------------------------------------------------------------------------
def test_a_file_over_max_bytes_fails_with_the_file_and_the_limit_and_nothing_is_sent(sim: BoxSimulator) -> None:
    results = connect(sim, max_bytes=1000).write([store("att-big", "dump.log", b"x" * 1001),
                                                  store("att-ok", "small.log", b"x" * 1000)])
    assert [r.ok for r in results] == [False, True]
    assert results[0].permanent and not results[1].permanent  # the engine dead-letters it at once
    error = results[0].error or ""
    assert "att-big" in error and "'dump.log'" in error and "1001 bytes" in error and "max_bytes (1000)" in error
    assert "final" in error
    assert sim.effect_counts()["uploads"] == 1


def test_a_large_base64_payload_is_refused_before_it_is_decoded(sim: BoxSimulator) -> None:
    effect = Effect("att-big", "store", "file", {"customer_folder": FOLDER, "name": "a.log",
                                                 "content_b64": "!" * 8000})  # not even base64: size first
    error = connect(sim, max_bytes=1000).write([effect])[0].error or ""
    assert "over max_bytes (1000)" in error and not sim.calls(path_contains="/files/content")


def test_a_type_not_allowed_fails_with_the_file_and_the_type(sim: BoxSimulator) -> None:
    connector = connect(sim, allowed_types="image/*,.log")
    results = connector.write([store("att-exe", "invoice.pdf.exe", b"MZ"), store("att-png", "shot.png", PNG),
                               store("att-raw", "photo.raw", b"raw", content_type="image/x-raw"),
                               store("att-log", "app.LOG", b"log")])
    assert [r.ok for r in results] == [False, True, True, True], [r.error for r in results]
    error = results[0].error or ""
    assert "'invoice.pdf.exe'" in error and ".exe" in error and "allowed_types (image/*, .log)" in error
    assert sim.effect_counts()["uploads"] == 3


def test_a_hash_that_does_not_match_the_content_is_refused(sim: BoxSimulator) -> None:
    effect = store("att-1", "a.txt", b"abc", sha256=hashlib.sha256(b"abd").hexdigest())
    error = connect(sim).write([effect])[0].error or ""
    assert "field 'sha256'" in error and "'a.txt'" in error
    ok = connect(sim).write([store("att-2", "a.txt", b"abc", sha1=hashlib.sha1(b"abc").hexdigest().upper())])[0]
    assert ok.ok, ok.error


@pytest.mark.parametrize(("fields", "problem"), [
    ({"name": "a.txt", "content_b64": "YQ=="}, "field 'customer_folder' is required"),
    ({"customer_folder": FOLDER, "name": " \u200b ", "content_b64": "YQ=="}, "field 'name' is required"),
    ({"customer_folder": FOLDER, "name": "a.txt"}, "exactly one of the fields 'content_b64' and 'source_url'"),
    ({"customer_folder": FOLDER, "name": "a.txt", "content_b64": "Y Q=="}, "field 'content_b64' is not valid"),
    ({"customer_folder": FOLDER, "name": "a.txt", "content_b64": "YQ==", "title": "x"}, "field(s) title"),
])
def test_bad_fields_give_an_error_naming_the_field(sim: BoxSimulator, fields: dict[str, Any], problem: str) -> None:
    result = connect(sim).write([Effect("att-bad", "store", "file", fields)])[0]
    assert not result.ok and problem in (result.error or "") and "att-bad" in (result.error or "")


# -- names are customer text ---------------------------------------------------------------
def test_customer_names_become_names_box_takes(sim: BoxSimulator) -> None:
    folder = "customer-9 O'Neil / ACME\\EU\r\n"
    result = connect(sim, allowed_types="*").write([store("att-1", "..", b"x", folder=folder),
                                 store("att-2", "bug\u202egnp.exe /../etc/passwd", b"y", folder=folder)])
    assert not result[0].ok and "field 'name'" in (result[0].error or "")
    assert result[1].ok, result[1].error
    [made] = sim.folders(SIM_ROOT_FOLDER)
    assert made["name"] == "customer-9 O'Neil - ACME-EU"
    assert customer_files(sim, made["name"])[0]["name"] == "buggnp.exe -..-etc-passwd"
    long = safe_name("x" * 300 + ".png")
    assert len(long) == 255 and long.endswith("x.png")


# -- retries -------------------------------------------------------------------------------
def test_a_maybe_applied_retry_after_a_lost_answer_finds_the_upload(sim: BoxSimulator) -> None:
    # The upload happens, but its answer comes too late: the POST is not resent (it may have been applied).
    sim.inject("timeout", times=1, path_contains="/files/content", method="POST", latency_s=1.0)
    first = connect(sim, RetryPolicy(read_timeout_s=0.3)).write([store("att-1", "trace.log", b"crash")])[0]
    assert not first.ok and "box" in (first.error or "")
    again = connect(sim).write([dataclasses.replace(store("att-1", "trace.log", b"crash"), maybe_applied=True)])[0]
    assert again.ok and again.found_existing, again.error
    [stored] = customer_files(sim)
    assert again.external_id == stored["id"] and key_of(stored) == "att-1"  # the key is written on the retry
    assert again.url == stored["shared_link"]["url"] and sim.effect_counts()["uploads"] == 1


def test_a_429_on_the_upload_is_waited_for_and_the_whole_file_sent_again(sim: BoxSimulator) -> None:
    sim.inject("429", times=1, path_contains="/files/content", method="POST", retry_after="1")
    started = time.monotonic()
    result = connect(sim).write([store("att-1", "screenshot.png", PNG)])[0]
    assert result.ok, result.error
    uploads = [x for x in sim.exchanges if x.path.endswith("/files/content")]
    assert [x.status for x in uploads] == [429, 201]
    assert uploads[1].at - uploads[0].at >= 0.95 and time.monotonic() - started >= 0.95
    assert uploads[1].request_body == uploads[0].request_body  # not a used-up stream
    assert customer_files(sim)[0]["content"] == PNG


# -- source_url --------------------------------------------------------------------------
class Cdn(Simulator):
    """Where a channel keeps a customer's attachment."""

    system = "cdn"

    @route("/media/<name>")
    def media(self, request: SimRequest, name: str) -> Response:
        return Response(PNG, content_type="image/png")


def test_a_source_url_on_an_allowed_host_is_fetched_and_stored(sim: BoxSimulator) -> None:
    with Cdn() as cdn:
        effect = Effect("att-1", "store", "file", {"customer_folder": FOLDER, "name": "shot.png",
                                                   "source_url": f"{cdn.base_url}/media/shot.png"})
        refused = connect(sim).write([effect])[0]
        assert not refused.ok and "not in source_hosts" in (refused.error or "") and not cdn.calls()
        result = connect(sim, source_hosts="127.0.0.1").write([effect])[0]
        assert result.ok, result.error
        too_big = connect(sim, source_hosts="127.0.0.1", max_bytes=100).write([effect])[0]
    assert customer_files(sim)[0]["content"] == PNG
    assert not too_big.ok and "over max_bytes (100)" in (too_big.error or "")


# -- the check and the description -----------------------------------------------------------
def test_check_needs_the_root_folder(sim: BoxSimulator) -> None:
    connect(sim).check()
    with pytest.raises(Exception, match="box GET /folders/999 -> 404: Could not find"):
        connect(sim, root_folder_id="999").check()


def test_a_shared_link_without_its_url_still_breaks_the_description(sim: BoxSimulator) -> None:
    if not (specs_dir() / SPEC).is_file():
        pytest.skip(f"{SPEC} is not checked out next to the repository")
    assert connect(sim).write([store("att-1", "a.txt", b"x")])[0].ok
    put = sim.calls("PUT", "/files/")[-1]
    body = json.loads(put.response_body)
    del body["shared_link"]["url"]
    broken = dataclasses.replace(put, response_body=json.dumps(body).encode())
    assert box_errors([put]) == [] and any("url" in p for p in box_errors([broken]))


def test_content_is_stored_byte_for_byte(sim: BoxSimulator) -> None:
    data = bytes(range(256))
    assert connect(sim).write([Effect("att-1", "store", "file", {
        "customer_folder": FOLDER, "name": "bin.zip", "content_b64": base64.b64encode(data).decode()})])[0].ok
    assert customer_files(sim)[0]["content"] == data


def test_only_the_documented_conflict_code_is_added_to_the_description(sim: BoxSimulator) -> None:
    if not (specs_dir() / SPEC).is_file():
        pytest.skip(f"{SPEC} is not checked out next to the repository")
    connector = connect(sim)
    assert connector.write([store("att-1", "a.txt", b"x")])[0].ok
    assert connect(sim).write([store("att-2", "b.txt", b"y")])[0].ok  # a new connector meets the folder's 409
    conflict = sim.calls("POST", "/2.0/folders")[-1]
    assert conflict.status == 409
    body = json.loads(conflict.response_body)
    made_up = dataclasses.replace(conflict, response_body=json.dumps({**body, "code": "name_taken"}).encode())
    assert box_errors([conflict]) == [] and any("name_taken" in p for p in box_errors([made_up]))
