from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.document_view import DocumentView
from ...models.problem import Problem
from ...types import UNSET, File, Response, Unset


def _get_kwargs(
    *,
    body: File,
    filename: str,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    params: dict[str, Any] = {}

    params["filename"] = filename

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v2/documents",
        "params": params,
    }

    _kwargs["content"] = body.payload
    headers["Content-Type"] = "application/octet-stream"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | DocumentView | Problem | None:
    if response.status_code == 202:
        response_202 = DocumentView.from_dict(response.json())

        return response_202

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

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

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

    if response.status_code == 507:
        response_507 = Problem.from_dict(response.json())

        return response_507

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | DocumentView | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: File,
    filename: str,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Any | DocumentView | Problem]:
    """Upload a document

     The body is the raw file (PDF, PNG, JPEG, TIFF or UTF-8 text). Its type is detected from
    the bytes; a `Content-Type` naming another supported type is refused as a mismatch.
    Processing starts at once; poll the `Location` until `status` is `processed` or
    `failed`.

    Args:
        filename (str):
        idempotency_key (None | str | Unset):
        body (File): The upload body: the file's bytes.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | DocumentView | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        filename=filename,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: File,
    filename: str,
    idempotency_key: None | str | Unset = UNSET,
) -> Any | DocumentView | Problem | None:
    """Upload a document

     The body is the raw file (PDF, PNG, JPEG, TIFF or UTF-8 text). Its type is detected from
    the bytes; a `Content-Type` naming another supported type is refused as a mismatch.
    Processing starts at once; poll the `Location` until `status` is `processed` or
    `failed`.

    Args:
        filename (str):
        idempotency_key (None | str | Unset):
        body (File): The upload body: the file's bytes.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | DocumentView | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        filename=filename,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: File,
    filename: str,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Any | DocumentView | Problem]:
    """Upload a document

     The body is the raw file (PDF, PNG, JPEG, TIFF or UTF-8 text). Its type is detected from
    the bytes; a `Content-Type` naming another supported type is refused as a mismatch.
    Processing starts at once; poll the `Location` until `status` is `processed` or
    `failed`.

    Args:
        filename (str):
        idempotency_key (None | str | Unset):
        body (File): The upload body: the file's bytes.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | DocumentView | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        filename=filename,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: File,
    filename: str,
    idempotency_key: None | str | Unset = UNSET,
) -> Any | DocumentView | Problem | None:
    """Upload a document

     The body is the raw file (PDF, PNG, JPEG, TIFF or UTF-8 text). Its type is detected from
    the bytes; a `Content-Type` naming another supported type is refused as a mismatch.
    Processing starts at once; poll the `Location` until `status` is `processed` or
    `failed`.

    Args:
        filename (str):
        idempotency_key (None | str | Unset):
        body (File): The upload body: the file's bytes.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | DocumentView | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            filename=filename,
            idempotency_key=idempotency_key,
        )
    ).parsed
