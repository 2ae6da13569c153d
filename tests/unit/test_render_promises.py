"""What a mapping renders: paths, types, defaults, map, max_length, templates, required fields, and errors
that name the field and say in words what is wrong (the operator reads them in the dead-letter list)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from continuum.mapping import MappingError, MappingFile, map_inbound, map_outbound

PLUS_TWO = timezone(timedelta(hours=2))


def inbound(**fields: dict[str, Any]) -> MappingFile:
    return MappingFile.model_validate({"system": "x", "object": "post", "inbound": fields})


def one(spec: dict[str, Any], payload: dict[str, Any], field: str = "text") -> Any:
    """The value one inbound field spec produces from one payload."""
    return map_inbound(inbound(**{field: spec}), payload)[field]


def failure(spec: dict[str, Any], payload: Any, field: str = "text") -> MappingError:
    with pytest.raises(MappingError) as err:
        map_inbound(inbound(**{field: spec}), payload)
    return err.value


def says(message: str, words: str) -> bool:
    """The message says ``words`` as words (not as part of a longer word)."""
    return re.search(rf"(?<!\w){re.escape(words)}(?!\w)", message) is not None


# --- paths -------------------------------------------------------------------------------------------

ITEMS = {"items": [{"id": "first"}, {"id": "second"}]}


@pytest.mark.parametrize(("path", "expected"), [
    ("items.0.id", "first"), ("items.1.id", "second"),
    ("items.-1.id", "second"), ("items.-2.id", "first"),  # negative indexes count from the end
    ("items.2.id", None), ("items.-3.id", None), ("items.9.id", None),  # past either end: nothing, no error
    ("items.first.id", None), ("items.X1.id", None), ("items.-.id", None),  # not an index: nothing
])
def test_a_path_indexes_lists_from_either_end_and_a_step_that_is_not_there_gives_nothing(
        path: str, expected: str | None) -> None:
    assert one({"path": path}, ITEMS) == expected


def test_a_path_does_not_index_into_text() -> None:
    # "title.0" on a string is a missing step, not the string's first character.
    assert one({"path": "title.0"}, {"title": "hello"}) is None


# --- datetimes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-11-22T10:00:00Z", datetime(2026, 11, 22, 10, tzinfo=UTC)),
    ("2026-11-22T10:00:00.000+0000", datetime(2026, 11, 22, 10, tzinfo=UTC)),  # Jira's offset without colon
    ("2026-11-22T12:00:00+02:00", datetime(2026, 11, 22, 10, tzinfo=UTC)),
    ("2026-11-22T10:00:00", datetime(2026, 11, 22, 10, tzinfo=UTC)),  # no offset: read as UTC
    ("2026-11-22T10:00:00.123456", datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)),
    ("2026-11-22", datetime(2026, 11, 22, tzinfo=UTC)),
    ("2026-11-22Z", datetime(2026, 11, 22, tzinfo=UTC)),  # a date in UTC (XML Schema's xs:date form)
    (1_700_000_000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),  # Unix seconds
    (datetime(2026, 11, 22, 10), datetime(2026, 11, 22, 10, tzinfo=UTC)),  # a client's naive datetime
    (datetime(2026, 11, 22, 12, tzinfo=PLUS_TWO), datetime(2026, 11, 22, 10, tzinfo=UTC)),
])
def test_datetimes_are_always_timezone_aware_and_keep_their_instant(raw: Any, expected: datetime) -> None:
    value = one({"path": "at", "type": "datetime"}, {"at": raw}, field="created_at")
    assert value.tzinfo is not None and value.utcoffset() is not None
    assert value == expected


def test_a_given_offset_is_kept_not_replaced_by_utc() -> None:
    value = one({"path": "at", "type": "datetime"}, {"at": "2026-11-22T12:00:00+02:00"}, field="created_at")
    assert value.utcoffset() == timedelta(hours=2)
    aware = datetime(2026, 11, 22, 12, tzinfo=PLUS_TWO)
    assert one({"path": "at", "type": "datetime"}, {"at": aware}, field="created_at").utcoffset() == timedelta(hours=2)


# --- types -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("true", True), ("True", True), (" yes ", True), ("YES", True), ("1", True),
    ("false", False), ("FALSE", False), ("no", False), ("No", False), ("0", False), ("  ", False),
    (1, True), (0, False),
])
def test_bool_fields_read_the_usual_words(raw: Any, expected: bool) -> None:
    assert one({"path": "v", "type": "bool"}, {"v": raw}, field="public") is expected


def test_a_bool_field_rejects_other_words_and_quotes_them() -> None:
    err = failure({"path": "v", "type": "bool"}, {"v": "maybe"}, field="public")
    assert err.field == "public" and "'maybe'" in err.message and says(err.message, "true or false")


def test_int_and_float_fields_convert_text_to_numbers() -> None:
    assert one({"path": "v", "type": "int"}, {"v": "42"}, field="votes") == 42
    assert one({"path": "v", "type": "float"}, {"v": "2.5"}, field="votes") == 2.5


def test_an_int_field_rejects_a_boolean_rather_than_counting_it_as_one() -> None:
    err = failure({"path": "v", "type": "int"}, {"v": True}, field="votes")
    assert err.field == "votes" and says(err.message, "boolean")


def test_a_list_field_wraps_a_single_value_and_keeps_a_list() -> None:
    assert one({"path": "v", "type": "list"}, {"v": "bug"}, field="labels") == ["bug"]
    assert one({"path": "v", "type": "list"}, {"v": ["bug", "ui"]}, field="labels") == ["bug", "ui"]


@pytest.mark.parametrize(("raw", "what"), [({"a": 1}, "JSON object"), ([1, 2], "JSON array")])
def test_a_text_field_rejects_structured_values_and_says_which(raw: Any, what: str) -> None:
    err = failure({"path": "v", "type": "str"}, {"v": raw})
    assert err.field == "text" and says(err.message, what)


def test_a_text_field_turns_numbers_into_text() -> None:
    assert one({"path": "v", "type": "str"}, {"v": 7}) == "7"


@pytest.mark.parametrize(("raw", "what"), [
    ("ab\x00cd", "NUL character at character 2"),
    ("ab\ud800cd", "lone surrogate U+D800 at character 2"),
])
def test_text_postgresql_cannot_store_fails_its_record_and_says_what_and_where(raw: str, what: str) -> None:
    err = failure({"path": "v", "type": "str"}, {"v": raw})
    assert err.field == "text" and says(err.message, what)


# --- defaults, map, required, max_length -------------------------------------------------------------

@pytest.mark.parametrize("payload", [{}, {"v": None}, {"v": ""}])
def test_a_default_fills_a_missing_or_empty_value(payload: dict[str, Any]) -> None:
    assert one({"path": "v", "default": "fallback"}, payload) == "fallback"


def test_a_present_value_beats_the_default() -> None:
    assert one({"path": "v", "default": "fallback"}, {"v": "given"}) == "given"


def test_map_translates_and_an_unmapped_value_passes_through_without_a_default() -> None:
    spec = {"path": "v", "map": {"open": "new", 5: "feature_request"}}
    assert one(spec, {"v": "open"}, field="status") == "new"
    assert one(spec, {"v": 5}, field="status") == "feature_request"  # matched as text
    assert one(spec, {"v": "closed"}, field="status") == "closed"


def test_map_with_a_default_uses_it_for_unmapped_values() -> None:
    spec = {"path": "v", "map": {"open": "new"}, "default": "other"}
    assert one(spec, {"v": "closed"}, field="status") == "other"
    assert one(spec, {"v": "open"}, field="status") == "new"


def test_a_required_field_that_is_missing_or_empty_names_itself() -> None:
    for payload in ({}, {"v": ""}):
        err = failure({"path": "v", "required": True}, payload, field="title")
        assert err.field == "title" and says(err.message, "required")
        assert str(err).startswith("title: ")


def test_max_length_allows_exactly_the_limit_and_rejects_one_more() -> None:
    spec = {"path": "v", "type": "str", "max_length": 5}
    assert one(spec, {"v": "12345"}) == "12345"
    err = failure(spec, {"v": "123456"})
    assert err.field == "text" and says(err.message, "6 characters") and says(err.message, "5 allowed")


# --- whole records, templates, outbound --------------------------------------------------------------

@pytest.mark.parametrize(("payload", "type_name"), [([1, 2], "list"), ("text", "str"), (None, "NoneType")])
def test_a_payload_that_is_not_an_object_fails_the_whole_record(payload: Any, type_name: str) -> None:
    err = failure({"path": "v"}, payload)
    assert err.field == "(record)" and says(err.message, type_name)


def test_inbound_templates_see_the_payload_as_record_and_the_given_context() -> None:
    mapping = inbound(title={"template": "{{ record.subject }} ({{ board }})"})
    assert map_inbound(mapping, {"subject": "Login fails"}, {"board": "support"})["title"] == "Login fails (support)"


def test_outbound_paths_read_the_context_and_nested_names_build_objects() -> None:
    mapping = MappingFile.model_validate({"system": "x", "object": "issue", "outbound": {"create": {"fields": {
        "fields.summary": {"path": "interaction.title", "type": "str"},
        "fields.labels": {"value": ["support"]},
        "fields.assignee": {"path": "interaction.owner"},  # missing: left out, not sent as null
    }}}})
    fields = map_outbound(mapping, "create", {"interaction": {"title": "Login fails"}}, str)
    assert fields == {"fields": {"summary": "Login fails", "labels": ["support"]}}


def test_an_outbound_action_the_mapping_lacks_is_an_error_naming_it() -> None:
    mapping = MappingFile.model_validate({"system": "x", "object": "issue", "outbound": {
        "create": {"fields": {"summary": {"value": "s"}}}}})
    with pytest.raises(MappingError) as err:
        map_outbound(mapping, "comment", {}, str)
    assert err.value.field == "outbound.comment" and says(err.value.message, "comment")


@pytest.mark.parametrize(("text", "instant"), [
    ("2026-11-22+02:00", "2026-11-21T22:00:00+00:00"),  # a date at an offset is midnight there
    ("2026-11-22-0500", "2026-11-22T05:00:00+00:00"),
    ("2026-11-22T10:00:00z", "2026-11-22T10:00:00+00:00"),  # RFC 3339 allows a lower-case z
    ("2026-11-22z", "2026-11-22T00:00:00+00:00"),
])
def test_dates_with_offsets_and_a_lower_case_z_are_the_right_instant(text: str, instant: str) -> None:
    from continuum.mapping.render import parse_datetime

    assert parse_datetime(text).astimezone(UTC).isoformat() == instant
