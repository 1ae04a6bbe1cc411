from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.error_code import ErrorCode
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.usage_view import UsageView


T = TypeVar("T", bound="Problem")


@_attrs_define
class Problem:
    """An RFC 9457 problem document. `code` is the stable, machine-readable name of the
    error; `type` is a URI built from it.

        Example:
            {'code': 'not_found', 'detail': 'no document with id 0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11', 'instance':
                '/v2/documents/0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11', 'request_id': '0192f0c4-6a10-7c3e-8a45-0f4d5b6c7d8e',
                'status': 404, 'title': 'Not Found', 'type': '/problems/not_found'}

        Attributes:
            code (ErrorCode): A problem's stable, machine-readable `code`. New codes may be added in a minor
                release: treat an unknown one by its HTTP status. Each code has one status; `/problems/{code}` explains it.

                | code | status | meaning |
                |---|---|---|
                | `invalid_id` | 400 | A path id is malformed: not a UUID (a key's id: not `key_` and 16 hex digits). Ids are
                the `id` values the API returned. |
                | `invalid_parameter` | 400 | A query parameter is unknown, malformed or out of range; `detail` names it. |
                | `invalid_page_token` | 400 | The page token is malformed, expired (tokens last 24 hours) or was issued for
                another key; list again from the first page. |
                | `invalid_filename` | 400 | The upload's `filename` is empty, too long, a path, or holds control, bidirectional
                or invisible characters only. |
                | `empty_body` | 400 | The upload has no bytes. |
                | `invalid_multipart` | 400 | The legacy upload form is not one `multipart/form-data` part named `file` with a
                file name. |
                | `malformed_json` | 400 | The request body is not well-formed JSON. |
                | `invalid_idempotency_key` | 400 | The `Idempotency-Key` header is empty, longer than 255 characters or not
                visible ASCII. |
                | `body_read_failed` | 400 | The request body could not be read: the connection broke or the body was not valid
                chunked encoding. Send the request again. |
                | `unauthorized` | 401 | No API key, a malformed `Authorization` header, or a key the server does not know. Send
                `Authorization: Bearer <API key>`. |
                | `insufficient_scope` | 403 | The key is valid but does not hold the scope this operation needs; `detail` names
                it. Use a key made with that scope. |
                | `not_found` | 404 | No such resource for this key: it never existed, was deleted, or belongs to another tenant
                (which is never told apart). |
                | `method_not_allowed` | 405 | The route exists but not with this method; the OpenAPI document lists its
                operations. |
                | `body_too_slow` | 408 | The request body paused too long, came slower than the server's minimum rate, or was
                not whole within its deadline; the connection is closed. Send it again on a faster link. |
                | `too_many_keys` | 409 | The tenant already has the most unrevoked keys it may (100); revoke one first. |
                | `too_many_webhooks` | 409 | The tenant already has the most subscriptions it may (20); delete one first. |
                | `not_processed` | 409 | The document is still queued or processing; retry once its `status` is `processed` (or
                subscribe to `doc.processed`). |
                | `processing_failed` | 409 | The document failed processing, so it has no text or thumbnail; its `failure` says
                why. |
                | `gone` | 410 | The API version is past its sunset; `detail` names the successor route. |
                | `payload_too_large` | 413 | The request body is over the limit `detail` states (by `Content-Length` before a
                byte is read, else while reading). |
                | `quota_exceeded` | 413 | The upload would take the tenant past its storage quota (documents or bytes); `usage`
                gives what it stores and its limits. Waiting does not help: delete documents (which frees their share at once)
                or ask the operator for more. |
                | `unsupported_media_type` | 415 | The upload is not a PDF, PNG, JPEG, TIFF or UTF-8 text, or not the type its
                `Content-Type` declares; or a JSON body was sent without `application/json`. |
                | `invalid_body` | 422 | The JSON body is well-formed but not the shape the operation takes (a missing or
                unknown field, a wrong type); `detail` says where. |
                | `invalid_webhook` | 422 | The subscription is refused: a URL that is not http(s), resolves to a private
                address, an unknown event type or a description over 500 characters. |
                | `idempotency_key_reused` | 422 | This `Idempotency-Key` was used for a different request within 24 hours; use
                a new key for a new document. |
                | `rate_limited` | 429 | The key (or, without a key, the client address) spent its request budget; wait `Retry-
                After` seconds. `RateLimit` and `RateLimit-Policy` tell the budget. |
                | `too_many_in_flight` | 429 | This client address already has the most requests in flight it may; retry after
                `Retry-After` (1 s). |
                | `internal` | 500 | The server failed unexpectedly; nothing about the request is wrong. Quote the `request_id`
                when reporting it. |
                | `unavailable` | 503 | A service the server needs (its database, its object storage) is unreachable; retry
                after `Retry-After` seconds. |
                | `overloaded` | 503 | The server is serving as many requests as it may; retry after `Retry-After` seconds. |
                | `insufficient_storage` | 507 | The server has no room left to store what the request writes; retry after
                `Retry-After` seconds. |
            detail (str): What went wrong with this request, for a human. Example: no document with id
                0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11.
            instance (str): The request path this problem occurred on. Example:
                /v2/documents/0192f0c4-5d7e-7c1a-9f57-1d6f0e6a8b11.
            request_id (str): The request's `X-Request-Id`; quote it when reporting a problem. Example:
                0192f0c4-6a10-7c3e-8a45-0f4d5b6c7d8e.
            status (int): The HTTP status code. Example: 404.
            title (str): Short summary of the problem type (the HTTP reason phrase). Example: Not Found.
            type_ (str): A URI reference naming the problem type: `/problems/{code}`. Example: /problems/not_found.
            usage (UsageView | Unset): What the tenant stores, and its storage quotas. Also the `usage` of a
                `quota_exceeded` problem (the usage before the refused upload). Example: {'bytes': 734003200, 'documents': 1234,
                'max_bytes': 10000000000, 'max_documents': 100000}.
    """

    code: ErrorCode
    detail: str
    instance: str
    request_id: str
    status: int
    title: str
    type_: str
    usage: UsageView | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code.value

        detail = self.detail

        instance = self.instance

        request_id = self.request_id

        status = self.status

        title = self.title

        type_ = self.type_

        usage: dict[str, Any] | Unset = UNSET
        if not isinstance(self.usage, Unset):
            usage = self.usage.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "detail": detail,
                "instance": instance,
                "request_id": request_id,
                "status": status,
                "title": title,
                "type": type_,
            }
        )
        if usage is not UNSET:
            field_dict["usage"] = usage

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.usage_view import UsageView

        d = dict(src_dict)
        code = ErrorCode(d.pop("code"))

        detail = d.pop("detail")

        instance = d.pop("instance")

        request_id = d.pop("request_id")

        status = d.pop("status")

        title = d.pop("title")

        type_ = d.pop("type")

        _usage = d.pop("usage", UNSET)
        usage: UsageView | Unset
        if isinstance(_usage, Unset):
            usage = UNSET
        else:
            usage = UsageView.from_dict(_usage)

        problem = cls(
            code=code,
            detail=detail,
            instance=instance,
            request_id=request_id,
            status=status,
            title=title,
            type_=type_,
            usage=usage,
        )

        problem.additional_properties = d
        return problem

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
