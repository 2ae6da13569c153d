"""BoxConnector: stores customers' attachments in Box, once, in a folder per customer (effect ``store``).

A file is stored once per customer folder: Box keeps every file's SHA-1, so before uploading, the folder is
listed and a file with the same content is returned as it is (``found_existing``).  A different file under a
name already taken gets a suffix ("trace (2).log").  The effect's key goes into the file's description, so a
retry (and a person in Box) can tell which effect made it.  The result links to a shared link (access from
``shared_link_access``), so a ticket links to the file instead of attaching it again.

A file over ``max_bytes`` or of a type not in ``allowed_types`` fails with a reason naming the file and the
limit; nothing is sent to Box.  Names (customer folder, file) are customer text: ``escape_text`` makes them
names Box takes, inert wherever Box shows them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

import requests

from connectors.box.client import SYSTEM, BoxApi, BoxError, shared_url
from connectors.box.config import BoxConfig
from connectors.box.plugin import CAPABILITIES
from continuum.connector import JSON, Effect, EffectResult, Page
from continuum.http import RetryPolicy, new_session
from continuum.kit import EffectDispatcher, PermanentError, succeeded

FIELDS = frozenset({"customer_folder", "name", "content_b64", "source_url", "sha1", "sha256", "content_type",
                    "size"})
KEY_PREFIX = "continuum-key: "  # the description of every file the hub stored
MAX_NAME = 255  # Box's limit for a file or folder name
MAX_CLASHES = 20  # suffixes tried when names are taken
# Invisible or direction-changing characters: a name must read as it is (no "gpj.exe" shown as "exe.jpg").
_INVISIBLE = re.compile("[\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe_name(text: str) -> str:
    """``text`` as a name Box takes and shows literally: no slashes, controls or invisible characters, no
    leading or trailing spaces, at most 255 characters (the extension kept), never "." or ".."."""
    name = _INVISIBLE.sub("", _CONTROL.sub(" ", text)).replace("/", "-").replace("\\", "-")
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        keep = f".{ext}" if dot and stem and len(ext) <= 16 else ""
        name = name[:MAX_NAME - len(keep)].rstrip() + keep
    return "" if name in (".", "..") else name


def key_of(item: JSON) -> str | None:
    description = str(item.get("description") or "")
    return description[len(KEY_PREFIX):].strip() or None if description.startswith(KEY_PREFIX) else None


class BoxConnector:
    system = SYSTEM
    capabilities = CAPABILITIES
    account: str | None = None  # Box is written to only: nothing read back can be the hub's own voice

    def __init__(self, config: BoxConfig, policy: RetryPolicy | None = None) -> None:
        self.config = config
        self.api = BoxApi(config, policy)
        self.policy = policy
        self.dispatch = EffectDispatcher(self.system, {"store": self._store})
        self._folders: dict[str, str] = {}  # customer folder name (lower case, as Box compares) -> id

    def check(self) -> None:
        # The token works and can see the root folder the customer folders go into.
        self.api.folder(self.config.root_folder_id)

    def escape_text(self, text: str) -> str:
        return safe_name(text)

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        raise ValueError(f"Box has no stream {stream!r}: it is a document store the hub writes to")

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        return self.dispatch.write(effects)

    # -- store ----------------------------------------------------------------------
    def _store(self, effect: Effect) -> EffectResult:
        fields = effect.fields
        unknown = sorted(set(fields) - FIELDS)
        if unknown:
            raise ValueError(f"field(s) {', '.join(unknown)}: not store fields ({', '.join(sorted(FIELDS))})")
        folder_name, name = _name(fields, "customer_folder"), _name(fields, "name")
        blocked = self.config.blocked_type(name, _text(fields, "content_type"))
        if blocked:
            raise PermanentError(f"file {name!r} blocked (final: a retry will not help): {blocked}")
        size = fields.get("size")
        if isinstance(size, int) and size > self.config.max_bytes:  # known too large: refused before any bytes move
            raise PermanentError(_too_large(name, size, self.config.max_bytes))
        content = self._content(fields, name)
        sha1 = hashlib.sha1(content).hexdigest()
        _check_hash(fields, "sha1", sha1, name)
        _check_hash(fields, "sha256", hashlib.sha256(content).hexdigest(), name)
        folder_id = self._folder(folder_name)
        files = [i for i in self.api.items(folder_id, self.config.page_size, self.config.list_pages)
                 if i.get("type") == "file"]
        # The same bytes are one file, whoever sent them first (the key, then the content, as found).
        found = next((f for f in files if key_of(f) == effect.key and f.get("sha1") == sha1), None) \
            or next((f for f in files if f.get("sha1") == sha1), None)
        item = found or self._upload(effect, folder_id, name, content, {str(f.get("name")).lower() for f in files})
        if found is not None and effect.maybe_applied and not found.get("description"):
            # Our upload whose answer was lost, before its key was written: finish it (a person's file has
            # the description they gave it, and is only linked).
            item = self.api.describe_and_share(str(found["id"]), KEY_PREFIX + effect.key)
        elif shared_url(item) is None:
            item = self.api.share(str(item["id"]))
        return succeeded(effect, str(item["id"]), object_type="file", version=sha1, url=shared_url(item),
                         found_existing=found is not None)

    def _upload(self, effect: Effect, folder_id: str, name: str, content: bytes, taken: set[str]) -> JSON:
        for n in range(1, MAX_CLASHES + 1):
            candidate = _suffixed(name, n)
            if candidate.lower() in taken:
                continue
            try:
                item = self.api.upload(folder_id, candidate, content)
            except BoxError as exc:
                if exc.status != 409:
                    raise
                taken.add(candidate.lower())  # taken since we listed: try the next suffix
                continue
            return self.api.describe_and_share(str(item["id"]), KEY_PREFIX + effect.key)
        raise ValueError(f"file {name!r}: {MAX_CLASHES} names like it are taken in the customer folder")

    def _folder(self, name: str) -> str:
        """The id of the customer's folder under the root, made on first use (Box answers 409 with the existing
        folder when the name is taken, so one call finds or makes it)."""
        known = self._folders.get(name.lower())
        if known:
            return known
        try:
            folder_id = str(self.api.create_folder(name, self.config.root_folder_id)["id"])
        except BoxError as exc:
            if exc.status != 409:
                raise
            same = [c for c in exc.conflicts if c.get("type") == "folder" and c.get("id")]
            if not same:
                raise ValueError(f"customer_folder {name!r}: the name is taken in the root folder by a file") from None
            folder_id = str(same[0]["id"])
        self._folders[name.lower()] = folder_id
        return folder_id

    def _content(self, fields: JSON, name: str) -> bytes:
        encoded, url, limit = fields.get("content_b64"), fields.get("source_url"), self.config.max_bytes
        if (encoded is None) == (url is None):
            raise ValueError("exactly one of the fields 'content_b64' and 'source_url' is required")
        if encoded is not None:
            if not isinstance(encoded, str):
                raise ValueError("field 'content_b64' must be base64 text")
            if len(encoded) // 4 * 3 - 2 > limit:  # refused before decoding a large payload
                raise PermanentError(_too_large(name, len(encoded) // 4 * 3, limit))
            try:
                content = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("field 'content_b64' is not valid base64") from None
        else:
            content = self._fetch(str(url), name)
        if len(content) > limit:
            raise PermanentError(_too_large(name, len(content), limit))
        return content

    def _fetch(self, url: str, name: str) -> bytes:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() not in self.config.source_hosts:
            raise ValueError(f"field 'source_url': host {parts.hostname!r} is not in source_hosts "
                             f"({', '.join(self.config.source_hosts) or 'none: send content_b64'})")
        session = new_session(f"{SYSTEM}-source", self.policy)  # its own gate: a slow CDN does not hold Box
        try:
            with session.get(url, stream=True, allow_redirects=False) as response:
                if response.status_code != 200:
                    raise BoxError(SYSTEM, f"fetching {name!r} from {parts.hostname}: HTTP {response.status_code}",
                                   status=None)
                content = b""
                for chunk in response.iter_content(64 * 1024):
                    content += chunk
                    if len(content) > self.config.max_bytes:
                        raise PermanentError(_too_large(name, len(content), self.config.max_bytes, "at least "))
                return content
        except requests.RequestException as exc:
            raise BoxError(SYSTEM, f"fetching {name!r} from {parts.hostname}: {type(exc).__name__}") from None
        finally:
            session.close()


def _text(fields: JSON, name: str) -> str | None:
    value = fields.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"field {name!r} must be text")
    return value


def _name(fields: JSON, field: str) -> str:
    name = safe_name(_text(fields, field) or "")
    if not name:
        raise ValueError(f"field {field!r} is required: a non-empty name")
    return name


def _check_hash(fields: JSON, field: str, actual: str, name: str) -> None:
    given = _text(fields, field)
    if given is not None and given.strip().lower() != actual:
        raise ValueError(f"file {name!r}: field {field!r} is {given[:80]!r}, but the content's {field} is {actual}")


def _too_large(name: str, size: int, limit: int, prefix: str = "") -> str:
    return f"file {name!r} blocked (final: a retry will not help): {prefix}{size} bytes is over max_bytes ({limit})"


def _suffixed(name: str, n: int) -> str:
    if n == 1:
        return name
    stem, dot, ext = name.rpartition(".")
    stem, ext = (stem, f".{ext}") if dot and stem else (name, "")
    return f"{stem[:MAX_NAME - len(ext) - 6]} ({n}){ext}"
