"""Contains all the data models used in inputs/outputs"""

from .audit_event_page import AuditEventPage
from .audit_event_view import AuditEventView
from .block_view import BlockView
from .classification import Classification
from .delivery_list import DeliveryList
from .delivery_state import DeliveryState
from .delivery_view import DeliveryView
from .document_layout import DocumentLayout
from .document_page import DocumentPage
from .document_status import DocumentStatus
from .document_view import DocumentView
from .error_code import ErrorCode
from .get_document_text_format import GetDocumentTextFormat
from .key_create import KeyCreate
from .key_list import KeyList
from .key_scope import KeyScope
from .key_view import KeyView
from .key_with_secret import KeyWithSecret
from .line_view import LineView
from .list_documents_status import ListDocumentsStatus
from .metadata import Metadata
from .ocr_page_confidence import OcrPageConfidence
from .page_source import PageSource
from .page_unit import PageUnit
from .page_view import PageView
from .problem import Problem
from .rotated_secret import RotatedSecret
from .usage_view import UsageView
from .webhook_create import WebhookCreate
from .webhook_event import WebhookEvent
from .webhook_event_type import WebhookEventType
from .webhook_list import WebhookList
from .webhook_state import WebhookState
from .webhook_view import WebhookView
from .webhook_with_secret import WebhookWithSecret
from .word_view import WordView

__all__ = (
    "AuditEventPage",
    "AuditEventView",
    "BlockView",
    "Classification",
    "DeliveryList",
    "DeliveryState",
    "DeliveryView",
    "DocumentLayout",
    "DocumentPage",
    "DocumentStatus",
    "DocumentView",
    "ErrorCode",
    "GetDocumentTextFormat",
    "KeyCreate",
    "KeyList",
    "KeyScope",
    "KeyView",
    "KeyWithSecret",
    "LineView",
    "ListDocumentsStatus",
    "Metadata",
    "OcrPageConfidence",
    "PageSource",
    "PageUnit",
    "PageView",
    "Problem",
    "RotatedSecret",
    "UsageView",
    "WebhookCreate",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookList",
    "WebhookState",
    "WebhookView",
    "WebhookWithSecret",
    "WordView",
)
