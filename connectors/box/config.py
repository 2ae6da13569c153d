"""One Box connection's settings: the API and upload URLs, the token, the root folder, and the file limits."""

from __future__ import annotations

import mimetypes
from typing import Annotated, ClassVar, Literal

from pydantic import BeforeValidator, Field, SecretStr

from continuum.kit.config import ConnectorConfig

BOX_API, BOX_UPLOAD = "https://api.box.com", "https://upload.box.com/api"
# Box's single-request upload takes up to 50 MB; larger files need its chunked sessions, which we do not use.
SINGLE_UPLOAD_MAX = 50 * 1024 * 1024
DEFAULT_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".heic", ".pdf", ".txt", ".log", ".csv", ".json",
                 ".xml", ".har", ".zip", ".gz", ".docx", ".xlsx", ".pptx", ".mp4", ".mov", "image/*", "text/plain")


def _list(value: object) -> object:
    parts = value.split(",") if isinstance(value, str) else value  # Connection extras are often flat: "a,b"
    return tuple(str(p).strip().lower() for p in parts if str(p).strip()) if isinstance(parts, list | tuple) else parts


class BoxConfig(ConnectorConfig):
    system: ClassVar[str] = "box"
    connection_fields: ClassVar[dict[str, str]] = {"host": "url", "password": "token"}
    field_labels: ClassVar[dict[str, str]] = {"host": "host (the API URL, https://api.box.com)",
                                               "password": "password (the app's access token)"}
    default_scheme: ClassVar[str | None] = "https"
    default_url: ClassVar[str | None] = BOX_API

    token: SecretStr
    # Box uploads go to another host; None: upload.box.com for Box itself, else <url>/api (a simulator serves both).
    upload_url: str | None = None
    root_folder_id: str = Field(pattern=r"^[0-9]{1,20}$")  # the folder that holds one folder per customer
    shared_link_access: Literal["open", "company", "collaborators"] = "company"
    max_bytes: int = Field(default=25 * 1024 * 1024, ge=1, le=SINGLE_UPLOAD_MAX)
    # By extension (".png") or MIME type ("image/png", "image/*"); "*" allows every type.
    allowed_types: Annotated[tuple[str, ...], BeforeValidator(_list)] = DEFAULT_TYPES
    # Hosts a `source_url` may be fetched from (exact names); empty: only `content_b64` is taken.  A URL from a
    # customer's message must not make the hub fetch from anywhere it can reach.
    source_hosts: Annotated[tuple[str, ...], BeforeValidator(_list)] = ()
    page_size: int = Field(default=1000, ge=1, le=1000)  # folder listing page (Box's maximum: 1000)
    list_pages: int = Field(default=20, ge=1, le=1000)  # pages of a customer folder searched for a same-content file

    @property
    def upload_base(self) -> str:
        if self.upload_url:
            return self.upload_url.rstrip("/")
        return BOX_UPLOAD if self.url == BOX_API else self.url + "/api"

    def blocked_type(self, name: str, mime: str | None) -> str | None:
        """Why a file of this name and MIME type is refused (None: allowed)."""
        allowed = self.allowed_types
        if "*" in allowed:
            return None
        dot = name.rfind(".")
        extension = name[dot:].lower() if dot > 0 else ""
        kind = (mime or mimetypes.guess_type(name)[0] or "").lower().split(";")[0].strip()
        if extension and extension in allowed:
            return None
        if kind and (kind in allowed or f"{kind.partition('/')[0]}/*" in allowed):
            return None
        shown = extension or "no extension"
        return (f"type {shown}{f' ({kind})' if kind else ''} is not in allowed_types "
                f"({', '.join(allowed)})")
