import datetime
from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.document_page import DocumentPage
from ...models.list_documents_status import ListDocumentsStatus
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = UNSET,
    page_token: str | Unset = UNSET,
    status: ListDocumentsStatus | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["page_token"] = page_token

    json_status: str | Unset = UNSET
    if not isinstance(status, Unset):
        json_status = status.value

    params["status"] = json_status

    json_created_after: str | Unset = UNSET
    if not isinstance(created_after, Unset):
        json_created_after = created_after.isoformat()
    params["created_after"] = json_created_after

    json_created_before: str | Unset = UNSET
    if not isinstance(created_before, Unset):
        json_created_before = created_before.isoformat()
    params["created_before"] = json_created_before

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/documents",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | DocumentPage | Problem | None:
    if response.status_code == 200:
        response_200 = DocumentPage.from_dict(response.json())

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

    if response.status_code == 408:
        response_408 = Problem.from_dict(response.json())

        return response_408

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
) -> Response[Any | DocumentPage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = UNSET,
    page_token: str | Unset = UNSET,
    status: ListDocumentsStatus | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
) -> Response[Any | DocumentPage | Problem]:
    """List documents

     Newest first, in pages. Follow `next_page` until it is null: pass it as `page_token`,
    with the same filters or none (the token carries them). Tokens last 24 hours. With
    `created_after` or `created_before`, a page looks at 10,000 documents at most, so it
    may hold fewer than `limit`, or none, and still have a `next_page`.

    Args:
        limit (int | Unset):
        page_token (str | Unset):
        status (ListDocumentsStatus | Unset): Where a document is in its lifecycle.
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | DocumentPage | Problem]
    """

    kwargs = _get_kwargs(
        limit=limit,
        page_token=page_token,
        status=status,
        created_after=created_after,
        created_before=created_before,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = UNSET,
    page_token: str | Unset = UNSET,
    status: ListDocumentsStatus | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
) -> Any | DocumentPage | Problem | None:
    """List documents

     Newest first, in pages. Follow `next_page` until it is null: pass it as `page_token`,
    with the same filters or none (the token carries them). Tokens last 24 hours. With
    `created_after` or `created_before`, a page looks at 10,000 documents at most, so it
    may hold fewer than `limit`, or none, and still have a `next_page`.

    Args:
        limit (int | Unset):
        page_token (str | Unset):
        status (ListDocumentsStatus | Unset): Where a document is in its lifecycle.
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | DocumentPage | Problem
    """

    return sync_detailed(
        client=client,
        limit=limit,
        page_token=page_token,
        status=status,
        created_after=created_after,
        created_before=created_before,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = UNSET,
    page_token: str | Unset = UNSET,
    status: ListDocumentsStatus | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
) -> Response[Any | DocumentPage | Problem]:
    """List documents

     Newest first, in pages. Follow `next_page` until it is null: pass it as `page_token`,
    with the same filters or none (the token carries them). Tokens last 24 hours. With
    `created_after` or `created_before`, a page looks at 10,000 documents at most, so it
    may hold fewer than `limit`, or none, and still have a `next_page`.

    Args:
        limit (int | Unset):
        page_token (str | Unset):
        status (ListDocumentsStatus | Unset): Where a document is in its lifecycle.
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | DocumentPage | Problem]
    """

    kwargs = _get_kwargs(
        limit=limit,
        page_token=page_token,
        status=status,
        created_after=created_after,
        created_before=created_before,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = UNSET,
    page_token: str | Unset = UNSET,
    status: ListDocumentsStatus | Unset = UNSET,
    created_after: datetime.datetime | Unset = UNSET,
    created_before: datetime.datetime | Unset = UNSET,
) -> Any | DocumentPage | Problem | None:
    """List documents

     Newest first, in pages. Follow `next_page` until it is null: pass it as `page_token`,
    with the same filters or none (the token carries them). Tokens last 24 hours. With
    `created_after` or `created_before`, a page looks at 10,000 documents at most, so it
    may hold fewer than `limit`, or none, and still have a `next_page`.

    Args:
        limit (int | Unset):
        page_token (str | Unset):
        status (ListDocumentsStatus | Unset): Where a document is in its lifecycle.
        created_after (datetime.datetime | Unset):
        created_before (datetime.datetime | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | DocumentPage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            page_token=page_token,
            status=status,
            created_after=created_after,
            created_before=created_before,
        )
    ).parsed
