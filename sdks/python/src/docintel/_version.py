__version__ = "0.1.0"
# openapi/v2.json `info.version`, the API this SDK was generated for; sent as the
# `api-version` header. A test keeps it equal to the committed document.
API_VERSION = "2.1.0"
