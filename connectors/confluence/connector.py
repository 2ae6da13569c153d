"""ConfluenceConnector: pages the hub keeps in one space (effect ``publish``), each with a section the hub owns.

``publish`` (object type ``page``) carries ``title``, a plain ``document`` (see
:mod:`connectors.confluence.storage`), optional ``labels`` and ``parent_id``, and the page's id as
``target_id`` once the hub knows it.  The page is found by its id, else by its title (titles are unique in a
space, so the title is the page's key: a retry after a lost answer, or a store rebuilt from nothing, finds the
page the hub made instead of making a second one).  Then:

* no page: it is created under ``parent_id`` (the option, or the effect's) with the hub's labels: two writes;
* a page: the hub's section (between its two anchor macros) is replaced and every other byte of the page is
  kept (the staff's notes above or below it).  When that changes nothing, nothing is written; otherwise one
  write, the next version after the one read.  A 409 (someone saved the page since it was read) reads the
  page again and splices into the fresh version, up to ``conflict_retries`` times: a person's edit is never
  overwritten.  Markers a person broke stop the write with an error naming the page.

``delete`` (object type ``page``, the page's id as ``target_id``) takes a page away for good, trash and then
purge, so its earlier versions go too (a customer's erasure): one or two writes; a page already gone is done.
``prune`` (the same shape) keeps the page as it is now and deletes its earlier versions, one write each: what a
page said about an erased customer before the hub wrote it again without them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from connectors.confluence.client import SYSTEM, ConfluenceApi, ConfluenceError, storage_of, version_of
from connectors.confluence.config import ConfluenceConfig
from connectors.confluence.plugin import CAPABILITIES
from connectors.confluence.storage import clean, render_section, splice, title_of
from continuum.connector import JSON, Effect, EffectResult, Page
from continuum.http import RetryPolicy
from continuum.kit import EffectDispatcher, succeeded

FIELDS = frozenset({"title", "document", "labels", "parent_id"})
_LABEL = re.compile(r"^[a-z0-9_-]{1,255}$")  # Confluence labels: lower case, no spaces


class ConfluenceConnector:
    system = SYSTEM
    capabilities = CAPABILITIES
    account: str | None = None  # written to only: nothing read back can be the hub's own voice

    def __init__(self, config: ConfluenceConfig, policy: RetryPolicy | None = None) -> None:
        self.config = config
        self.api = ConfluenceApi(config, policy)
        self.dispatch = EffectDispatcher(
            self.system, {"publish": self._publish, "delete": self._delete, "prune": self._prune}
        )
        self._space_id: str | None = None
        self.writes = 0  # pages created, saved or labelled by this connector (the benchmark reads it)

    def check(self) -> None:
        self.api.me()  # the account and token work
        self._space()  # and the space is there for them

    def escape_text(self, text: str) -> str:
        # Markup is escaped where the page is rendered (a Jinja2 template with autoescape): this only drops what
        # XML cannot carry and the direction overrides, so escaping twice never shows "&amp;lt;" to staff.
        return clean(text)

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        raise ValueError(f"Confluence has no stream {stream!r}: the hub writes pages there and reads none")

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return self.dispatch.write(effects)

    def _space(self) -> str:
        if self._space_id is None:
            self._space_id = self.api.space_id(self.config.space)
        return self._space_id

    # -- publish ------------------------------------------------------------------------
    def _publish(self, effect: Effect) -> EffectResult:
        fields = effect.fields
        unknown = sorted(set(fields) - FIELDS)
        if unknown:
            raise ValueError(f"field(s) {', '.join(unknown)}: not publish fields ({', '.join(sorted(FIELDS))})")
        title = title_of(fields["title"]) if isinstance(fields.get("title"), str) else ""
        if not title:
            raise ValueError("field 'title' is required: the page's title, as text")
        section = render_section(fields.get("document"))
        labels = self._labels(fields.get("labels"))
        parent = fields.get("parent_id") or self.config.parent_id
        if parent is not None and not str(parent).isdigit():
            raise ValueError(f"field 'parent_id' must be a page id, not {str(parent)[:40]!r}")
        page = self.api.page(effect.target_id) if effect.target_id else None
        if page is None:
            page = self.api.page_titled(self._space(), title)
        if page is None:
            made = self.api.create_page(self._space(), str(parent) if parent else None, title, section)
            self.api.add_labels(str(made["id"]), labels)
            self.writes += 2
            return self._result(effect, made, found=False)
        if effect.maybe_applied and "continuum-start" in storage_of(page):
            # Perhaps our own create whose labelling was cut off: labelling is idempotent, so make sure of it.
            self.api.add_labels(str(page["id"]), labels)
            self.writes += 1
        return self._update(effect, page, title, section, labels)

    def _delete(self, effect: Effect) -> EffectResult:
        if self.api.delete_page(_page_id(effect)):
            self.writes += 2
        # Nothing to link: the page is gone, and the engine keeps no link to it.
        return EffectResult(key=effect.key, ok=True, object_type="page", found_existing=effect.maybe_applied)

    def _prune(self, effect: Effect) -> EffectResult:
        page = self.api.page(_page_id(effect))
        if page is not None:  # a page gone has no versions left
            self.writes += self.api.delete_versions(str(page["id"]), version_of(page))
        return EffectResult(key=effect.key, ok=True, object_type="page", found_existing=effect.maybe_applied)

    def _update(self, effect: Effect, page: JSON, title: str, section: str, labels: list[str]) -> EffectResult:
        first_time = "continuum-start" not in storage_of(page)  # a page of that title the hub never wrote in
        for attempt in range(self.config.conflict_retries + 1):
            current = storage_of(page)
            body = splice(current, section)
            if body == current and page.get("title") == title:
                return self._result(effect, page, found=True)  # it says this already: nothing to write
            try:
                saved = self.api.update_page(page, title, body, f"Continuum ({effect.key})")
            except ConfluenceError as exc:
                if exc.status != 409 or attempt == self.config.conflict_retries:
                    raise
                fresh = self.api.page(str(page["id"]))  # saved by someone since we read it: splice into theirs
                if fresh is None:
                    raise ConfluenceError(
                        SYSTEM, f"page {page['id']} was deleted while the hub wrote it", status=404
                    ) from None
                page = fresh
                continue
            self.writes += 1
            if first_time:
                self.api.add_labels(str(saved["id"]), labels)
                self.writes += 1
            return self._result(effect, saved, found=False)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _labels(self, given: object) -> list[str]:
        extra = given if isinstance(given, list) else [] if given is None else None
        if extra is None or not all(isinstance(n, str) and _LABEL.match(n) for n in extra):
            raise ValueError("field 'labels' must be a list of labels (lower case letters, digits, - and _)")
        return list(dict.fromkeys([self.config.label, *extra]))

    def _result(self, effect: Effect, page: JSON, *, found: bool) -> EffectResult:
        links = page.get("_links") or {}
        webui = str(links.get("webui") or "")
        url = f"{links.get('base') or self.config.wiki}{webui}" if webui else None
        return succeeded(
            effect, str(page["id"]), object_type="page", version=str(version_of(page)), url=url, found_existing=found
        )


def _page_id(effect: Effect) -> str:
    page_id = str(effect.target_id or "")
    if not page_id.isdigit():
        raise ValueError(f"target_id must be the id of a page, not {page_id[:40]!r}")
    return page_id
