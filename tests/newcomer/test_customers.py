"""Issue #10, item 10: list and find customers; split takes what show prints; merge + split leak nothing."""

from __future__ import annotations

import json

import pytest

from tests.newcomer.conftest import Loop, cli


def customer_of(handle: str) -> dict:
    (found,) = json.loads(cli("customers", "find", handle, "--json").stdout)
    return found


def test_find_list_and_a_merge_undone_by_split(loop: Loop, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", loop.db_url)
    loop.discourse.add_user("ann.lee", "Ann Lee", "ann@lee.example")
    loop.discourse.add_user("annie", "Annie L.", "annie@elsewhere.example")
    loop.discourse.create_topic("ann.lee", "bugs", "Export crashes", "The export crashes")
    loop.discourse.create_topic("annie", "bugs", "Login crashes", "The login crashes")
    assert cli("sync").exit_code == 0
    listed = json.loads(cli("customers", "list", "--json").stdout)
    assert {p["display_name"] for p in listed} == {"Ann Lee", "Annie L."}
    assert all(p["interactions"] == 1 for p in listed)
    ann, annie = customer_of("ann.lee"), customer_of("ANNIE")  # by handle, any case
    assert customer_of("ann@lee.example")["id"] == ann["id"]  # by e-mail
    assert customer_of("Annie L")["id"] == annie["id"]  # by name
    assert "Ann Lee" in cli("customers", "list").output

    assert cli("customers", "tier", str(annie["id"]), "vip").exit_code == 0
    assert cli("customers", "merge", str(ann["id"]), str(annie["id"])).exit_code == 0
    merged = customer_of("ann.lee")
    forum = [i for i in merged["identities"] if i["system"] == "discourse"]  # besides their CRM contacts
    assert merged["tier"] == "vip" and len(forum) == 2
    shown = cli("customers", "show", str(ann["id"])).output
    assert "discourse:annie" in shown
    result = cli("customers", "split", str(ann["id"]), "discourse:annie")  # exactly what show printed
    assert result.exit_code == 0, result.output
    ann_after, annie_after = customer_of("ann.lee"), customer_of("annie")
    assert (ann_after["display_name"], ann_after["tier"], ann_after["primary_email"]) == \
        ("Ann Lee", "standard", "ann@lee.example")
    assert (annie_after["id"], annie_after["display_name"], annie_after["tier"]) == (annie["id"], "Annie L.", "vip")
    assert ann_after["interactions"] == annie_after["interactions"] == 1
    bad = cli("customers", "split", str(ann["id"]), "discourse:nobody")
    assert bad.exit_code == 1 and "it has: discourse:ann.lee" in bad.output


def test_customers_import_still_imports_but_says_the_crm_sync_replaces_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CONTINUUM_DB_URL", f"sqlite:///{tmp_path / 'store.db'}")
    export = tmp_path / "crm.yaml"
    export.write_text("- {crm_id: '0035g000001', name: Greta Hoffmann, email: greta@kraftwerk-it.de, tier: vip}\n")
    assert cli("migrate").exit_code == 0
    result = cli("customers", "import", str(export))
    assert result.exit_code == 0, result.output
    assert "imported 1 customers" in result.stdout
    warning = [line for line in result.stderr.splitlines() if "deprecated" in line]
    assert len(warning) == 1 and "crm:" in warning[0] and "import" not in result.stdout.split("imported")[0]
    assert customer_of("greta@kraftwerk-it.de")["tier"] == "vip"
    assert "deprecated" in cli("customers", "--help").output.lower()
