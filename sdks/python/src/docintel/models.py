"""The API's types (documents, pages, webhooks, events), generated from openapi/v2.json.

>>> from docintel.models import DocumentStatus
>>> DocumentStatus("processed").value
'processed'
"""

from ._generated.models import *  # noqa: F403
from ._generated.models import __all__ as __all__
