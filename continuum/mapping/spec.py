"""The declarative field-mapping format (``mappings/<system>.<object>.yaml``).

A file maps one object of one system: ``inbound`` turns the system's payload
into canonical fields; ``outbound`` says, per action (create, comment,
reply...), how canonical records become the system's fields.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from jinja2 import TemplateSyntaxError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from continuum.mapping.templates import ENVIRONMENT

FieldType = Literal["any", "str", "int", "float", "bool", "datetime", "list"]

# What an inbound mapping may produce.  A fixed vocabulary catches typos at
# load time instead of silently dropping a field on every record.
INBOUND_FIELDS = frozenset({
    # the interaction
    "source_id", "thread_id", "parent_id", "direction", "kind", "title", "text", "language",
    "url", "channel", "created_at", "updated_at", "is_thread_start",
    # the author
    "author_account_id", "author_handle", "author_name", "author_email", "author_email_verified",
    # a ticket or comment read back from a target system
    "status", "resolution", "released", "public", "summary", "votes", "labels",
    # a CRM contact (the `contacts` stream): who the customer is to sales; handles.<channel> per channel
    "crm_id", "email", "name", "tier", "owner", "first_channel",
})
HANDLE_FIELD = re.compile(r"^handles\.[a-z][a-z0-9_-]{0,39}$")  # handles.x, handles.mastodon: one per channel
Direction = Literal["in", "out", "both"]
# Who wins when both sides changed a two-way field since the last sync: one side always (its source of truth),
# or the later change (by the records' versions).
Wins = Literal["crm", "hub", "later"]


class FieldSpec(BaseModel):
    """How one field is produced: exactly one of ``path``, ``template`` or ``value``."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(None, description="Dotted path into the source (list items by index: a.0.b)")
    template: str | None = Field(None, description="Jinja2 template rendered with the record's context")
    value: Any = Field(None, description="A literal value")
    map: dict[str, Any] | None = Field(None, description="Translate the produced value (e.g. status names)")
    default: Any = Field(None, description="Used when the produced value is missing or empty")
    required: bool = False
    type: FieldType = "any"
    max_length: int | None = Field(None, gt=0, description="Longest accepted text; longer is an error")
    # Two-way sync (CRM contacts): `in` reads the field, `out` writes the hub's value back to `path`, `both` does
    # both and needs `wins` for a conflict.
    direction: Direction = "in"
    wins: Wins | None = None

    @model_validator(mode="after")
    def _two_way(self) -> FieldSpec:
        if self.direction != "in" and self.path is None:
            raise ValueError(f"direction {self.direction!r} writes the field back: give its `path` (the system's "
                             "field name), not a template or value")
        if self.direction == "both" and self.wins is None:
            raise ValueError("direction 'both' needs `wins: crm | hub | later` (who wins when both sides changed)")
        if self.direction != "both" and self.wins is not None:
            raise ValueError(f"`wins` applies only to direction 'both' (this field is {self.direction!r})")
        return self

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        given = [name for name in ("path", "template", "value") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give only one of path, template or value (got {', '.join(given)})")
        if not given and self.default is None:
            raise ValueError("give one of path, template, value or default")
        return self

    @field_validator("template")
    @classmethod
    def _compiles(cls, template: str | None) -> str | None:
        if template is not None:
            try:
                # Compiled, not only parsed: compiling also finds filters and tests Jinja does not have.
                ENVIRONMENT.from_string(template)
            except TemplateSyntaxError as exc:  # TemplateAssertionError (an unknown filter) is one too
                raise ValueError(f"template does not compile: {exc.message} (template line {exc.lineno})") from None
        return template

    @field_validator("map", mode="before")
    @classmethod
    def _string_keys(cls, value: Any) -> Any:
        # YAML reads `5: feature_request` with an int key; payload values are matched as text.
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value


class OutboundAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    object_type: str | None = Field(None, description="The object this action makes (defaults to the file's object)")
    fields: dict[str, FieldSpec] = Field(description="Target field (dotted path builds nested objects) → spec")


class MappingFile(BaseModel):
    """One ``mappings/<system>.<object>.yaml`` file."""

    model_config = ConfigDict(extra="forbid")

    system: str
    object: str
    description: str = ""
    inbound: dict[str, FieldSpec] = Field(default_factory=dict)
    outbound: dict[str, OutboundAction] = Field(default_factory=dict)

    @field_validator("inbound")
    @classmethod
    def _known_fields(cls, inbound: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        unknown = sorted(name for name in set(inbound) - INBOUND_FIELDS if not HANDLE_FIELD.match(name))
        if unknown:
            known = ", ".join(sorted(INBOUND_FIELDS))
            raise ValueError(f"unknown canonical field(s) {', '.join(unknown)}; known: {known}, handles.<channel>")
        return inbound

    @field_validator("outbound")
    @classmethod
    def _known_actions(cls, outbound: dict[str, OutboundAction]) -> dict[str, OutboundAction]:
        # notice: a shipped feature's message; alert: an SLA breach; notify: a chat message; store: a file put
        # in a document store; attachments: the comment that links a ticket to its stored files; expert: the
        # notice that starts a routed ticket's chat thread; expert_comment: a reply there, as an internal comment.
        allowed = {"create", "update", "comment", "reply", "transition", "notice", "alert", "notify", "store",
                   "attachments", "expert", "expert_comment"}
        unknown = sorted(set(outbound) - allowed)
        if unknown:
            raise ValueError(f"unknown action(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}")
        return outbound
