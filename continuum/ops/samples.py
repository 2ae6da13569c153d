"""Render every outbound template against a sample record, as ``continuum validate`` does.

A template that names something the engine never gives it (``{{ interaction.titel }}``),
or a filter Jinja does not have, would otherwise pass every check and fail
only at run time, as one dead letter per record.  Here each mapping is
rendered in each role the hub config gives it (a ticket, a feature request's
ticket, a reply channel, a chat channel) with the context the engine builds
for that role, under the same strict environment a sync uses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from continuum.config import HubConfig
from continuum.connector import JSON
from continuum.mapping import ConfigError, MappingError, MappingFile, map_outbound
from continuum.mapping.yamlfile import line_of, read_yaml

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


def sample_interaction(source: str) -> JSON:
    """Every column of an interaction row, filled the way a read and a triage fill them."""
    return {
        "id": 101, "source_system": source, "source_id": "post:1001", "customer_id": 7, "thread_id": "501",
        "parent_id": None, "direction": "inbound", "kind": "feature_request", "title": "Dark mode, please",
        "text": "Could the app get a dark mode? My eyes hurt at night.", "language": "en",
        "url": "https://community.example.com/t/dark-mode/501/1", "channel": f"{source}/feature-requests",
        "created_at": NOW, "updated_at": NOW, "status": "triaged", "team": "rnd", "priority": "normal",
        "sla_policy": "standard", "sla_due": NOW, "answered_at": None, "route": "jira", "feature_request_id": 3,
        "in_reply_to": None, "is_thread_start": True, "content_hash": "0" * 64, "override": None,
        "first_seen_at": NOW, "last_seen_at": NOW,
    }


def sample_customer() -> JSON:
    return {"id": 7, "display_name": "Mara Lindqvist", "primary_email": "mara@example.com", "tier": "standard",
            "merged_into": None, "created_at": NOW, "updated_at": NOW, "handle": "mara.lindqvist", "owner": None,
            # What the outbound planner adds: their account in the target system (a CRM contact), if any.
            "target_account": None}


def sample_feature_request() -> JSON:
    return {"id": 3, "title": "Dark mode", "summary": "Could the app get a dark mode?", "status": "open",
            "votes": 2, "match_text": "dark mode", "voices_hash": None, "shipped_at": None,
            "created_at": NOW, "updated_at": NOW}


def sample_voices() -> list[JSON]:
    return [{"id": 101, "customer_id": 7, "customer": "Mara Lindqvist", "channel": "discourse/feature-requests",
             "url": "https://community.example.com/t/dark-mode/501/1", "quote": "Could the app get a dark mode?",
             "created_at": NOW}]


def _system(hub: HubConfig, name: str) -> JSON:
    options = dict(hub.systems[name].options) if name in hub.systems else {}
    return {"name": name, "account": "hub-account", "options": options}


Context = Callable[[str], JSON]  # action -> the template context for it


def _about(hub: HubConfig, source: str, target: str) -> JSON:
    return {"interaction": sample_interaction(source), "customer": sample_customer(),
            "target": _system(hub, target), "source": _system(hub, source)}


SLA = {"sla": {"policy": "standard", "due": NOW, "priority": "normal"}}
FILES = {"files": [{"name": "screenshot.png", "url": "https://files.example.com/s/abc", "size": 48213,
                    "content_type": "image/png"}],
         "not_stored": [{"name": "dump.exe", "size": 1200, "reason": "type .exe is not in allowed_types"}]}
ATTACHMENT = {"attachment": {"name": "screenshot.png", "content_type": "image/png", "size": 48213,
                             "sha256": "0" * 64}}


def sample_context(hub: HubConfig, role: str, source: str, system: str, action: str) -> JSON:
    """The template context the engine builds for ``action`` of a mapping used in ``role``."""
    if role == "feature":
        return {"feature_request": sample_feature_request(), "voices": sample_voices(), "target": _system(hub, system)}
    if role == "reply":
        answer = {**sample_interaction(system), "id": 202, "direction": "outbound", "kind": "answer",
                  "text": "It shipped today: Settings > Appearance."}
        extra: JSON = {"feature": sample_feature_request()} if action == "notice" else {"answer": answer}
        return {**_about(hub, system, system), **extra}
    extra = SLA if action == "alert" else FILES if action == "attachments" else ATTACHMENT if role == "store" else {}
    if role == "notify":
        extra = {**extra, "notify": {"channel": "#support", "reason": "a rule"}}
    if action == "expert":  # the notice that starts a routed ticket's chat thread
        extra = {**extra, "ticket": {"system": "tracker", "id": "PROD-7", "url": "https://tracker.example.com/PROD-7"}}
    if action == "expert_comment":  # a reply in that thread, as an internal comment on the ticket
        extra = {**extra, "expert": {"author": "U0EXPERT1", "text": "Clear the cache, then retry.",
                                     "url": "https://chat.example.com/threads/1"}}
    return {**_about(hub, source, system), **extra}


# Actions that only one role renders: a chat mapping may both answer customers and notify staff, and each
# role's sample context has only what its own actions use.
ROLE_ACTIONS = {"reply": frozenset({"reply", "notice"}), "notification": frozenset({"notify", "alert", "expert"})}


def renders(role: str, action: str) -> bool:
    kind = role.split(" ")[0]
    return not any(action in actions and kind != owner for owner, actions in ROLE_ACTIONS.items())


def _roles(hub: HubConfig) -> list[tuple[str, str, Context]]:
    """(mapping file, role, context per action) for every way the config uses a mapping's outbound side."""
    found: list[tuple[str, str, Context]] = []
    for pipeline in hub.pipelines.values():
        source = pipeline.sources[0].system if pipeline.sources else "source"
        for target in pipeline.targets:
            found.append((target.mapping, f"ticket in {target.system}",
                          partial(sample_context, hub, "ticket", source, target.system)))
        if pipeline.feature_request_mapping:
            system = next((t.system for t in pipeline.targets), "tracker")
            found.append((pipeline.feature_request_mapping, "feature request's ticket",
                          partial(sample_context, hub, "feature", source, system)))
        for channel, name in pipeline.reply_mapping.items():
            found.append((name, f"reply on {channel}", partial(sample_context, hub, "reply", source, channel)))
        if pipeline.attachments:
            found.append((pipeline.attachments.mapping, f"file in {pipeline.attachments.system}",
                          partial(sample_context, hub, "store", source, pipeline.attachments.system)))
        for chat, name in pipeline.notify_mapping.items():
            found.append((name, f"notification in {chat}", partial(sample_context, hub, "notify", source, chat)))
        if pipeline.expert_threads:
            chat = pipeline.expert_threads.system
            found.append((pipeline.expert_threads.mapping, f"notification in {chat} (expert thread)",
                          partial(sample_context, hub, "notify", source, chat)))
    return found


def render_problems(hub: HubConfig, mappings: dict[str, MappingFile], label: str) -> list[str]:
    """Every outbound field that does not render against its role's sample record, with file and line."""
    problems: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for name, role, context in _roles(hub):
        mapping = mappings.get(name)
        if mapping is None:
            continue
        path = hub.file(name)
        for action in (a for a in mapping.outbound if renders(role, a)):
            for field in mapping.outbound[action].fields:
                spec = mapping.outbound[action].fields[field]
                if spec.template is None:
                    continue
                try:
                    map_outbound(_only(mapping, action, field), action, context(action), _identity)
                except MappingError as exc:
                    key = (name, action, field)
                    if key not in seen:
                        seen.add(key)
                        problems.append(f"{_where(path, ('outbound', action, 'fields', field))}: "
                                        f"outbound.{action}.fields.{field}: {exc.message} "
                                        f"(rendered as a {role} against a sample record)")
    return problems


def _only(mapping: MappingFile, action: str, field: str) -> MappingFile:
    """The mapping with one field of one action, so each broken field is reported on its own."""
    spec = mapping.outbound[action]
    return mapping.model_copy(update={"outbound": {action: spec.model_copy(
        update={"fields": {field: spec.fields[field]}})}})


def _where(path: Path, loc: tuple[str | int, ...]) -> str:
    try:
        _, positions = read_yaml(path)
    except ConfigError:
        return str(path)
    line = line_of(positions, loc)
    return f"{path}:{line}" if line else str(path)


def _identity(text: Any) -> str:
    return str(text)
