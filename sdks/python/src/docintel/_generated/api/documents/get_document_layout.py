from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.document_layout import DocumentLayout
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    id: UUID,
    *,
    pages: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["pages"] = pages

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/documents/{id}/layout".format(
            id=quote(str(id), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | DocumentLayout | Problem | None:
    if response.status_code == 200:
        response_200 = DocumentLayout.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 408:
        response_408 = Problem.from_dict(response.json())

        return response_408

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 431:
        response_431 = cast(Any, None)
        return response_431

    if response.status_code == 500:
        response_500 = Problem.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | DocumentLayout | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
    pages: str | Unset = UNSET,
) -> Response[Any | DocumentLayout | Problem]:
    """Get a document's layout

     Its pages, and on each the blocks, lines and words of its text in reading order, every
    one with its box on the page; for words read by OCR, Tesseract's confidence. From the
    PDF's text layer, or from OCR for images, TIFF pages and scanned PDFs. Text documents
    have none. Long documents come a range of pages at a time (`pages`).

    Args:
        id (UUID):
        pages (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | DocumentLayout | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        pages=pages,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    *,
    client: AuthenticatedClient,
    pages: str | Unset = UNSET,
) -> Any | DocumentLayout | Problem | None:
    """Get a document's layout

     Its pages, and on each the blocks, lines and words of its text in reading order, every
    one with its box on the page; for words read by OCR, Tesseract's confidence. From the
    PDF's text layer, or from OCR for images, TIFF pages and scanned PDFs. Text documents
    have none. Long documents come a range of pages at a time (`pages`).

    Args:
        id (UUID):
        pages (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | DocumentLayout | Problem
    """

    return sync_detailed(
        id=id,
        client=client,
        pages=pages,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
    pages: str | Unset = UNSET,
) -> Response[Any | DocumentLayout | Problem]:
    """Get a document's layout

     Its pages, and on each the blocks, lines and words of its text in reading order, every
    one with its box on the page; for words read by OCR, Tesseract's confidence. From the
    PDF's text layer, or from OCR for images, TIFF pages and scanned PDFs. Text documents
    have none. Long documents come a range of pages at a time (`pages`).

    Args:
        id (UUID):
        pages (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | DocumentLayout | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
        pages=pages,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient,
    pages: str | Unset = UNSET,
) -> Any | DocumentLayout | Problem | None:
    """Get a document's layout

     Its pages, and on each the blocks, lines and words of its text in reading order, every
    one with its box on the page; for words read by OCR, Tesseract's confidence. From the
    PDF's text layer, or from OCR for images, TIFF pages and scanned PDFs. Text documents
    have none. Long documents come a range of pages at a time (`pages`).

    Args:
        id (UUID):
        pages (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | DocumentLayout | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            pages=pages,
        )
    ).parsed
