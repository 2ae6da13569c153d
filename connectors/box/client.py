"""Box's own SDK (``boxsdk``, module ``box_sdk_gen``) on the shared HTTP layer, behind one error type.

The SDK takes a ``requests`` session (``BoxNetworkClient(requests_session=...)``) and base URLs, so every call
goes through ``continuum.http``: retries with tenacity, ``Retry-After``, timeouts and counting.  Two things of the
SDK's are turned off because the shared layer does them: its own retry loop (one loop, one budget, one count), and
its streaming multipart body, which is read into bytes before sending: a streamed body is used up by the first
attempt, so a retry after a 429 would send nothing.  Files are at most ``max_bytes``, already in memory.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from box_sdk_gen import BoxAPIError, BoxClient, BoxDeveloperTokenAuth, BoxSDKError
from box_sdk_gen.managers.files import UpdateFileByIdSharedLink, UpdateFileByIdSharedLinkAccessField
from box_sdk_gen.managers.folders import CreateFolderParent
from box_sdk_gen.managers.uploads import UploadFileAttributes, UploadFileAttributesParentField
from box_sdk_gen.networking.base_urls import BaseUrls
from box_sdk_gen.networking.box_network_client import APIRequest, APIResponse, BoxNetworkClient
from box_sdk_gen.networking.fetch_options import FetchOptions
from box_sdk_gen.networking.fetch_response import FetchResponse
from box_sdk_gen.networking.multipart_stream import MultipartStream
from box_sdk_gen.networking.network import NetworkSession
from box_sdk_gen.networking.retries import RetryStrategy
from box_sdk_gen.networking.timeout_config import TimeoutConfig

from connectors.box.config import BoxConfig
from continuum.connector import JSON
from continuum.http import RetryPolicy, new_session
from continuum.kit import ClientError, RateLimitExhausted

SYSTEM = "box"
ITEM_FIELDS = ["type", "id", "name", "sha1", "size", "description", "shared_link", "etag"]
T = TypeVar("T")


class BoxError(ClientError):
    """A Box failure; ``conflicts`` holds the items a 409 ``item_name_in_use`` names (id, name, sha1)."""

    conflicts: list[JSON]


class _NoRetries(RetryStrategy):
    """The shared layer retries; a second loop in the SDK would multiply attempts and waits."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    def should_retry(self, fetch_options: FetchOptions, fetch_response: FetchResponse, attempt_number: int) -> bool:
        return False

    def retry_after(self, fetch_options: FetchOptions, fetch_response: FetchResponse, attempt_number: int) -> float:
        return 0.0


class _BufferedClient(BoxNetworkClient):
    def _make_request(self, request: APIRequest) -> APIResponse:
        if isinstance(request.data, MultipartStream):  # bytes can be sent again; a used stream cannot
            request.data = request.data.read()  # type: ignore[assignment]  # bytes: even a BytesIO is used up
        return super()._make_request(request)


class BoxApi:
    def __init__(self, config: BoxConfig, policy: RetryPolicy | None = None) -> None:
        self.session = new_session(SYSTEM, policy)
        limits = policy or RetryPolicy()  # the SDK passes its own timeouts to requests: make them the policy's
        timeouts = TimeoutConfig(connection_timeout_ms=int(limits.connect_timeout_s * 1000),
                                 read_timeout_ms=int(limits.read_timeout_s * 1000))
        network = NetworkSession(network_client=_BufferedClient(requests_session=self.session),
                                 retry_strategy=_NoRetries(), timeout_config=timeouts,
                                 base_urls=BaseUrls(base_url=config.url, upload_url=config.upload_base,
                                                    oauth_2_url=config.url + "/oauth2"))
        self.sdk = BoxClient(BoxDeveloperTokenAuth(config.token.get_secret_value()), network_session=network)
        self.shared_link_access = UpdateFileByIdSharedLinkAccessField(config.shared_link_access)

    def call(self, what: str, action: Callable[[], T]) -> T:
        """Run one SDK call; a failure becomes a :class:`BoxError` built from the answer, never the request."""
        try:
            return action()
        except RateLimitExhausted:
            raise
        except BoxAPIError as exc:
            info = exc.response_info
            body = info.body if isinstance(info.body, dict) else {}
            message = str(body.get("message") or info.code or "no message")[:300]
            method, _, path = what.partition(" ")
            error = BoxError(SYSTEM, message, status=info.status_code, code=info.code, method=method, path=path)
            conflicts = (info.context_info or {}).get("conflicts")
            error.conflicts = [c for c in (conflicts if isinstance(conflicts, list) else [conflicts]) if
                               isinstance(c, dict)]
            raise error from None
        except BoxSDKError as exc:  # no answer: the connection failed; say how, without the request's headers
            cause = exc.error
            method, _, path = what.partition(" ")
            raise BoxError(SYSTEM, f"{type(cause).__name__ if cause else 'error'}: {str(cause or exc.message)[:200]}",
                           method=method, path=path) from None

    def me(self) -> JSON:
        return self.call("GET /users/me", lambda: self.sdk.users.get_user_me(fields=["id", "login"])).to_dict()

    def folder(self, folder_id: str) -> JSON:
        return self.call(f"GET /folders/{folder_id}", lambda: self.sdk.folders.get_folder_by_id(
            folder_id, fields=["id", "name"])).to_dict()

    def create_folder(self, name: str, parent_id: str) -> JSON:
        return self.call("POST /folders", lambda: self.sdk.folders.create_folder(
            name, CreateFolderParent(id=parent_id), fields=["id", "name"])).to_dict()

    def items(self, folder_id: str, page_size: int, max_pages: int) -> Iterator[JSON]:
        """The folder's items, page by page (offset paging, the order Box keeps); at most ``max_pages`` pages."""
        offset = 0

        def page_at(at: int) -> Callable[[], Any]:
            return lambda: self.sdk.folders.get_folder_items(folder_id, fields=ITEM_FIELDS, offset=at, limit=page_size)

        for _ in range(max_pages):
            page = self.call(f"GET /folders/{folder_id}/items", page_at(offset)).to_dict()
            entries = [e for e in page.get("entries") or [] if isinstance(e, dict)]
            yield from entries
            offset += len(entries)
            if not entries or offset >= int(page.get("total_count") or 0):
                return

    def upload(self, folder_id: str, name: str, content: bytes) -> JSON:
        """Upload one file; Box checks the bytes against ``Content-MD5`` (which Box means as the SHA-1)."""
        attributes = UploadFileAttributes(name=name, parent=UploadFileAttributesParentField(id=folder_id))
        files = self.call("POST /files/content", lambda: self.sdk.uploads.upload_file(
            attributes, io.BytesIO(content), file_file_name=name, fields=ITEM_FIELDS,
            content_md_5=hashlib.sha1(content).hexdigest())).to_dict()
        entries = files.get("entries") or []
        if not entries:
            raise BoxError(SYSTEM, "POST /files/content: Box answered without the uploaded file")
        return dict(entries[0])

    def describe_and_share(self, file_id: str, description: str) -> JSON:
        """One update: the description that carries the effect's key, and the shared link tickets point to."""
        return self.call(f"PUT /files/{file_id}", lambda: self.sdk.files.update_file_by_id(
            file_id, description=description, shared_link=UpdateFileByIdSharedLink(access=self.shared_link_access),
            fields=ITEM_FIELDS)).to_dict()

    def share(self, file_id: str) -> JSON:
        return self.call(f"PUT /files/{file_id} (shared link)", lambda: self.sdk.files.update_file_by_id(
            file_id, shared_link=UpdateFileByIdSharedLink(access=self.shared_link_access),
            fields=ITEM_FIELDS)).to_dict()


def shared_url(item: JSON) -> str | None:
    link: Any = item.get("shared_link")
    return str(link["url"]) if isinstance(link, dict) and link.get("url") else None
