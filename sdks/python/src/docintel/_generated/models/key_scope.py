from enum import StrEnum


class KeyScope(StrEnum):
    AUDITREAD = "audit:read"
    BROKERREAD = "broker:read"
    BROKERWRITE = "broker:write"
    DOCUMENTSREAD = "documents:read"
    DOCUMENTSWRITE = "documents:write"
    KEYSMANAGE = "keys:manage"
    REGISTRYWRITE = "registry:write"
    WEBHOOKSMANAGE = "webhooks:manage"

    def __str__(self) -> str:
        return str(self.value)
