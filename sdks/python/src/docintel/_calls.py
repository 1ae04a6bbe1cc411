"""Each operation once: the request the generated code builds, and how its success answer
is read. The sync and the async client both run these, so neither repeats them."""

from __future__ import annotations

import datetime
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, Callable, Generic, Optional, TypeVar, Union, cast

import httpx

from ._errors import APIResponseValidationError
from ._generated.api.audit import list_audit_events
from ._generated.api.documents import (
    delete_document,
    get_document,
    get_document_layout,
    get_document_text,
    get_document_thumbnail,
    get_searchable_pdf,
    list_documents,
    upload_document,
)
from ._generated.api.keys import create_key, list_keys, revoke_key
from ._generated.api.usage import get_usage
from ._generated.api.webhooks import (
    create_webhook,
    delete_webhook,
    enable_webhook,
    get_webhook,
    list_webhook_deliveries,
    list_webhooks,
    rotate_webhook_secret,
)
from ._generated.models import (
    AuditEventPage,
    DeliveryList,
    DocumentLayout,
    DocumentPage,
    DocumentView,
    GetDocumentTextFormat,
    KeyCreate,
    KeyList,
    KeyScope,
    KeyWithSecret,
    ListDocumentsStatus,
    RotatedSecret,
    UsageView,
    WebhookCreate,
    WebhookEventType,
    WebhookList,
    WebhookView,
    WebhookWithSecret,
)
from ._generated.types import UNSET, File

T = TypeVar("T")
Id = Union[str, uuid.UUID]

# Read from disk in pieces of this size: an upload never holds the whole file.
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request: the operation's id (for deprecation warnings), the generated
    request arguments, and the reader of its success body."""

    operation: str
    kwargs: dict[str, Any]
    parse: Callable[[httpx.Response], T]


def _model(cls: Any) -> Callable[[httpx.Response], Any]:
    def parse(response: httpx.Response) -> Any:
        try:
            data = response.json()
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            return cls.from_dict(data)
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise APIResponseValidationError(
                response.status_code,
                title="Invalid response",
                detail=f"the answer is not a {cls.__name__}: {e}",
                request_id=response.headers.get("x-request-id"),
            ) from e

    return parse


def _text(response: httpx.Response) -> str:
    return response.text


def _bytes(response: httpx.Response) -> bytes:
    return response.content


def _none(response: httpx.Response) -> None:
    return None


def _id(value: Id) -> uuid.UUID:
    # The generated code quotes str(id) into the path; a str that is not a UUID is left to
    # the server, which answers 400 with a problem like any other bad input.
    return cast(uuid.UUID, value)


class FileChunks:
    """A file's bytes in pieces, read anew each time it is iterated, so that a retried
    upload sends the whole file again without ever holding it in memory."""

    def __init__(self, path: Union[str, "os.PathLike[str]"]) -> None:
        self.path = os.fspath(path)
        # Fails here, before any request, on a missing or unreadable file.
        with open(self.path, "rb"):
            pass

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as f:
            while chunk := f.read(_CHUNK):
                yield chunk


class AsyncFileChunks:
    """``FileChunks`` for the async client (httpx wants an async iterable there)."""

    def __init__(self, chunks: FileChunks) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


def upload(body: Any, filename: str, idempotency_key: Optional[str]) -> Call[DocumentView]:
    key = idempotency_key or f"docintel-python-{uuid.uuid4()}"
    kwargs = upload_document._get_kwargs(
        body=File(payload=body), filename=filename, idempotency_key=key
    )
    return Call("upload_document", kwargs, _model(DocumentView))


def get(id: Id) -> Call[DocumentView]:
    return Call("get_document", get_document._get_kwargs(_id(id)), _model(DocumentView))


def text(id: Id) -> Call[str]:
    return Call("get_document_text", get_document_text._get_kwargs(_id(id)), _text)


def thumbnail(id: Id) -> Call[bytes]:
    return Call("get_document_thumbnail", get_document_thumbnail._get_kwargs(_id(id)), _bytes)


def markdown(id: Id) -> Call[str]:
    kwargs = get_document_text._get_kwargs(_id(id), format_=GetDocumentTextFormat("markdown"))
    return Call("get_document_text", kwargs, _text)


def layout(id: Id, pages: Optional[str]) -> Call[DocumentLayout]:
    kwargs = get_document_layout._get_kwargs(_id(id), pages=UNSET if pages is None else pages)
    return Call("get_document_layout", kwargs, _model(DocumentLayout))


def searchable_pdf(id: Id) -> Call[bytes]:
    return Call("get_searchable_pdf", get_searchable_pdf._get_kwargs(_id(id)), _bytes)


def delete(id: Id) -> Call[None]:
    return Call("delete_document", delete_document._get_kwargs(_id(id)), _none)


def page(limit: Optional[int], page_token: Optional[str], status: Optional[str]) -> Call[DocumentPage]:
    kwargs = list_documents._get_kwargs(
        limit=UNSET if limit is None else limit,
        page_token=UNSET if page_token is None else page_token,
        status=UNSET if status is None else ListDocumentsStatus(status),
    )
    return Call("list_documents", kwargs, _model(DocumentPage))


def audit_page(limit: Optional[int], page_token: Optional[str], action: Optional[str],
               since: Optional[datetime.datetime],
               until: Optional[datetime.datetime]) -> Call[AuditEventPage]:
    kwargs = list_audit_events._get_kwargs(
        limit=UNSET if limit is None else limit,
        page_token=UNSET if page_token is None else page_token,
        action=UNSET if action is None else action,
        since=UNSET if since is None else since,
        until=UNSET if until is None else until,
    )
    return Call("list_audit_events", kwargs, _model(AuditEventPage))


def create_hook(url: str, event_types: list[str], description: Optional[str]) -> Call[WebhookWithSecret]:
    body = WebhookCreate(
        url=url,
        event_types=[WebhookEventType(t) for t in event_types],
        description=UNSET if description is None else description,
    )
    return Call("create_webhook", create_webhook._get_kwargs(body=body), _model(WebhookWithSecret))


def get_hook(id: Id) -> Call[WebhookView]:
    return Call("get_webhook", get_webhook._get_kwargs(_id(id)), _model(WebhookView))


def list_hooks() -> Call[WebhookList]:
    return Call("list_webhooks", list_webhooks._get_kwargs(), _model(WebhookList))


def delete_hook(id: Id) -> Call[None]:
    return Call("delete_webhook", delete_webhook._get_kwargs(_id(id)), _none)


def enable_hook(id: Id) -> Call[WebhookView]:
    return Call("enable_webhook", enable_webhook._get_kwargs(_id(id)), _model(WebhookView))


def rotate_hook(id: Id) -> Call[RotatedSecret]:
    return Call("rotate_webhook_secret", rotate_webhook_secret._get_kwargs(_id(id)), _model(RotatedSecret))


def deliveries(id: Id, limit: Optional[int]) -> Call[DeliveryList]:
    kwargs = list_webhook_deliveries._get_kwargs(_id(id), limit=UNSET if limit is None else limit)
    return Call("list_webhook_deliveries", kwargs, _model(DeliveryList))


def make_key(scopes: list[str], expires_at: Optional[datetime.datetime]) -> Call[KeyWithSecret]:
    body = KeyCreate(
        scopes=[KeyScope(s) for s in scopes],
        expires_at=UNSET if expires_at is None else expires_at,
    )
    return Call("create_key", create_key._get_kwargs(body=body), _model(KeyWithSecret))


def keys() -> Call[KeyList]:
    return Call("list_keys", list_keys._get_kwargs(), _model(KeyList))


def revoke(id: str) -> Call[None]:
    return Call("revoke_key", revoke_key._get_kwargs(id), _none)


def usage() -> Call[UsageView]:
    return Call("get_usage", get_usage._get_kwargs(), _model(UsageView))
