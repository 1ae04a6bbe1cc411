"""``Client`` and ``AsyncClient``: the operations of the generated code, with keys,
retries, typed errors, pagination, uploads and deprecation warnings around them."""

from __future__ import annotations

import asyncio
import datetime
import os
import sys
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any, Callable, Generic, Optional, TypeVar, Union

import httpx

from . import _calls
from ._calls import Call, Id
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    DocintelError,
    ProcessingFailedError,
    WaitTimeoutError,
    error_from_response,
)
from ._generated.models import (
    AuditEventPage,
    AuditEventView,
    DeliveryList,
    DocumentLayout,
    DocumentPage,
    DocumentView,
    KeyList,
    KeyWithSecret,
    PageView,
    RotatedSecret,
    UsageView,
    WebhookList,
    WebhookView,
    WebhookWithSecret,
)
from ._retry import AsyncRetryTransport, RetryPolicy, RetryTransport
from ._version import API_VERSION, __version__

T = TypeVar("T")
PathLike = Union[str, "os.PathLike[str]"]

DEFAULT_TIMEOUT = 60.0
# Polling for upload_and_wait: from 0.2 s, growing to 2 s between two looks.
_POLL_FIRST, _POLL_MAX = 0.2, 2.0


class _Base:
    """What both clients share: configuration, headers, and reading an answer."""

    def __init__(
        self,
        base_url: Optional[str],
        api_key: Optional[str],
        retry: Optional[RetryPolicy],
        timeout: float,
    ) -> None:
        base_url = base_url or os.environ.get("DOCINTEL_BASE_URL")
        api_key = api_key or os.environ.get("DOCINTEL_API_KEY")
        if not base_url:
            raise DocintelError("no base URL: pass base_url= or set DOCINTEL_BASE_URL")
        if not api_key:
            raise DocintelError("no API key: pass api_key= or set DOCINTEL_API_KEY")
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "api-version": API_VERSION,
            "User-Agent": f"docintel-python/{__version__}",
        }
        self._deprecated_seen: set[str] = set()

    def _finish(self, call: Call[T], response: httpx.Response) -> T:
        self._warn_deprecated(call.operation, response)
        if response.status_code >= 400:
            raise error_from_response(response.status_code, response.headers, response.content)
        return call.parse(response)

    def _warn_deprecated(self, operation: str, response: httpx.Response) -> None:
        # RFC 9745 `Deprecation` (and RFC 8594 `Sunset`): warned once per operation.
        deprecation = response.headers.get("deprecation")
        if deprecation is None or operation in self._deprecated_seen:
            return
        self._deprecated_seen.add(operation)
        message = f"docintel: {operation} is deprecated (Deprecation: {deprecation})"
        if sunset := response.headers.get("sunset"):
            message += f"; it stops working at {sunset}"
        if link := response.headers.get("link"):
            message += f"; see {link}"
        warnings.warn(message, DeprecationWarning, stacklevel=_callers_level())


def _callers_level() -> int:
    """The ``stacklevel`` of the first frame outside this package, so a warning names the
    caller's line (``skip_file_prefixes`` needs Python 3.12)."""
    package = os.path.dirname(__file__)
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _connection_error(e: httpx.TransportError) -> APIConnectionError:
    if isinstance(e, httpx.TimeoutException):
        return APITimeoutError(f"the request timed out: {e}")
    return APIConnectionError(f"could not reach docintel: {e}")


class Page(Generic[T]):
    """One page of a list, and the way to the next ones.

    Iterating a page yields every item of it and of the pages after it, fetching them as
    needed; ``iter_pages()`` yields the pages themselves.

    >>> client = docintel.Client()
    >>> for d in client.list_documents(limit=50):
    ...     assert d.status.value in ("queued", "processing", "processed", "failed")
    """

    def __init__(self, items: list[T], next_page: Optional[str], fetch: Callable[[str], "Page[T]"]) -> None:
        #: This page's items.
        self.items = items
        #: The token of the next page (``page_token=``), ``None`` on the last page.
        self.next_page = next_page
        self._fetch = fetch

    def has_next_page(self) -> bool:
        """Whether a page follows this one.

        >>> client.list_documents(limit=1).has_next_page() in (True, False)
        True
        """
        return self.next_page is not None

    def get_next_page(self) -> "Page[T]":
        """The page after this one (raises ``DocintelError`` on the last page).

        >>> first = client.list_documents(limit=1)
        >>> second = first.get_next_page() if first.has_next_page() else None
        """
        if self.next_page is None:
            raise DocintelError("this is the last page")
        return self._fetch(self.next_page)

    def iter_pages(self) -> Iterator["Page[T]"]:
        """This page and every page after it.

        >>> sizes = [len(p.items) for p in client.list_documents(limit=2).iter_pages()]
        >>> all(0 < n <= 2 for n in sizes)
        True
        """
        page: Page[T] = self
        yield page
        while page.next_page is not None:
            page = page.get_next_page()
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.items


class AsyncPage(Generic[T]):
    """``Page`` for ``AsyncClient``: ``async for`` yields every item of every page.

    >>> async def names():
    ...     async with docintel.AsyncClient() as client:
    ...         return [d.filename async for d in await client.list_documents(limit=50)]
    >>> "invoice.pdf" in asyncio.run(names())
    True
    """

    def __init__(self, items: list[T], next_page: Optional[str], fetch: Callable[[str], Any]) -> None:
        self.items = items
        self.next_page = next_page
        self._fetch = fetch

    def has_next_page(self) -> bool:
        return self.next_page is not None

    async def get_next_page(self) -> "AsyncPage[T]":
        if self.next_page is None:
            raise DocintelError("this is the last page")
        page: AsyncPage[T] = await self._fetch(self.next_page)
        return page

    async def iter_pages(self) -> AsyncIterator["AsyncPage[T]"]:
        page: AsyncPage[T] = self
        yield page
        while page.next_page is not None:
            page = await page.get_next_page()
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.items:
                yield item


def _next_pages(layout: DocumentLayout) -> Optional[str]:
    """The range after this layout's, ``None`` after the last page."""
    return layout.next_pages if isinstance(layout.next_pages, str) else None


def _next_poll(delay: float) -> float:
    return min(_POLL_MAX, delay * 1.5)


def _done(doc: DocumentView) -> bool:
    return doc.status.value in ("processed", "failed")


def _waited(doc: DocumentView) -> DocumentView:
    if doc.status.value == "failed":
        raise ProcessingFailedError(doc)
    return doc


class Client(_Base):
    """The docintel API, synchronously.

    ``base_url`` and ``api_key`` default to ``DOCINTEL_BASE_URL`` and
    ``DOCINTEL_API_KEY``. ``retry`` sets the retry policy, ``timeout`` the seconds a
    request may take; ``transport`` replaces httpx's (for tests and proxies).

    >>> import docintel
    >>> client = docintel.Client("https://docintel.example.com", "dik_...")
    >>> client.base_url
    'https://docintel.example.com'
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        retry: Optional[RetryPolicy] = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: Optional[httpx.BaseTransport] = None,
    ) -> None:
        super().__init__(base_url, api_key, retry, timeout)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=self._headers,
            timeout=timeout,
            transport=RetryTransport(transport or httpx.HTTPTransport(), self.retry),
        )

    def close(self) -> None:
        """Closes the connections (also done by ``with Client() as client:``).

        >>> docintel.Client().close()
        """
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()

    def _run(self, call: Call[T]) -> T:
        try:
            response = self._http.request(**call.kwargs)
        except httpx.TransportError as e:
            raise _connection_error(e) from e
        return self._finish(call, response)

    def upload_file(self, path: PathLike, *, filename: Optional[str] = None,
                    idempotency_key: Optional[str] = None) -> DocumentView:
        """Uploads the file at ``path``, streamed from disk; returns the queued document.
        An ``Idempotency-Key`` is made when none is given, so a retry never stores it twice.

        >>> doc = client.upload_file("invoice.pdf")
        >>> doc.status.value
        'queued'
        """
        body = _calls.FileChunks(path)
        return self._run(_calls.upload(body, filename or os.path.basename(body.path), idempotency_key))

    def upload(self, data: bytes, filename: str, *, idempotency_key: Optional[str] = None) -> DocumentView:
        """Uploads ``data`` as a document named ``filename``.

        >>> doc = client.upload(b"INVOICE 7\\nTotal due: 10 EUR", "inv.txt")
        >>> doc.metadata.size_bytes
        27
        """
        return self._run(_calls.upload(bytes(data), filename, idempotency_key))

    def upload_and_wait(self, file: Union[PathLike, bytes], *, filename: Optional[str] = None,
                        timeout: float = 120.0) -> DocumentView:
        """Uploads a file (a path, or bytes with ``filename``) and waits until it is
        processed. Raises ``ProcessingFailedError`` if processing failed and
        ``WaitTimeoutError`` after ``timeout`` seconds.

        >>> doc = client.upload_and_wait("invoice.pdf", timeout=60)
        >>> doc.classification.label
        'invoice'
        """
        if isinstance(file, (bytes, bytearray)):
            if not filename:
                raise DocintelError("upload_and_wait(bytes) needs filename=")
            doc = self.upload(bytes(file), filename)
        else:
            doc = self.upload_file(file, filename=filename)
        return self.wait(doc.id, timeout=timeout)

    def wait(self, id: Id, *, timeout: float = 120.0) -> DocumentView:
        """Polls the document until it is processed (see ``upload_and_wait``).

        >>> doc = client.wait(doc.id, timeout=30)
        >>> doc.status.value
        'processed'
        """
        deadline, delay = time.monotonic() + timeout, _POLL_FIRST
        while True:
            doc = self.get_document(id)
            if _done(doc):
                return _waited(doc)
            if time.monotonic() + delay > deadline:
                raise WaitTimeoutError(doc, timeout)
            time.sleep(delay)
            delay = _next_poll(delay)

    def get_document(self, id: Id) -> DocumentView:
        """The document with this id (``NotFoundError`` if none).

        >>> client.get_document(doc.id).filename
        'invoice.pdf'
        """
        return self._run(_calls.get(id))

    def get_document_text(self, id: Id) -> str:
        """The processed document's extracted text.

        >>> "INVOICE" in client.get_document_text(doc.id).upper()
        True
        """
        return self._run(_calls.text(id))

    def get_document_thumbnail(self, id: Id) -> bytes:
        """The PNG thumbnail of the processed document's first page.

        >>> client.get_document_thumbnail(doc.id)[:8]
        b'\\x89PNG\\r\\n\\x1a\\n'
        """
        return self._run(_calls.thumbnail(id))

    def get_document_markdown(self, id: Id) -> str:
        """The processed document's text as Markdown (``format=markdown``): headings, list
        items and paragraphs recovered from its layout.

        >>> "INVOICE" in client.get_document_markdown(doc.id)
        True
        """
        return self._run(_calls.markdown(id))

    def get_document_layout(self, id: Id, pages: Optional[str] = None) -> DocumentLayout:
        """The processed document's layout: its pages, each with its blocks, lines and
        words in reading order, every one with its ``bbox`` (see ``docintel.layout`` to
        find a word and turn its box into pixels). ``pages`` is one page (``"3"``) or a
        range (``"1-20"``, at most 100); the first 20 when omitted. ``next_pages`` is the
        range after this one (``None`` after the last page); ``iter_layout_pages`` follows
        it. A text document has no layout (``NotFoundError``); a bad ``pages`` raises
        ``BadRequestError`` (code ``invalid_parameter``).

        >>> layout = client.get_document_layout(doc.id, pages="1")
        >>> layout.page_count, layout.pages[0].source.value, layout.pages[0].unit.value
        (1, 'text_layer', 'pt')
        >>> word = layout.pages[0].blocks[0].lines[0].words[0]
        >>> word.text, [round(v, 2) for v in word.bbox][:1]
        ('INVOICE', [0.12])
        """
        return self._run(_calls.layout(id, pages))

    def iter_layout_pages(self, id: Id) -> Iterator[PageView]:
        """Every page of the document's layout in order, fetched a range at a time
        (following ``next_pages``) as the iteration goes.

        >>> [page.number for page in client.iter_layout_pages(doc.id)]
        [1]
        """
        pages: Optional[str] = None
        while True:
            layout = self.get_document_layout(id, pages)
            yield from layout.pages
            pages = _next_pages(layout)
            if pages is None:
                return

    def get_searchable_pdf(self, id: Id) -> bytes:
        """The searchable PDF of an image, TIFF or scanned PDF that OCR read: its pages as
        pictures with the words laid over them as invisible text. ``NotFoundError`` for a
        document without one (text, a PDF with a text layer, no OCR on the server); its
        ``metadata.searchable_pdf`` says beforehand whether it has one.

        >>> try:
        ...     client.get_searchable_pdf(doc.id)  # invoice.pdf has a text layer
        ... except docintel.NotFoundError as e:
        ...     print(e.code)
        not_found
        """
        return self._run(_calls.searchable_pdf(id))

    def delete_document(self, id: Id) -> None:
        """Deletes the document.

        >>> scratch = client.upload(b"scratch", "scratch.txt")
        >>> client.delete_document(scratch.id)
        """
        self._run(_calls.delete(id))

    def list_documents(self, *, limit: Optional[int] = None, page_token: Optional[str] = None,
                       status: Optional[str] = None) -> Page[DocumentView]:
        """One page of documents, newest first; iterate it for all of them.

        >>> names = [d.filename for d in client.list_documents(limit=100, status="processed")]
        >>> first = client.list_documents(limit=1)
        >>> second = first.get_next_page() if first.has_next_page() else None
        """
        raw: DocumentPage = self._run(_calls.page(limit, page_token, status))
        next_page = raw.next_page if isinstance(raw.next_page, str) else None
        return Page(raw.items, next_page,
                    lambda token: self.list_documents(limit=limit, page_token=token, status=status))

    def list_audit_events(self, *, limit: Optional[int] = None, page_token: Optional[str] = None,
                          action: Optional[str] = None, since: Optional[datetime.datetime] = None,
                          until: Optional[datetime.datetime] = None) -> Page[AuditEventView]:
        """One page of the tenant's audit trail, newest first; iterate it for every entry.
        ``action`` is one action (``document.delete``) or, ending in ``.``, a family
        (``webhook.``). Needs the ``audit:read`` scope.

        >>> doomed = client.upload(b"audited", "audited.txt")
        >>> client.delete_document(doomed.id)
        >>> latest = client.list_audit_events(limit=1, action="document.delete").items[0]
        >>> (latest.resource_id == str(doomed.id), latest.actor.startswith("key_"))
        (True, True)
        """
        raw: AuditEventPage = self._run(_calls.audit_page(limit, page_token, action, since, until))
        next_page = raw.next_page if isinstance(raw.next_page, str) else None
        return Page(raw.items, next_page,
                    lambda token: self.list_audit_events(limit=limit, page_token=token, action=action,
                                                         since=since, until=until))

    def create_webhook(self, url: str, event_types: list[str], *,
                       description: Optional[str] = None) -> WebhookWithSecret:
        """Subscribes ``url`` to events; the answer holds the signing ``secret`` (shown once).

        >>> hook = client.create_webhook("http://127.0.0.1:9/hooks", ["doc.processed"])
        >>> hook.secret.startswith("whsec_")
        True
        """
        return self._run(_calls.create_hook(url, event_types, description))

    def get_webhook(self, id: Id) -> WebhookView:
        """The subscription with this id.

        >>> client.get_webhook(hook.webhook.id).url
        'http://127.0.0.1:9/hooks'
        """
        return self._run(_calls.get_hook(id))

    def list_webhooks(self) -> WebhookList:
        """Every subscription of this key's tenant.

        >>> hook.webhook.id in [h.id for h in client.list_webhooks().items]
        True
        """
        return self._run(_calls.list_hooks())

    def delete_webhook(self, id: Id) -> None:
        """Ends the subscription.

        >>> other = client.create_webhook("http://127.0.0.1:9/other", ["doc.failed"])
        >>> client.delete_webhook(other.webhook.id)
        """
        self._run(_calls.delete_hook(id))

    def enable_webhook(self, id: Id) -> WebhookView:
        """Re-enables a subscription disabled after failed deliveries.

        >>> client.enable_webhook(hook.webhook.id).status.value
        'active'
        """
        return self._run(_calls.enable_hook(id))

    def rotate_webhook_secret(self, id: Id) -> RotatedSecret:
        """A new signing secret; the old one stays valid for a grace period.

        >>> client.rotate_webhook_secret(hook.webhook.id).secret.startswith("whsec_")
        True
        """
        return self._run(_calls.rotate_hook(id))

    def list_webhook_deliveries(self, id: Id, *, limit: Optional[int] = None) -> DeliveryList:
        """The subscription's recent deliveries and their outcomes.

        >>> isinstance(client.list_webhook_deliveries(hook.webhook.id).items, list)
        True
        """
        return self._run(_calls.deliveries(id, limit))

    def create_key(self, scopes: list[str], *,
                   expires_at: Optional[datetime.datetime] = None) -> KeyWithSecret:
        """A new key of this key's tenant with only ``scopes`` (each held by this key);
        its ``secret`` is shown only here. Needs the ``keys:manage`` scope.

        >>> reader = client.create_key(["documents:read"])
        >>> reader.secret.startswith(reader.key.prefix)
        True
        >>> client.revoke_key(reader.key.id)
        """
        return self._run(_calls.make_key(scopes, expires_at))

    def list_keys(self) -> KeyList:
        """The tenant's unrevoked keys, without their secrets.

        >>> made = client.create_key(["documents:read"])
        >>> made.key.id in [k.id for k in client.list_keys().items]
        True
        >>> client.revoke_key(made.key.id)
        """
        return self._run(_calls.keys())

    def revoke_key(self, id: str) -> None:
        """Revokes the key ``id`` (``key_…``): it stops working at once.

        >>> made = client.create_key(["documents:read"])
        >>> client.revoke_key(made.key.id)
        >>> made.key.id in [k.id for k in client.list_keys().items]
        False
        """
        self._run(_calls.revoke(id))

    def usage(self) -> UsageView:
        """The documents and bytes the tenant stores, and its quotas (``None``: no
        limit). An upload past a quota raises ``PayloadTooLargeError`` with the code
        ``quota_exceeded``. Needs the ``documents:read`` scope.

        >>> u = client.usage()
        >>> u.documents >= 0 and u.bytes_ >= 0  # `bytes` is a builtin: the field is bytes_
        True
        """
        return self._run(_calls.usage())


class AsyncClient(_Base):
    """``Client``'s operations for asyncio: the same arguments, awaited.

    >>> import docintel
    >>> async def main():
    ...     async with docintel.AsyncClient() as client:
    ...         return await client.upload_and_wait("invoice.pdf")
    >>> asyncio.run(main()).status.value
    'processed'
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        retry: Optional[RetryPolicy] = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: Optional[httpx.AsyncBaseTransport] = None,
    ) -> None:
        super().__init__(base_url, api_key, retry, timeout)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=self._headers,
            timeout=timeout,
            transport=AsyncRetryTransport(transport or httpx.AsyncHTTPTransport(), self.retry),
        )

    async def close(self) -> None:
        """Closes the connections (also done by ``async with AsyncClient() as client:``).

        >>> asyncio.run(docintel.AsyncClient().close())
        """
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *args: Any) -> None:
        await self.close()

    async def _run(self, call: Call[T]) -> T:
        try:
            response = await self._http.request(**call.kwargs)
        except httpx.TransportError as e:
            raise _connection_error(e) from e
        return self._finish(call, response)

    async def upload_file(self, path: PathLike, *, filename: Optional[str] = None,
                          idempotency_key: Optional[str] = None) -> DocumentView:
        """See ``Client.upload_file``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.upload_file("invoice.pdf")
        >>> asyncio.run(main()).status.value
        'queued'
        """
        chunks = _calls.FileChunks(path)
        body = _calls.AsyncFileChunks(chunks)
        return await self._run(_calls.upload(body, filename or os.path.basename(chunks.path), idempotency_key))

    async def upload(self, data: bytes, filename: str, *, idempotency_key: Optional[str] = None) -> DocumentView:
        """See ``Client.upload``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.upload(b"INVOICE 8", "inv.txt")
        >>> asyncio.run(main()).status.value
        'queued'
        """
        return await self._run(_calls.upload(bytes(data), filename, idempotency_key))

    async def upload_and_wait(self, file: Union[PathLike, bytes], *, filename: Optional[str] = None,
                              timeout: float = 120.0) -> DocumentView:
        """See ``Client.upload_and_wait``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.upload_and_wait("invoice.pdf", timeout=60)
        >>> asyncio.run(main()).classification.label
        'invoice'
        """
        if isinstance(file, (bytes, bytearray)):
            if not filename:
                raise DocintelError("upload_and_wait(bytes) needs filename=")
            doc = await self.upload(bytes(file), filename)
        else:
            doc = await self.upload_file(file, filename=filename)
        return await self.wait(doc.id, timeout=timeout)

    async def wait(self, id: Id, *, timeout: float = 120.0) -> DocumentView:
        """See ``Client.wait``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.wait(doc.id, timeout=30)
        >>> asyncio.run(main()).status.value
        'processed'
        """
        deadline, delay = time.monotonic() + timeout, _POLL_FIRST
        while True:
            doc = await self.get_document(id)
            if _done(doc):
                return _waited(doc)
            if time.monotonic() + delay > deadline:
                raise WaitTimeoutError(doc, timeout)
            await asyncio.sleep(delay)
            delay = _next_poll(delay)

    async def get_document(self, id: Id) -> DocumentView:
        """See ``Client.get_document``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.get_document(doc.id)
        >>> asyncio.run(main()).filename
        'invoice.pdf'
        """
        return await self._run(_calls.get(id))

    async def get_document_text(self, id: Id) -> str:
        """See ``Client.get_document_text``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.get_document_text(doc.id)
        >>> asyncio.run(main()).upper().count('INVOICE') > 0
        True
        """
        return await self._run(_calls.text(id))

    async def get_document_thumbnail(self, id: Id) -> bytes:
        """See ``Client.get_document_thumbnail``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.get_document_thumbnail(doc.id)
        >>> asyncio.run(main())[:4]
        b'\\x89PNG'
        """
        return await self._run(_calls.thumbnail(id))

    async def get_document_markdown(self, id: Id) -> str:
        """See ``Client.get_document_markdown``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.get_document_markdown(doc.id)
        >>> "INVOICE" in asyncio.run(main())
        True
        """
        return await self._run(_calls.markdown(id))

    async def get_document_layout(self, id: Id, pages: Optional[str] = None) -> DocumentLayout:
        """See ``Client.get_document_layout``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.get_document_layout(doc.id, pages="1")
        >>> asyncio.run(main()).pages[0].number
        1
        """
        return await self._run(_calls.layout(id, pages))

    async def iter_layout_pages(self, id: Id) -> AsyncIterator[PageView]:
        """See ``Client.iter_layout_pages``: ``async for`` yields every page.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return [p.number async for p in client.iter_layout_pages(doc.id)]
        >>> asyncio.run(main())
        [1]
        """
        pages: Optional[str] = None
        while True:
            layout = await self.get_document_layout(id, pages)
            for page in layout.pages:
                yield page
            pages = _next_pages(layout)
            if pages is None:
                return

    async def get_searchable_pdf(self, id: Id) -> bytes:
        """See ``Client.get_searchable_pdf``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         try:
        ...             return await client.get_searchable_pdf(doc.id)
        ...         except docintel.NotFoundError as e:
        ...             return e.status
        >>> asyncio.run(main())
        404
        """
        return await self._run(_calls.searchable_pdf(id))

    async def delete_document(self, id: Id) -> None:
        """See ``Client.delete_document``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.delete_document((await client.upload(b"x", "x.txt")).id)
        >>> asyncio.run(main())
        """
        await self._run(_calls.delete(id))

    async def list_documents(self, *, limit: Optional[int] = None, page_token: Optional[str] = None,
                             status: Optional[str] = None) -> AsyncPage[DocumentView]:
        """See ``Client.list_documents``; ``async for`` over the page yields every document.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.list_documents(limit=1)
        >>> asyncio.run(main()).has_next_page() in (True, False)
        True
        """
        raw: DocumentPage = await self._run(_calls.page(limit, page_token, status))
        next_page = raw.next_page if isinstance(raw.next_page, str) else None
        return AsyncPage(raw.items, next_page,
                         lambda token: self.list_documents(limit=limit, page_token=token, status=status))

    async def list_audit_events(self, *, limit: Optional[int] = None,
                                page_token: Optional[str] = None, action: Optional[str] = None,
                                since: Optional[datetime.datetime] = None,
                                until: Optional[datetime.datetime] = None) -> AsyncPage[AuditEventView]:
        """See ``Client.list_audit_events``; ``async for`` over the page yields every entry.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.list_audit_events(limit=1)
        >>> len(asyncio.run(main()).items)
        1
        """
        raw: AuditEventPage = await self._run(_calls.audit_page(limit, page_token, action, since, until))
        next_page = raw.next_page if isinstance(raw.next_page, str) else None
        return AsyncPage(raw.items, next_page,
                         lambda token: self.list_audit_events(limit=limit, page_token=token,
                                                              action=action, since=since, until=until))

    async def create_webhook(self, url: str, event_types: list[str], *,
                             description: Optional[str] = None) -> WebhookWithSecret:
        """See ``Client.create_webhook``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.create_webhook("http://127.0.0.1:9/a", ["doc.failed"])
        >>> asyncio.run(main()).secret[:6]
        'whsec_'
        """
        return await self._run(_calls.create_hook(url, event_types, description))

    async def get_webhook(self, id: Id) -> WebhookView:
        """See ``Client.get_webhook``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.get_webhook(hook.webhook.id)
        >>> asyncio.run(main()).url
        'http://127.0.0.1:9/hooks'
        """
        return await self._run(_calls.get_hook(id))

    async def list_webhooks(self) -> WebhookList:
        """See ``Client.list_webhooks``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.list_webhooks()
        >>> asyncio.run(main()).items[0].url.startswith('http')
        True
        """
        return await self._run(_calls.list_hooks())

    async def delete_webhook(self, id: Id) -> None:
        """See ``Client.delete_webhook``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.delete_webhook((await client.create_webhook("http://127.0.0.1:9/b", ["doc.failed"])).webhook.id)
        >>> asyncio.run(main())
        """
        await self._run(_calls.delete_hook(id))

    async def enable_webhook(self, id: Id) -> WebhookView:
        """See ``Client.enable_webhook``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.enable_webhook(hook.webhook.id)
        >>> asyncio.run(main()).status.value
        'active'
        """
        return await self._run(_calls.enable_hook(id))

    async def rotate_webhook_secret(self, id: Id) -> RotatedSecret:
        """See ``Client.rotate_webhook_secret``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.rotate_webhook_secret(hook.webhook.id)
        >>> asyncio.run(main()).secret[:6]
        'whsec_'
        """
        return await self._run(_calls.rotate_hook(id))

    async def list_webhook_deliveries(self, id: Id, *, limit: Optional[int] = None) -> DeliveryList:
        """See ``Client.list_webhook_deliveries``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.list_webhook_deliveries(hook.webhook.id)
        >>> asyncio.run(main()).items is not None
        True
        """
        return await self._run(_calls.deliveries(id, limit))

    async def create_key(self, scopes: list[str], *,
                         expires_at: Optional[datetime.datetime] = None) -> KeyWithSecret:
        """See ``Client.create_key``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         made = await client.create_key(["documents:read"])
        ...         await client.revoke_key(made.key.id)
        ...         return made
        >>> asyncio.run(main()).key.scopes[0].value
        'documents:read'
        """
        return await self._run(_calls.make_key(scopes, expires_at))

    async def list_keys(self) -> KeyList:
        """See ``Client.list_keys``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.list_keys()
        >>> len(asyncio.run(main()).items) >= 1
        True
        """
        return await self._run(_calls.keys())

    async def revoke_key(self, id: str) -> None:
        """See ``Client.revoke_key``."""
        await self._run(_calls.revoke(id))

    async def usage(self) -> UsageView:
        """See ``Client.usage``.

        >>> async def main():
        ...     async with docintel.AsyncClient() as client:
        ...         return await client.usage()
        >>> asyncio.run(main()).documents >= 0
        True
        """
        return await self._run(_calls.usage())
